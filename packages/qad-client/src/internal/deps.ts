import {
  type Clock,
  type DeadlineTimers,
  type FetchLike,
  type Logger,
  realSleep,
  resolveFetch,
  type Sleep,
  silentLogger,
  systemClock,
} from "@ml/http-kernel";

export type { Clock, DeadlineTimers, FetchLike, Logger, Sleep } from "@ml/http-kernel";
export { realSleep, silentLogger };

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
  /**
   * Timers of the per-request deadline (`timeoutMs`). Tests inject fake ones (`FakeTime.timers` of the kernel's
   * testing helpers) to move the deadline by hand; kept apart from `sleep`, which tests often make instant.
   * @default the global setTimeout / clearTimeout
   */
  timers?: DeadlineTimers;
}

/** {@link RuntimeDeps} with every member present. @internal */
export interface ResolvedDeps {
  fetch: FetchLike;
  clock: Clock;
  sleep: Sleep;
  random: () => number;
  logger: Logger;
  timers: DeadlineTimers | undefined;
}

/** Fills in the defaults of {@link RuntimeDeps}. @internal */
export function resolveDeps(deps: RuntimeDeps): ResolvedDeps {
  return {
    fetch: resolveFetch(deps.fetch),
    clock: deps.clock ?? systemClock,
    sleep: deps.sleep ?? realSleep,
    random: deps.random ?? Math.random,
    logger: deps.logger ?? silentLogger,
    timers: deps.timers,
  };
}
