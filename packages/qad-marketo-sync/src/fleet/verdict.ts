/**
 * What a fleet does with a pg-boss job once its sync run has ended: one table from run outcome to job action, kept
 * apart from the queue plumbing so the policy is testable without a database.
 *
 * @module
 */

import { type ErrorInfo, errorInfo } from "../errors.js";
import type { RunOutcome } from "../sync.js";

/**
 * The action a worker takes on its job:
 * - `complete`: the run ended (`completed`, or `degraded` with its failed records carried forward durably: the next
 *   run retries them on their own growing delay, so a job retry now would only fight that delay).
 * - `continue`: the run `stopped` early (graceful stop of the worker or of the sync): the job completes and a
 *   continuation job is queued at once, so any worker resumes from the saved checkpoint without burning a retry.
 * - `defer`: another runner holds the pair's lease (`alreadyRunning`): not a failure. The job completes and a
 *   continuation is queued for when that lease expires, so a dead holder is taken over as soon as its lease lapses
 *   and a live one is checked once per lease lifetime, never in a tight loop.
 * - `fail`: the run `failed` (fatal Marketo error, Marketo unreachable for every write, store failure, lost lease)
 *   or threw: the job fails, and pg-boss retries it per the queue's policy (`retryLimit`, `retryDelay`, backoff).
 */
export type JobVerdict =
  | { action: "complete"; status: "completed" | "degraded"; runId: string }
  | { action: "continue"; status: "stopped"; runId: string }
  | { action: "defer"; status: "alreadyRunning"; holder: string; delaySeconds: number }
  | { action: "fail"; status: "failed" | "error"; runId?: string | undefined; error: ErrorInfo };

/** Timing of a deferral after `alreadyRunning`. */
export interface DeferTiming {
  /** Now, on the worker's clock (ms since epoch). */
  now: number;
  /** Added to the holder's lease expiry. */
  marginSeconds: number;
  /** Shortest deferral (guards against clock skew between the store and this worker). */
  minSeconds: number;
  /** Longest deferral. */
  maxSeconds: number;
}

/** Maps a run outcome (or the error a run threw) to what the worker does with its job. */
export function verdictOf(result: { outcome: RunOutcome } | { error: unknown }, timing: DeferTiming): JobVerdict {
  if ("error" in result) return { action: "fail", status: "error", error: errorInfo(result.error) };
  const o = result.outcome;
  switch (o.status) {
    case "alreadyRunning": {
      const untilExpiry = Math.ceil((o.expiresAt - timing.now) / 1000) + timing.marginSeconds;
      const delaySeconds = Math.min(timing.maxSeconds, Math.max(timing.minSeconds, untilExpiry));
      return { action: "defer", status: "alreadyRunning", holder: o.holder, delaySeconds };
    }
    case "stopped":
      return { action: "continue", status: "stopped", runId: o.summary.runId };
    case "failed":
      return {
        action: "fail",
        status: "failed",
        runId: o.summary.runId,
        error: o.summary.error ?? { code: "unknown", message: "the run failed", retryable: true },
      };
    default:
      return { action: "complete", status: o.status, runId: o.summary.runId };
  }
}
