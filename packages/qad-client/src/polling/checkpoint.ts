import { z } from "zod";
import type { EntityKind } from "../backend.js";
import { QadConfigError } from "../errors.js";
import { isCalendarDate } from "../records/calendar.js";

/** A QAD last-modified instant: day plus seconds since midnight (server local time, compared as-is). */
export interface QadInstant {
  /** YYYY-MM-DD. */
  date: string;
  /** Seconds since midnight, 0..86399. */
  time: number;
}

/**
 * Where an incremental poll stopped; JSON-serialisable. Persist it after a fully consumed poll and pass it to the
 * next `changes()` call.
 */
export interface QadCheckpoint {
  /** Format version. */
  v: 1;
  /** The document kind it belongs to. */
  entity: EntityKind;
  /** Latest last-modified instant seen so far, or null before the first record. */
  highWater: QadInstant | null;
  /**
   * Records already delivered whose last-modified falls inside the overlap window below `highWater`, by key:
   * `"date|time|hash"`. The next poll re-reads the window and skips these, so nothing is doubled. With a
   * day-granular backend (QXtend) the window is widened to whole days, as that is what the next poll re-reads.
   */
  seen: Record<string, string>;
}

/** True when `i` is a possible instant: a calendar day and a whole second 0..86399. @internal */
export function isValidInstant(i: unknown): i is QadInstant {
  if (typeof i !== "object" || i === null) return false;
  const { date, time } = i as { date?: unknown; time?: unknown };
  return isCalendarDate(date) && Number.isInteger(time) && (time as number) >= 0 && (time as number) <= 86_399;
}

/**
 * Why a record's `lastModified` is impossible (`lastModified.date: 2026-11-45 is not a calendar date`), or
 * `undefined` when it is absent or possible. Shape errors (not a string, not YYYY-MM-DD) are left to the schema.
 * @internal
 */
export function lastModifiedIssue(lastModified: unknown): string | undefined {
  if (typeof lastModified !== "object" || lastModified === null) return undefined;
  const { date, time } = lastModified as { date?: unknown; time?: unknown };
  if (typeof date === "string" && /^\d{4}-\d{2}-\d{2}$/.test(date) && !isCalendarDate(date)) {
    return `lastModified.date: ${date} is not a calendar date`;
  }
  if (typeof time === "number" && (!Number.isInteger(time) || time < 0 || time > 86_399)) {
    return `lastModified.time: ${time} is not a second of the day (0..86399)`;
  }
  return undefined;
}

const instant = z.object({
  date: z.string().refine(isCalendarDate, { message: "not a calendar date (YYYY-MM-DD)" }),
  time: z.number().int().min(0).max(86_399),
});

/** @internal */
export const checkpointSchema = z.object({
  v: z.literal(1),
  entity: z.string(),
  highWater: instant.nullable(),
  seen: z.record(z.string(), z.string()),
});

/**
 * Parses a stored checkpoint (external input). A checkpoint whose high-water mark is an impossible instant
 * (`2026-11-45`, time 86400) is refused with a {@link QadConfigError} rather than reset: a reset would silently
 * re-read everything (or, with `since`, skip rows), which is the caller's decision to make.
 * @internal
 */
export function parseCheckpoint(input: unknown, entity: EntityKind): QadCheckpoint | undefined {
  if (input === undefined || input === null) return undefined;
  const r = checkpointSchema.safeParse(input);
  if (!r.success) {
    const issue = r.error.issues[0];
    const where = issue?.path.length ? `${issue.path.map(String).join(".")}: ` : "";
    throw new QadConfigError(`Invalid checkpoint: ${where}${issue?.message ?? "bad shape"}`);
  }
  if (r.data.entity !== entity) {
    throw new QadConfigError(`Checkpoint belongs to ${r.data.entity}, not ${entity}`);
  }
  return r.data as QadCheckpoint;
}

/** Compares two instants. @internal */
export function compareInstants(a: QadInstant, b: QadInstant): number {
  if (a.date !== b.date) return a.date < b.date ? -1 : 1;
  return a.time - b.time;
}

/**
 * `i` moved back by `seconds` (across midnight as needed).
 * @throws {QadConfigError} for an impossible instant (never a RangeError).
 * @internal
 */
export function minusSeconds(i: QadInstant, seconds: number): QadInstant {
  if (!isValidInstant(i)) throw new QadConfigError(`Not a possible QAD instant: ${JSON.stringify(i)}`);
  const ms = Date.parse(`${i.date}T00:00:00Z`) + (i.time - seconds) * 1000;
  const d = new Date(ms);
  return {
    date: d.toISOString().slice(0, 10),
    time: d.getUTCHours() * 3600 + d.getUTCMinutes() * 60 + d.getUTCSeconds(),
  };
}

/**
 * The instant of a Date, read in UTC.
 * @throws {QadConfigError} for an invalid Date.
 * @internal
 */
export function instantOfDate(d: Date): QadInstant {
  if (Number.isNaN(d.getTime())) throw new QadConfigError("Invalid Date given as an instant");
  return {
    date: d.toISOString().slice(0, 10),
    time: d.getUTCHours() * 3600 + d.getUTCMinutes() * 60 + d.getUTCSeconds(),
  };
}

/** Reads a `{date,time}` out of a stamp `"date|time|hash"`. @internal */
export function instantOfStamp(stamp: string): QadInstant | undefined {
  const [date, time] = stamp.split("|");
  const i = { date, time: Number(time) };
  return isValidInstant(i) ? i : undefined;
}
