/**
 * What the report page shows, gathered from an {@link AuditStore}: the recent runs (their stored summaries), the
 * reasons of rejected, skipped and failed records grouped, the carried-forward and dead-lettered records, and a few
 * account contexts. Plain JSON-serialisable data, so a caller can render it differently or test it.
 *
 * @module
 */

import type { AccountContext } from "../readback/account-context.js";
import type {
  AuditStore,
  CarriedRecord,
  CarryState,
  Outcome,
  RecordKind,
  RunRecord,
  RunStatus,
} from "../store/audit-store.js";
import { type CarriedSummary, emptyOutcomes, type OutcomeCounts } from "../summary.js";

/** The store methods the report reads (every {@link AuditStore} has them; nothing is written). */
export type ReportStore = Pick<
  AuditStore,
  "listRuns" | "queryAudit" | "listCarried" | "countCarried" | "listSynced" | "getAccountContext"
>;

/** Options of {@link reportData}, {@link renderReport} and {@link writeReport}. */
export interface ReportOptions {
  /** Where the runs, audit rows, carried records and account contexts are read from. Nothing is written. */
  store: ReportStore;
  /** Tenant pair. */
  tenant: string;
  /** How many recent runs to show. @default 30 */
  runs?: number | undefined;
  /** The time printed as "generated at" (ms since epoch). @default Date.now() */
  now?: number | undefined;
  /** Page title. @default "QAD → Marketo sync report: <tenant>" */
  title?: string | undefined;
  /** How many reason groups to list. @default 10 */
  reasons?: number | undefined;
  /** How many carried-forward records to list per state (pending, dead). @default 20 */
  carried?: number | undefined;
  /** How many account contexts to show. @default 5 */
  accounts?: number | undefined;
  /**
   * The Marketo rate limit the call ceiling is computed from (the client's `limits`). The store keeps calls per run,
   * not per window, so the page compares a run's calls with `ceil(duration / windowMs) * callsPerWindow`.
   * @default { callsPerWindow: 100, windowMs: 20_000 }
   */
  limits?: { callsPerWindow?: number | undefined; windowMs?: number | undefined } | undefined;
}

/** One finished run as the report shows it (figures from its stored summary). */
export interface ReportRun {
  /** Run id. */
  runId: string;
  /** What started it. */
  trigger: RunRecord["trigger"];
  /** How it ended. */
  status: Exclude<RunStatus, "running">;
  /** Start (ms since epoch). */
  startedAt: number;
  /** Duration (ms). */
  durationMs: number;
  /** Source items read. */
  sourceItems: number;
  /** Records per outcome per kind. */
  outcomes: OutcomeCounts;
  /** Marketo calls made during the run. */
  marketoCalls: number;
  /** Of those, write calls. */
  marketoWriteCalls: number;
  /** Rate-limit windows the run spanned: `max(1, ceil(durationMs / windowMs))`. */
  quotaWindows: number;
  /** Calls the rate limit allowed over the run: `quotaWindows * callsPerWindow`. */
  callCeiling: number;
  /** Today's quota left after the run. */
  quotaLeft: number;
  /** Objects found read-only (CRM sync). */
  readOnly: string[];
  /** Carry-forward figures of the run. */
  carried: CarriedSummary;
  /** Why it failed or stopped, when it did. */
  error?: { code: string; message: string } | undefined;
}

/** Audit rows of one kind, outcome and reason code, counted over the shown runs. */
export interface ReasonGroup {
  /** Record kind. */
  kind: RecordKind;
  /** Outcome (`rejected`, `skipped` or `failed`). */
  outcome: Outcome;
  /** Reason code (a failed write's error code; `none` when the row has no reason). */
  code: string;
  /** Rows in the group. */
  count: number;
  /** The message of the example row. */
  message: string;
  /** Key of the example row. */
  exampleKey: string;
  /** Run of the example row. */
  exampleRunId: string;
}

/** Everything the report page shows. */
export interface ReportData {
  /** Page title. */
  title: string;
  /** Tenant pair. */
  tenant: string;
  /** When the report was made (ms since epoch). */
  generatedAt: number;
  /** Rate limit the call ceilings use. */
  limits: { callsPerWindow: number; windowMs: number };
  /** Finished runs, oldest first. */
  runs: ReportRun[];
  /** Runs still running (or that died without finishing) among the recent ones: not charted. */
  unfinished: number;
  /** Reason groups over the shown runs, largest first. */
  reasons: ReasonGroup[];
  /** Carried-forward records: counts per state over the whole store, and the first ones of each state. */
  carried: { counts: Record<CarryState, number>; pending: CarriedRecord[]; dead: CarriedRecord[] };
  /** Account contexts of synced companies, those with the most opportunities and activity first. */
  accounts: AccountContext[];
}

/** The outcomes in the order the page stacks them. */
export const REPORT_OUTCOMES: readonly Outcome[] = ["created", "updated", "unchanged", "rejected", "skipped", "failed"];
/** The kinds in the order the page lists them. */
export const REPORT_KINDS: readonly RecordKind[] = ["customer", "company", "namedAccount", "lead", "salesPerson"];

type Json = Record<string, unknown>;
const obj = (v: unknown): Json => (typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Json) : {});
const num = (v: unknown): number => (typeof v === "number" && Number.isFinite(v) ? v : 0);
const str = (v: unknown): string => (typeof v === "string" ? v : "");

function outcomesOf(v: unknown): OutcomeCounts {
  const out = emptyOutcomes();
  const src = obj(v);
  for (const k of REPORT_KINDS) {
    const row = obj(src[k]);
    for (const o of REPORT_OUTCOMES) out[k][o] = num(row[o]);
  }
  return out;
}

function runOf(run: RunRecord, limits: ReportData["limits"]): ReportRun | undefined {
  if (run.status === "running" || run.summary === undefined) return undefined;
  const s = obj(run.summary);
  const durationMs = Math.max(0, num(s.durationMs) || (run.finishedAt ?? run.startedAt) - run.startedAt);
  const quotaWindows = Math.max(1, Math.ceil(durationMs / limits.windowMs));
  const carried = obj(s.carried);
  const error = obj(s.error);
  return {
    runId: run.runId,
    trigger: run.trigger,
    status: run.status,
    startedAt: run.startedAt,
    durationMs,
    sourceItems: num(s.sourceItems),
    outcomes: outcomesOf(s.outcomes),
    marketoCalls: num(s.marketoCalls),
    marketoWriteCalls: num(s.marketoWriteCalls),
    quotaWindows,
    callCeiling: quotaWindows * limits.callsPerWindow,
    quotaLeft: num(s.quotaLeft),
    readOnly: Array.isArray(s.readOnly) ? s.readOnly.map((r) => str(obj(r).object)).filter((x) => x !== "") : [],
    carried: {
      retried: num(carried.retried),
      written: num(carried.written),
      pending: num(carried.pending),
      dead: num(carried.dead),
    },
    error: s.error === undefined ? undefined : { code: str(error.code), message: str(error.message) },
  };
}

async function reasonGroups(store: ReportStore, tenant: string, runs: ReportRun[], top: number) {
  if (runs.length === 0) return [];
  const ids = new Set(runs.map((r) => r.runId));
  const since = Math.min(...runs.map((r) => r.startedAt));
  const rows = await store.queryAudit({ tenant, outcomes: ["rejected", "skipped", "failed"], since });
  const groups = new Map<string, ReasonGroup>();
  for (const row of rows) {
    if (!ids.has(row.runId)) continue;
    const first = row.error ?? row.reasons[0];
    const code = first?.code || "none";
    const id = `${row.kind}\u0000${row.outcome}\u0000${code}`;
    const g = groups.get(id);
    if (g) g.count++;
    else
      groups.set(id, {
        kind: row.kind,
        outcome: row.outcome,
        code,
        count: 1,
        message: first?.message ?? "",
        exampleKey: row.key,
        exampleRunId: row.runId,
      });
  }
  const order = (g: ReasonGroup) => `${g.kind}\u0000${g.outcome}\u0000${g.code}`;
  return [...groups.values()]
    .sort((a, b) => b.count - a.count || (order(a) < order(b) ? -1 : order(a) > order(b) ? 1 : 0))
    .slice(0, top);
}

const activityOf = (c: AccountContext) =>
  c.opportunities.length + Object.values(c.activityCounts).reduce((a, b) => a + b, 0);

async function accountSamples(store: ReportStore, tenant: string, wanted: number) {
  if (wanted <= 0) return [];
  // The store cannot list contexts, so look at the first synced companies (a bounded number of reads).
  const found: AccountContext[] = [];
  let looked = 0;
  for await (const s of store.listSynced(tenant, "company")) {
    if (looked++ >= wanted * 20) break;
    const ctx = await store.getAccountContext(tenant, s.key);
    if (ctx) found.push(ctx);
  }
  return found
    .sort((a, b) => activityOf(b) - activityOf(a) || (a.externalCompanyId < b.externalCompanyId ? -1 : 1))
    .slice(0, wanted);
}

/**
 * Gathers what the report page shows from the store (reads only).
 *
 * @example
 * const data = await reportData({ store, tenant: "default", runs: 10 });
 * data.runs.at(-1)?.outcomes.company.created;
 */
export async function reportData(options: ReportOptions): Promise<ReportData> {
  const { store, tenant } = options;
  const limits = {
    callsPerWindow: options.limits?.callsPerWindow ?? 100,
    windowMs: options.limits?.windowMs ?? 20_000,
  };
  const recent = await store.listRuns(tenant, { limit: Math.max(1, options.runs ?? 30) });
  const runs = recent
    .map((r) => runOf(r, limits))
    .filter((r): r is ReportRun => r !== undefined)
    .reverse();
  const carriedLimit = options.carried ?? 20;
  const [reasons, counts, pending, dead, accounts] = await Promise.all([
    reasonGroups(store, tenant, runs, options.reasons ?? 10),
    store.countCarried(tenant),
    store.listCarried({ tenant, state: "pending", limit: carriedLimit }),
    store.listCarried({ tenant, state: "dead", limit: carriedLimit }),
    accountSamples(store, tenant, options.accounts ?? 5),
  ]);
  return {
    title: options.title ?? `QAD → Marketo sync report: ${tenant}`,
    tenant,
    generatedAt: options.now ?? Date.now(),
    limits,
    runs,
    unfinished: recent.length - runs.length,
    reasons,
    carried: { counts, pending, dead },
    accounts,
  };
}
