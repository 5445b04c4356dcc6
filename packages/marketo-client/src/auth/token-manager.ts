import ky from "ky";
import { z } from "zod";
import { MarketoAuthError, MarketoHttpError, MarketoNetworkError, MarketoResponseParseError } from "../errors.js";
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

/** Options of {@link TokenManager}. */
export interface TokenManagerOptions {
  identityUrl: string;
  clientId: string;
  clientSecret: string;
  /** Renew this long before expiry. */
  refreshMarginMs: number;
  cache: TokenCache;
  clock: Clock;
  sleep: Sleep;
  fetch: FetchLike;
  logger: Logger;
  redactor: Redactor;
  timeoutMs?: number;
}

/**
 * Client-credentials token lifecycle: cached per identity URL + client ID, renewed `refreshMarginMs` before expiry,
 * invalidated after 601/602, and one in-flight renewal shared by every concurrent caller.
 */
export class TokenManager {
  readonly #o: TokenManagerOptions;
  readonly #key: string;
  #inflight: Promise<CachedToken> | undefined;
  #requests = 0;
  /** Expiry of a token identity re-issued unchanged inside the margin: keep using it until then, do not ask again. */
  #sameUntil: number | undefined;

  constructor(options: TokenManagerOptions) {
    this.#o = options;
    this.#key = `${options.identityUrl}#${options.clientId}`;
    options.redactor.add(options.clientSecret);
  }

  /** Token requests sent to the identity service by this manager. */
  get requests(): number {
    return this.#requests;
  }

  #fresh(t: CachedToken): boolean {
    return t.expiresAt - this.#o.refreshMarginMs > this.#o.clock.now();
  }

  /** Shortest remaining life a token is still sent with (a call must reach Marketo before the token lapses). */
  get #safetyMs(): number {
    return Math.min(this.#o.refreshMarginMs, 2_000);
  }

  /**
   * A token valid for at least the refresh margin; or, when identity already answered with the same token inside the
   * margin (it only issues a new one after expiry), that token while it has more than a short safety left.
   */
  async token(signal?: AbortSignal): Promise<string> {
    const cached = this.#o.cache.get(this.#key);
    if (cached && this.#fresh(cached)) return cached.accessToken;
    if (cached && this.#sameUntil === cached.expiresAt && cached.expiresAt - this.#safetyMs > this.#o.clock.now()) {
      return cached.accessToken;
    }
    // One renewal for every concurrent caller; it is not tied to any one caller's signal, each caller can stop waiting.
    this.#inflight ??= this.#renew().finally(() => {
      this.#inflight = undefined;
    });
    return (await raceAbort(this.#inflight, signal)).accessToken;
  }

  /** Forgets `accessToken` (after Marketo said 601/602 for it); a newer token is kept. */
  invalidate(accessToken: string): void {
    if (this.#o.cache.get(this.#key)?.accessToken === accessToken) {
      this.#o.cache.delete(this.#key);
      this.#sameUntil = undefined;
    }
  }

  async #renew(signal?: AbortSignal): Promise<CachedToken> {
    // `signal` is not passed by token(): one renewal serves every caller.
    // expires_in is the REMAINING life: asking before expiry returns the same token with less time. When that is
    // within the margin, wait for it to lapse and ask again (bounded), rather than use a token about to die.
    for (let round = 0; ; round++) {
      const got = await this.#request(signal);
      const remainingMs = got.expiresAt - this.#o.clock.now();
      if (remainingMs > this.#o.refreshMarginMs || round >= 3) {
        this.#sameUntil = undefined;
        this.#o.cache.set(this.#key, got);
        return got;
      }
      if (remainingMs > this.#safetyMs) {
        // Same token, inside the margin: use it until just before it lapses instead of asking identity on every call.
        this.#sameUntil = got.expiresAt;
        this.#o.cache.set(this.#key, got);
        return got;
      }
      this.#o.logger.debug({ remainingMs }, "marketo token: about to expire, waiting for a new one");
      await this.#o.sleep(Math.max(remainingMs, 0) + 1_000, signal);
    }
  }

  async #request(signal?: AbortSignal): Promise<CachedToken> {
    this.#requests++;
    const url = `${this.#o.identityUrl.replace(/\/+$/, "")}/oauth/token`;
    const request = { method: "POST", url };
    let response: Response;
    try {
      // Form body rather than query string: the secret stays out of URLs, proxy logs and error messages.
      response = await ky(url, {
        method: "POST",
        body: new URLSearchParams({
          grant_type: "client_credentials",
          client_id: this.#o.clientId,
          client_secret: this.#o.clientSecret,
        }),
        headers: { accept: "application/json" },
        retry: 0,
        throwHttpErrors: false,
        timeout: this.#o.timeoutMs ?? 30_000,
        fetch: this.#o.fetch,
        ...(signal ? { signal } : {}),
      });
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      throw new MarketoNetworkError(
        `Token request to ${url} failed: ${this.#o.redactor.redact(String((error as Error)?.message ?? error))}`,
        { code: "NETWORK", retryable: true, request },
      );
    }
    const text = await response.text().catch(() => "");
    const snippet = this.#o.redactor.redact(text.slice(0, 200));
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
      expiresAt: this.#o.clock.now() + parsed.data.expires_in * 1000,
    };
  }
}
