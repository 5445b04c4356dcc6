import { backoffDelay as kernelBackoff } from "@ml/http-kernel";
import pRetry from "p-retry";
import { isQadError, QadAbortError } from "../errors.js";
import type { ResolvedDeps } from "./deps.js";

/** The retry policy for transient failures (5xx, 408, 429, network errors, timeouts). */
export interface RetryOptions {
  /** Retries after the first attempt. @default 3 */
  maxRetries?: number;
  /** Delay before the first retry, in ms; doubles each retry. @default 500 */
  baseDelayMs?: number;
  /** Cap on any single delay, in ms (also caps a server's Retry-After). @default 8000 */
  maxDelayMs?: number;
}

/** @internal */
export interface ResolvedRetry {
  maxRetries: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

/** @internal */
export function resolveRetry(r: RetryOptions = {}): ResolvedRetry {
  return { maxRetries: r.maxRetries ?? 3, baseDelayMs: r.baseDelayMs ?? 500, maxDelayMs: r.maxDelayMs ?? 8000 };
}

/**
 * The delay before retry number `retry` (1-based): `min(base·2^(retry-1), max)` reduced by up to 25% of jitter, so
 * many clients failing together do not return together. A server's Retry-After wins, within the cap.
 * @internal
 */
export function backoffDelay(
  retry: number,
  policy: ResolvedRetry,
  random: () => number,
  retryAfterMs?: number,
): number {
  if (retryAfterMs !== undefined && retryAfterMs >= 0) return Math.min(retryAfterMs, policy.maxDelayMs);
  return kernelBackoff(retry, policy, random);
}

/**
 * Runs `attempt` with p-retry; only {@link QadError}s flagged `retryable` are retried. p-retry's own timer is
 * disabled (minTimeout 0) and the wait goes through the injected sleep, so tests of backoff are exact.
 * @internal
 */
export async function withRetry<T>(
  attempt: (n: number) => Promise<T>,
  policy: ResolvedRetry,
  deps: Pick<ResolvedDeps, "sleep" | "random" | "logger">,
  signal?: AbortSignal,
  what = "request",
): Promise<T> {
  return pRetry(attempt, {
    retries: policy.maxRetries,
    minTimeout: 0,
    maxTimeout: 0,
    randomize: false,
    shouldRetry: async ({ error, retriesConsumed }) => {
      if (signal?.aborted) return false;
      if (!isQadError(error) || !error.retryable) return false;
      const retryAfter = (error as { retryAfterMs?: number }).retryAfterMs;
      const delay = backoffDelay(retriesConsumed + 1, policy, deps.random, retryAfter);
      deps.logger.warn(
        {
          err: { code: error.code, status: error.status, message: error.message },
          retry: retriesConsumed + 1,
          delayMs: delay,
        },
        `qad ${what} failed, retrying`,
      );
      try {
        await deps.sleep(delay, signal);
      } catch {
        return false;
      }
      return true;
    },
  }).catch((e: unknown) => {
    if (signal?.aborted && !isQadError(e)) throw new QadAbortError(undefined, { cause: signal.reason });
    throw e;
  });
}
