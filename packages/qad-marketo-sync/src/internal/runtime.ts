/** Injectable runtime services of the sync engine, with real defaults. */

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

/** @internal */
export const systemClock: Clock = { now: () => Date.now() };

/** @internal */
export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

/** Real-time sleep that rejects on abort. @internal */
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
