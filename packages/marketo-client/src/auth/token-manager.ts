import { type HardenedResponse, hardenedFetch, isKernelError } from "@ml/http-kernel";
import { z } from "zod";
import {
  MarketoAuthError,
  MarketoHttpError,
  MarketoNetworkError,
  MarketoRedirectError,
  MarketoResponseParseError,
  MarketoResponseTooLargeError,
  MarketoTimeoutError,
} from "../errors.js";
import { raceAbort } from "../internal/abort.js";
import type { Redactor } from "../internal/redact.js";
import type { Clock, FetchLike, Logger, Sleep } from "../internal/runtime.js";
import type { CachedToken, TokenCache } from "./token-cache.js";

const tokenResponseSchema = z.object({
  access_token: z.string().min(1),
  token_type: z.string().optional(),
  expires_in: z.coerce.number().min(0),
  scope: z.string().optional(),
});

/** Every wait of a token renewal, in ms. Defaults suit Marketo; the simulator's `clientOptions` scales them. */
export interface TokenRenewalTiming {
  /** Background renewal backoff after a failure: first wait, doubled per failure. @default 1000 */
  retryBaseDelayMs?: number;
  /** Longest background renewal backoff. @default 30000 */
  retryMaxDelayMs?: number;
  /** First step between identity requests while waiting for a lapsed token's successor; doubled. @default 200 */
  successorStepMs?: number;
  /** Longest step between those identity requests. @default 1000 */
  successorMaxStepMs?: number;
  /** Longest a renewal waits for identity to hand out a new token before it settles for what it has. @default 5000 */
  successorMaxWaitMs?: number;
}

/** Options of {@link TokenManager}. */
export interface TokenManagerOptions {
  identityUrl: string;
  clientId: string;
  clientSecret: string;
  /** Renew this long before expiry. */
  refreshMarginMs: number;
  /** Waits of the renewal (defaults: Marketo timing). */
  renewal?: TokenRenewalTiming;
  cache: TokenCache;
  clock: Clock;
  sleep: Sleep;
  fetch: FetchLike;
  logger: Logger;
  redactor: Redactor;
  timeoutMs?: number;
  /** Largest token answer read, in decoded bytes. @default 1 MiB */
  maxResponseBytes?: number;
}

/** Shortest remaining life a token is still sent with, so a call reaches Marketo before the token lapses. */
const SAFETY_MS = 500;
/** First step between identity requests while waiting for a lapsed token's successor; doubled up to `MAX_STEP_MS`. */
const FIRST_STEP_MS = 200;
const MAX_STEP_MS = 1_000;
/** Longest a renewal waits for identity to hand out a new token before it settles for what it has. */
const MAX_WAIT_MS = 5_000;
/** Background renewal backoff after a failure: 1 s, doubled per failure, at most 30 s. */
const BACKOFF_BASE_MS = 1_000;
const BACKOFF_MAX_MS = 30_000;
/** How many issued and rejected tokens are remembered (only the newest matter; old ones are never handed out again). */
const REMEMBERED = 32;

/** Adds `value` to an insertion-ordered set, dropping the oldest entries beyond `REMEMBERED`. */
function remember<K, V>(map: Map<K, V>, key: K, value: V): void {
  map.delete(key);
  map.set(key, value);
  while (map.size > REMEMBERED) map.delete(map.keys().next().value as K);
}

/**
 * Client-credentials token lifecycle: cached per identity URL + client ID, renewed `refreshMarginMs` before expiry,
 * invalidated after 601/602, and one in-flight renewal shared by every concurrent caller.
 *
 * A token that is still valid is never held back for a renewal: inside the margin it is handed out at once while the
 * renewal runs in the background (after a failure, retried with backoff at a later call). Marketo's identity
 * re-issues the same token until it lapses, so a renewal inside the margin often changes nothing; the next attempt is
 * then made when the token is about to lapse. Only a caller without a usable token waits, and only until the
 * successor can exist (identity is asked right after the token's end, then in short steps).
 *
 * Every distinct token identity hands out gets a sequence number ({@link TokenManager.issued}), so the transport can
 * tell a rejected token that was already replaced, or issued before its call started, from one issued for it. A token
 * Marketo rejected that identity hands back with no more than the margin left is treated as lapsing: its successor is
 * waited for (at most `successorMaxWaitMs`) instead of sending it again.
 */
export class TokenManager {
  readonly #o: TokenManagerOptions;
  readonly #key: string;
  #inflight: Promise<CachedToken> | undefined;
  #requests = 0;
  /** No background renewal before this: backoff after a failure, or the re-issued token cannot change before. */
  #retryAt = 0;
  #failures = 0;
  /** Distinct tokens handed out by identity so far; each token's number, for the newest few. */
  #issued = 0;
  readonly #seqOf = new Map<string, number>();
  /** Tokens Marketo rejected (601/602), newest few. */
  readonly #rejected = new Map<string, true>();

  constructor(options: TokenManagerOptions) {
    this.#o = options;
    this.#key = `${options.identityUrl}#${options.clientId}`;
    options.redactor.add(options.clientSecret);
  }

  /** Token requests sent to the identity service by this manager. */
  get requests(): number {
    return this.#requests;
  }

  /** How many distinct tokens identity has handed this manager so far (a sequence number, never reset). */
  get issued(): number {
    return this.#issued;
  }

  /**
   * Whether identity first handed out `accessToken` after {@link TokenManager.issued} was `seq`, i.e. it is newer
   * than anything this manager had then. A token this manager never got from identity (e.g. from a shared cache) is
   * not.
   */
  issuedAfter(accessToken: string, seq: number): boolean {
    const n = this.#seqOf.get(accessToken);
    return n !== undefined && n > seq;
  }

  /** Whether `accessToken` is the token a call would be given now (the newest one cached). */
  isCurrent(accessToken: string): boolean {
    return this.#o.cache.get(this.#key)?.accessToken === accessToken;
  }

  /** Shortest remaining life a token is still sent with. */
  get #safetyMs(): number {
    return Math.min(this.#o.refreshMarginMs, SAFETY_MS);
  }

  /**
   * A token to send now: the cached one while it has more than a short safety left (renewed in the background once
   * inside the refresh margin), otherwise the result of a renewal shared by every caller.
   */
  async token(signal?: AbortSignal): Promise<string> {
    const now = this.#o.clock.now();
    const cached = this.#o.cache.get(this.#key);
    if (cached) {
      const left = cached.expiresAt - now;
      if (left > this.#o.refreshMarginMs) return cached.accessToken;
      if (left > this.#safetyMs) {
        this.#renewInBackground(now);
        return cached.accessToken;
      }
    }
    // One renewal for every concurrent caller; it is not tied to any one caller's signal, each caller can stop waiting.
    return (await raceAbort(this.#renewal(), signal)).accessToken;
  }

  /**
   * Forgets `accessToken` (after Marketo said 601/602 for it); a newer token is kept. Identity handing the same token
   * back with no more than the margin left is then waited out rather than sent again.
   */
  invalidate(accessToken: string): void {
    remember(this.#rejected, accessToken, true);
    if (this.#o.cache.get(this.#key)?.accessToken === accessToken) {
      this.#o.cache.delete(this.#key);
      this.#retryAt = 0;
    }
  }

  #renewal(): Promise<CachedToken> {
    this.#inflight ??= this.#renew().finally(() => {
      this.#inflight = undefined;
    });
    return this.#inflight;
  }

  /** Starts a renewal nobody waits for, unless one runs or the backoff says not yet. */
  #renewInBackground(now: number): void {
    if (this.#inflight !== undefined || now < this.#retryAt) return;
    this.#renewal().catch((error: unknown) => {
      this.#failures++;
      const r = this.#o.renewal;
      const delay = Math.min(
        r?.retryMaxDelayMs ?? BACKOFF_MAX_MS,
        (r?.retryBaseDelayMs ?? BACKOFF_BASE_MS) * 2 ** Math.min(this.#failures - 1, 20),
      );
      this.#retryAt = this.#o.clock.now() + delay;
      const e = error as { code?: unknown; message?: unknown };
      this.#o.logger.warn(
        {
          code: typeof e?.code === "string" ? e.code : undefined,
          error: this.#o.redactor.redact(String(e?.message ?? error)),
          retryInMs: delay,
        },
        "marketo token: background renewal failed; the current token is used until it is about to lapse",
      );
    });
  }

  async #renew(): Promise<CachedToken> {
    // expires_in is the REMAINING life: asking before expiry returns the same token with less time, and identity only
    // issues a new one once it lapses. Each answer bounds the token's end from below; the latest bound is kept.
    const started = this.#o.clock.now();
    const r = this.#o.renewal;
    const maxWaitMs = r?.successorMaxWaitMs ?? MAX_WAIT_MS;
    const maxStepMs = r?.successorMaxStepMs ?? MAX_STEP_MS;
    let step = r?.successorStepMs ?? FIRST_STEP_MS;
    for (;;) {
      const got = await this.#request();
      this.#failures = 0;
      if (!this.#seqOf.has(got.accessToken)) remember(this.#seqOf, got.accessToken, ++this.#issued);
      const prior = this.#o.cache.get(this.#key);
      const token =
        prior?.accessToken === got.accessToken && prior.expiresAt > got.expiresAt
          ? { accessToken: got.accessToken, expiresAt: prior.expiresAt }
          : got;
      this.#o.cache.set(this.#key, token);
      const now = this.#o.clock.now();
      const left = token.expiresAt - now;
      if (left > this.#o.refreshMarginMs) {
        this.#retryAt = 0;
        return token;
      }
      // Inside the margin: asking again before it is about to lapse would only hand back the same token.
      this.#retryAt = token.expiresAt - this.#safetyMs;
      // A token Marketo already rejected, handed back near its end: Marketo's clock says it lapsed, identity's not yet.
      const rejected = this.#rejected.has(token.accessToken);
      const waited = now - started;
      if ((left > this.#safetyMs && !rejected) || waited >= maxWaitMs) return token;
      // About to lapse: ask again right at its end, then in short growing steps until identity issues the successor.
      this.#o.logger.debug(
        { remainingMs: left, rejected },
        "marketo token: about to expire or rejected, waiting for its successor",
      );
      if (left > 0) await this.#o.sleep(Math.min(left, maxWaitMs - waited));
      else {
        await this.#o.sleep(step);
        step = Math.min(maxStepMs, step * 2);
      }
    }
  }

  /** A typed error for a failed token request: the kernel's plain summary as cause, never the fetch error or its body. */
  #wireError(error: unknown, url: string, request: { method: string; url: string }): Error {
    const redact = (t: string) => this.#o.redactor.redact(t);
    if (!isKernelError(error)) {
      return new MarketoNetworkError(`Token request to ${url} failed`, { code: "NETWORK", retryable: true, request });
    }
    switch (error.kind) {
      case "timeout":
        return new MarketoTimeoutError(redact(`Token request to ${url} timed out after ${error.limit} ms`), {
          code: "TIMEOUT",
          retryable: true,
          request,
          timeoutMs: error.limit,
          cause: error,
        });
      case "too_large":
        return new MarketoResponseTooLargeError(
          redact(`Token answer from ${url} is over the limit of ${error.limit} bytes`),
          { code: "RESPONSE_TOO_LARGE", request, limitBytes: error.limit, cause: error },
        );
      case "redirect":
        return new MarketoRedirectError(
          redact(
            `Token request to ${url} answered HTTP ${error.status} redirecting to ${error.targetOrigin}; not followed, the credentials were not sent there (check baseUrls.identity)`,
          ),
          { code: "REDIRECT", status: error.status, request, targetOrigin: error.targetOrigin, cause: error },
        );
      default:
        return new MarketoNetworkError(
          redact(`Token request to ${url} failed (${error.causeCode ?? "network error"})`),
          { code: "NETWORK", retryable: true, request, cause: error },
        );
    }
  }

  async #request(signal?: AbortSignal): Promise<CachedToken> {
    this.#requests++;
    // expires_in is counted from when identity answered, which is after this: a lower bound of the token's end.
    const sentAt = this.#o.clock.now();
    const url = `${this.#o.identityUrl.replace(/\/+$/, "")}/oauth/token`;
    const request = { method: "POST", url };
    const timeoutMs = this.#o.timeoutMs ?? 30_000;
    let response: HardenedResponse;
    let text: string;
    try {
      // Form body rather than query string: the secret stays out of URLs, proxy logs and error messages. The hardened
      // fetch never re-sends it on a redirect, and one deadline covers the answer's headers and body.
      response = await hardenedFetch({
        url,
        method: "POST",
        body: new URLSearchParams({
          grant_type: "client_credentials",
          client_id: this.#o.clientId,
          client_secret: this.#o.clientSecret,
        }),
        headers: { accept: "application/json" },
        fetch: this.#o.fetch,
        timeoutMs,
        maxBodyBytes: Math.min(this.#o.maxResponseBytes ?? 1024 * 1024, 1024 * 1024),
        signal,
      });
      text = await response.text();
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      throw this.#wireError(error, url, request);
    }
    // Redacted before it is cut, so a secret split by the cut still matches.
    const snippet = this.#o.redactor.snippet(text, 200);
    if (response.status === 401 || response.status === 403) {
      throw new MarketoAuthError(
        `Marketo identity rejected the client credentials (HTTP ${response.status}) for client ID ${this.#o.clientId}. Check the client ID and secret of the API-only user.`,
        { code: "AUTH", status: response.status, request },
      );
    }
    if (!response.ok) {
      throw new MarketoHttpError(`Token request answered HTTP ${response.status}`, {
        code: `HTTP_${response.status}`,
        status: response.status,
        retryable: response.status >= 500 || response.status === 429,
        request,
        bodySnippet: snippet,
      });
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new MarketoResponseParseError(`Token response is not JSON: ${JSON.stringify(snippet.slice(0, 80))}`, {
        code: "PARSE",
        status: response.status,
        retryable: true,
        request,
        bodySnippet: snippet,
      });
    }
    const parsed = tokenResponseSchema.safeParse(json);
    if (!parsed.success) {
      throw new MarketoResponseParseError("Token response lacks access_token/expires_in", {
        code: "PARSE",
        status: response.status,
        request,
      });
    }
    this.#o.redactor.add(parsed.data.access_token);
    return {
      accessToken: parsed.data.access_token,
      expiresAt: sentAt + parsed.data.expires_in * 1000,
    };
  }
}
