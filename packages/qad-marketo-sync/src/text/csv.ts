/**
 * CSV exports of the audit trail, safe to open in a spreadsheet. A cell that starts with `=`, `+`, `-`, `@`, a tab or a
 * carriage return is read by Excel, LibreOffice and Google Sheets as a formula ("CSV injection": a customer named
 * `=cmd|' /C calc'!A0` runs a command when the export is opened), so such a cell is prefixed with `'`, which the
 * spreadsheet shows as text and hides (OWASP's advice). Negative numbers written as text are prefixed too: that is
 * the price of never evaluating a cell. Control characters, bidi controls and lone surrogates are escaped as
 * `\u{XXXX}` (see {@link visibleText}). Quoting and separators are csv-stringify's (RFC 4180).
 *
 * @module
 */

import type { Writable } from "node:stream";
import { stringify } from "csv-stringify";
import { stringify as stringifySync } from "csv-stringify/sync";
import type { AuditEntry, AuditQuery, AuditStore } from "../store/audit-store.js";
import { visibleText } from "./sanitise.js";

const FORMULA_START = /^[=+\-@\t\r]/;

/**
 * Neutralises one CSV cell: a value a spreadsheet would read as a formula gets a leading `'`; control characters
 * and bidi controls are made visible.
 *
 * @example
 * neutraliseCell("=SUM(A1:A9)") // "'=SUM(A1:A9)"
 * neutraliseCell("Acme") // "Acme"
 */
export function neutraliseCell(value: string): string {
  // Tab and CR are checked before escaping: they are kept by visibleText, and a leading one starts a formula.
  const text = visibleText(value);
  return FORMULA_START.test(text) ? `'${text}` : text;
}

/** Options of {@link auditToCsv} and {@link writeAuditCsv}. */
export interface AuditCsvOptions {
  /** Add a `payload` column with the mapped payload as JSON. @default false */
  payload?: boolean;
  /** Write the header row. @default true */
  header?: boolean;
}

/** The columns of an audit CSV export, in order. */
export const AUDIT_CSV_COLUMNS = [
  "at",
  "tenant",
  "runId",
  "kind",
  "key",
  "sourceKey",
  "outcome",
  "reasons",
  "marketoId",
  "error",
  "hash",
  "replayOf",
] as const;

const columnsOf = (options: AuditCsvOptions) =>
  options.payload ? [...AUDIT_CSV_COLUMNS, "payload"] : [...AUDIT_CSV_COLUMNS];

/** One audit row as CSV cells (before neutralisation). */
function cells(row: AuditEntry, options: AuditCsvOptions): string[] {
  const out = [
    new Date(row.at).toISOString(),
    row.tenant,
    row.runId,
    row.kind,
    row.key,
    row.sourceKey,
    row.outcome,
    row.reasons.map((r) => `${r.code}: ${r.message}`).join(" | "),
    row.marketoId ?? "",
    row.error ? `${row.error.code}: ${row.error.message}` : "",
    row.hash ?? "",
    row.replayOf ?? "",
  ];
  if (options.payload) out.push(row.payload === undefined ? "" : JSON.stringify(row.payload));
  return out.map(neutraliseCell);
}

/**
 * Audit rows as one CSV document (header first), every cell neutralised (see the module description).
 *
 * @example
 * await writeFile("audit.csv", auditToCsv(await store.queryAudit({ tenant: "default", runId })));
 */
export function auditToCsv(rows: readonly AuditEntry[], options: AuditCsvOptions = {}): string {
  const header = options.header ?? true;
  return stringifySync(
    rows.map((r) => cells(r, options)),
    { header, columns: columnsOf(options), eof: true },
  );
}

/**
 * Streams the audit rows a query selects to `stream` as CSV (header first), every cell neutralised; resolves once
 * the last row is handed to the stream (the stream is not ended, so several exports can share one).
 *
 * @example
 * await writeAuditCsv(store, { tenant: "default", outcomes: ["rejected", "failed"] }, process.stdout);
 */
export async function writeAuditCsv(
  store: Pick<AuditStore, "queryAudit">,
  query: AuditQuery,
  stream: Writable,
  options: AuditCsvOptions = {},
): Promise<number> {
  const rows = await store.queryAudit(query);
  const csv = stringify({ header: options.header ?? true, columns: columnsOf(options), eof: true });
  const done = new Promise<void>((resolve, reject) => {
    csv.on("end", resolve);
    csv.on("error", reject);
  });
  csv.pipe(stream, { end: false });
  for (const row of rows) {
    if (!csv.write(cells(row, options))) await new Promise<void>((r) => csv.once("drain", r));
  }
  csv.end();
  await done;
  return rows.length;
}
