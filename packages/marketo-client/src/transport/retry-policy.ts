/** Backoff of the one retry policy. Which failures are retried is decided in `transport.ts` with `envelope/codes.ts`. */
import { backoffDelay as kernelBackoff } from "@ml/http-kernel";

/** Retry settings (client-wide). */
export interface RetryOptions {
  /**
   * Retries after the first attempt, for transient failures. A 601/602 token renewal is not counted.
   * @default 5
   */
  maxRetries: number;
  /**
   * First backoff delay in ms; doubles per retry.
   * @default 500
   */
  baseDelayMs: number;
  /**
   * Longest backoff delay in ms.
   * @default 30000
   */
  maxDelayMs: number;
  /**
   * How long one call keeps retrying 606/615 (another integration keeps the instance's window or concurrency full),
   * from its first such answer, in ms. These retries wait at the limiter's shared, growing pause gate and do not
   * count against `maxRetries`; when the time is up the call fails with a retryable `MarketoRateLimitError`.
   * @default 30 × limits.windowMs (10 minutes at Marketo's 20 s)
   */
  rateLimitMaxWaitMs: number;
}

/**
 * Capped exponential backoff with bounded jitter: `min(base · 2^(n-1), max) · (1 − 0.25 · random())`. The jitter only
 * shortens the wait, so the cap holds, and spreads retries of many callers apart.
 */
export function backoffDelay(
  retry: number,
  options: Pick<RetryOptions, "baseDelayMs" | "maxDelayMs">,
  random: () => number,
): number {
  return kernelBackoff(retry, options, random);
}
