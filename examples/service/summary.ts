/**
 * The summary printed after a run: outcomes per kind, the top reasons (grouped, with counts and an example record
 * each), carried-forward and dead-lettered records, calls and quota, read-only objects, dropped fields, and the
 * account context of a few accounts. Everything comes from the run summary, the audit trail and the store.
 */
import type { AccountContext, AuditEntry, AuditStore, CarriedRecord, RunSummary } from "@ml/qad-marketo-sync";
import { hintFor } from "./hints.js";

const KINDS = ["customer", "salesPerson", "company", "namedAccount", "lead"] as const;
const OUTCOMES = ["created", "updated", "unchanged", "rejected", "skipped", "failed"] as const;

/** One group of audit rows sharing a kind, an outcome and a reason. */
export interface ReasonGroup {
  kind: string;
  outcome: string;
  /** Reason code (a Marketo code, an engine code, or the error code of a failed write). */
  code: string;
  /** The reason's message (of the example row). */
  message: string;
  count: number;
  /** Key of one record in the group. */
  example: string;
}

/** Groups a run's rejected, skipped and failed rows by (kind, outcome, reason code), largest first. */
export function groupReasons(rows: readonly AuditEntry[], top = 5): ReasonGroup[] {
  const groups = new Map<string, ReasonGroup>();
  for (const r of rows) {
    if (r.outcome !== "rejected" && r.outcome !== "skipped" && r.outcome !== "failed") continue;
    const reasons = r.error ? [{ code: r.error.code, message: r.error.message }] : r.reasons;
    const list = reasons.length ? reasons : [{ code: "-", message: "no reason recorded" }];
    for (const reason of list) {
      const id = `${r.kind}\u0000${r.outcome}\u0000${reason.code}`;
      const g = groups.get(id);
      if (g) g.count++;
      else
        groups.set(id, {
          kind: r.kind,
          outcome: r.outcome,
          code: reason.code,
          message: reason.message,
          count: 1,
          example: r.key,
        });
    }
  }
  return [...groups.values()].sort((a, b) => b.count - a.count || a.kind.localeCompare(b.kind)).slice(0, top);
}

/** What the summary shows besides the run summary. */
export interface SummaryDetails {
  reasons: ReasonGroup[];
  /** Dead-lettered records (a few). */
  dead: CarriedRecord[];
  /** Account contexts of a few accounts. */
  contexts: AccountContext[];
}

/** Collects the details of a run's summary from the store. */
export async function summaryDetails(
  store: AuditStore,
  tenant: string,
  summary: RunSummary,
  accounts: readonly string[],
): Promise<SummaryDetails> {
  const rows = await store.queryAudit({ tenant, runId: summary.runId, outcomes: ["rejected", "skipped", "failed"] });
  const dead = summary.carried.dead > 0 ? await store.listCarried({ tenant, state: "dead", limit: 5 }) : [];
  let keys = [...accounts];
  if (keys.length === 0) {
    const companies = await store.queryAudit({ tenant, runId: summary.runId, kinds: ["company"], limit: 20 });
    keys = companies.map((c) => c.key);
  }
  const contexts: AccountContext[] = [];
  for (const k of keys) {
    if (contexts.length >= 3) break;
    const ctx = await store.getAccountContext(tenant, k);
    if (ctx) contexts.push(ctx);
  }
  return { reasons: groupReasons(rows), dead, contexts };
}

/** One line per account context. */
export function contextLine(ctx: AccountContext): string {
  const owner = ctx.owner
    ? `${ctx.owner.firstName ?? ""} ${ctx.owner.lastName ?? ""}`.trim() || ctx.owner.externalSalesPersonId
    : "-";
  const counts = Object.entries(ctx.activityCounts)
    .map(([t, n]) => `${t} ${n}`)
    .join(", ");
  return (
    `  account ${ctx.externalCompanyId}: ${ctx.openOpportunities.count} open opportunities worth ${ctx.openOpportunities.amount}, ` +
    `owner ${owner}, last engagement ${ctx.lastEngagementAt ?? "-"}${counts ? ` (${counts})` : ""}`
  );
}

/** The summary's lines (the run's error, when it has one, is printed apart: see {@link errorLines}). */
export function formatSummary(summary: RunSummary, details: SummaryDetails): string[] {
  const out: string[] = [];
  out.push(
    `run ${summary.runId}: ${summary.status} in ${summary.durationMs} ms, ${summary.sourceItems} source rows, ${summary.batches} batches` +
      (summary.checkpointSaved ? ", checkpoint saved" : ""),
  );
  const kinds = KINDS.filter((k) => OUTCOMES.some((x) => (summary.outcomes[k]?.[x] ?? 0) > 0));
  if (kinds.length === 0) out.push("  no record changed or was looked at (nothing new in QAD)");
  else {
    out.push(`  ${"kind".padEnd(13)}${OUTCOMES.map((o) => o.padStart(10)).join("")}`);
    for (const k of kinds) {
      const o = summary.outcomes[k];
      out.push(`  ${k.padEnd(13)}${OUTCOMES.map((x) => String(o[x]).padStart(10)).join("")}`);
    }
  }
  if (details.reasons.length) {
    out.push("  top reasons:");
    for (const g of details.reasons) {
      out.push(
        `    ${String(g.count).padStart(5)} × ${g.kind} ${g.outcome} [${g.code}] ${g.message} (e.g. ${g.example})`,
      );
    }
  }
  const c = summary.carried;
  out.push(
    `  carried forward: ${c.retried} retried, ${c.written} written, ${c.pending} pending, ${c.dead} dead-lettered` +
      (c.pending || c.dead ? " (replay: `replay --carried pending` / `replay --carried dead`)" : ""),
  );
  for (const d of details.dead) {
    out.push(
      `    dead: ${d.kind} ${d.key} after ${d.attempts} attempts: ${d.error?.message ?? d.reasons[0]?.message ?? "-"}`,
    );
  }
  out.push(
    `  Marketo calls ${summary.marketoCalls} (writes ${summary.marketoWriteCalls}), quota left today ${summary.quotaLeft}`,
  );
  out.push(
    `  read-only: ${summary.readOnly.length ? summary.readOnly.map((r) => `${r.object} (${r.reason ?? "CRM sync"})`).join(", ") : "nothing"}`,
  );
  if (summary.droppedFields.length) {
    out.push(`  not sent (this instance has no such field): ${summary.droppedFields.join(", ")}`);
  }
  if (details.contexts.length) {
    out.push(`  account contexts (${summary.contextsUpdated} updated by this run):`);
    for (const ctx of details.contexts) out.push(`  ${contextLine(ctx)}`);
  }
  return out;
}

/** An error as the service prints it: code, message, what to do. */
export function errorLines(code: string, message: string): string[] {
  const hint = hintFor(code);
  return [`error [${code}] (${hint.system}): ${message}`, `what to do: ${hint.todo}`];
}
