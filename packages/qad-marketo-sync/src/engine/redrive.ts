import type { ErrorInfo } from "../errors.js";
import type { Emitter } from "../events.js";
import type { AuditStore, CarriedRecord, Lease } from "../store/audit-store.js";
import { type CarryPolicy, carryChanges, carryRefs, loadCarried } from "./carry-forward.js";
import { type ExecuteContext, executePlan } from "./execute.js";
import { MAX_BATCH } from "./plan.js";
import { type Candidate, resolveCandidates } from "./replay.js";
import type { RunBook } from "./run-bookkeeping.js";

/** What re-driving needs. @internal */
export interface RedriveDeps {
  store: AuditStore;
  tenant: string;
  runId: string;
  now: () => number;
  policy: CarryPolicy;
  exec: ExecuteContext;
  fence: Lease;
  stop: AbortSignal;
  book: RunBook;
  emitter: Emitter;
  /** Replay rows name the run they replay (`replayOf`); carry-forward retries do not. */
  replay: boolean;
  /** Carried rows already known for these candidates (skips a lookup). */
  carried?: Map<string, CarriedRecord> | undefined;
}

/**
 * Writes candidates again in slices of 300: stale or already-written payloads are recorded as unchanged and not
 * sent, the rest goes through {@link executePlan}; each slice is one `commitBatch` with its audit rows and the
 * carry-forward changes they imply. Stops at a fatal error (answered) or when `stop` aborts.
 * @internal
 */
export async function redrive(
  candidates: Candidate[],
  deps: RedriveDeps,
): Promise<{ fatal?: ErrorInfo | undefined; planned: number; written: number }> {
  let planned = 0;
  let written = 0;
  for (let i = 0; i < candidates.length && !deps.stop.aborted; i += MAX_BATCH) {
    const slice = candidates.slice(i, i + MAX_BATCH);
    const resolved = await resolveCandidates(slice, deps);
    planned += resolved.planned;
    const executed = await executePlan(resolved.plan, deps.exec);
    const entries = [...resolved.entries, ...executed.entries];
    const prior = deps.carried ?? (await loadCarried(deps.store, deps.tenant, carryRefs(entries)));
    const carry = carryChanges(entries, prior, {
      tenant: deps.tenant,
      runId: deps.runId,
      now: deps.now(),
      policy: deps.policy,
    });
    await deps.store.commitBatch({
      tenant: deps.tenant,
      entries,
      synced: executed.synced,
      carry,
      fence: deps.fence,
    });
    for (const e of executed.entries) if (e.outcome === "created" || e.outcome === "updated") written++;
    deps.book.counts.batches++;
    // A replay's input is its selection; a carry-forward retry reads nothing from the source.
    if (deps.replay) deps.book.counts.read += slice.length;
    deps.book.record(entries, executed);
    deps.emitter.emit("progress", { runId: deps.runId, counts: { ...deps.book.counts } });
    if (executed.fatal) return { fatal: executed.fatal, planned, written };
  }
  return { planned, written };
}
