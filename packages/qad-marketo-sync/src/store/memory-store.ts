import { LeaseLostError } from "../errors.js";
import { type Clock, systemClock } from "../internal/runtime.js";
import type { JsonValue } from "../ports.js";
import type { AccountContext } from "../readback/account-context.js";
import type {
  AuditEntry,
  AuditQuery,
  AuditStore,
  BatchCommit,
  Lease,
  LeaseAcquisition,
  RunRecord,
  RunStatus,
  SyncedState,
  WritableKind,
} from "./audit-store.js";

/** Options of {@link createMemoryStore}. */
export interface MemoryStoreOptions {
  /** Clock for lease expiry. @default Date.now */
  clock?: Clock;
}

interface TenantData {
  runs: Map<string, RunRecord>;
  audit: Map<string, AuditEntry>;
  synced: Map<WritableKind, Map<string, SyncedState>>;
  checkpoints: Map<string, JsonValue>;
  contexts: Map<string, AccountContext>;
}

const SEP = "\u0000";

/**
 * An {@link AuditStore} kept in process memory: for tests, examples and short-lived jobs. It loses everything when
 * the process ends, and leases only exclude runners in the same process (share the store instance between them).
 *
 * @example
 * const store = createMemoryStore();
 * const sync = createSync({ source, marketo, store });
 */
export function createMemoryStore(options: MemoryStoreOptions = {}): AuditStore {
  const clock = options.clock ?? systemClock;
  const tenants = new Map<string, TenantData>();
  const leases = new Map<string, Lease>();
  const tokens = new Map<string, number>();

  const data = (tenant: string): TenantData => {
    let d = tenants.get(tenant);
    if (!d) {
      d = { runs: new Map(), audit: new Map(), synced: new Map(), checkpoints: new Map(), contexts: new Map() };
      tenants.set(tenant, d);
    }
    return d;
  };
  const syncedOf = (d: TenantData, kind: WritableKind): Map<string, SyncedState> => {
    let m = d.synced.get(kind);
    if (!m) {
      m = new Map();
      d.synced.set(kind, m);
    }
    return m;
  };
  const checkFence = (fence: Lease | undefined): void => {
    if (!fence) return;
    const held = leases.get(fence.name);
    if (!held || held.token !== fence.token || held.expiresAt <= clock.now()) {
      throw new LeaseLostError(`lease ${fence.name} (token ${fence.token}) is no longer held`);
    }
  };
  // Stored values are copied so a caller mutating its objects afterwards cannot change the store (as with a database).
  const copy = <T>(v: T): T => structuredClone(v);
  // Audit rows are the hot path (every record of every run): a structural copy of their known shape is several times
  // cheaper than structuredClone and produces less garbage.
  const copyEntry = (e: AuditEntry): AuditEntry => {
    const out: AuditEntry = { ...e, reasons: e.reasons.map((r) => ({ ...r })) };
    if (e.payload) out.payload = { ...e.payload };
    if (e.error) out.error = { ...e.error };
    return out;
  };

  return {
    async startRun(run) {
      data(run.tenant).runs.set(run.runId, copy(run));
    },
    async finishRun(tenant, runId, end: { status: RunStatus; finishedAt: number; summary: JsonValue }) {
      const d = data(tenant);
      const run = d.runs.get(runId);
      if (!run) return;
      d.runs.set(runId, { ...run, status: end.status, finishedAt: end.finishedAt, summary: copy(end.summary) });
    },
    async getRun(tenant, runId) {
      const run = data(tenant).runs.get(runId);
      return run ? copy(run) : undefined;
    },
    async listRuns(tenant, opts = {}) {
      const runs = [...data(tenant).runs.values()].reverse();
      return copy(opts.limit === undefined ? runs : runs.slice(0, opts.limit));
    },

    async commitBatch(batch: BatchCommit) {
      // Validate everything before changing anything, so a refused batch leaves no trace (one transaction).
      checkFence(batch.fence);
      const d = data(batch.tenant);
      for (const e of batch.entries) {
        const k = `${e.runId}${SEP}${e.kind}${SEP}${e.key}`;
        // Upsert keeps the original position, so re-recording a row does not reorder the trail.
        const row = copyEntry(e);
        row.tenant = batch.tenant;
        d.audit.set(k, row);
      }
      for (const s of batch.synced) syncedOf(d, s.kind).set(s.key, { ...s });
      if (batch.checkpoint) d.checkpoints.set(batch.checkpoint.name, copy(batch.checkpoint.value));
    },
    async queryAudit(q: AuditQuery) {
      const keys = q.keys ? new Set(q.keys) : undefined;
      const kinds = q.kinds ? new Set(q.kinds) : undefined;
      const outcomes = q.outcomes ? new Set(q.outcomes) : undefined;
      const out: AuditEntry[] = [];
      for (const e of data(q.tenant).audit.values()) {
        if (q.runId !== undefined && e.runId !== q.runId) continue;
        if (keys && !keys.has(e.key)) continue;
        if (kinds && !kinds.has(e.kind)) continue;
        if (outcomes && !outcomes.has(e.outcome)) continue;
        out.push(copyEntry(e));
        if (q.limit !== undefined && out.length >= q.limit) break;
      }
      return out;
    },
    async getSynced(tenant, kind, keys) {
      const m = syncedOf(data(tenant), kind);
      const out = new Map<string, SyncedState>();
      for (const k of keys) {
        const s = m.get(k);
        if (s) out.set(k, { ...s });
      }
      return out;
    },
    async *listSynced(tenant, kind) {
      for (const s of [...syncedOf(data(tenant), kind).values()]) yield { ...s };
    },

    async getCheckpoint(tenant, name) {
      const v = data(tenant).checkpoints.get(name);
      return v === undefined ? undefined : copy(v);
    },
    async saveCheckpoint(tenant, name, value, fence) {
      checkFence(fence);
      data(tenant).checkpoints.set(name, copy(value));
    },

    async acquireLease(name, owner, ttlMs): Promise<LeaseAcquisition> {
      const now = clock.now();
      const held = leases.get(name);
      if (held && held.expiresAt > now) return { acquired: false, holder: held.owner, expiresAt: held.expiresAt };
      const token = (tokens.get(name) ?? 0) + 1;
      tokens.set(name, token);
      const lease: Lease = { name, owner, token, expiresAt: now + ttlMs };
      leases.set(name, lease);
      return { acquired: true, lease: { ...lease } };
    },
    async renewLease(lease, ttlMs) {
      const now = clock.now();
      const held = leases.get(lease.name);
      if (!held || held.token !== lease.token || held.expiresAt <= now) return undefined;
      const renewed = { ...held, expiresAt: now + ttlMs };
      leases.set(lease.name, renewed);
      return { ...renewed };
    },
    async releaseLease(lease) {
      const held = leases.get(lease.name);
      if (held && held.token === lease.token) leases.delete(lease.name);
    },

    async putAccountContexts(tenant, contexts) {
      const m = data(tenant).contexts;
      for (const c of copy(contexts)) m.set(c.externalCompanyId, c);
    },
    async getAccountContext(tenant, externalCompanyId) {
      const c = data(tenant).contexts.get(externalCompanyId);
      return c ? copy(c) : undefined;
    },
  };
}
