/** Injectable runtime services (time, waiting, randomness, logging, HTTP) with their real defaults, written once. */

/** A source of the current time, in milliseconds since the epoch. Inject a fake one in tests. */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
}

/** Waits `ms` milliseconds; rejects with the signal's reason when `signal` aborts. */
export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

/** A pino-compatible logger: only these four levels are used, always with an object first. */
export interface Logger {
  /** Debug-level entry. */
  debug(obj: object, msg?: string): void;
  /** Info-level entry. */
  info(obj: object, msg?: string): void;
  /** Warn-level entry. */
  warn(obj: object, msg?: string): void;
  /** Error-level entry. */
  error(obj: object, msg?: string): void;
}

/** The `fetch` signature the clients call (the global `fetch` by default). */
export type FetchLike = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

/** The real clock (`Date.now`). */
export const systemClock: Clock = { now: () => Date.now() };

/** A logger that drops everything (the default). */
export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

/** Real-time sleep (a negative wait is no wait) that rejects with the signal's reason on abort. */
export const realSleep: Sleep = (ms, signal) =>
  new Promise<void>((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(
      () => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      },
      Math.max(0, ms),
    );
    signal?.addEventListener("abort", onAbort, { once: true });
  });

/** The fetch to use: the injected one, or the global `fetch` looked up at call time (so test doubles installed later apply). */
export function resolveFetch(fetch: FetchLike | undefined): FetchLike {
  return fetch ?? ((input, init) => globalThis.fetch(input, init));
}

/** Bounds of {@link backoffDelay}. */
export interface BackoffBounds {
  /** First delay in ms; doubles per retry. */
  baseDelayMs: number;
  /** Longest delay in ms (before jitter). */
  maxDelayMs: number;
}

/**
 * Delay before retry number `retry` (1-based): `min(base · 2^(retry-1), max) · (1 − 0.25 · random())`. The jitter only
 * shortens the wait, so the cap holds, and spreads retries of many callers apart.
 */
export function backoffDelay(retry: number, bounds: BackoffBounds, random: () => number): number {
  const exp = Math.min(bounds.baseDelayMs * 2 ** Math.max(0, retry - 1), bounds.maxDelayMs);
  return Math.round(exp * (1 - 0.25 * random()));
}

/**
 * A `Retry-After` header as a delay in ms from `now`: delta-seconds or an HTTP date (a past date is 0). `undefined`
 * when absent or unreadable.
 */
export function parseRetryAfter(header: string | null | undefined, now: number): number | undefined {
  if (header === null || header === undefined) return undefined;
  const value = header.trim();
  if (value === "") return undefined;
  if (/^\d+(\.\d+)?$/.test(value)) return Number(value) * 1000;
  const at = Date.parse(value);
  return Number.isFinite(at) ? Math.max(0, at - now) : undefined;
}

/** A small seeded PRNG (mulberry32) in [0, 1), so simulated faults and data repeat run to run. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0 || 0x9e3779b9;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
