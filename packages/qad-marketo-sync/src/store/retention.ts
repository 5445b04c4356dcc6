/**
 * How a {@link RetentionPolicy} reads at a given time, the same for every store.
 *
 * @module
 * @internal
 */

import type { RetentionPolicy } from "./audit-store.js";

/** The bounds of a retention policy at one time. @internal */
export interface RetentionBounds {
  /** Rows (and finished runs) older than this time may be deleted; `null`: no age rule. */
  cutoff: number | null;
  /** Newest rows kept per record, at least 1; `null`: no count rule. */
  keep: number | null;
}

/** The bounds of `policy` at `now`, or `undefined` when it has no rule (nothing to prune). @internal */
export function retentionBounds(policy: RetentionPolicy, now: number): RetentionBounds | undefined {
  const cutoff = policy.maxAgeMs === undefined ? null : now - policy.maxAgeMs;
  const keep = policy.keepPerRecord === undefined ? null : Math.max(1, Math.floor(policy.keepPerRecord));
  return cutoff === null && keep === null ? undefined : { cutoff, keep };
}
