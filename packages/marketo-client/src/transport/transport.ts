/**
 * The one place every call goes through: limiter → auth → fetch → envelope → retry. Resources stay thin and call
 * {@link Transport.request}; bulk file downloads use {@link Transport.raw}.
 *
 * @module
 */
import { type HardenedResponse, hardenedFetch, isKernelError, NOT_SENT_CODES } from "@ml/http-kernel";
import pRetry from "p-retry";
import type { TokenManager } from "../auth/token-manager.js";
import { actionFor } from "../envelope/codes.js";
import { type Envelope, envelopeSchema, type RawEnvelope, reasonsOf, toEnvelope } from "../envelope/envelope.js";
import {
  isMarketoError,
  MarketoApiError,
  MarketoAuthError,
  type MarketoError,
  MarketoHttpError,
  MarketoInvalidRequestError,
  MarketoNetworkError,
  MarketoPermissionError,
  MarketoQuotaExceededError,
  MarketoRateLimitError,
  MarketoReadOnlyError,
  MarketoRedirectError,
  MarketoResponseParseError,
  MarketoResponseTooLargeError,
  MarketoTimeoutError,
  MarketoValidationError,
  type RedactedRequest,
} from "../errors.js";
import type { Redactor } from "../internal/redact.js";
import type { Runtime } from "../internal/runtime.js";
import type { Limiter, LimiterSlot } from "../limits/limiter.js";
import { backoffDelay, type RetryOptions } from "./retry-policy.js";

export type { Envelope } from "../envelope/envelope.js";

/** One call, described independently of URLs and tokens. */
export interface TransportRequest {
  /** HTTP method. */
  method: "GET" | "POST" | "DELETE";
  /** `rest` resolves against the REST base URL, `bulk` against the bulk base URL. */
  api: "rest" | "bulk";
  /** Path below the base URL, e.g. `/v1/companies.json`. */
  path: string;
  /** Query parameters; arrays are sent comma-separated; `undefined` values are left out. */
  query?: Record<string, string | number | boolean | readonly (string | number)[] | undefined>;
  /** JSON body. */
  body?: unknown;
  /** x-www-form-urlencoded body instead of JSON. */
  form?: Record<string, string>;
  /**
   * `safe`: repeating the call cannot do harm (reads, idempotent upserts), so it is retried even when the outcome of
   * an attempt is unknown (network error or 5xx after sending). `unsafe`: retried only on answers that mean "not
   * executed" (Marketo's 6xx codes and failures before sending).
   */
  retry: "safe" | "unsafe";
  /** Cancels the call, including any wait in the limiter or between retries. */
  signal?: AbortSignal;
  /** Extra headers (e.g. `Range` for bulk file downloads). */
  headers?: Record<string, string>;
  /** Retries for this call instead of the client's `retry.maxRetries`. */
  maxRetries?: number;
}

/** @internal Options of {@link Transport}. */
export interface TransportOptions {
  baseUrls: { rest: string; bulk: string };
  auth: TokenManager;
  limiter: Limiter;
  runtime: Runtime;
  redactor: Redactor;
  retry: RetryOptions;
  /** Longest URL sent as a GET; longer ones go as POST with `_method=GET`. */
  maxUriLength: number;
  /** Largest JSON body sent, in bytes. */
  maxBodyBytes: number;
  /** One deadline per attempt (headers and body) instead of Marketo's documented ones. */
  timeoutMs?: number | undefined;
  /** Largest JSON answer read, in decoded bytes. */
  maxResponseBytes: number;
  /** Largest bulk file streamed by {@link Transport.raw}, in decoded bytes. */
  maxFileBytes: number;
  /** Called after each call that got an answer, e.g. to refresh the daily count. */
  afterCall?: (() => void) | undefined;
}

const BOUND = Symbol("outcome");
/** The 606/615/607 code of a failed envelope, if it is one (cheap pre-check, then a real parse). */
function limitCode(text: string | undefined): "606" | "615" | "607" | undefined {
  if (text === undefined || !/\b(606|615|607)\b/.test(text)) return undefined;
  try {
    const env = JSON.parse(text) as { success?: unknown; errors?: { code?: unknown }[] };
    const code = env.success === false ? String(env.errors?.[0]?.code) : undefined;
    return code === "606" || code === "615" || code === "607" ? code : undefined;
  } catch {
    return undefined;
  }
}
/**
 * Which token each failed answer was judged for, so a 601/602 invalidates exactly that one. A WeakMap, not a property:
 * nothing on the error itself (not even a hidden symbol shown by `util.inspect(e, { showHidden: true })`) holds it.
 */
const judgedToken = new WeakMap<object, string>();

/** Remembers which token an answer was judged for, so a 601/602 invalidates exactly that one. */
function judgedWith<R>(token: string, judge: () => R): R {
  try {
    return judge();
  } catch (error) {
    if (typeof error === "object" && error !== null) judgedToken.set(error, token);
    throw error;
  }
}

/** Most token renewals one call makes after 600/601/602 before it gives up with a {@link MarketoAuthError}. */
const MAX_AUTH_RETRIES = 3;

/** What one call has seen of token rejections. */
interface AuthRound {
  /** The token manager's issue count when the call started: tokens numbered above it were issued for this call. */
  since: number;
  /** Tokens Marketo refused for this call. */
  rejected: Set<string>;
  /** Renewals (repeats after a refusal) so far. */
  renewals: number;
}

/** Whether the failed attempt may have been executed by Marketo. */
type Outcome = "not-executed" | "unknown";

function mark<E extends MarketoError>(error: E, outcome: Outcome): E {
  Object.defineProperty(error, BOUND, { value: outcome, enumerable: false, configurable: true });
  return error;
}

function outcomeOf(error: unknown): Outcome {
  return ((error as Record<symbol, unknown> | undefined)?.[BOUND] as Outcome | undefined) ?? "unknown";
}

interface Prepared {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: string | URLSearchParams | undefined;
  redacted: RedactedRequest;
}

/** Timeouts Marketo documents: most calls 30 s, company and sales person writes 60 s, paging tokens 300 s. */
function timeoutFor(req: TransportRequest): number {
  if (/pagingtoken\.json$/.test(req.path)) return 300_000 + 5_000;
  if (req.method !== "GET" && /\/(companies|salespersons)(\/delete)?\.json$/.test(req.path)) return 65_000;
  return 35_000;
}

function encodeQuery(query: TransportRequest["query"]): URLSearchParams {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query ?? {})) {
    if (v === undefined) continue;
    params.set(k, Array.isArray(v) ? v.join(",") : String(v));
  }
  return params;
}

/**
 * Sends calls to Marketo: waits for the limiter, adds the bearer token, parses the envelope, and applies the retry
 * policy (see `retry-policy.ts` and `envelope/codes.ts`). One instance per client.
 */
export class Transport {
  readonly #o: TransportOptions;

  /** @internal Created by `MarketoClient`; use `mk.transport`. */
  constructor(options: TransportOptions) {
    this.#o = options;
  }

  /**
   * Sends a call and returns its successful envelope; throws a {@link MarketoError} subclass for `success:false` (after
   * the retries the policy allows), for non-JSON answers and for HTTP errors.
   */
  async request<T = unknown>(req: TransportRequest): Promise<Envelope<T>> {
    const env = await this.#withRetry(req, async () => {
      const { response, text, prepared, token } = await this.#send(req, true);
      return judgedWith(token, () => this.#judge(response, text ?? "", prepared));
    });
    return toEnvelope<T>(env);
  }

  /**
   * Sends a call and returns the `Response` untouched (status 200 or 206) so its body can be streamed. Retries
   * transient HTTP failures and renews the token on a 601/602 envelope. A JSON `success:false` answer or a non-2xx
   * status that is not retryable is thrown as a typed error.
   */
  async raw(req: TransportRequest): Promise<Response> {
    return this.#withRetry(req, async () => {
      const { response, text, prepared, token } = await this.#send(req, false);
      if (text !== undefined) {
        // JSON answer: an envelope. A failure is thrown; a success is handed back as a fresh Response.
        judgedWith(token, () => this.#judge(response, text, prepared));
        return new Response(text, { status: response.status, headers: response.headers });
      }
      return response.toResponse();
    });
  }

  async #withRetry<R>(req: TransportRequest, attempt: () => Promise<R>): Promise<R> {
    const { runtime, retry } = this.#o;
    let retriesUsed = 0;
    /** When this call first got a 606/615: those retries are bounded by time, not by `maxRetries`. */
    let limitedSince: number | undefined;
    const isRateLimit = (error: unknown) => isMarketoError(error) && (error.code === "606" || error.code === "615");
    // One auth round per call, across its transient retries: the renewal bound holds for the whole call.
    const round: AuthRound = { since: this.#o.auth.issued, rejected: new Set(), renewals: 0 };
    return pRetry(
      async () => {
        try {
          return await this.#withAuthRenewal(attempt, round);
        } catch (error) {
          if (req.signal?.aborted) throw req.signal.reason;
          throw error;
        }
      },
      {
        retries: req.maxRetries ?? retry.maxRetries,
        // Delays are computed and slept below with the injected sleep/random, so they are testable.
        minTimeout: 0,
        maxTimeout: 0,
        randomize: false,
        ...(req.signal ? { signal: req.signal } : {}),
        // 606/615 retries wait at the limiter's shared, growing pause gate; their budget is time (below).
        shouldConsumeRetry: ({ error }) => !isRateLimit(error),
        shouldRetry: async ({ error }) => {
          if (!this.#retryable(error, req)) return false;
          const code = isMarketoError(error) ? error.code : "NETWORK";
          if (isRateLimit(error)) {
            const now = runtime.clock.now();
            limitedSince ??= now;
            if (now - limitedSince >= retry.rateLimitMaxWaitMs) {
              runtime.logger.warn(
                { code, waitedMs: now - limitedSince, path: req.path },
                "marketo: rate limits did not clear within retry.rateLimitMaxWaitMs; giving up on this call",
              );
              return false;
            }
            runtime.logger.debug({ code, path: req.path }, "marketo: retrying after the shared rate-limit pause");
            return true;
          }
          retriesUsed++;
          const delay = backoffDelay(retriesUsed, retry, runtime.random);
          runtime.logger.debug(
            { code, attempt: retriesUsed, delayMs: delay, path: req.path },
            "marketo: retrying after a transient failure",
          );
          if (delay > 0) await runtime.sleep(delay, req.signal);
          return true;
        },
      },
    );
  }

  #retryable(error: unknown, req: TransportRequest): boolean {
    if (!isMarketoError(error) || !error.retryable) return false;
    return outcomeOf(error) === "not-executed" || req.retry === "safe";
  }

  /**
   * Runs one attempt; after 600/601/602 it drops the rejected token (only that one) and repeats with the newest one,
   * renewing it first when the rejected token was the newest. A rejection is fatal ({@link MarketoAuthError}) only
   * when a token issued for this call is refused a second time (identity handed it back although Marketo refused it:
   * Marketo's identity re-issues a token until it lapses, and issues a new one once it was really expired or revoked),
   * or after `MAX_AUTH_RETRIES` renewals in one call, so a broken identity service cannot loop. A stale token (already
   * replaced, re-issued unchanged inside the margin, or lapsed or revoked while the call waited) never fails a call.
   */
  async #withAuthRenewal<R>(attempt: () => Promise<R>, round: AuthRound): Promise<R> {
    const { auth, runtime } = this.#o;
    for (;;) {
      try {
        return await attempt();
      } catch (error) {
        if (!(error instanceof MarketoApiError) || actionFor(error.code) !== "renew") throw error;
        const used = judgedToken.get(error);
        // Fresh: identity handed it out after this call started.
        const fresh = used !== undefined && auth.issuedAfter(used, round.since);
        const again = used !== undefined && round.rejected.has(used);
        if (used !== undefined) round.rejected.add(used);
        if ((fresh && again) || round.renewals >= MAX_AUTH_RETRIES) {
          const why =
            fresh && again
              ? "Marketo rejected a freshly renewed token twice"
              : `Marketo kept rejecting the token after ${round.renewals} renewals`;
          throw mark(
            new MarketoAuthError(`${why} (${error.code}: ${error.message})`, {
              code: error.code,
              requestId: error.requestId,
              request: error.request,
            }),
            "not-executed",
          );
        }
        round.renewals++;
        const stale = used !== undefined && !auth.isCurrent(used);
        if (used !== undefined) auth.invalidate(used);
        runtime.logger.debug(
          { code: error.code, renewal: round.renewals, stale, fresh, again },
          stale
            ? "marketo: an older token was rejected, retrying with the newest"
            : "marketo: token rejected, renewing",
        );
      }
    }
  }

  #prepare(req: TransportRequest, token: string): Prepared {
    const base = (req.api === "bulk" ? this.#o.baseUrls.bulk : this.#o.baseUrls.rest).replace(/\/+$/, "");
    const params = encodeQuery(req.query);
    const qs = params.toString();
    let url = `${base}${req.path}${qs ? `?${qs}` : ""}`;
    let method: string = req.method;
    const headers: Record<string, string> = {
      accept: "application/json",
      ...req.headers,
      authorization: `Bearer ${token}`,
    };
    let body: string | URLSearchParams | undefined;
    if (req.method === "GET" && url.length > this.#o.maxUriLength) {
      // Marketo's documented escape hatch for URIs over 8 KB: POST with _method=GET, query in a form body.
      url = `${base}${req.path}?_method=GET`;
      method = "POST";
      body = params;
      headers["content-type"] = "application/x-www-form-urlencoded";
    } else if (req.form) {
      body = new URLSearchParams(req.form);
      headers["content-type"] = "application/x-www-form-urlencoded";
    } else if (req.body !== undefined) {
      body = JSON.stringify(req.body);
      if (Buffer.byteLength(body) > this.#o.maxBodyBytes) {
        throw mark(
          new MarketoValidationError(
            `Request body is ${Buffer.byteLength(body)} bytes; Marketo accepts at most ${this.#o.maxBodyBytes}. Send fewer records per call.`,
            { code: "PAYLOAD_TOO_LARGE" },
          ),
          "not-executed",
        );
      }
      headers["content-type"] = "application/json";
    }
    return { url, method, headers, body, redacted: { method, url: this.#o.redactor.redact(url) } };
  }

  /** limiter → auth → fetch. Reads the body when it is JSON (or always, when `readBody`). */
  async #send(
    req: TransportRequest,
    readBody: boolean,
  ): Promise<{ response: HardenedResponse; text: string | undefined; prepared: Prepared; token: string }> {
    const { limiter, auth, runtime } = this.#o;
    const slot: LimiterSlot = await limiter.acquire(req.signal);
    let prepared: Prepared | undefined;
    let sent = false;
    let answeredAt: number | undefined;
    try {
      const token = await auth.token(req.signal);
      prepared = this.#prepare(req, token);
      sent = true;
      let response = await this.#fetch(prepared, req, readBody);
      answeredAt = runtime.clock.now();
      if (response.status === 414 && prepared.method === "GET") {
        // The edge refused the URI: repeat as POST with _method=GET (a GET, so no harm in sending twice).
        await response.cancel();
        const params = encodeQuery(req.query);
        const base = prepared.url.slice(0, prepared.url.indexOf("?") >= 0 ? prepared.url.indexOf("?") : undefined);
        prepared = {
          url: `${base}?_method=GET`,
          method: "POST",
          headers: { ...prepared.headers, "content-type": "application/x-www-form-urlencoded" },
          body: params,
          redacted: { method: "POST", url: this.#o.redactor.redact(`${base}?_method=GET`) },
        };
        answeredAt = undefined; // a second request is on the wire now
        response = await this.#fetch(prepared, req, readBody);
        answeredAt = runtime.clock.now();
      }
      const type = response.headers.get("content-type") ?? "";
      // On a streaming (file) call, a JSON or error answer is still read with the JSON limit, not the file limit.
      const text =
        readBody || /json/i.test(type) || !response.ok ? await response.text(this.#o.maxResponseBytes) : undefined;
      // Close the gate BEFORE this slot is released, or a queued call would slip out between the two.
      const limited = limitCode(text);
      if (limited === "607") {
        runtime.logger.warn({ code: "607" }, "marketo: daily quota reached; calls stop until 00:00 US Central");
        await limiter.exhaustDaily();
      } else if (limited) {
        // The client never exceeds its own limits, so another integration is using this instance's quota: pause every
        // call of the instance, longer (jittered) with every refusal in a row.
        const pauseMs = await slot.rateLimited(limited, runtime.random);
        runtime.logger.warn({ code: limited, pauseMs }, "marketo: rate limit answered; holding every call back");
      }
      return { response, text, prepared, token };
    } catch (error) {
      if (req.signal?.aborted) throw req.signal.reason;
      // Anything that failed before the request left (token, validation) was not executed by Marketo.
      if (isMarketoError(error)) throw sent ? error : mark(error, "not-executed");
      throw this.#networkError(error, sent, prepared);
    } finally {
      // Marketo saw the call before its answer's headers arrived: count it in the window from then on.
      await slot.release(answeredAt);
      runtime.logger.debug({ path: req.path, method: req.method }, "marketo: call finished");
      // Only after an answer: a client with bad credentials or no network must not add calls of its own.
      if (answeredAt !== undefined) this.#o.afterCall?.();
    }
  }

  /**
   * One attempt through the hardened fetch: no redirect followed across origins (nor for a write), one deadline over
   * headers and body, a byte limit on the body. A `raw` call (bulk file) keeps the deadline for the headers and then
   * bounds the gap between chunks instead, with the file limit.
   */
  async #fetch(prepared: Prepared, req: TransportRequest, readBody: boolean): Promise<HardenedResponse> {
    const timeoutMs = this.#o.timeoutMs ?? timeoutFor(req);
    return hardenedFetch({
      url: prepared.url,
      method: prepared.method,
      headers: prepared.headers,
      body: prepared.body,
      signal: req.signal,
      fetch: this.#o.runtime.fetch,
      timeoutMs,
      maxBodyBytes: readBody ? this.#o.maxResponseBytes : this.#o.maxFileBytes,
      ...(readBody ? {} : { bodyIdleMs: timeoutMs }),
    });
  }

  /**
   * A typed error for a failure on the wire. The cause kept is the kernel's plain summary (host, cause code), never
   * the fetch error or its Request, whose headers hold the bearer token.
   */
  #networkError(error: unknown, sent: boolean, prepared: Prepared | undefined): MarketoError {
    const request = prepared?.redacted;
    const label = `${request?.method ?? "Request"} ${request?.url ?? ""}`;
    const redact = (text: string) => this.#o.redactor.redact(text);
    if (isKernelError(error)) {
      const notSent = !sent || !error.maybeSent;
      const maybe = notSent ? "" : "; the call may have been executed";
      const outcome = notSent ? "not-executed" : "unknown";
      switch (error.kind) {
        case "timeout":
          return mark(
            new MarketoTimeoutError(
              redact(`${label} timed out (no complete answer within ${error.limit} ms)${maybe}`),
              {
                code: "TIMEOUT",
                retryable: true,
                request,
                timeoutMs: error.limit,
                cause: error,
              },
            ),
            outcome,
          );
        case "too_large":
          return mark(
            new MarketoResponseTooLargeError(
              redact(`${label}: the answer is over the limit of ${error.limit} bytes; reading stopped${maybe}`),
              { code: "RESPONSE_TOO_LARGE", retryable: false, request, limitBytes: error.limit, cause: error },
            ),
            outcome,
          );
        case "redirect":
          return mark(
            new MarketoRedirectError(
              redact(
                `${label} answered HTTP ${error.status} redirecting to ${error.targetOrigin}; not followed (check the base URLs)`,
              ),
              {
                code: "REDIRECT",
                status: error.status,
                retryable: false,
                request,
                targetOrigin: error.targetOrigin,
                cause: error,
              },
            ),
            "unknown",
          );
        default: {
          const code = error.causeCode;
          const notSentNet = notSent || (code !== undefined && NOT_SENT_CODES.has(code));
          return mark(
            new MarketoNetworkError(
              redact(
                `${label} failed (${code ?? "network error"})${notSentNet ? "" : "; the call may have been executed"}`,
              ),
              { code: "NETWORK", retryable: true, request, cause: error },
            ),
            notSentNet ? "not-executed" : "unknown",
          );
        }
      }
    }
    // Not from the wire (a bug or a throwing fetch double): keep only its name, never the object.
    const name = error instanceof Error ? error.name : typeof error;
    return mark(
      new MarketoNetworkError(redact(`${label} failed (${name})${sent ? "; the call may have been executed" : ""}`), {
        code: "NETWORK",
        retryable: true,
        request,
      }),
      sent ? "unknown" : "not-executed",
    );
  }

  /** Judges an answer by its body: returns a successful envelope or throws the matching typed error. */
  #judge(response: { status: number }, text: string, prepared: Prepared): RawEnvelope {
    const request = prepared.redacted;
    const status = response.status;
    // Redacted before it is cut: a secret split by the cut would no longer match the redactor's known values.
    const snippet = this.#o.redactor.snippet(text, 300);
    let json: unknown;
    let isJson = false;
    if (text.trim() !== "") {
      try {
        json = JSON.parse(text);
        isJson = true;
      } catch {
        isJson = false;
      }
    }
    const parsed = isJson ? envelopeSchema.safeParse(json) : undefined;
    if (!parsed?.success) {
      if (status < 200 || status >= 300) {
        const retryable = status >= 500 || status === 429;
        const hint =
          status === 413
            ? " (request body over Marketo's 1 MB limit: send fewer records per call)"
            : status === 414
              ? " (URI over Marketo's 8 KB limit)"
              : "";
        throw mark(
          new MarketoHttpError(`Marketo answered HTTP ${status}${hint} for ${request.method} ${request.url}`, {
            code: `HTTP_${status}`,
            status,
            retryable,
            request,
            bodySnippet: snippet,
          }),
          // 413/414 and 4xx were refused at the edge; 5xx may have run behind it.
          retryable ? "unknown" : "not-executed",
        );
      }
      const kind =
        text.trim() === ""
          ? "an empty body"
          : isJson
            ? "JSON without Marketo's envelope (no boolean success)"
            : /^\s*</.test(text)
              ? "HTML (a proxy or error page?)"
              : "non-JSON text";
      throw mark(
        new MarketoResponseParseError(
          `Expected a Marketo JSON envelope from ${request.method} ${request.url} but got ${kind} (HTTP ${status}): ${JSON.stringify(snippet.slice(0, 120))}`,
          { code: "PARSE", status, retryable: true, request, bodySnippet: snippet },
        ),
        "unknown",
      );
    }
    const env = parsed.data;
    if (env.success) return this.#redactServerText(env);
    throw this.#envelopeError(env, status, request);
  }

  /**
   * Warnings and record `reasons` are server text that reaches results, audit rows and logs: a server echoing a
   * token or the secret there must not carry it that far.
   */
  #redactServerText(env: RawEnvelope): RawEnvelope {
    const redact = (t: string) => this.#o.redactor.redact(t);
    env.warnings = env.warnings.map(redact);
    for (const rec of env.result) {
      const reasons = (rec as { reasons?: unknown } | null)?.reasons;
      if (!Array.isArray(reasons)) continue;
      for (const r of reasons) {
        if (typeof r === "object" && r !== null && typeof (r as { message?: unknown }).message === "string") {
          (r as { message: string }).message = redact((r as { message: string }).message);
        }
      }
    }
    return env;
  }

  #envelopeError(env: RawEnvelope, status: number, request: RedactedRequest): MarketoError {
    const errors = reasonsOf(env).map((r) => ({ code: r.code, message: this.#o.redactor.redact(r.message) }));
    const first = errors[0] ?? { code: "UNKNOWN", message: "success:false without errors" };
    const base = {
      code: first.code,
      requestId: env.requestId,
      status,
      request,
      errors,
    };
    const message = `Marketo error ${first.code}: ${first.message}${env.requestId ? ` (requestId ${env.requestId})` : ""}`;
    const action = actionFor(first.code);
    switch (action) {
      case "renew":
        return mark(new MarketoApiError(message, { ...base, retryable: true }), "not-executed");
      case "rate-limit":
        // The gate was closed in #send, before the slot was released.
        return mark(new MarketoRateLimitError(message, { ...base, retryable: true }), "not-executed");
      case "quota":
        // Today's count was raised to the quota in #send, before the slot was released.
        return mark(new MarketoQuotaExceededError(message, { ...base, retryable: false }), "not-executed");
      case "transient":
        return mark(new MarketoApiError(message, { ...base, retryable: true }), "not-executed");
      case "read-only":
        return mark(new MarketoReadOnlyError(message, { ...base, retryable: false }), "not-executed");
      case "permission":
        return mark(new MarketoPermissionError(message, { ...base, retryable: false }), "not-executed");
      default:
        return mark(new MarketoInvalidRequestError(message, { ...base, retryable: false }), "not-executed");
    }
  }
}
