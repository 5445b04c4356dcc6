/**
 * Dry run: the planning half of a sync run, against the live Marketo instance (capability probes and describe are
 * reads) and the store's synced state, with nothing written anywhere. Every record gets the verdict a real run would
 * reach (create, update with the changed fields, unchanged, rejected, skipped), and the write calls it would spend.
 *
 * @module
 */

import { type ErrorInfo, errorInfo } from "../errors.js";
import { stableStringify } from "../hashing.js";
import { isAbort } from "../internal/abort.js";
import type { JsonValue, MarketoGateway, MarketoPayload, Reason, SourceItem } from "../ports.js";
import type { AuditStore, RecordKind, WritableKind } from "../store/audit-store.js";
import type { CapabilityTracker } from "./capabilities.js";
import { MAX_BATCH, type Plan, type PlanContext, type Planned, planBatch, WRITABLE_KINDS } from "./plan.js";
import type { ReconcileOptions, ReconcileReport } from "./reconcile.js";

/** What a real run would do with one record. */
export type DryRunAction = "create" | "update" | "unchanged" | "reject" | "skip";

/** One field a would-update changes. */
export interface FieldChange {
  /** Marketo field name. */
  field: string;
  /** The value last written, as the store's audit trail knows it (`undefined`: not sent before, or unknown). */
  old?: MarketoPayload[string] | undefined;
  /** The value a real run would send (`undefined`: no longer sent). */
  new?: MarketoPayload[string] | undefined;
  /** `false` when the store no longer holds the last written payload (pruned): `old` is then unknown. */
  oldKnown: boolean;
}

/** The verdict for one record (one kind of one source customer). */
export interface DryRunItem {
  /** The kind; `customer` for a source row rejected as a whole. */
  kind: RecordKind;
  /** Record key (externalCompanyId, email, externalSalesPersonId). */
  key: string;
  /** The source customer it was mapped from. */
  sourceKey: string;
  /** What a real run would do. */
  action: DryRunAction;
  /** For `update`: the fields that differ from the last write. */
  changes?: FieldChange[] | undefined;
  /** The payload a real run would send (`create` and `update`). */
  payload?: MarketoPayload | undefined;
  /** Why: validation problems, skip reasons, read-only, notes (fields shortened, name conflicts resolved). */
  reasons: Reason[];
}

/** Marketo calls a real run would spend (estimated from the planned chunks of 300). */
export interface DryRunCalls {
  /** Write calls per object. */
  companies: number;
  /** Named-account write calls (renames by GUID and upserts by name are separate calls). */
  namedAccounts: number;
  /** Lead write calls (leads are pooled across batches into calls of 300). */
  leads: number;
  /** Sales-person write calls. */
  salesPersons: number;
  /** Sum of the write calls. */
  writes: number;
  /**
   * Reads: the calls this dry run made itself (capability probes, describe; a real run makes them too unless it has
   * them cached) plus the reads a real run makes instead of writing a read-only object. The read-back after a real
   * run is not included.
   */
  reads: number;
  /** `writes + reads`. */
  total: number;
}

/** Totals of a dry run. */
export interface DryRunTotals {
  /** Source items read. */
  sourceItems: number;
  /** Batches planned. */
  batches: number;
  /** Records per action per kind. */
  byKind: Record<RecordKind, Record<DryRunAction, number>>;
  /** Calls a real run would spend. */
  calls: DryRunCalls;
  /** Carried-forward records pending: a real run retries the due ones first (not counted in `calls`). */
  carriedPending: number;
}

/** Options of `Sync.dryRun`. */
export interface DryRunOptions {
  /**
   * Receives every verdict as it is made (stream-friendly: nothing is kept when given, unless `collect` is true).
   * Awaited, so a slow consumer holds the source back.
   */
  onItem?: ((item: DryRunItem) => void | Promise<void>) | undefined;
  /** Keep the verdicts in `DryRunReport.items`. @default true without `onItem`, false with it */
  collect?: boolean | undefined;
  /** Also show what a reconcile would do (`true` for `SyncOptions.reconcile`'s policy, or its options). */
  reconcile?: boolean | Omit<ReconcileOptions, "dryRun" | "signal"> | undefined;
  /** Cancels the dry run. */
  signal?: AbortSignal | undefined;
}

/** What `Sync.dryRun` answers. Nothing was written: no Marketo write, no checkpoint, no audit row, no synced state. */
export interface DryRunReport {
  /** `completed`: the source was read to its end from the saved checkpoint; `stopped`: cancelled; `failed`: see `error`. */
  status: "completed" | "stopped" | "failed";
  /** Why it failed. */
  error?: ErrorInfo | undefined;
  /** Totals. */
  totals: DryRunTotals;
  /** The verdicts, when collected (see {@link DryRunOptions.collect}). */
  items?: DryRunItem[] | undefined;
  /** Objects found read-only (a real run reads them instead of writing). */
  readOnly: { object: string; reason?: string | undefined }[];
  /** Mapped fields the instance does not have (not sent). */
  droppedFields: string[];
  /** The reconcile dry run, when asked for. */
  reconcile?: ReconcileReport | undefined;
}

/** What a dry run needs from the engine. @internal */
export interface DryRunDeps<S> {
  tenant: string;
  source: { read(from: JsonValue | undefined, o: { signal?: AbortSignal | undefined }): AsyncIterable<SourceItem> };
  store: AuditStore;
  gateway: MarketoGateway;
  /** A planning context of its own (its name claims stay in memory: nothing is committed). */
  plan: PlanContext<S>;
  capabilities: CapabilityTracker;
  batchSize: number;
  /** The saved source checkpoint (the dry run reads what the next run would). */
  from: JsonValue | undefined;
  /** `gateway.usage().callsMade` before the dry run's probes and describe (they count as reads). */
  callsBefore?: number | undefined;
}

const ACTIONS: DryRunAction[] = ["create", "update", "unchanged", "reject", "skip"];
const KINDS: RecordKind[] = ["customer", ...WRITABLE_KINDS];
const OBJECT: Partial<Record<WritableKind, "companies" | "salesPersons">> = {
  company: "companies",
  salesPerson: "salesPersons",
};

const ceilDiv = (n: number) => Math.ceil(n / MAX_BATCH);

/** Field-level differences between the last written payload and the planned one. */
export function diffPayload(old: MarketoPayload | undefined, next: MarketoPayload): FieldChange[] {
  if (!old) return Object.keys(next).map((field) => ({ field, new: next[field], oldKnown: false }));
  const out: FieldChange[] = [];
  for (const field of new Set([...Object.keys(old), ...Object.keys(next)])) {
    const a = old[field];
    const b = next[field];
    if (stableStringify(a) !== stableStringify(b)) out.push({ field, old: a, new: b, oldKnown: true });
  }
  return out;
}

/** The payloads last written for the planned updates of one kind, from the audit trail (hash checked). */
async function lastWritten(
  store: AuditStore,
  tenant: string,
  kind: WritableKind,
  planned: Planned[],
): Promise<Map<string, MarketoPayload>> {
  const wanted = new Map<string, string>();
  for (const p of planned) if (p.prior) wanted.set(p.key, p.prior.hash);
  const out = new Map<string, MarketoPayload>();
  if (wanted.size === 0) return out;
  const rows = await store.queryAudit({
    tenant,
    kinds: [kind],
    keys: [...wanted.keys()],
    outcomes: ["created", "updated"],
  });
  for (const r of rows) if (r.payload && r.hash === wanted.get(r.key)) out.set(r.key, r.payload);
  return out;
}

/**
 * Plans the source from the saved checkpoint as a real run would, batch by batch, and reports each verdict.
 * @internal
 */
export async function dryRunPlan<S>(
  deps: DryRunDeps<S>,
  options: DryRunOptions = {},
): Promise<Omit<DryRunReport, "reconcile">> {
  const { store, tenant, gateway, plan: ctx, capabilities: caps } = deps;
  const callsBefore = deps.callsBefore ?? gateway.usage().callsMade;
  const collect = options.collect ?? !options.onItem;
  const items: DryRunItem[] = [];
  const byKind = {} as DryRunTotals["byKind"];
  for (const k of KINDS) {
    byKind[k] = {} as Record<DryRunAction, number>;
    for (const a of ACTIONS) byKind[k][a] = 0;
  }
  const calls: DryRunCalls = {
    companies: 0,
    namedAccounts: 0,
    leads: 0,
    salesPersons: 0,
    writes: 0,
    reads: 0,
    total: 0,
  };
  let roReads = 0;
  let leadCount = 0;
  let sourceItems = 0;
  let batches = 0;
  let status: DryRunReport["status"] = "completed";
  let error: ErrorInfo | undefined;

  const emit = async (item: DryRunItem) => {
    byKind[item.kind][item.action]++;
    if (collect) items.push(item);
    if (options.onItem) await options.onItem(item);
  };

  const planOne = async (batchItems: SourceItem[]) => {
    const planning = await planBatch(batchItems, ctx, batches);
    batches++;
    sourceItems += batchItems.length;
    for (const e of planning.entries) {
      const action: DryRunAction =
        e.outcome === "unchanged" ? "unchanged" : e.outcome === "rejected" ? "reject" : "skip";
      await emit({ kind: e.kind, key: e.key, sourceKey: e.sourceKey, action, reasons: e.reasons });
    }
    await emitPlan(planning.plan);
  };

  const emitPlan = async (plan: Plan) => {
    for (const kind of WRITABLE_KINDS) {
      const planned = plan[kind];
      if (planned.length === 0) continue;
      const object = OBJECT[kind];
      if (object && !caps.writable(object)) {
        // A real run reads these instead (one read per 300) and records them as skipped.
        roReads += ceilDiv(planned.length);
        for (const p of planned) {
          await emit({
            kind,
            key: p.key,
            sourceKey: p.sourceKey,
            action: "skip",
            payload: p.payload,
            reasons: [
              ...(p.notes ?? []),
              { code: "read_only", message: `${object} are read-only on this instance (${caps.reason(object)})` },
            ],
          });
        }
        continue;
      }
      if (kind === "company") calls.companies += ceilDiv(planned.length);
      else if (kind === "salesPerson") calls.salesPersons += ceilDiv(planned.length);
      else if (kind === "lead") leadCount += planned.length;
      else {
        const renames = planned.filter(
          (p) => p.prior?.marketoGUID && p.prior.name !== undefined && p.prior.name !== p.payload.name,
        ).length;
        calls.namedAccounts += ceilDiv(renames) + ceilDiv(planned.length - renames);
      }
      const old = await lastWritten(store, tenant, kind, planned);
      for (const p of planned) {
        const item: DryRunItem = {
          kind,
          key: p.key,
          sourceKey: p.sourceKey,
          action: p.prior ? "update" : "create",
          payload: p.payload,
          reasons: p.notes ?? [],
        };
        if (p.prior) item.changes = diffPayload(old.get(p.key), p.payload);
        await emit(item);
      }
    }
  };

  try {
    let batch: SourceItem[] = [];
    for await (const item of deps.source.read(deps.from, { signal: options.signal })) {
      batch.push(item);
      if (batch.length >= deps.batchSize) {
        await planOne(batch);
        batch = [];
      }
    }
    if (batch.length > 0) await planOne(batch);
  } catch (e) {
    const info = errorInfo(e);
    const aborted = options.signal?.aborted === true || isAbort(e);
    status = aborted ? "stopped" : "failed";
    error = aborted ? undefined : info;
  }
  calls.leads = ceilDiv(leadCount);
  calls.writes = calls.companies + calls.namedAccounts + calls.leads + calls.salesPersons;
  calls.reads = gateway.usage().callsMade - callsBefore + roReads;
  calls.total = calls.writes + calls.reads;
  let carriedPending = 0;
  try {
    carriedPending = (await store.countCarried(tenant)).pending;
  } catch {
    // Only a figure of the report.
  }
  return {
    status,
    ...(error ? { error } : {}),
    totals: { sourceItems, batches, byKind, calls, carriedPending },
    ...(collect ? { items } : {}),
    readOnly: caps.readOnly(),
    droppedFields: [...ctx.dropped].sort(),
  };
}
