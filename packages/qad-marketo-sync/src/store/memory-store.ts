import { LeaseLostError } from "../errors.js";
import { type Clock, systemClock } from "../internal/runtime.js";
import type { JsonValue } from "../ports.js";
import type { AccountContext } from "../readback/account-context.js";
import type {
  AuditEntry,
  AuditQuery,
  AuditStore,
  BatchCommit,
  CarriedRecord,
  CarryQuery,
  CarryState,
  Lease,
  LeaseAcquisition,
  PruneResult,
  RetentionPolicy,
  RunRecord,
  RunStatus,
  SyncedState,
  WritableKind,
} from "./audit-store.js";
import { normName } from "./named-account-names.js";
import { checkCursor, checkLimit } from "./paging.js";
import { retentionBounds } from "./retention.js";
import type { SealedQuery, SealedSecret, SecretStore } from "./secret-store.js";

/** Options of {@link createMemoryStore}. */
export interface MemoryStoreOptions {
  /** Clock for lease expiry. @default Date.now */
  clock?: Clock;
}

/** What {@link createMemoryStore} returns: the audit trail and the vault's sealed records, in process memory. */
export type MemoryStore = AuditStore & SecretStore;

interface TenantData {
  runs: Map<string, RunRecord>;
  /** Audit rows by (run, kind, key), in recording order (an upsert keeps the original position). */
  audit: Map<string, AuditEntry>;
  synced: Map<WritableKind, Map<string, SyncedState>>;
  /** Normalised named-account name → keys of the synced named accounts holding it. */
  names: Map<string, Set<string>>;
  /** Carried-forward records by (kind, key). */
  carried: Map<string, CarriedRecord>;
  checkpoints: Map<string, JsonValue>;
  contexts: Map<string, AccountContext>;
}

const SEP = "\u0000";
const recordId = (kind: string, key: string): string => `${kind}${SEP}${key}`;

/** Code-point order of two strings (what SQL's binary / `COLLATE "C"` ordering gives). */
const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
const cmpPair = (a1: string, a2: string, b1: string, b2: string): number => cmp(a1, b1) || cmp(a2, b2);

/**
 * An {@link AuditStore} and {@link SecretStore} kept in process memory: for tests, examples and short-lived jobs. It
 * loses everything when the process ends, and leases only exclude runners in the same process (share the store
 * instance between them).
 *
 * @example
 * const store = createMemoryStore();
 * const sync = createSync({ source, marketo, store });
 */
export function createMemoryStore(options: MemoryStoreOptions = {}): MemoryStore {
  const clock = options.clock ?? systemClock;
  const tenants = new Map<string, TenantData>();
  const leases = new Map<string, Lease>();
  const tokens = new Map<string, number>();
  const sealed = new Map<string, SealedSecret>();

  const data = (tenant: string): TenantData => {
    let d = tenants.get(tenant);
    if (!d) {
      d = {
        runs: new Map(),
        audit: new Map(),
        synced: new Map(),
        names: new Map(),
        carried: new Map(),
        checkpoints: new Map(),
        contexts: new Map(),
      };
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
  const copyCarried = (c: CarriedRecord): CarriedRecord => {
    const out: CarriedRecord = { ...c, payload: { ...c.payload }, reasons: c.reasons.map((r) => ({ ...r })) };
    if (c.error) out.error = { ...c.error };
    return out;
  };

  const prune = (tenant: string, policy: RetentionPolicy, now: number): PruneResult => {
    const bounds = retentionBounds(policy, now);
    if (!bounds) return { auditRows: 0, runs: 0 };
    const { cutoff, keep } = bounds;
    const d = data(tenant);
    const running = new Set<string>();
    for (const r of d.runs.values()) if (r.status === "running") running.add(r.runId);

    // Rank every record's rows newest first: by time, then by recording order.
    const byRecord = new Map<string, { id: string; at: number; seq: number }[]>();
    let seq = 0;
    for (const [id, e] of d.audit) {
      const rid = recordId(e.kind, e.key);
      let rows = byRecord.get(rid);
      if (!rows) {
        rows = [];
        byRecord.set(rid, rows);
      }
      rows.push({ id, at: e.at, seq: seq++ });
    }
    let auditRows = 0;
    for (const [rid, rows] of byRecord) {
      if (d.carried.has(rid)) continue;
      rows.sort((a, b) => b.at - a.at || b.seq - a.seq);
      for (let i = 1; i < rows.length; i++) {
        const row = rows[i];
        if (!row) continue;
        const e = d.audit.get(row.id);
        if (!e || running.has(e.runId)) continue;
        const tooOld = cutoff !== null && e.at < cutoff;
        const tooMany = keep !== null && i >= keep;
        if (tooOld || tooMany) {
          d.audit.delete(row.id);
          auditRows++;
        }
      }
    }

    let runs = 0;
    if (cutoff !== null) {
      const referenced = new Set<string>();
      for (const e of d.audit.values()) referenced.add(e.runId);
      for (const [runId, r] of d.runs) {
        if (r.status === "running" || referenced.has(runId)) continue;
        if ((r.finishedAt ?? r.startedAt) < cutoff) {
          d.runs.delete(runId);
          runs++;
        }
      }
    }
    return { auditRows, runs };
  };

  const listCarried = (q: CarryQuery): CarriedRecord[] => {
    checkLimit("listCarried", q.limit);
    checkCursor("listCarried", q.after, ["kind", "key"]);
    const causes = q.causes ? new Set(q.causes) : undefined;
    const kinds = q.kinds ? new Set(q.kinds) : undefined;
    const keys = q.keys ? new Set(q.keys) : undefined;
    const after = q.after;
    const out: CarriedRecord[] = [];
    for (const c of data(q.tenant).carried.values()) {
      if (q.state !== undefined && c.state !== q.state) continue;
      if (causes && !causes.has(c.cause)) continue;
      if (q.dueBy !== undefined && c.nextAt > q.dueBy) continue;
      if (kinds && !kinds.has(c.kind)) continue;
      if (keys && !keys.has(c.key)) continue;
      if (after && cmpPair(c.kind, c.key, after.kind, after.key) <= 0) continue;
      out.push(c);
    }
    out.sort((a, b) => cmpPair(a.kind, a.key, b.kind, b.key));
    const limited = q.limit === undefined ? out : out.slice(0, Math.max(0, q.limit));
    return limited.map(copyCarried);
  };

  const store: MemoryStore = {
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
      checkLimit("listRuns", opts.limit);
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
      for (const s of batch.synced) {
        const m = syncedOf(d, s.kind);
        if (s.kind === "namedAccount") {
          const before = m.get(s.key)?.name;
          if (before !== undefined) {
            const held = d.names.get(normName(before));
            held?.delete(s.key);
            if (held?.size === 0) d.names.delete(normName(before));
          }
          if (s.name !== undefined) {
            const n = normName(s.name);
            let keys = d.names.get(n);
            if (!keys) {
              keys = new Set();
              d.names.set(n, keys);
            }
            keys.add(s.key);
          }
        }
        m.set(s.key, { ...s });
      }
      if (batch.checkpoint) d.checkpoints.set(batch.checkpoint.name, copy(batch.checkpoint.value));
      // Clears first, then puts: a record both written and re-carried in one batch stays carried.
      for (const ref of batch.carry?.clear ?? []) d.carried.delete(recordId(ref.kind, ref.key));
      for (const c of batch.carry?.put ?? []) d.carried.set(recordId(c.kind, c.key), copyCarried(c));
    },
    async queryAudit(q: AuditQuery) {
      checkLimit("queryAudit", q.limit);
      const keys = q.keys ? new Set(q.keys) : undefined;
      const kinds = q.kinds ? new Set(q.kinds) : undefined;
      const outcomes = q.outcomes ? new Set(q.outcomes) : undefined;
      const out: AuditEntry[] = [];
      if (q.limit !== undefined && q.limit <= 0) return out;
      for (const e of data(q.tenant).audit.values()) {
        if (q.runId !== undefined && e.runId !== q.runId) continue;
        if (keys && !keys.has(e.key)) continue;
        if (kinds && !kinds.has(e.kind)) continue;
        if (outcomes && !outcomes.has(e.outcome)) continue;
        if (q.since !== undefined && e.at < q.since) continue;
        out.push(copyEntry(e));
        if (q.limit !== undefined && out.length >= q.limit) break;
      }
      return out;
    },
    async prune(tenant, policy, now) {
      return prune(tenant, policy, now);
    },

    async listCarried(q) {
      return listCarried(q);
    },
    async getCarried(tenant, kind, keys) {
      const m = data(tenant).carried;
      const out = new Map<string, CarriedRecord>();
      for (const k of keys) {
        const c = m.get(recordId(kind, k));
        if (c) out.set(k, copyCarried(c));
      }
      return out;
    },
    async countCarried(tenant) {
      const counts: Record<CarryState, number> = { pending: 0, dead: 0 };
      for (const c of data(tenant).carried.values()) counts[c.state]++;
      return counts;
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

    async namedAccountKeys(tenant, normalisedNames) {
      const index = data(tenant).names;
      const out = new Map<string, string>();
      for (const n of normalisedNames) {
        let owner: string | undefined;
        for (const k of index.get(n) ?? []) if (owner === undefined || cmp(k, owner) < 0) owner = k;
        if (owner !== undefined) out.set(n, owner);
      }
      return out;
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

    async putSealed(secret, opts = {}) {
      const id = recordId(secret.tenant, secret.name);
      if (opts.expectNonce !== undefined && sealed.get(id)?.nonce !== opts.expectNonce) return false;
      sealed.set(id, { ...secret });
      return true;
    },
    async getSealed(tenant, name) {
      const s = sealed.get(recordId(tenant, name));
      return s ? { ...s } : undefined;
    },
    async listSealed(q: SealedQuery = {}) {
      checkLimit("listSealed", q.limit);
      checkCursor("listSealed", q.after, ["tenant", "name"]);
      const out: SealedSecret[] = [];
      for (const s of sealed.values()) {
        if (q.tenant !== undefined && s.tenant !== q.tenant) continue;
        if (q.notKeyId !== undefined && s.keyId === q.notKeyId) continue;
        if (q.after && cmpPair(s.tenant, s.name, q.after.tenant, q.after.name) <= 0) continue;
        out.push(s);
      }
      out.sort((a, b) => cmpPair(a.tenant, a.name, b.tenant, b.name));
      const limited = q.limit === undefined ? out : out.slice(0, Math.max(0, q.limit));
      return limited.map((s) => ({ ...s }));
    },
    async deleteSealed(tenant, name) {
      return sealed.delete(recordId(tenant, name));
    },
  };
  return store;
}
