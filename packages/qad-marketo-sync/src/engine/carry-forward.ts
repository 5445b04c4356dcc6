import { SyncConfigError } from "../errors.js";
import type {
  AuditEntry,
  AuditStore,
  BatchCommit,
  CarriedRecord,
  RecordRef,
  WritableKind,
} from "../store/audit-store.js";

/** Options of carry-forward (see `SyncOptions.carryForward`). */
export interface CarryForwardOptions {
  /** Failed write attempts after which a carried record is dead-lettered (replay it by hand). @default 8 */
  maxAttempts?: number;
  /** Delay before the first retry; doubled after each further failed attempt. @default 300_000 (5 minutes) */
  baseDelayMs?: number;
  /** Longest delay between two attempts. @default 21_600_000 (6 hours) */
  maxDelayMs?: number;
}

/** Resolved carry-forward settings. @internal */
export interface CarryPolicy {
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

/** Validates and fills in {@link CarryForwardOptions}. @internal */
export function carryPolicy(o: CarryForwardOptions = {}): CarryPolicy {
  const p = {
    maxAttempts: o.maxAttempts ?? 8,
    baseDelayMs: o.baseDelayMs ?? 300_000,
    maxDelayMs: o.maxDelayMs ?? 21_600_000,
  };
  if (!Number.isInteger(p.maxAttempts) || p.maxAttempts < 1) {
    throw new SyncConfigError("carryForward.maxAttempts must be a positive integer");
  }
  if (!(p.baseDelayMs >= 0) || !(p.maxDelayMs >= p.baseDelayMs)) {
    throw new SyncConfigError("carryForward needs 0 <= baseDelayMs <= maxDelayMs");
  }
  return p;
}

/** The wait before the next attempt after `attempts` failed ones: base · 2^(attempts−1), capped. @internal */
export function retryDelay(policy: CarryPolicy, attempts: number): number {
  const n = Math.max(1, attempts);
  return Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.min(n - 1, 40));
}

/** The key of a record in the maps of carried rows ({@link loadCarried}, `RedriveDeps.carried`). @internal */
export const carriedId = (kind: string, key: string): string => `${kind}\u0000${key}`;

/** True for the audit row of a record skipped because its object is read-only (CRM sync). @internal */
export const isReadOnlySkip = (e: AuditEntry) => e.outcome === "skipped" && e.reasons[0]?.code === "read_only";

/**
 * The records an audit batch may change in the carry-forward set (every writable row, and rejected customers): what
 * to {@link loadCarried} before {@link carryChanges}.
 * @internal
 */
export function carryRefs(entries: AuditEntry[]): RecordRef[] {
  const out: RecordRef[] = [];
  for (const e of entries) {
    if (e.kind === "customer") {
      // A rejected source record supersedes what was carried for its company and named account.
      out.push({ kind: "company", key: e.key }, { kind: "namedAccount", key: e.key });
    } else out.push({ kind: e.kind, key: e.key });
  }
  return out;
}

/** Carried rows of the given records, by {@link carriedId}. @internal */
export async function loadCarried(
  store: AuditStore,
  tenant: string,
  refs: RecordRef[],
): Promise<Map<string, CarriedRecord>> {
  const byKind = new Map<WritableKind, Set<string>>();
  for (const r of refs) {
    const s = byKind.get(r.kind) ?? new Set<string>();
    byKind.set(r.kind, s);
    s.add(r.key);
  }
  const out = new Map<string, CarriedRecord>();
  await Promise.all(
    [...byKind].map(async ([kind, keys]) => {
      for (const [k, c] of await store.getCarried(tenant, kind, [...keys])) out.set(carriedId(kind, k), c);
    }),
  );
  return out;
}

/**
 * The carry-forward changes of one audit batch, for the same `commitBatch`: a failed write is put (the newest
 * payload replaces an older carried one; its attempt count grows once per run, `not_attempted` rows do not count;
 * after `maxAttempts` it is dead), a read-only skip is put as `read_only` (never dead for that), and any other row of
 * a carried record (written, unchanged, superseded, skipped for another reason, rejected) clears it.
 * @internal
 */
export function carryChanges(
  entries: AuditEntry[],
  prior: Map<string, CarriedRecord>,
  ctx: { tenant: string; runId: string; now: number; policy: CarryPolicy },
): NonNullable<BatchCommit["carry"]> {
  const last = new Map<string, AuditEntry>();
  for (const e of entries) last.set(carriedId(e.kind, e.key), e);
  const put: CarriedRecord[] = [];
  const clear: RecordRef[] = [];
  const handled = new Set<string>();
  for (const [k, e] of last) {
    if (e.kind === "customer") continue;
    handled.add(k);
    const before = prior.get(k);
    const readOnly = isReadOnlySkip(e);
    if ((e.outcome === "failed" || readOnly) && e.payload && e.hash) {
      const same = before !== undefined && before.hash === e.hash;
      const base = same ? before.attempts : 0;
      const notAttempted = e.reasons.some((r) => r.code === "not_attempted");
      const counts = readOnly || notAttempted || (same && before.runId === ctx.runId) ? 0 : 1;
      const attempts = base + counts;
      const dead = !readOnly && attempts >= ctx.policy.maxAttempts;
      put.push({
        kind: e.kind,
        key: e.key,
        sourceKey: e.sourceKey,
        payload: e.payload,
        hash: e.hash,
        cause: readOnly ? "read_only" : "failed",
        state: dead ? "dead" : "pending",
        attempts,
        firstAt: before?.firstAt ?? ctx.now,
        lastAt: ctx.now,
        nextAt: readOnly
          ? ctx.now
          : counts === 0
            ? (before?.nextAt ?? ctx.now)
            : ctx.now + retryDelay(ctx.policy, attempts),
        runId: ctx.runId,
        ...(e.error ? { error: e.error } : {}),
        reasons: e.reasons,
      });
      continue;
    }
    if (before) clear.push({ kind: e.kind, key: e.key });
  }
  for (const r of carryRefs(entries)) {
    const k = carriedId(r.kind, r.key);
    if (!handled.has(k) && prior.has(k)) {
      handled.add(k);
      clear.push(r);
    }
  }
  return { put, clear };
}
