import { z } from "zod";
import type { EntityKind } from "../backend.js";
import { QadConfigError } from "../errors.js";

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

const instant = z.object({ date: z.string().regex(/^\d{4}-\d{2}-\d{2}$/), time: z.number().int().min(0).max(86_399) });

/** @internal */
export const checkpointSchema = z.object({
  v: z.literal(1),
  entity: z.string(),
  highWater: instant.nullable(),
  seen: z.record(z.string(), z.string()),
});

/** Parses a stored checkpoint (external input). @internal */
export function parseCheckpoint(input: unknown, entity: EntityKind): QadCheckpoint | undefined {
  if (input === undefined || input === null) return undefined;
  const r = checkpointSchema.safeParse(input);
  if (!r.success) throw new QadConfigError(`Invalid checkpoint: ${r.error.issues[0]?.message ?? "bad shape"}`);
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

/** `i` moved back by `seconds` (across midnight as needed). @internal */
export function minusSeconds(i: QadInstant, seconds: number): QadInstant {
  const ms = Date.parse(`${i.date}T00:00:00Z`) + (i.time - seconds) * 1000;
  const d = new Date(ms);
  return {
    date: d.toISOString().slice(0, 10),
    time: d.getUTCHours() * 3600 + d.getUTCMinutes() * 60 + d.getUTCSeconds(),
  };
}

/** The instant of a Date, read in UTC. @internal */
export function instantOfDate(d: Date): QadInstant {
  return {
    date: d.toISOString().slice(0, 10),
    time: d.getUTCHours() * 3600 + d.getUTCMinutes() * 60 + d.getUTCSeconds(),
  };
}

/** Reads a `{date,time}` out of a stamp `"date|time|hash"`. @internal */
export function instantOfStamp(stamp: string): QadInstant | undefined {
  const [date, time] = stamp.split("|");
  const t = Number(time);
  return date && /^\d{4}-\d{2}-\d{2}$/.test(date) && Number.isInteger(t) ? { date, time: t } : undefined;
}
