/** Injectable runtime services shared by every layer, with real defaults. */

/** A clock returning ms since epoch. Inject a fake one to test expiry and windows deterministically. */
export interface Clock {
  now(): number;
}

/** Sleeps `ms` milliseconds; resolves early (or rejects) when `signal` aborts. */
export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

/** pino-compatible logger: `(obj, msg?)` at each level. */
export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** The `fetch` signature the client needs. */
export type FetchLike = (input: Request | URL | string, init?: RequestInit) => Promise<Response>;

/** Everything time- or randomness-dependent, resolved once per client. */
export interface Runtime {
  clock: Clock;
  sleep: Sleep;
  random: () => number;
  logger: Logger;
  fetch: FetchLike;
}

export const systemClock: Clock = { now: () => Date.now() };

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

const noop = () => {};
export const silentLogger: Logger = { debug: noop, info: noop, warn: noop, error: noop };
