/**
 * The report page: one static, self-contained HTML document (inline CSS, inline SVG charts, no script, no external
 * URL, a CSP that forbids loading anything), every store value escaped ({@link escapeHtml}). Each figure sits in an
 * element with a stable `data-testid` and its number in `data-figure`, so tests and scrapers read numbers, not prose.
 *
 * @module
 */

import type { AccountContext } from "../readback/account-context.js";
import type { CarriedRecord, Outcome, RecordKind } from "../store/audit-store.js";
import { REPORT_KINDS, REPORT_OUTCOMES, type ReportData, type ReportRun } from "./data.js";
import { escapeHtml as e } from "./escape.js";

/** The page's Content-Security-Policy: nothing may be loaded, no script runs; inline styles and data: images only. */
export const REPORT_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:";

const COLORS: Record<Outcome, string> = {
  created: "#2e7d32",
  updated: "#1565c0",
  unchanged: "#9e9e9e",
  rejected: "#c62828",
  skipped: "#ef6c00",
  failed: "#6a1b9a",
};

const KIND_TITLES: Record<RecordKind, string> = {
  customer: "Customers (source rows)",
  company: "Companies",
  namedAccount: "Named accounts",
  lead: "Leads",
  salesPerson: "Sales persons",
};

const NF = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });
const fmt = (n: number) => NF.format(n);
const when = (ms: number) => `${new Date(ms).toISOString().slice(0, 19).replace("T", " ")} UTC`;
/**
 * A duration as people read it: whole milliseconds under a second (`200 ms`), seconds with one decimal under a
 * minute (`1.5 s`, `20.0 s`), then `3 min 5 s` and `2 h 10 min`. Rounded before the unit is chosen, so 999.7 ms is
 * `1.0 s`, never `1,000 ms`.
 */
export function formatDuration(ms: number): string {
  if (Math.round(ms) < 1000) return `${fmt(Math.round(ms))} ms`;
  const tenths = Math.round(ms / 100);
  if (tenths < 600) return `${(tenths / 10).toFixed(1)} s`;
  const seconds = Math.round(ms / 1000);
  const m = Math.floor(seconds / 60);
  return m < 60 ? `${m} min ${seconds - m * 60} s` : `${Math.floor(m / 60)} h ${m % 60} min`;
}
/** An attribute list from pairs; every value escaped. */
const attrs = (a: Record<string, string | number | undefined>) =>
  Object.entries(a)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => ` ${k}="${e(v, 2000)}"`)
    .join("");
/** One figure: its number in `data-figure`, shown formatted (or as `shown`, already escaped). */
const fig = (
  testid: string,
  value: number,
  extra: Record<string, string | number | undefined> = {},
  tag = "td",
  shown = fmt(value),
) => `<${tag}${attrs({ "data-testid": testid, ...extra, "data-figure": value })}>${shown}</${tag}>`;

const total = (run: ReportRun, kind: RecordKind) => REPORT_OUTCOMES.reduce((a, o) => a + run.outcomes[kind][o], 0);

const W = 1200;
const H = 150;
const PAD = { left: 56, right: 12, top: 12, bottom: 28 };

/** The smallest 1, 2 or 5 × 10^k at or above `n` (at least 1), so the axis ticks are round numbers. */
function niceCeil(n: number): number {
  if (n <= 1) return 1;
  const p = 10 ** Math.floor(Math.log10(n));
  for (const m of [1, 2, 5, 10]) if (m * p >= n) return m * p;
  return 10 * p;
}

function axis(max: number): string {
  const plotH = H - PAD.top - PAD.bottom;
  const lines: string[] = [];
  for (const f of max >= 2 ? [0, 0.5, 1] : [0, 1]) {
    const y = PAD.top + plotH * (1 - f);
    lines.push(
      `<line x1="${PAD.left}" x2="${W - PAD.right}" y1="${y}" y2="${y}" stroke="#ddd"/>`,
      `<text x="${PAD.left - 6}" y="${y + 4}" text-anchor="end" class="tick">${fmt(max * f)}</text>`,
    );
  }
  return lines.join("");
}

function xLabels(runs: ReportRun[], step: number, barW: number): string {
  const every = Math.max(1, Math.ceil(runs.length / 15));
  return runs
    .map((_, i) =>
      i % every === 0 || i === runs.length - 1
        ? `<text x="${(PAD.left + i * step + barW / 2).toFixed(1)}" y="${H - 8}" text-anchor="middle" class="tick">#${i + 1}</text>`
        : "",
    )
    .join("");
}

function outcomeChart(kind: RecordKind, runs: ReportRun[]): string {
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const max = niceCeil(Math.max(...runs.map((r) => total(r, kind))));
  const step = plotW / Math.max(1, runs.length);
  const barW = Math.max(2, Math.min(60, step * 0.7));
  const bars = runs.map((run, i) => {
    let y = PAD.top + plotH;
    const x = (PAD.left + i * step).toFixed(1);
    const segs = REPORT_OUTCOMES.map((o) => {
      const n = run.outcomes[kind][o];
      const h = (n / max) * plotH;
      y -= h;
      return `<rect${attrs({
        "data-testid": "outcome-segment",
        "data-outcome": o,
        "data-figure": n,
        x,
        y: y.toFixed(1),
        width: barW.toFixed(1),
        height: h.toFixed(1),
        fill: COLORS[o],
      })}><title>${e(`#${i + 1} ${when(run.startedAt)}: ${o} ${n}`)}</title></rect>`;
    }).join("");
    return `<g${attrs({ "data-testid": "outcome-bar", "data-run": run.runId, "data-kind": kind, "data-figure": total(run, kind) })}>${segs}</g>`;
  });
  return `<svg viewBox="0 0 ${W} ${H}" role="img" aria-label="${e(`${KIND_TITLES[kind]} per run`)}"${attrs({ "data-testid": "outcome-chart", "data-kind": kind })}>${axis(max)}${bars.join("")}${xLabels(runs, step, barW)}</svg>`;
}

function callsChart(runs: ReportRun[]): string {
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const max = niceCeil(Math.max(...runs.map((r) => Math.max(r.marketoCalls, r.callCeiling))));
  const step = plotW / Math.max(1, runs.length);
  const barW = Math.max(2, Math.min(60, step * 0.7));
  const bars = runs.map((run, i) => {
    const x = PAD.left + i * step;
    const h = (run.marketoCalls / max) * plotH;
    const cy = PAD.top + plotH * (1 - run.callCeiling / max);
    const over = run.marketoCalls > run.callCeiling;
    return `<g${attrs({ "data-testid": "calls-bar", "data-run": run.runId, "data-figure": run.marketoCalls, "data-ceiling": run.callCeiling })}><rect x="${x.toFixed(1)}" y="${(PAD.top + plotH - h).toFixed(1)}" width="${barW.toFixed(1)}" height="${h.toFixed(1)}" fill="${over ? "#c62828" : "#1565c0"}"><title>${e(`#${i + 1}: ${run.marketoCalls} calls, ceiling ${run.callCeiling} (${run.quotaWindows} windows)`)}</title></rect><line x1="${(x - 3).toFixed(1)}" x2="${(x + barW + 3).toFixed(1)}" y1="${cy.toFixed(1)}" y2="${cy.toFixed(1)}" stroke="#c62828" stroke-width="2" stroke-dasharray="4 2"/></g>`;
  });
  return `<svg viewBox="0 0 ${W} ${H}" role="img" aria-label="Marketo calls per run against the rate-limit ceiling" data-testid="calls-chart">${axis(max)}${bars.join("")}${xLabels(runs, step, barW)}</svg>`;
}

const legend = () =>
  `<p class="legend">${REPORT_OUTCOMES.map((o) => `<span><i style="background:${COLORS[o]}"></i>${o}</span>`).join("")}</p>`;

function runsTable(runs: ReportRun[], windowMs: number): string {
  const rows = runs
    .map((run, i) => ({ run, n: i + 1 }))
    .reverse()
    .map(({ run, n }) => {
      const r = { "data-run": run.runId };
      const sum = (o: Outcome) => REPORT_KINDS.reduce((a, k) => a + run.outcomes[k][o], 0);
      const pct = run.callCeiling === 0 ? 0 : Math.round((run.marketoCalls / run.callCeiling) * 100);
      return `<tr${attrs({ "data-testid": "run", ...r, "data-status": run.status })}><td>#${n}</td><td>${e(when(run.startedAt))}<br><small class="mono">${e(run.runId)}</small></td><td>${e(run.trigger)}</td><td class="status ${e(run.status)}">${e(run.status)}${run.error ? `<br><small>${e(run.error.code)}: ${e(run.error.message)}</small>` : ""}${run.readOnly.length ? `<br><small>read-only: ${e(run.readOnly.join(", "))}</small>` : ""}</td>${fig("run-durationMs", run.durationMs, r, "td", e(formatDuration(run.durationMs)))}${fig("run-sourceItems", run.sourceItems, r)}${REPORT_OUTCOMES.map((o) => fig(`run-${o}`, sum(o), r)).join("")}${fig("run-marketoCalls", run.marketoCalls, r)}${fig("run-marketoWriteCalls", run.marketoWriteCalls, r)}${fig("run-quotaWindows", run.quotaWindows, r)}${fig("run-callCeiling", run.callCeiling, r)}${fig("run-callPercent", pct, r, "td", `${fmt(pct)} %`)}${fig("run-quotaLeft", run.quotaLeft, r)}${fig("run-carriedPending", run.carried.pending, r)}${fig("run-carriedDead", run.carried.dead, r)}</tr>`;
    })
    .join("");
  return `<div class="scroll"><table data-testid="runs"><thead><tr><th>#</th><th>Started / run</th><th>Trigger</th><th>Status</th><th>Duration</th><th>Source rows</th>${REPORT_OUTCOMES.map((o) => `<th>${o}</th>`).join("")}<th>Marketo calls</th><th>write calls</th><th>${e(formatDuration(windowMs))} windows</th><th>ceiling</th><th>of ceiling</th><th>quota left today</th><th>carried</th><th>dead</th></tr></thead><tbody>${rows}</tbody></table></div>`;
}

function reasonsTable(data: ReportData): string {
  if (data.reasons.length === 0)
    return `<p class="empty" data-testid="reasons-empty">No rejected, skipped or failed records in these runs.</p>`;
  const rows = data.reasons
    .map(
      (g) =>
        `<tr${attrs({ "data-testid": "reason", "data-kind": g.kind, "data-outcome": g.outcome, "data-code": g.code, "data-figure": g.count })}><td>${fmt(g.count)}</td><td>${e(g.kind)}</td><td class="status ${e(g.outcome)}">${e(g.outcome)}</td><td class="mono">${e(g.code)}</td><td>${e(g.message)}</td><td class="mono" data-testid="reason-example">${e(g.exampleKey)}</td></tr>`,
    )
    .join("");
  return `<table data-testid="reasons"><thead><tr><th>Records</th><th>Kind</th><th>Outcome</th><th>Code</th><th>Example message</th><th>Example record</th></tr></thead><tbody>${rows}</tbody></table>`;
}

function carriedRows(records: CarriedRecord[]): string {
  return records
    .map(
      (c) =>
        `<tr${attrs({ "data-testid": "carried", "data-state": c.state, "data-kind": c.kind, "data-key": c.key, "data-figure": c.attempts })}><td>${e(c.kind)}</td><td class="mono">${e(c.key)}</td><td>${e(c.cause)}</td><td>${fmt(c.attempts)}</td><td>${e(when(c.firstAt))}</td><td>${e(when(c.lastAt))}</td><td>${c.state === "dead" ? "never (replay by hand)" : e(when(c.nextAt))}</td><td>${c.error ? `${e(c.error.code)}: ${e(c.error.message)}` : e(c.reasons.map((r) => `${r.code}: ${r.message}`).join("; "))}</td></tr>`,
    )
    .join("");
}

function carriedSection(data: ReportData): string {
  const { counts, pending, dead } = data.carried;
  const head = `<thead><tr><th>Kind</th><th>Key</th><th>Cause</th><th>Attempts</th><th>First</th><th>Last</th><th>Next try</th><th>Last error or reason</th></tr></thead>`;
  const table = (state: "pending" | "dead", list: CarriedRecord[]) =>
    list.length === 0
      ? `<p class="empty">None ${state === "dead" ? "dead-lettered" : "carried forward"}.</p>`
      : `<table${attrs({ "data-testid": `carried-${state}` })}>${head}<tbody>${carriedRows(list)}</tbody></table>${counts[state] > list.length ? `<p class="note">First ${fmt(list.length)} of ${fmt(counts[state])}.</p>` : ""}`;
  return `<p class="cards">${fig("carried-count", counts.pending, { "data-state": "pending" }, "span")} carried forward (retried by later runs) · ${fig("carried-count", counts.dead, { "data-state": "dead" }, "span")} dead-lettered (<code>replay({ carried: ["dead"] })</code>)</p><h3>Carried forward</h3>${table("pending", pending)}<h3>Dead-lettered</h3>${table("dead", dead)}`;
}

function accountCard(c: AccountContext): string {
  const a = { "data-key": c.externalCompanyId };
  const owner = c.owner
    ? [c.owner.firstName, c.owner.lastName].filter(Boolean).join(" ") || c.owner.email || c.owner.externalSalesPersonId
    : undefined;
  const acts = Object.entries(c.activityCounts).sort((x, y) => y[1] - x[1]);
  return `<div${attrs({ class: "account", "data-testid": "account", ...a })}><h3 class="mono">${e(c.externalCompanyId)}</h3><dl><dt>Open opportunities</dt><dd>${fig("account-open-count", c.openOpportunities.count, a, "span")} · ${fig("account-open-amount", c.openOpportunities.amount, a, "span")}</dd><dt>Won</dt><dd>${fig("account-won-count", c.wonOpportunities.count, a, "span")} · ${fig("account-won-amount", c.wonOpportunities.amount, a, "span")}</dd><dt>Owner</dt><dd>${owner ? e(owner) : "—"}</dd><dt>Last engagement</dt><dd>${c.lastEngagementAt ? e(c.lastEngagementAt) : "—"}</dd><dt>Activity</dt><dd>${
    acts.length === 0
      ? "none"
      : acts
          .slice(0, 6)
          .map(([k, n]) => `${e(k)} ${fig("account-activity", n, { ...a, "data-type": k }, "span")}`)
          .join(", ")
  }</dd></dl>${
    c.opportunities.length
      ? `<ul>${c.opportunities
          .slice(0, 5)
          .map(
            (o) =>
              `<li>${e(o.name ?? o.id)}${o.stage ? ` · ${e(o.stage)}` : ""}${o.amount !== undefined ? ` · ${fmt(o.amount)}` : ""}${o.isClosed ? (o.isWon ? " · won" : " · lost") : ""}</li>`,
          )
          .join("")}</ul>`
      : ""
  }</div>`;
}

const CSS = `
:root{color-scheme:light;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#222}
body{margin:0 auto;max-width:1240px;padding:16px 20px 48px}
h1{font-size:22px;margin:8px 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #ddd;padding-bottom:4px}
h3{font-size:14px;margin:16px 0 6px}.meta,.note{color:#555}.empty{color:#777;font-style:italic}
svg{width:100%;height:auto;display:block;background:#fafafa;border:1px solid #eee}.tick{font-size:11px;fill:#666}
table{border-collapse:collapse;width:100%;font-size:12.5px;margin:6px 0}th,td{border:1px solid #e3e3e3;padding:3px 6px;text-align:left;vertical-align:top}
th{background:#f3f3f3}.scroll{overflow-x:auto}table[data-testid="runs"]{font-size:12px}td[data-figure]{text-align:right;font-variant-numeric:tabular-nums}.mono{font-family:ui-monospace,Menlo,Consolas,monospace;word-break:break-all}td small.mono{white-space:nowrap;word-break:normal}
.legend span{margin-right:14px;white-space:nowrap}.legend i{display:inline-block;width:11px;height:11px;margin-right:4px;vertical-align:-1px}
.status.failed,.status.rejected{color:#c62828}.status.degraded,.status.skipped{color:#ef6c00}.status.completed{color:#2e7d32}
.accounts{display:grid;grid-template-columns:repeat(auto-fill,minmax(280px,1fr));gap:10px}.account{border:1px solid #e3e3e3;padding:8px 10px;border-radius:4px}
.account h3{margin:0 0 6px}dl{display:grid;grid-template-columns:auto 1fr;gap:2px 10px;margin:0}dt{color:#666}dd{margin:0}ul{margin:6px 0 0;padding-left:18px}
`;

/**
 * Renders gathered report data as one self-contained HTML page (see the module description).
 *
 * @example
 * const html = renderReportHtml(await reportData({ store, tenant: "default" }));
 */
export function renderReportHtml(data: ReportData): string {
  const { runs } = data;
  const windowText = formatDuration(data.limits.windowMs);
  const charts =
    runs.length === 0
      ? `<p class="empty" data-testid="runs-empty">No finished runs yet.</p>`
      : `${legend()}${REPORT_KINDS.map((k) => `<h3>${e(KIND_TITLES[k])}${runs.some((r) => total(r, k) > 0) ? "" : ' <small class="empty">(none in these runs)</small>'}</h3>${outcomeChart(k, runs)}`).join("")}`;
  const last = runs.at(-1);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${REPORT_CSP}">
<meta name="referrer" content="no-referrer"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${e(data.title)}</title><style>${CSS}</style></head>
<body data-testid="report"${attrs({ "data-tenant": data.tenant, "data-generated-at": data.generatedAt })}>
<h1>${e(data.title)}</h1>
<p class="meta">Tenant <b class="mono">${e(data.tenant)}</b> · generated ${e(when(data.generatedAt))} · ${fig("run-count", runs.length, {}, "span")} finished runs shown${data.unfinished ? ` (${fmt(data.unfinished)} unfinished not charted)` : ""}${last ? ` · latest: <span class="status ${e(last.status)}">${e(last.status)}</span> at ${e(when(last.startedAt))}` : ""}</p>
<section data-testid="outcomes-section"><h2>Outcomes per kind, per run</h2><p class="note">Runs oldest (#1) to newest; each bar stacks the records of one kind by outcome.</p>${charts}</section>
<section data-testid="calls-section"><h2>Marketo calls against the rate limit</h2>
<p class="note" data-testid="limits-note">Marketo allows ${fmt(data.limits.callsPerWindow)} calls per ${e(windowText)} window. The store keeps each run's call count, not per-window figures, so each bar is the run's calls and the dashed line its ceiling: ${fmt(data.limits.callsPerWindow)} × the ${e(windowText)} windows the run spanned (⌈duration ÷ ${e(windowText)}⌉). A bar under its line can still have had a busy window; the client's limiter keeps every window under the limit.</p>
${runs.length === 0 ? "" : callsChart(runs)}
${runs.length === 0 ? "" : runsTable(runs, data.limits.windowMs)}</section>
<section data-testid="reasons-section"><h2>Top reasons: rejected, skipped and failed records</h2>${reasonsTable(data)}</section>
<section data-testid="carried-section"><h2>Carried-forward and dead-lettered records</h2>${carriedSection(data)}</section>
<section data-testid="accounts-section"><h2>Account context samples</h2>${data.accounts.length === 0 ? `<p class="empty">No account context yet (the read-back fills it after a run).</p>` : `<div class="accounts">${data.accounts.map(accountCard).join("")}</div>`}</section>
</body></html>
`;
}
