import { QadConfigError } from "../errors.js";

/**
 * Date formats a QAD session may use for date literals in a Query Service Filter. The format follows the session's
 * locale (Progress `-d` startup parameter), so it is a setting.
 */
export const QAD_DATE_FORMATS = [
  "mm/dd/yy",
  "dd/mm/yy",
  "yy/mm/dd",
  "mm/dd/yyyy",
  "dd/mm/yyyy",
  "yyyy/mm/dd",
  "dd.mm.yy",
  "dd.mm.yyyy",
  "dd-mm-yy",
  "dd-mm-yyyy",
] as const;

/** One of {@link QAD_DATE_FORMATS}. */
export type QadDateFormat = (typeof QAD_DATE_FORMATS)[number];

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

function splitFormat(format: QadDateFormat): { sep: string; parts: string[] } {
  const sep = format.includes("/") ? "/" : format.includes(".") ? "." : "-";
  return { sep, parts: format.split(sep) };
}

/**
 * Formats an ISO date (`YYYY-MM-DD`) as a Filter date literal in the session's format, e.g. `2026-01-31` →
 * `01/31/26` for `mm/dd/yy`. With a two-digit year the date must fall in the century window the server reads
 * back (`centuryPivot`), else the literal would mean another century: that throws {@link QadConfigError}.
 *
 * @example formatQadDate("2026-01-31", "dd.mm.yyyy") // "31.01.2026"
 */
export function formatQadDate(isoDate: string, format: QadDateFormat, centuryPivot = 50): string {
  const m = ISO_DATE.exec(isoDate);
  if (!m) throw new QadConfigError(`Expected a YYYY-MM-DD date, got ${JSON.stringify(isoDate.slice(0, 40))}`);
  const [, yyyy, mm, dd] = m as unknown as [string, string, string, string];
  const year = Number(yyyy);
  const { sep, parts } = splitFormat(format);
  if (parts.includes("yy") && (year < 1900 + centuryPivot || year >= 2000 + centuryPivot)) {
    throw new QadConfigError(
      `Date ${isoDate} cannot be written with a two-digit year (format ${format}, window ${1900 + centuryPivot}-${1999 + centuryPivot})`,
    );
  }
  const value: Record<string, string> = { yyyy, yy: yyyy.slice(2), mm, dd };
  return parts.map((p) => value[p]).join(sep);
}

/**
 * Reads a date from a Query Service answer: ISO (`2026-01-31`, as Progress serialises DATE fields in XML, possibly
 * with a time part) or the session's format. Returns `YYYY-MM-DD`, or undefined when it is not a valid date.
 */
export function parseQadDate(text: string, format: QadDateFormat, centuryPivot = 50): string | undefined {
  const t = text.trim();
  const iso = /^(\d{4})-(\d{2})-(\d{2})(?:[T ].*)?$/.exec(t);
  let y: number;
  let mo: number;
  let d: number;
  if (iso) {
    y = Number(iso[1]);
    mo = Number(iso[2]);
    d = Number(iso[3]);
  } else {
    const { sep, parts } = splitFormat(format);
    const bits = t.split(sep);
    if (bits.length !== 3 || bits.some((b) => !/^\d{1,4}$/.test(b))) return undefined;
    const at = (name: string) => {
      const i = parts.indexOf(name);
      return i < 0 ? undefined : Number(bits[i]);
    };
    const yy = at("yy");
    y = yy !== undefined ? (yy < centuryPivot ? 2000 + yy : 1900 + yy) : (at("yyyy") ?? Number.NaN);
    mo = at("mm") ?? Number.NaN;
    d = at("dd") ?? Number.NaN;
  }
  const date = new Date(Date.UTC(y, mo - 1, d));
  if (Number.isNaN(date.getTime()) || date.getUTCMonth() !== mo - 1 || date.getUTCDate() !== d) return undefined;
  return date.toISOString().slice(0, 10);
}

/**
 * Quotes a value as a Progress ABL string literal for a Filter expression. `~` is the ABL escape character (and `\`
 * one too on UNIX servers), so both are escaped, as are quotes and `{` (which would start an include reference);
 * control characters become `~nnn` octal escapes so none ends up in the XML. Unicode passes through.
 *
 * @example quoteProgressString('A"B') // "\"A~\"B\""
 */
export function quoteProgressString(value: string): string {
  let out = '"';
  for (const ch of value) {
    const code = ch.codePointAt(0)!;
    if (ch === "~" || ch === '"' || ch === "'" || ch === "{" || ch === "\\") out += `~${ch}`;
    else if (code < 0x20 || code === 0x7f) out += `~${code.toString(8).padStart(3, "0")}`;
    else out += ch;
  }
  return `${out}"`;
}

/** What to put into a Query Service Filter. */
export interface QxtendFilterParts {
  /** Primary-table date field (cm_mod_date). */
  dateField: string;
  /** Primary-table key field (cm_addr). */
  keyField: string;
  /** Only rows modified on/after this day (`YYYY-MM-DD`). QXtend dates are day-granular: no time of day. */
  sinceDate?: string;
  /** Only rows whose key sorts after this one (the last key of the previous page). */
  afterKey?: string;
  /** Date literal format. */
  dateFormat: QadDateFormat;
  /** Century window for two-digit years. @default 50 */
  centuryPivot?: number;
}

/**
 * Builds the Filter of one page: `cm_mod_date >= 01/31/26 and cm_addr > "C100"`. Field names come from validated
 * settings; the key value is always quoted with {@link quoteProgressString}. Empty when there is nothing to filter.
 * With a two-digit-year format, a date before the century window drops the date clause (reads everything); a
 * date after it throws {@link QadConfigError}.
 */
export function buildQxtendFilter(parts: QxtendFilterParts): string {
  const clauses: string[] = [];
  const pivot = parts.centuryPivot ?? 50;
  const twoDigit = parts.dateFormat.split(/[/.-]/).includes("yy");
  // Before a two-digit window's first year the literal cannot be written; every row is then "since" that date
  // for practical purposes, so the clause is left out (a superset, never a loss).
  const beforeWindow = parts.sinceDate !== undefined && twoDigit && Number(parts.sinceDate.slice(0, 4)) < 1900 + pivot;
  if (parts.sinceDate !== undefined && !beforeWindow) {
    clauses.push(`${parts.dateField} >= ${formatQadDate(parts.sinceDate, parts.dateFormat, parts.centuryPivot)}`);
  }
  if (parts.afterKey !== undefined) clauses.push(`${parts.keyField} > ${quoteProgressString(parts.afterKey)}`);
  return clauses.join(" and ");
}
