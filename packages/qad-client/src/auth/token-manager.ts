import { QadAuthError } from "../errors.js";
import type { Clock, Logger } from "../internal/deps.js";

/** A token with its (possibly unknown) expiry. @internal */
export interface IssuedToken {
  token: string;
  /** ms since epoch; undefined when nothing said. */
  expiresAt?: number;
}

/** @internal */
export interface TokenManagerOptions {
  /** Obtains a fresh token; `forceRefresh` after a 401. */
  issue(forceRefresh: boolean, signal?: AbortSignal): Promise<IssuedToken>;
  /** Looks up the session length when the token carries no expiry (ms), or undefined. */
  sessionLengthMs?(token: string, signal?: AbortSignal): Promise<number | undefined>;
  clock: Clock;
  logger: Logger;
  refreshMarginMs: number;
  defaultLifetimeMs: number;
}

/**
 * Holds the current token, renews it `refreshMarginMs` before expiry, and shares one in-flight renewal between
 * all concurrent callers (so a burst of requests after expiry causes one login, not one each).
 * @internal
 */
export class TokenManager {
  #current: { token: string; expiresAt: number } | undefined;
  #inflight: Promise<string> | undefined;
  #forceNext = false;
  #renewals = 0;
  /** Each distinct token's issue number (the newest few): the transport tells stale tokens from fresh ones by it. */
  readonly #seqOf = new Map<string, number>();
  #issued = 0;

  constructor(private readonly opts: TokenManagerOptions) {}

  /** How many distinct tokens were issued so far (a sequence number, never reset). */
  get issued(): number {
    return this.#issued;
  }

  /** Whether `token` was first issued after {@link TokenManager.issued} was `seq`. */
  issuedAfter(token: string, seq: number): boolean {
    const n = this.#seqOf.get(token);
    return n !== undefined && n > seq;
  }

  /** Whether `token` is the one a request would be given now. */
  isCurrent(token: string): boolean {
    return this.#current?.token === token;
  }

  /** How many tokens were obtained so far. */
  get renewals(): number {
    return this.#renewals;
  }

  /** A valid token, renewing when missing or near expiry. */
  async get(signal?: AbortSignal): Promise<string> {
    const cur = this.#current;
    if (cur && this.opts.clock.now() < cur.expiresAt - this.opts.refreshMarginMs) return cur.token;
    this.#inflight ??= this.#renew(signal).finally(() => {
      this.#inflight = undefined;
    });
    return this.#inflight;
  }

  /**
   * Drops `token` after the server rejected it (401). A token already replaced by a concurrent caller is left
   * alone, so N requests failing together trigger one renewal.
   */
  invalidate(token: string): void {
    if (this.#current?.token === token) {
      this.#current = undefined;
      this.#forceNext = true;
    }
  }

  async #renew(signal?: AbortSignal): Promise<string> {
    const force = this.#forceNext;
    this.#forceNext = false;
    const issued = await this.opts.issue(force, signal);
    if (typeof issued.token !== "string" || issued.token === "") {
      throw new QadAuthError("The authentication answer carried no token");
    }
    let expiresAt = issued.expiresAt;
    if (expiresAt === undefined && this.opts.sessionLengthMs) {
      try {
        const len = await this.opts.sessionLengthMs(issued.token, signal);
        if (len !== undefined) expiresAt = this.opts.clock.now() + len;
      } catch (e) {
        // The session length is a hint only; the 401 path still renews a token that expired unannounced.
        this.opts.logger.warn({ err: { message: (e as Error).message } }, "qad securityControl lookup failed");
      }
    }
    expiresAt ??= this.opts.clock.now() + this.opts.defaultLifetimeMs;
    this.#current = { token: issued.token, expiresAt };
    if (!this.#seqOf.has(issued.token)) {
      this.#seqOf.set(issued.token, ++this.#issued);
      // Only the newest tokens matter: older ones are never handed out again.
      while (this.#seqOf.size > 32) this.#seqOf.delete(this.#seqOf.keys().next().value as string);
    }
    this.#renewals++;
    this.opts.logger.debug({ expiresAt, renewals: this.#renewals }, "qad token renewed");
    return issued.token;
  }
}
