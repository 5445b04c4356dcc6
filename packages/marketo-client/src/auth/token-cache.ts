/** Where access tokens are kept between calls. */

/** A cached access token. */
export interface CachedToken {
  /** The bearer token. */
  accessToken: string;
  /** When Marketo will stop accepting it (ms since epoch, from the injected clock). */
  expiresAt: number;
}

/**
 * Token storage keyed by identity URL and client ID. Each client has its own in-memory cache by default; pass one
 * cache to several clients of the same API user to share tokens between them.
 */
export interface TokenCache {
  get(key: string): CachedToken | undefined;
  set(key: string, token: CachedToken): void;
  delete(key: string): void;
}

/** The default {@link TokenCache}: a map in this process's memory. */
export class InMemoryTokenCache implements TokenCache {
  readonly #map = new Map<string, CachedToken>();
  get(key: string): CachedToken | undefined {
    return this.#map.get(key);
  }
  set(key: string, token: CachedToken): void {
    this.#map.set(key, token);
  }
  delete(key: string): void {
    this.#map.delete(key);
  }
}
