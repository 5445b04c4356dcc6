import { realSleep } from "../internal/runtime.js";
import { defaultMapping } from "../mapping/defaults.js";
import { type MarketoState, marketoChecks, marketoSampleChecks } from "./marketo-checks.js";
import { type QadState, qadChecks } from "./qad-checks.js";
import { type RunLimits, runChain, worstOf } from "./runner.js";
import type { DoctorOptions, DoctorReport } from "./types.js";

/**
 * Pings the real systems and says whether a sync fits them ("doctor"): one line per check, `pass` / `warn` / `fail`
 * / `skip`, and the worst verdict. Nothing is written anywhere: QAD gets a token, a probe, its API description and
 * one page of customers; Marketo a usage read, describes and capability probes (a dozen calls of its quota).
 *
 * QAD: `qad.reach` (the tenant or QXtend endpoint answers: DNS, TCP, TLS and the tenant-URL policy), `qad.auth`
 * (REST: a token and an authenticated probe; QXtend: a one-row query), `qad.protocol` (REST or QXtend, and why),
 * `qad.paths` (the customer browse, count and entity paths against the instance's API description or allow-list),
 * `qad.sample` (one page of customers: rows, invalid rows, what the mapping makes of them).
 *
 * Marketo: `marketo.auth`, `marketo.quota` (today's usage against the daily quota; warns under 20 % left),
 * `marketo.crm.*` (companies, opportunities, sales persons writable, or read-only under a CRM sync and what that
 * means), `marketo.fields.*` (fields the mapping writes that the instance lacks, with the admin steps to create each;
 * defaults the package documents as optional only get a note), `marketo.cost` (calls, time and quota share of a first
 * sync of `customers` customers).
 *
 * The QAD checks and the first Marketo checks run side by side; the field and cost checks run after both (they use
 * the QAD sample). Every check has its own time limit, so a hanging system fails its own lines and the rest still
 * runs; a check that depends on a failed one is `skip`. Errors become `fail` lines with the error's code and message,
 * which the clients redact: no secret, token or password appears in a report.
 *
 * @example
 * const report = await doctor({ qad, marketo: mk, customers: 12_000 });
 * for (const line of formatDoctorReport(report)) console.log(line);
 * process.exitCode = report.worst === "fail" ? 1 : 0;
 */
export async function doctor(options: DoctorOptions): Promise<DoctorReport> {
  const mapping = options.mapping ?? defaultMapping;
  const limits: RunLimits = {
    timeoutMs: options.timeoutMs ?? 30_000,
    timeouts: options.timeouts ?? {},
    sleep: options.sleep ?? realSleep,
    signal: options.signal,
  };
  const qadState: QadState = {};
  const mkState: MarketoState = { capabilities: {} };
  const [qad, mk] = await Promise.all([
    runChain(qadChecks(options.qad, mapping, qadState, options.samplePageSize ?? 50), limits),
    runChain(marketoChecks(options.marketo, mkState, mapping), limits),
  ]);
  const later = await runChain(
    marketoSampleChecks(options.marketo, mkState, qadState, mapping, options.customers),
    limits,
  );
  const checks = [...qad, ...mk, ...later];
  return { checks, worst: worstOf(checks.map((c) => c.status)) };
}
