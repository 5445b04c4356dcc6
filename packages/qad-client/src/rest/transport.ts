import { type HardenedResponse, hardenedFetch, isKernelError, parseRetryAfter, type Redactor } from "@ml/http-kernel";
import type { Dispatcher } from "undici";
import {
  isQadError,
  QadAbortError,
  QadAuthError,
  type QadError,
  QadHttpError,
  QadPermissionError,
  QadRedirectError,
  type QadRequestInfo,
  QadResponseParseError,
  QadResponseTooLargeError,
  QadTimeoutError,
  redactUrl,
} from "../errors.js";
import type { ResolvedDeps } from "../internal/deps.js";
import { type ResolvedRetry, withRetry } from "../internal/retry.js";
import { fetchThrough } from "../network/tenant-dispatcher.js";
import { findTenantRefusal } from "../network/tenant-policy.js";
import { checkEnvelope } from "./envelope.js";
import { resolveUnderTenant } from "./paths.js";

/** Query parameters; pairs so a name (e.g. `filter`) can repeat. @internal */
export type Query = ReadonlyArray<readonly [string, string]>;

/** One request through the transport. @internal */
export interface TransportRequest {
  method: "GET" | "POST";
  /** Relative path, already checked by the caller's path policy; re-checked for syntax and origin here. */
  path: string;
  query?: Query;
  /** JSON body. */
  json?: unknown;
  /** Form body (application/x-www-form-urlencoded). */
  form?: Record<string, string>;
  /** Send the bearer token (and renew once after a 401). @default true */
  auth?: boolean;
  /** Add workspace header and domain parameters. @default true for authenticated calls */
  scoped?: boolean;
  signal?: AbortSignal;
  /** Use exactly this bearer token (no renewal); for calls made while a token is being issued. */
  bearer?: string;
}

/** A parsed answer. @internal */
export interface TransportResponse {
  status: number;
  body: unknown;
  requestId?: string;
}

/**
 * Where the REST transport gets its bearer tokens: asked before each authenticated request, and told when the server
 * refused one (HTTP 401) so the next `get()` renews it. The auth layer's token manager is one; the transport knows
 * nothing of how tokens are issued.
 * @internal
 */
export interface TokenProvider {
  /** A token valid now (renewed first when missing, near expiry or invalidated). */
  get(signal?: AbortSignal): Promise<string>;
  /**
   * The server refused `token` (HTTP 401). A token already replaced by a concurrent caller is left alone, so N
   * requests failing together cause one renewal.
   */
  invalidate(token: string): void;
  /** How many distinct tokens were issued so far (a sequence number): a request notes it when it starts. */
  readonly issued: number;
  /** Whether `token` was first issued after {@link TokenProvider.issued} was `seq` (a token issued for that request). */
  issuedAfter(token: string, seq: number): boolean;
  /** Whether `token` is the one `get()` would hand out now. */
  isCurrent(token: string): boolean;
}

/** Most token renewals one request makes after HTTP 401 before it gives up with a {@link QadAuthError}. */
const MAX_AUTH_RETRIES = 3;

/** What one request has seen of token rejections. */
interface AuthRound {
  /** The provider's issue count when the request started: tokens numbered above it were issued for it. */
  since: number;
  /** Tokens QAD refused for this request. */
  rejected: Set<string>;
  /** Refusals of a token issued after the request started that had not been refused before. */
  freshRejections: number;
  /** Renewals (repeats after a 401) so far. */
  renewals: number;
}

/** @internal */
export interface TransportOptions {
  base: URL;
  /** Bearer tokens for authenticated requests; without one, requests go out without `Authorization`. */
  tokens?: TokenProvider;
  deps: ResolvedDeps;
  retry: ResolvedRetry;
  /** One deadline per attempt, covering the answer's headers and its whole body. */
  timeoutMs: number;
  /** Largest answer read, in decoded bytes. */
  maxResponseBytes: number;
  /** Knows the client's secrets and issued tokens; applied to every snippet and message taken from an answer. */
  redactor: Redactor;
  workspaceId?: string;
  domainCode?: string;
  domainContext?: string;
  headers?: Record<string, string>;
  /** Connects every request (the tenant network policy's connect-time check). */
  dispatcher?: Dispatcher;
}

/** A QadError that may carry a server-requested delay. @internal */
type WithRetryAfter = QadError & { retryAfterMs?: number };

/**
 * The one place REST HTTP happens: path check → bearer token from the {@link TokenProvider} → hardened fetch →
 * status and envelope → typed error, with p-retry around it for transient failures and, after a 401, the provider
 * told and asked again. A 401 is fatal only when QAD refuses tokens issued for this request a second time, or after
 * `MAX_AUTH_RETRIES` renewals: a stale token (replaced already, handed out again, or expired on the server while the
 * request waited) never fails a request.
 * @internal
 */
export class Transport {
  #requests = 0;

  constructor(readonly opts: TransportOptions) {}

  /** Requests sent so far (all attempts). */
  get requestCount(): number {
    return this.#requests;
  }

  /** Sends with retries for transient failures. */
  async request(req: TransportRequest): Promise<TransportResponse> {
    const url = resolveUnderTenant(this.opts.base, req.path);
    // One auth round per request, across its transient retries: the renewal bound holds for the whole request.
    const round: AuthRound = {
      since: this.opts.tokens?.issued ?? 0,
      rejected: new Set(),
      freshRejections: 0,
      renewals: 0,
    };
    return withRetry(
      () => this.#attemptWithAuth(url, req, round),
      this.opts.retry,
      this.opts.deps,
      req.signal,
      req.path,
    );
  }

  async #attemptWithAuth(url: URL, req: TransportRequest, round: AuthRound): Promise<TransportResponse> {
    if (req.bearer !== undefined) return this.#send(url, req, req.bearer);
    const tokens = this.opts.tokens;
    if (req.auth === false || !tokens) return this.#send(url, req, undefined);
    for (;;) {
      const token = await tokens.get(req.signal);
      try {
        return await this.#send(url, req, token);
      } catch (e) {
        if (!(isQadError(e) && e.code === "auth" && e.status === 401)) throw e;
        // Fresh: issued after this request started, and not refused before in it.
        const fresh = tokens.issuedAfter(token, round.since) && !round.rejected.has(token);
        round.rejected.add(token);
        if (fresh) round.freshRejections++;
        if (round.freshRejections >= 2 || round.renewals >= MAX_AUTH_RETRIES) {
          throw new QadAuthError(
            round.freshRejections >= 2
              ? "QAD rejected a freshly renewed token (HTTP 401): tokens issued for this request were refused twice"
              : `QAD kept rejecting the token after ${round.renewals} renewals (HTTP 401)`,
            { status: 401, ...(e.request ? { request: e.request } : {}) },
          );
        }
        round.renewals++;
        const stale = !tokens.isCurrent(token);
        // The session expired server-side before our clock said so (or an older token was refused): renew and replay.
        this.opts.deps.logger.info(
          { path: req.path, renewal: round.renewals, stale },
          stale
            ? "qad rejected an older token (401), retrying with the newest"
            : "qad session rejected (401), renewing token",
        );
        tokens.invalidate(token);
      }
    }
  }

  async #send(url: URL, req: TransportRequest, token: string | undefined): Promise<TransportResponse> {
    const target = new URL(url);
    const scoped = req.scoped ?? req.auth !== false;
    const params: (readonly [string, string])[] = [...(req.query ?? [])];
    if (scoped && this.opts.domainCode !== undefined) params.push(["domainCode", this.opts.domainCode]);
    if (scoped && this.opts.domainContext !== undefined) params.push(["domainContext", this.opts.domainContext]);
    for (const [k, v] of params) target.searchParams.append(k, v);
    const info: QadRequestInfo = { method: req.method, url: redactUrl(target.toString()) };
    const headers: Record<string, string> = { accept: "application/json", ...(this.opts.headers ?? {}) };
    if (token !== undefined) headers.authorization = `Bearer ${token}`;
    if (scoped && this.opts.workspaceId !== undefined) headers["x-qad-workspace-id"] = this.opts.workspaceId;
    let body: string | undefined;
    if (req.form) {
      headers["content-type"] = "application/x-www-form-urlencoded";
      body = new URLSearchParams(req.form).toString();
    } else if (req.json !== undefined) {
      headers["content-type"] = "application/json";
      body = JSON.stringify(req.json);
    }
    if (req.signal?.aborted) throw new QadAbortError(undefined, { request: info, cause: req.signal.reason });
    this.#requests++;
    let res: HardenedResponse;
    let text: string;
    try {
      // Redirects: never followed to another origin (nor for a POST); one deadline over headers and body; a byte limit.
      res = await hardenedFetch({
        url: target,
        method: req.method,
        headers,
        body,
        signal: req.signal,
        // Through the tenant network policy's dispatcher (connect-time address check), when there is one.
        fetch: fetchThrough(this.opts.deps.fetch, this.opts.dispatcher),
        // Refused by the network policy before connecting: that typed, secret-free error, not retryable.
        recognise: findTenantRefusal,
        timeoutMs: this.opts.timeoutMs,
        maxBodyBytes: this.opts.maxResponseBytes,
        timers: this.opts.deps.timers,
      });
      text = await res.text();
    } catch (e) {
      if (req.signal?.aborted) throw new QadAbortError(undefined, { request: info, cause: req.signal.reason });
      throw wireError(e, info, this.opts.timeoutMs);
    }
    const requestId = res.headers.get("x-request-id") ?? res.headers.get("x-qad-request-id") ?? undefined;
    const base = { status: res.status, request: info, ...(requestId ? { requestId } : {}) };
    const redact = (t: string) => this.opts.redactor.redact(t);
    const contentType = res.headers.get("content-type") ?? "";
    let parsed: unknown;
    let parseOk = false;
    if (text.trim() !== "" && !/html|xml/i.test(contentType)) {
      try {
        parsed = JSON.parse(text);
        parseOk = true;
      } catch {
        parseOk = false;
      }
    }
    if (res.status === 401) {
      throw new QadAuthError("QAD session expired or credentials rejected (HTTP 401)", base);
    }
    if (res.status === 403) {
      const errs = parseOk ? extractErrors(parsed, redact) : [];
      throw new QadPermissionError(`QAD denied access (HTTP 403)${errs[0] ? `: ${errs[0].message}` : ""}`, errs, base);
    }
    if (res.status < 200 || res.status >= 300) {
      const retryable = res.status >= 500 || res.status === 408 || res.status === 429;
      const err: WithRetryAfter = new QadHttpError(`QAD answered HTTP ${res.status}`, {
        ...base,
        retryable,
        bodySnippet: redact(text.slice(0, 2000)).slice(0, 500),
        errors: parseOk ? extractErrors(parsed, redact) : [],
      });
      const ra = parseRetryAfter(res.headers.get("retry-after"), this.opts.deps.clock.now());
      if (ra !== undefined) err.retryAfterMs = ra;
      throw err;
    }
    if (!parseOk) {
      throw new QadResponseParseError(
        text.trim() === ""
          ? "QAD answered with an empty body where JSON was expected"
          : `QAD answered with a non-JSON body (${contentType || "no content-type"}), e.g. a login page or proxy error`,
        { ...base, bodySnippet: redact(text.slice(0, 2000)).slice(0, 500), contentType },
      );
    }
    return {
      status: res.status,
      body: checkEnvelope(parsed, { status: res.status, request: info, ...(requestId ? { requestId } : {}) }),
      ...(requestId ? { requestId } : {}),
    };
  }
}

/**
 * A typed error for a failure on the wire. The cause kept is the kernel's plain summary (host, cause code such as
 * ECONNREFUSED or BAD_PORT), never the fetch error or its Request, whose headers and body hold the credentials.
 */
function wireError(e: unknown, request: QadRequestInfo, timeoutMs: number): QadError {
  if (isQadError(e)) return e; // a refusal by the tenant network policy before connecting: typed already
  if (!isKernelError(e)) return new QadHttpError("QAD network error", { request, retryable: true });
  switch (e.kind) {
    case "timeout":
      return new QadTimeoutError(
        `QAD request timed out: no complete answer within ${e.limit ?? timeoutMs} ms`,
        e.limit ?? timeoutMs,
        {
          request,
          cause: e,
        },
      );
    case "too_large":
      return new QadResponseTooLargeError(
        `QAD answer is over the limit of ${e.limit} bytes (maxResponseBytes); reading stopped`,
        e.limit ?? 0,
        { request, cause: e },
      );
    case "redirect":
      return new QadRedirectError(
        `QAD answered HTTP ${e.status} redirecting to ${e.targetOrigin}; not followed, nothing was sent there (check the tenant URL)`,
        e.targetOrigin ?? "unknown",
        { request, ...(e.status ? { status: e.status } : {}), cause: e },
      );
    default:
      return new QadHttpError(`QAD network error (${e.causeCode ?? "connection failed"} to ${e.host})`, {
        request,
        retryable: true,
        cause: e,
      });
  }
}

function extractErrors(
  body: unknown,
  redact: (text: string) => string,
): { severity?: number; code?: string; message: string }[] {
  if (typeof body !== "object" || body === null) return [];
  const errs = (body as { errors?: unknown }).errors;
  if (!Array.isArray(errs)) return [];
  return errs.map((e) => {
    const r = (typeof e === "object" && e !== null ? e : {}) as Record<string, unknown>;
    return {
      ...(typeof r.severity === "number" ? { severity: r.severity } : {}),
      ...(r.code !== undefined ? { code: String(r.code) } : {}),
      message: typeof r.message === "string" ? redact(r.message) : "unknown error",
    };
  });
}
