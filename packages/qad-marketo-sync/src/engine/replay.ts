import type { MarketoPayload, Reason } from "../ports.js";
import type { AuditEntry, AuditStore, CarriedRecord, CarryState, WritableKind } from "../store/audit-store.js";
import { emptyPlan, MAX_BATCH, type Plan, WRITABLE_KINDS } from "./plan.js";

/** A payload a replay or a carry-forward retry wants to write again. @internal */
export interface Candidate {
  kind: WritableKind;
  key: string;
  sourceKey: string;
  payload: MarketoPayload;
  hash: string;
  /** When this payload was last attempted: a synced write after it supersedes it. */
  at: number;
  /** The run whose payload this is. */
  runId: string;
  /** Notes for the audit row. */
  notes?: Reason[] | undefined;
}

/** Which audit rows a replay re-drives. @internal */
export interface ReplayQuery {
  runId?: string | undefined;
  keys?: string[] | undefined;
  kinds?: WritableKind[] | undefined;
  outcomes?: ("failed" | "skipped")[] | undefined;
  /** Re-drive carried-forward records in these states instead of audit rows. */
  carried?: CarryState[] | undefined;
}

const id = (kind: string, key: string) => `${kind}\u0000${key}`;

export const fromCarried = (c: CarriedRecord, notes?: Reason[]): Candidate => ({
  kind: c.kind,
  key: c.key,
  sourceKey: c.sourceKey,
  payload: c.payload,
  hash: c.hash,
  at: c.lastAt,
  runId: c.runId,
  ...(notes ? { notes } : {}),
});

/**
 * The newest replayable payload per record for a replay: the latest matching audit row (by time, later rows winning
 * ties), unless the record's carried-forward row is newer (a later run failed it with a newer payload), in which case
 * that payload is the one to send. Rows without a payload (contacts without email) cannot be replayed.
 * @internal
 */
export async function replayCandidates(store: AuditStore, tenant: string, q: ReplayQuery): Promise<Candidate[]> {
  const kinds = q.kinds ?? [...WRITABLE_KINDS];
  if (q.carried) {
    const out: Candidate[] = [];
    for (const state of q.carried) {
      for (const c of await store.listCarried({ tenant, state, kinds, keys: q.keys })) {
        if (q.runId === undefined || c.runId === q.runId) out.push(fromCarried(c));
      }
    }
    return out;
  }
  const rows = await store.queryAudit({
    tenant,
    runId: q.runId,
    keys: q.keys,
    kinds,
    outcomes: q.outcomes ?? ["failed", "skipped"],
  });
  const latest = new Map<string, AuditEntry & { kind: WritableKind }>();
  for (const r of rows) {
    if (!r.payload || !r.hash || r.kind === "customer") continue;
    const k = id(r.kind, r.key);
    const prev = latest.get(k);
    if (!prev || prev.at <= r.at) latest.set(k, r as AuditEntry & { kind: WritableKind });
  }
  const byKind = new Map<WritableKind, string[]>();
  for (const r of latest.values()) byKind.set(r.kind, [...(byKind.get(r.kind) ?? []), r.key]);
  const carried = new Map<string, CarriedRecord>();
  for (const [kind, keys] of byKind) {
    for (const [k, c] of await store.getCarried(tenant, kind, keys)) carried.set(id(kind, k), c);
  }
  return [...latest.values()].map((r) => {
    const c = carried.get(id(r.kind, r.key));
    if (c && c.lastAt >= r.at && c.hash !== r.hash) return fromCarried(c);
    return {
      kind: r.kind,
      key: r.key,
      sourceKey: r.sourceKey,
      payload: r.payload!,
      hash: r.hash!,
      at: r.at,
      runId: r.runId,
    };
  });
}

/**
 * Splits candidates against the synced state: a record already written with this content, or written after this
 * payload was attempted, is recorded as unchanged and not sent (a stale payload never overwrites a newer write);
 * the rest is planned. At most {@link MAX_BATCH} candidates per call.
 * @internal
 */
export async function resolveCandidates(
  candidates: Candidate[],
  ctx: { store: AuditStore; tenant: string; runId: string; now: () => number; replay: boolean },
): Promise<{ plan: Plan; entries: AuditEntry[]; planned: number }> {
  if (candidates.length > MAX_BATCH) throw new RangeError(`at most ${MAX_BATCH} candidates per call`);
  const plan = emptyPlan();
  const entries: AuditEntry[] = [];
  let planned = 0;
  for (const kind of WRITABLE_KINDS) {
    const ofKind = candidates.filter((c) => c.kind === kind);
    if (ofKind.length === 0) continue;
    const synced = await ctx.store.getSynced(
      ctx.tenant,
      kind,
      ofKind.map((c) => c.key),
    );
    for (const c of ofKind) {
      const s = synced.get(c.key);
      if (s && (s.hash === c.hash || s.at > c.at)) {
        entries.push({
          tenant: ctx.tenant,
          runId: ctx.runId,
          key: c.key,
          kind,
          outcome: "unchanged",
          sourceKey: c.sourceKey,
          reasons: [
            {
              code: "already_synced",
              message: s.hash === c.hash ? "already written with this content" : `superseded by run ${s.runId}`,
            },
          ],
          hash: c.hash,
          ...(ctx.replay ? { replayOf: c.runId } : {}),
          at: ctx.now(),
        });
        continue;
      }
      plan[kind].push({
        kind,
        key: c.key,
        sourceKey: c.sourceKey,
        payload: c.payload,
        hash: c.hash,
        prior: s,
        ...(ctx.replay ? { replayOf: c.runId } : {}),
        ...(c.notes ? { notes: c.notes } : {}),
      });
      planned++;
    }
  }
  return { plan, entries, planned };
}
