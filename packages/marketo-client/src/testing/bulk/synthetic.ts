/**
 * Synthetic export files: N rows generated on the fly from the row index, so a file of any size is streamed without
 * ever being held in memory. The same generator runs once to compute size, record count and SHA-256, and records
 * byte offsets every few MB so a Range request starts near its offset instead of at byte 0.
 */
import { createHash } from "node:crypto";
import { setImmediate as yieldToLoop } from "node:timers/promises";
import { formatLine } from "./csv-writer.js";

/** How many rows a synthetic file holds. */
export interface SyntheticSpec {
  /** Rows in the file. */
  rows: number;
}

/** Where a row starts in the file, for Range requests. */
interface Checkpoint {
  row: number;
  byte: number;
}

/** The measured facts of a synthetic file. */
export interface SyntheticFile {
  kind: "synthetic";
  columns: string[];
  headers: string[];
  delimiter: string;
  rows: number;
  size: number;
  checksum: string;
  checkpoints: Checkpoint[];
  /** `true` adds NUL bytes to some values (fault). */
  nulBytes: boolean;
}

const BASE = Date.UTC(2026, 0, 1);
const ROWS_PER_CHUNK = 256;
const CHECKPOINT_BYTES = 4 * 1024 * 1024;

/**
 * The value of `column` in row `i`. Deterministic; every so often an awkward value: a quoted multi-line text with
 * commas and quotes, U+2028/U+2029, a literal null.
 */
export function syntheticValue(column: string, i: number, nulBytes: boolean): unknown {
  const c = column.toLowerCase();
  if (c === "id" || c === "leadid") return i + 1;
  if (c === "email") return `user${i}@example.com`;
  if (c === "marketoguid") return `guid-${i}`;
  if (c.endsWith("at") || c.endsWith("date")) return new Date(BASE + i * 1000).toISOString();
  if (c === "activitytypeid") return 1 + (i % 13);
  if (i % 89 === 7) return null;
  if (i % 97 === 11) return `Line one of ${column}, "quoted"\nline two\r\nline three`;
  if (i % 101 === 13) return `sep\u2028arated\u2029text ${i}`;
  if (nulBytes && i % 53 === 5) return `nul\0byte ${i}`;
  return `${column} value ${i} lorem ipsum`;
}

/** Generates the file from row `fromRow` (with the header when it is 0) as ~chunks of 256 rows. */
export function* syntheticChunks(
  file: Omit<SyntheticFile, "size" | "checksum" | "checkpoints">,
  fromRow = 0,
): Generator<Buffer> {
  if (fromRow === 0) yield Buffer.from(formatLine(file.headers, file.delimiter));
  const values: unknown[] = new Array(file.columns.length);
  for (let start = fromRow; start < file.rows; start += ROWS_PER_CHUNK) {
    const end = Math.min(file.rows, start + ROWS_PER_CHUNK);
    let text = "";
    for (let i = start; i < end; i++) {
      for (let c = 0; c < file.columns.length; c++)
        values[c] = syntheticValue(file.columns[c] as string, i, file.nulBytes);
      text += formatLine(values, file.delimiter);
    }
    yield Buffer.from(text);
  }
}

/** Runs the generator once (yielding to the event loop between chunks) to measure the file. */
export async function measureSynthetic(
  base: Omit<SyntheticFile, "kind" | "size" | "checksum" | "checkpoints">,
): Promise<SyntheticFile> {
  const hash = createHash("sha256");
  const checkpoints: Checkpoint[] = [];
  let size = 0;
  let row = 0;
  let lastCheckpoint = -Infinity;
  let n = 0;
  const file = { ...base, kind: "synthetic" as const };
  for (const chunk of syntheticChunks(file)) {
    if (n > 0) {
      // Chunks after the header start at a row boundary: a place a Range request can restart from.
      if (size - lastCheckpoint >= CHECKPOINT_BYTES) {
        checkpoints.push({ row, byte: size });
        lastCheckpoint = size;
      }
      row = Math.min(base.rows, row + ROWS_PER_CHUNK);
    } else {
      checkpoints.push({ row: 0, byte: size });
      lastCheckpoint = 0;
    }
    hash.update(chunk);
    size += chunk.length;
    if (++n % 64 === 0) await yieldToLoop();
  }
  return { ...file, size, checksum: hash.digest("hex"), checkpoints };
}

/** The bytes [from, to] of the file, regenerated from the nearest checkpoint at or before `from`. */
export function* syntheticRange(file: SyntheticFile, from: number, to: number): Generator<Buffer> {
  let cp: Checkpoint = file.checkpoints[0] ?? { row: 0, byte: 0 };
  for (const c of file.checkpoints) {
    if (c.byte <= from) cp = c;
    else break;
  }
  let pos = cp.byte;
  for (const chunk of syntheticChunks(file, cp.row)) {
    const end = pos + chunk.length;
    if (end > from) {
      const a = Math.max(0, from - pos);
      const b = Math.min(chunk.length, to + 1 - pos);
      if (b > a) yield a === 0 && b === chunk.length ? chunk : chunk.subarray(a, b);
    }
    pos = end;
    if (pos > to) return;
  }
}
