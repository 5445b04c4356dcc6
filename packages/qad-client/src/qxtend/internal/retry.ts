import pRetry, { AbortError } from "p-retry";
import { isQadError } from "../../errors.js";

/** Backoff settings. @internal */
export interface RetryPolicy {
  maxRetries: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

/** Injected timing. @internal */
export interface RetryDeps {
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  random(): number;
  logger?: { warn(obj: object, msg?: string): void } | undefined;
}

/**
 * Delay before retry number `attempt` (1-based): exponential from `baseDelayMs`, capped at `maxDelayMs`, minus up to
 * 25% jitter so a fleet of workers does not retry in lockstep.
 */
export function backoffDelay(attempt: number, policy: RetryPolicy, random: () => number): number {
  const exp = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  return Math.round(exp * (1 - 0.25 * random()));
}

/**
 * Runs `op` with p-retry, retrying only errors flagged `retryable` (a {@link QadError}). p-retry's own timer is
 * disabled (minTimeout 0) and the wait happens through the injected `sleep`, so backoff and jitter are exact in
 * tests and cancellable by the signal.
 */
export async function withRetry<T>(
  op: (attempt: number) => Promise<T>,
  policy: RetryPolicy,
  deps: RetryDeps,
  signal: AbortSignal | undefined,
  what: string,
): Promise<T> {
  return pRetry(
    async (attempt) => {
      try {
        return await op(attempt);
      } catch (error) {
        // Anything not known to be transient stops at once, TypeErrors from our own code included.
        if (!isQadError(error) || !error.retryable) throw new AbortError(error as Error);
        throw error;
      }
    },
    {
      retries: policy.maxRetries,
      minTimeout: 0,
      randomize: false,
      ...(signal ? { signal } : {}),
      shouldRetry: async ({ error, attemptNumber }) => {
        const delay = backoffDelay(attemptNumber, policy, deps.random);
        deps.logger?.warn(
          { err: { name: error.name, message: error.message }, attempt: attemptNumber, delayMs: delay, what },
          "QXtend call failed, retrying",
        );
        await deps.sleep(delay, signal);
        return true;
      },
    },
  );
}
