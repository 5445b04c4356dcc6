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

/** The `fetch` signature the client calls (the global `fetch` by default). */
export type FetchLike = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

/** Injectable runtime dependencies, all optional with real defaults. */
export interface RuntimeDeps {
  /** HTTP implementation. @default globalThis.fetch */
  fetch?: FetchLike;
  /** Time source. @default Date.now */
  clock?: Clock;
  /** Waiting (backoff). @default a setTimeout-based sleep that honours the signal */
  sleep?: Sleep;
  /** Randomness for jitter and call ids, in [0, 1). @default Math.random */
  random?: () => number;
  /** Logger. @default a logger that drops everything */
  logger?: Logger;
}

/** {@link RuntimeDeps} with every member present. @internal */
export interface ResolvedDeps {
  fetch: FetchLike;
  clock: Clock;
  sleep: Sleep;
  random: () => number;
  logger: Logger;
}

/** A logger that drops everything (the default). @internal */
export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

/** Real-time sleep that rejects on abort. */
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
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });

/** Fills in the defaults of {@link RuntimeDeps}. @internal */
export function resolveDeps(deps: RuntimeDeps): ResolvedDeps {
  return {
    fetch: deps.fetch ?? ((input, init) => globalThis.fetch(input, init)),
    clock: deps.clock ?? { now: () => Date.now() },
    sleep: deps.sleep ?? realSleep,
    random: deps.random ?? Math.random,
    logger: deps.logger ?? silentLogger,
  };
}
