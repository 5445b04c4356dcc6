import { Cron } from "croner";
import { errorInfo } from "./errors.js";
import type { Logger } from "./internal/runtime.js";

/** Options of `Sync.schedule`. */
export interface ScheduleOptions {
  /** IANA time zone of the cron expression. @default the process time zone */
  timezone?: string;
  /** Also run once right away. @default false */
  runImmediately?: boolean;
  /** Logger for tick failures (defaults to the engine's logger). */
  logger?: Logger;
  /** Called with every run's outcome (including `alreadyRunning` when another runner holds the lease). */
  onRun?: (outcome: unknown) => void;
}

/** A running schedule. */
export interface Schedule {
  /** Stops future ticks (a run in progress continues; use `Sync.stop()` to stop it too). */
  stop(): void;
  /** The next tick, or `null` when stopped. */
  nextRun(): Date | null;
  /** True while a tick's run is in progress. */
  isBusy(): boolean;
}

/**
 * Runs `tick` on a cron schedule. Ticks never overlap in this process (croner's `protect`); the lease prevents
 * overlap across processes.
 * @internal
 */
export function startSchedule(cron: string, tick: () => Promise<unknown>, options: ScheduleOptions): Schedule {
  const job = new Cron(
    cron,
    {
      protect: true,
      ...(options.timezone ? { timezone: options.timezone } : {}),
    },
    async () => {
      try {
        const outcome = await tick();
        options.onRun?.(outcome);
      } catch (e) {
        options.logger?.error({ err: errorInfo(e) }, "scheduled sync run threw");
      }
    },
  );
  if (options.runImmediately) void job.trigger();
  return {
    stop: () => job.stop(),
    nextRun: () => job.nextRun(),
    isBusy: () => job.isBusy(),
  };
}
