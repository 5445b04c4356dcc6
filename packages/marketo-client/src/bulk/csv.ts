import { CsvError, parse } from "csv-parse";
import { MarketoCsvError } from "./errors.js";
import type { BulkExtractState, BulkFormat, BulkRow } from "./types.js";

/** Field delimiter of each export format: `SSV` is semicolon-separated. */
export const DELIMITERS: Record<BulkFormat, string> = { CSV: ",", TSV: "\t", SSV: ";" };

/** How to read one export file. */
export interface ParseRowsOptions {
  format: BulkFormat;
  /** Unquoted `null` → `null`. */
  nullLiteral: boolean;
  /** Strip NUL bytes from values. */
  stripNul: boolean;
  /** Rows already delivered by an earlier run: parsed and dropped. */
  skipRows: number;
  /** Rows the file must hold (`numberOfRecords`), checked before the last row is released. */
  expectedRows?: number | undefined;
  /**
   * The columns the file must have (the requested fields, renamed by `columnHeaderNames`), in any order. A header that
   * differs (a wrong delimiter glues or splits its names) is a {@link MarketoCsvError} `BULK_HEADER_MISMATCH`.
   */
  expectedHeader?: readonly string[] | undefined;
  /** Columns the header must hold at least (used when Marketo picks the columns, e.g. default activity fields). */
  requiredHeader?: readonly string[] | undefined;
  /** Builds the error context (state, export id) at the moment of failure. */
  errorContext(): { exportId?: string | undefined; state?: BulkExtractState | undefined };
}

/**
 * Parses a byte stream with csv-parse, one chunk at a time, so memory stays constant whatever the file size, and
 * yields the rows of each chunk as one batch (one async step per chunk, not per row). The source verifies size and
 * checksum before it ends; the last parsed row is held back until then, so a truncated or corrupt file never
 * releases its final (possibly partial) row.
 */
export async function* parseBatches(
  chunks: AsyncIterable<Uint8Array>,
  options: ParseRowsOptions,
): AsyncGenerator<BulkRow[]> {
  const parser = parse({
    delimiter: DELIMITERS[options.format],
    // Only \n and \r\n end a record: U+2028/U+2029 and lone \r inside values stay in the value.
    record_delimiter: ["\r\n", "\n"],
    bom: true,
    skip_empty_lines: true,
    // Marketo does not escape quotes inside unquoted values; accept them instead of failing the whole file.
    relax_quotes: true,
  });
  // Errors are read synchronously from `parser.errored`; the listener only keeps the emitter from throwing.
  parser.on("error", () => {});
  const { nullLiteral, stripNul } = options;
  let header: string[] | undefined;
  let parsed = 0;
  let held: BulkRow | undefined;

  const toRow = (values: string[], keys: string[]): BulkRow => {
    const row: BulkRow = {};
    for (let i = 0; i < keys.length; i++) {
      let v: string | null = values[i] ?? null;
      if (v !== null) {
        if (nullLiteral && v === "null") v = null;
        else if (stripNul && v.indexOf("\0") !== -1) v = v.replaceAll("\0", "");
      }
      row[keys[i] as string] = v;
    }
    return row;
  };
  const fail = (err: unknown): never => {
    const ctx = options.errorContext();
    if (err instanceof CsvError) {
      throw new MarketoCsvError(`Export file is not valid ${options.format}: ${err.message}`, {
        code: err.code,
        cause: err,
        line: typeof err.lines === "number" ? err.lines : undefined,
        ...ctx,
      });
    }
    throw err;
  };
  // Pulls every record the parser has ready; returns the rows to release (all but the held-back latest one).
  const drain = (): BulkRow[] => {
    const out: BulkRow[] = [];
    for (let rec = parser.read() as string[] | null; rec !== null; rec = parser.read() as string[] | null) {
      if (header === undefined) {
        header = stripNul ? rec.map((h) => h.replaceAll("\0", "")) : rec;
        checkHeader(header, options);
        continue;
      }
      parsed++;
      if (parsed <= options.skipRows) continue;
      const row = toRow(rec, header);
      if (held !== undefined) out.push(held);
      held = row;
    }
    return out;
  };

  for await (const chunk of chunks) {
    parser.write(chunk);
    if (parser.errored) fail(parser.errored);
    const batch = drain();
    if (batch.length > 0) yield batch;
  }
  parser.end();
  if (parser.errored) fail(parser.errored);
  const batch = drain();
  if (parser.errored) fail(parser.errored);
  if (options.expectedRows !== undefined && parsed !== options.expectedRows) {
    const ctx = options.errorContext();
    throw new MarketoCsvError(
      `Export file holds ${parsed} rows but Marketo announced ${options.expectedRows}: the file is truncated or corrupt`,
      { code: "BULK_TRUNCATED", ...ctx },
    );
  }
  if (held !== undefined) batch.push(held);
  held = undefined;
  if (batch.length > 0) yield batch;
}

/** Names shown in a header error: the first few, each JSON-quoted so glued names and delimiters are visible. */
function show(names: readonly string[]): string {
  const head = names.slice(0, 6).map((n) => JSON.stringify(n.length > 60 ? `${n.slice(0, 60)}…` : n));
  return `[${head.join(", ")}${names.length > 6 ? `, … ${names.length - 6} more` : ""}]`;
}

/**
 * Checks the header row against the columns asked for, so a file read with the wrong delimiter (or holding other
 * columns) fails before any row is released instead of yielding rows keyed by glued or split names.
 */
function checkHeader(header: readonly string[], options: ParseRowsOptions): void {
  const have = new Set(header);
  let problem: string | undefined;
  if (options.expectedHeader === undefined && options.requiredHeader === undefined) return;
  if (have.size !== header.length) {
    problem = "it repeats a column name";
  } else if (options.expectedHeader !== undefined) {
    const want = new Set(options.expectedHeader);
    const missing = [...want].filter((c) => !have.has(c));
    const extra = header.filter((c) => !want.has(c));
    if (missing.length > 0 || extra.length > 0) {
      problem = `expected the columns ${show([...want])}, the file has ${show(header)}`;
    }
  } else if (options.requiredHeader !== undefined) {
    const missing = options.requiredHeader.filter((c) => !have.has(c));
    if (missing.length > 0) problem = `it lacks the columns ${show(missing)}; the file has ${show(header)}`;
  }
  if (problem === undefined) return;
  const name = JSON.stringify(DELIMITERS[options.format]);
  throw new MarketoCsvError(
    `Export file header does not match the requested columns for format ${options.format} (delimiter ${name}): ${problem}`,
    { code: "BULK_HEADER_MISMATCH", line: 1, ...options.errorContext() },
  );
}
