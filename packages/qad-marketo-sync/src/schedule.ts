import { Cron } from "croner";
import { scheduleOptionsSchema, toIssues } from "./engine/options.js";
import { type ConfigIssue, errorInfo, SyncConfigError } from "./errors.js";
import type { Logger } from "./internal/runtime.js";
import type { RunOutcome } from "./sync.js";

/** Options of `Sync.schedule`. */
export interface ScheduleOptions {
  /** IANA time zone of the cron expression. @default the process time zone */
  timezone?: string;
  /** Also run once right away. @default false */
  runImmediately?: boolean;
  /** Logger for tick failures (defaults to the engine's logger). */
  logger?: Logger;
  /**
   * Called with every run's outcome (including `alreadyRunning` when another runner holds the lease). It may be
   * async; whatever it throws or rejects with is caught and logged (`error`, "schedule onRun threw"), so it never
   * stops the schedule.
   */
  onRun?: (outcome: RunOutcome) => unknown;
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
 * Checks a cron expression and schedule options together; throws one {@link SyncConfigError} listing every problem
 * (path `cron` for the expression, as croner explains it). @internal
 */
export function validateSchedule(cron: unknown, options: unknown): void {
  const issues: ConfigIssue[] = [];
  const r = scheduleOptionsSchema.safeParse(options ?? {});
  if (!r.success) issues.push(...toIssues(r.error, "options"));
  if (typeof cron !== "string" || cron.trim() === "") {
    issues.push({ path: "cron", message: 'expected a cron expression (e.g. "*/15 * * * *")' });
  } else {
    try {
      // Paused, and without the time zone (checked above): only the pattern is parsed here.
      new Cron(cron, { paused: true }).stop();
    } catch (e) {
      const why = e instanceof Error ? e.message.replace(/^CronPattern: /, "") : String(e);
      issues.push({ path: "cron", message: `expected a cron expression (e.g. "*/15 * * * *"): ${why}` });
    }
  }
  if (issues.length > 0) {
    const n = issues.length === 1 ? "1 problem" : `${issues.length} problems`;
    throw new SyncConfigError(`schedule: ${n}: ${issues.map((i) => `${i.path}: ${i.message}`).join("; ")}`, {
      issues,
    });
  }
}

/**
 * Runs `tick` on a cron schedule. Ticks never overlap in this process (croner's `protect`); the lease prevents
 * overlap across processes. `options` are validated first ({@link validateSchedule}); `logger` is the fallback when
 * they name none.
 * @internal
 */
export function startSchedule(
  cron: string,
  tick: () => Promise<RunOutcome>,
  options: ScheduleOptions = {},
  fallbackLogger?: Logger,
): Schedule {
  validateSchedule(cron, options);
  const logger = options.logger ?? fallbackLogger;
  const job = new Cron(
    cron,
    {
      protect: true,
      ...(options.timezone ? { timezone: options.timezone } : {}),
    },
    async () => {
      let outcome: RunOutcome;
      try {
        outcome = await tick();
      } catch (e) {
        logger?.error({ err: errorInfo(e) }, "scheduled sync run threw");
        return;
      }
      try {
        await options.onRun?.(outcome);
      } catch (e) {
        logger?.error({ err: errorInfo(e) }, "schedule onRun threw");
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
