/**
 * Reconcile: the deletions and deactivations a modified-since poll cannot see. A keys-only listing of the source is
 * compared with what the store knows as synced; records gone from the source (and, optionally, inactive ones) get
 * the configured policy: reported, marked inactive in a mapped company field, or their named account removed.
 *
 * @module
 */

import type { z } from "zod";
import { type ErrorInfo, errorInfo, SyncConfigError } from "../errors.js";
import { payloadHash } from "../hashing.js";
import { isAbort } from "../internal/abort.js";
import type { Logger } from "../internal/runtime.js";
import type { CompiledMapping } from "../mapping/mapping.js";
import type { CustomerSource, GatewayRecordResult, MarketoGateway, MarketoPayload, Reason } from "../ports.js";
import type { AuditEntry, AuditStore, Lease, RecordRef, SyncedState, WritableKind } from "../store/audit-store.js";
import type { CapabilityTracker } from "./capabilities.js";
import { MAX_BATCH } from "./plan.js";

/**
 * What reconcile does with a record gone from the source:
 * - `report`: lists it and records an audit row (outcome `skipped`, reason `gone_from_source`); no Marketo call;
 * - `markInactive`: writes {@link ReconcileOptions.markInactive} on its company (outcome `updated`);
 * - `removeNamedAccount`: deletes its named account (outcome `skipped`, reason `named_account_removed`: the audit
 *   has no `deleted` outcome).
 */
export type ReconcilePolicy = "report" | "markInactive" | "removeNamedAccount";

/** Options of a reconcile (`Sync.reconcile`, and `SyncOptions.reconcile` for the periodic one). */
export interface ReconcileOptions {
  /** What to do with records gone from the source. @default "report" */
  policy?: ReconcilePolicy | undefined;
  /**
   * The company field and value `markInactive` writes. The field must exist on the instance (a custom field the
   * Marketo admin creates; the default mapping writes `qadActive` from QAD's `isActive` already).
   * @default { field: "qadActive", value: false }
   */
  markInactive?: { field: string; value: string | number | boolean | null } | undefined;
  /**
   * Treat records the source lists as inactive (`SourceKey.active === false`) like gone ones. Off, only records
   * gone from the source are found.
   * @default true
   */
  includeInactive?: boolean | undefined;
  /**
   * Safety catch: when more than this fraction of the synced records is gone from the source (a wrong QAD domain,
   * an empty listing), the policy's writes are not made and the reconcile fails with code `reconcile_guard`.
   * `report` is never held back. @default 0.5
   */
  maxGoneFraction?: number | undefined;
  /** Show what would be done: no Marketo write, no audit row, no store write. @default false */
  dryRun?: boolean | undefined;
  /** Cancels the reconcile (between chunks). */
  signal?: AbortSignal | undefined;
}

/** The periodic reconcile of `SyncOptions.reconcile`: a cadence plus the policy. Give `everyRuns`, `everyMs` or both. */
export interface ReconcileSchedule extends Omit<ReconcileOptions, "dryRun" | "signal"> {
  /** Reconcile after every n-th run that read its source to the end (1: every run). */
  everyRuns?: number | undefined;
  /** Reconcile when this long (ms) has passed since the last reconcile. */
  everyMs?: number | undefined;
}

/** One record reconcile found. */
export interface ReconcileFinding {
  /** The record key (externalCompanyId). */
  key: string;
  /** Gone from the source, or listed as inactive. */
  why: "gone" | "inactive";
  /** The policy applied. */
  action: ReconcilePolicy;
  /**
   * What happened: `reported`; `written` / `removed` (the policy's write succeeded); `wouldWrite` / `wouldRemove`
   * (dry run); `skipped` (read-only object, held back by the guard, or not found to remove); `failed` (the write
   * failed; the next reconcile tries again).
   */
  result: "reported" | "written" | "removed" | "wouldWrite" | "wouldRemove" | "skipped" | "failed";
  /** Marketo id or GUID, as the store knows it. */
  marketoId?: string | undefined;
  /** Why, in words. */
  reasons: Reason[];
  /** The error of a failed write. */
  error?: ErrorInfo | undefined;
}

/** What a reconcile found and did. */
export interface ReconcileReport {
  /** The run id its audit rows carry (the sync run's when it ran inside `runOnce`). */
  runId: string;
  /** A dry run (nothing written anywhere). */
  dryRun: boolean;
  /** The policy. */
  policy: ReconcilePolicy;
  /** `failed`: the listing or the store failed, or the guard held the writes back (see `error`). */
  status: "completed" | "stopped" | "failed";
  /** Why it failed or stopped. */
  error?: ErrorInfo | undefined;
  /** Keys the source listed. */
  sourceKeys: number;
  /** Synced records compared (companies; named accounts for `removeNamedAccount`). */
  syncedKeys: number;
  /** Synced records gone from the source. */
  gone: number;
  /** Synced records the source lists as inactive (counted when `includeInactive`). */
  inactive: number;
  /** Records whose policy write succeeded (or would, in a dry run). */
  applied: number;
  /** Records whose policy write failed. */
  failed: number;
  /** Records an earlier reconcile already handled (marked or removed): not listed in `findings`, nothing sent. */
  alreadyDone: number;
  /** Marketo calls made (writes of the policy only: the listing costs none). */
  marketoCalls: number;
  /** Write (or delete) calls made, or that a real run would make in a dry run. */
  writeCalls: number;
  /** The records found (gone and inactive), in the store's order. */
  findings: ReconcileFinding[];
}

/** What a reconcile needs from the engine. @internal */
export interface ReconcileDeps<S> {
  tenant: string;
  runId: string;
  source: CustomerSource;
  store: AuditStore;
  gateway: MarketoGateway;
  schema: z.ZodType<S>;
  mapping: CompiledMapping<S>;
  /** The run's capability tracker (read-only companies are not written). */
  capabilities?: CapabilityTracker | undefined;
  /** Lease fencing the store writes (required unless dry run). */
  fence?: Lease | undefined;
  isFatal: (e: unknown) => boolean;
  logger: Logger;
  now: () => number;
}

const DEFAULT_MARK = { field: "qadActive", value: false } as const;
/** Hash recorded in the synced state of a named account reconcile removed (no payload hashes to it). */
export const REMOVED_HASH = "reconcile:removed";

/** Checks reconcile options at the edge. @internal */
export function checkReconcileOptions(o: ReconcileOptions | ReconcileSchedule, where: string): void {
  const policy = o.policy ?? "report";
  if (!["report", "markInactive", "removeNamedAccount"].includes(policy)) {
    throw new SyncConfigError(`${where}.policy must be "report", "markInactive" or "removeNamedAccount"`);
  }
  if (o.markInactive !== undefined && (typeof o.markInactive.field !== "string" || o.markInactive.field === "")) {
    throw new SyncConfigError(`${where}.markInactive.field must be a field name`);
  }
  const f = o.maxGoneFraction;
  if (f !== undefined && !(f >= 0 && f <= 1)) throw new SyncConfigError(`${where}.maxGoneFraction must be in [0, 1]`);
  if ("everyRuns" in o || "everyMs" in o) {
    const s = o as ReconcileSchedule;
    if (s.everyRuns === undefined && s.everyMs === undefined) {
      throw new SyncConfigError(`${where} needs everyRuns or everyMs`);
    }
    if (s.everyRuns !== undefined && !(Number.isInteger(s.everyRuns) && s.everyRuns >= 1)) {
      throw new SyncConfigError(`${where}.everyRuns must be a positive integer`);
    }
    if (s.everyMs !== undefined && !(s.everyMs >= 0)) throw new SyncConfigError(`${where}.everyMs must be >= 0`);
  }
}

const markPayload = (key: string, mark: { field: string; value: MarketoPayload[string] }): MarketoPayload => ({
  externalCompanyId: key,
  [mark.field]: mark.value,
});

const idOf = (s: SyncedState) => s.marketoGUID ?? (s.marketoId === undefined ? undefined : String(s.marketoId));

/** The source's current keys: `keys()` when it has it, else a full read keyed by the mapping. */
async function listSourceKeys<S>(
  deps: ReconcileDeps<S>,
  signal: AbortSignal | undefined,
): Promise<{ present: Set<string>; inactive: Set<string> }> {
  const present = new Set<string>();
  const inactive = new Set<string>();
  if (deps.source.keys) {
    for await (const k of deps.source.keys({ signal })) {
      present.add(k.key);
      if (k.active === false) inactive.add(k.key);
      else inactive.delete(k.key);
    }
    return { present, inactive };
  }
  for await (const item of deps.source.read(undefined, { signal })) {
    if (item.type === "invalid") {
      // Present all the same: an invalid row is not a deletion.
      if (item.key !== undefined) present.add(item.key);
      continue;
    }
    const parsed = deps.schema.safeParse(item.record);
    const rec = item.record as Record<string, unknown> | null;
    if (!parsed.success) {
      if (rec && typeof rec === "object" && typeof rec.customerCode === "string") {
        present.add(`${String(rec.sharedSetCode ?? "?")}.${rec.customerCode}`);
      }
      continue;
    }
    const m = deps.mapping.map(parsed.data);
    const key = m.key;
    if (key === undefined) continue;
    present.add(key);
    const active = (parsed.data as { isActive?: unknown }).isActive;
    if (active === false) inactive.add(key);
    else inactive.delete(key);
  }
  return { present, inactive };
}

const chunks = <T>(xs: T[], n: number): T[][] => {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += n) out.push(xs.slice(i, i + n));
  return out;
};

/**
 * Runs one reconcile. The store writes of one chunk of 300 (audit rows, synced state, cleared carried records) are
 * one `commitBatch`, made after the chunk's Marketo call. Never throws for a record or a listing failure: the report
 * says so.
 * @internal
 */
export async function reconcile<S>(deps: ReconcileDeps<S>, options: ReconcileOptions = {}): Promise<ReconcileReport> {
  const policy = options.policy ?? "report";
  const dryRun = options.dryRun === true;
  const includeInactive = options.includeInactive !== false;
  const mark = options.markInactive ?? DEFAULT_MARK;
  const { tenant, runId, store, gateway } = deps;
  const signal = options.signal;
  const callsBefore = gateway.usage().callsMade;
  const report: ReconcileReport = {
    runId,
    dryRun,
    policy,
    status: "completed",
    sourceKeys: 0,
    syncedKeys: 0,
    gone: 0,
    inactive: 0,
    applied: 0,
    failed: 0,
    alreadyDone: 0,
    marketoCalls: 0,
    writeCalls: 0,
    findings: [],
  };
  const done = (): ReconcileReport => {
    report.marketoCalls = gateway.usage().callsMade - callsBefore;
    return report;
  };
  if (policy === "removeNamedAccount" && !gateway.deleteNamedAccounts) {
    throw new SyncConfigError("reconcile policy removeNamedAccount needs a gateway with deleteNamedAccounts");
  }

  // 1. Keys only: what the source holds now, and what the store knows as synced.
  const kind: WritableKind = policy === "removeNamedAccount" ? "namedAccount" : "company";
  const found: { state: SyncedState; why: "gone" | "inactive" }[] = [];
  try {
    const { present, inactive } = await listSourceKeys(deps, signal);
    report.sourceKeys = present.size;
    const markHash = policy === "markInactive" ? (key: string) => payloadHash(markPayload(key, mark)) : undefined;
    for await (const s of store.listSynced(tenant, kind)) {
      report.syncedKeys++;
      const why = !present.has(s.key) ? "gone" : includeInactive && inactive.has(s.key) ? "inactive" : undefined;
      if (!why) continue;
      if (why === "gone") report.gone++;
      else report.inactive++;
      const handled =
        (markHash && s.hash === markHash(s.key)) || (policy === "removeNamedAccount" && s.hash === REMOVED_HASH);
      if (handled) {
        report.alreadyDone++;
        continue;
      }
      found.push({ state: s, why });
    }
  } catch (e) {
    const info = errorInfo(e);
    report.status = isAbort(e) ? "stopped" : "failed";
    report.error = info;
    deps.logger.warn({ runId, err: info }, "reconcile: listing the source keys failed; nothing was changed");
    return done();
  }

  // 2. The guard: a listing that lost most records is far likelier a wrong setting than mass deletion in QAD.
  const maxGone = options.maxGoneFraction ?? 0.5;
  const held =
    policy !== "report" && report.syncedKeys > 0 && report.gone / report.syncedKeys > maxGone
      ? {
          code: "reconcile_guard",
          message: `${report.gone} of ${report.syncedKeys} synced records are gone from the source (more than maxGoneFraction ${maxGone}); ${policy} was not applied. Check the source settings, or raise maxGoneFraction`,
          retryable: false,
        }
      : undefined;
  if (held) {
    report.status = "failed";
    report.error = held;
  }

  const reasonOf = (why: "gone" | "inactive"): Reason =>
    why === "gone"
      ? { code: "gone_from_source", message: "the source no longer lists this record (reconcile)" }
      : { code: "inactive_in_source", message: "the source lists this record as inactive (reconcile)" };
  const at = deps.now();
  let fatal: ErrorInfo | undefined;

  // 3. The policy, 300 records per Marketo call and per store commit.
  for (const chunk of chunks(found, MAX_BATCH)) {
    if (signal?.aborted) {
      report.status = report.status === "failed" ? "failed" : "stopped";
      break;
    }
    const findings: ReconcileFinding[] = chunk.map(({ state, why }) => ({
      key: state.key,
      why,
      action: policy,
      result: "reported",
      marketoId: idOf(state),
      reasons: [reasonOf(why)],
    }));
    const entries: AuditEntry[] = [];
    const synced: SyncedState[] = [];
    const clear: RecordRef[] = [];
    const entry = (f: ReconcileFinding, outcome: AuditEntry["outcome"], extra: Partial<AuditEntry> = {}) =>
      entries.push({
        tenant,
        runId,
        key: f.key,
        kind,
        outcome,
        sourceKey: f.key,
        reasons: f.reasons,
        marketoId: f.marketoId,
        at,
        ...extra,
      });
    const failAll = (error: ErrorInfo, reasons?: Reason[]) => {
      for (const f of findings) {
        f.result = "failed";
        f.error = error;
        report.failed++;
        if (reasons) f.reasons = [...f.reasons, ...reasons];
        entry(f, "failed", { error });
      }
    };

    if (policy === "report") {
      if (!dryRun) for (const f of findings) entry(f, "skipped");
    } else if (held) {
      for (const f of findings) {
        f.result = "skipped";
        f.reasons = [...f.reasons, { code: "reconcile_guard", message: held.message }];
      }
    } else if (dryRun) {
      report.writeCalls++;
      for (const f of findings) {
        f.result = policy === "markInactive" ? "wouldWrite" : "wouldRemove";
        report.applied++;
      }
    } else if (fatal) {
      failAll(fatal, [{ code: "not_attempted", message: "reconcile stopped by an earlier fatal error" }]);
    } else if (policy === "markInactive" && deps.capabilities && !deps.capabilities.writable("companies")) {
      const why = deps.capabilities.reason("companies");
      for (const f of findings) {
        f.result = "skipped";
        f.reasons = [...f.reasons, { code: "read_only", message: `companies are read-only on this instance (${why})` }];
        entry(f, "skipped");
      }
    } else {
      let results: GatewayRecordResult[] | undefined;
      const payloads = findings.map((f) => markPayload(f.key, mark));
      try {
        report.writeCalls++;
        results =
          policy === "markInactive"
            ? await gateway.syncCompanies(payloads, { signal })
            : await (gateway.deleteNamedAccounts as NonNullable<MarketoGateway["deleteNamedAccounts"]>)(
                chunk.map(({ state }) => ({ marketoGUID: state.marketoGUID, name: state.name })),
                { signal },
              );
      } catch (e) {
        const info = errorInfo(e);
        if (deps.isFatal(e)) fatal = info;
        failAll(info);
      }
      if (results) {
        findings.forEach((f, i) => {
          const r = results[i];
          const state = chunk[i]?.state as SyncedState;
          const ok =
            policy === "markInactive"
              ? r?.status === "created" || r?.status === "updated"
              : r?.status === "deleted" || (r?.status === "skipped" && r.reasons.some((x) => x.code === "1013"));
          if (!r || !ok) {
            f.result = r ? "skipped" : "failed";
            f.reasons = [
              ...f.reasons,
              ...(r?.reasons ?? [{ code: "no_result", message: "Marketo returned no result for this record" }]),
            ];
            entry(f, r ? "skipped" : "failed");
            if (!r) report.failed++;
            return;
          }
          report.applied++;
          if (policy === "markInactive") {
            const payload = payloads[i] as MarketoPayload;
            const hash = payloadHash(payload);
            f.result = "written";
            f.reasons = [
              ...f.reasons,
              { code: "marked_inactive", message: `${mark.field} set to ${String(mark.value)} (reconcile)` },
            ];
            entry(f, "updated", { payload, hash });
            // The synced hash is the marker's: the next reconcile skips it, and a record that comes back is written
            // whole by the next sync run (its hash differs).
            synced.push({ ...state, hash, marketoId: r.id ?? state.marketoId, runId, at });
            clear.push({ kind: "company", key: f.key });
          } else {
            f.result = "removed";
            f.reasons = [
              ...f.reasons,
              r.status === "deleted"
                ? { code: "named_account_removed", message: "named account deleted in Marketo (reconcile)" }
                : { code: "named_account_removed", message: "named account was already absent in Marketo" },
            ];
            entry(f, "skipped");
            // Name and GUID are forgotten, so the name is free and a customer that comes back is created again.
            synced.push({
              kind: "namedAccount",
              key: f.key,
              hash: REMOVED_HASH,
              marketoId: undefined,
              marketoGUID: undefined,
              name: undefined,
              runId,
              at,
            });
            clear.push({ kind: "namedAccount", key: f.key });
          }
        });
      }
    }
    report.findings.push(...findings);
    if (!dryRun && entries.length > 0) {
      try {
        await store.commitBatch({
          tenant,
          entries,
          synced,
          carry: clear.length > 0 ? { clear } : undefined,
          fence: deps.fence,
        });
      } catch (e) {
        report.status = "failed";
        report.error ??= errorInfo(e);
        break;
      }
    }
  }
  if (fatal && report.status === "completed") {
    report.status = "failed";
    report.error = fatal;
  }
  return done();
}

/** What `Sync.reconcile` answers: the report, or that another runner holds the lease (nothing was done). */
export type ReconcileOutcome =
  | ReconcileReport
  | {
      /** Another runner holds this tenant pair's lease. */
      status: "alreadyRunning";
      /** The holder's run id. */
      holder: string;
      /** When its lease expires unless renewed (ms since epoch). */
      expiresAt: number;
    };

/** The figures of a reconcile kept in the run summary (`RunSummary.reconcile`): the report without its findings. */
export type ReconcileTotals = Omit<ReconcileReport, "findings" | "runId">;

/** The report without its findings. @internal */
export function reconcileTotals(r: ReconcileReport): ReconcileTotals {
  const { findings: _f, runId: _r, ...totals } = r;
  return totals;
}

/** Name of the store checkpoint holding the cadence state of the periodic reconcile. */
export const RECONCILE_CHECKPOINT = "reconcile";

/** Cadence state of the periodic reconcile, as saved in the store. @internal */
export interface ReconcileCadence {
  /** When the last reconcile completed (or when counting started), ms since epoch. */
  lastAt: number;
  /** Runs that read their source to the end since then (this one included). */
  runs: number;
}

/**
 * Whether this run should reconcile: `next` is the cadence to save when it does not (or when its reconcile does
 * not complete, so the next run tries again), `reset` the one to save after a completed reconcile.
 * @internal
 */
export function reconcileDue(
  schedule: ReconcileSchedule,
  saved: unknown,
  now: number,
): { due: boolean; next: ReconcileCadence; reset: ReconcileCadence } {
  const s = (typeof saved === "object" && saved !== null ? saved : {}) as Partial<ReconcileCadence>;
  const lastAt = typeof s.lastAt === "number" ? s.lastAt : now;
  const runs = (typeof s.runs === "number" ? s.runs : 0) + 1;
  const due =
    (schedule.everyRuns !== undefined && runs >= schedule.everyRuns) ||
    (schedule.everyMs !== undefined && now - lastAt >= schedule.everyMs && typeof s.lastAt === "number");
  return { due, next: { lastAt, runs }, reset: { lastAt: now, runs: 0 } };
}
