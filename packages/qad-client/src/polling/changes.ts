import { createHash } from "node:crypto";
import type { EntityKind, QadBackend } from "../backend.js";
import { QadConfigError, redactValue } from "../errors.js";
import { type InvalidRowMode, toValidationError, validateRow } from "../internal/validate.js";
import type { EntityRecordMap } from "../records/entities.js";
import { recordKey } from "../records/entities.js";
import { isQadInvalidRecord, QadInvalidRecord } from "../records/invalid-record.js";
import {
  compareInstants,
  instantOfDate,
  instantOfStamp,
  isValidInstant,
  lastModifiedIssue,
  minusSeconds,
  type QadCheckpoint,
  type QadInstant,
} from "./checkpoint.js";
import { DeliveredKeys } from "./delivered.js";

/** Options of `changes()`. */
export interface ChangesOptions {
  /** `"emit"` yields invalid rows as {@link QadInvalidRecord}s instead of throwing. @default "throw" */
  invalid?: InvalidRowMode;
  /**
   * Seconds re-read below the last high-water mark, to catch records committed late or stamped in the same
   * second as the last one seen. Records already delivered are skipped by key + last-modified + hash. Over a
   * day-granular backend (QXtend) the re-read covers whole days: the day the window starts in through today.
   * @default 900
   */
  overlapSeconds?: number;
  /**
   * A last-modified stamp further than this ahead of the client clock does not move the high-water mark (the
   * record is still delivered): one mis-stamped row must not make every later poll start in the future. QAD
   * stamps in server local time, so keep this above the largest time-zone offset. @default 172800 (2 days)
   */
  maxFutureSkewSeconds?: number;
  /** Where the first poll (no checkpoint) starts; omitted means a full read. */
  since?: QadInstant | Date;
  /** Rows per page. @default the client's pageSize */
  pageSize?: number;
  /** Cancels the poll. */
  signal?: AbortSignal;
}

/**
 * One incremental poll: iterate it (once) for the records changed since the checkpoint, then call
 * {@link QadPoll.checkpoint} and persist the result for the next poll.
 */
export interface QadPoll<T> extends AsyncIterable<T> {
  /**
   * The checkpoint for the next poll. Before the poll has been iterated to the end this is the checkpoint it
   * started from, so an interrupted poll is simply repeated (nothing lost; already delivered rows come again).
   */
  checkpoint(): QadCheckpoint;
  /**
   * Counters of this poll: rows read (including skipped duplicates), emitted, skipped as already delivered,
   * invalid, and stamped too far in the future to move the high-water mark.
   */
  readonly stats: { read: number; emitted: number; skippedDuplicates: number; invalid: number; futureStamps: number };
}

/** Identity of one version of a record: last-modified plus the concurrency hash, or a content hash without one. */
function stampOf(raw: unknown): { stamp: string; at?: QadInstant } {
  const r = (typeof raw === "object" && raw !== null ? raw : {}) as Record<string, unknown>;
  const lm = r.lastModified as { date?: unknown; time?: unknown } | undefined;
  // Only a possible instant counts: an impossible one (2026-11-45, time 86400) never becomes the high-water mark.
  const at = lm && isValidInstant(lm) ? { date: lm.date, time: lm.time } : undefined;
  const hash =
    typeof r.concurrencyHash === "string" && r.concurrencyHash !== ""
      ? r.concurrencyHash
      : `#${createHash("sha1").update(JSON.stringify(raw)).digest("base64url").slice(0, 16)}`;
  return { stamp: `${at ? `${at.date}|${at.time}` : "?|?"}|${hash}`, ...(at ? { at } : {}) };
}

/**
 * A schema-valid row whose `lastModified` is an impossible instant becomes an invalid record with that reason.
 */
function checkInstant<K extends EntityKind>(
  kind: K,
  raw: unknown,
  v: EntityRecordMap[K] | QadInvalidRecord,
): EntityRecordMap[K] | QadInvalidRecord {
  if (isQadInvalidRecord(v)) return v;
  const issue = lastModifiedIssue((v as { lastModified?: unknown }).lastModified);
  if (issue === undefined) return v;
  return new QadInvalidRecord(redactValue(raw), [issue], recordKey(kind, raw));
}

/** @internal */
export function createPoll<K extends EntityKind>(
  kind: K,
  backend: () => Promise<QadBackend>,
  start: QadCheckpoint | undefined,
  options: ChangesOptions & { pageSize: number; now: () => number },
): QadPoll<EntityRecordMap[K] | QadInvalidRecord> {
  const overlap = options.overlapSeconds ?? 900;
  const skew = options.maxFutureSkewSeconds ?? 172_800;
  const initial: QadCheckpoint = start ?? { v: 1, entity: kind, highWater: null, seen: {} };
  let next: QadCheckpoint | undefined;
  let started = false;
  const stats = { read: 0, emitted: 0, skippedDuplicates: 0, invalid: 0, futureStamps: 0 };
  if (options.since !== undefined && !(options.since instanceof Date) && !isValidInstant(options.since)) {
    throw new QadConfigError(
      "changes() option since is not a possible instant (YYYY-MM-DD calendar day, time 0..86399)",
    );
  }
  if (options.since instanceof Date && Number.isNaN(options.since.getTime())) {
    throw new QadConfigError("changes() option since is an invalid Date");
  }

  async function* run(): AsyncGenerator<EntityRecordMap[K] | QadInvalidRecord> {
    if (started) throw new QadConfigError("A poll can be iterated once; call changes() again with its checkpoint");
    started = true;
    const since: QadInstant | undefined = initial.highWater
      ? minusSeconds(initial.highWater, overlap)
      : options.since instanceof Date
        ? instantOfDate(options.since)
        : options.since;
    const prev = initial.seen;
    // Entries of the start checkpoint not read again in this poll (a row read again supersedes its entry).
    const carried = new Map(Object.entries(prev));
    // What this poll delivered, bounded by the overlap window and the last pages rather than by the rows read.
    const delivered = new DeliveredKeys(Math.max(2 * options.pageSize, 1000));
    let hw = initial.highWater;
    const horizon = instantOfDate(new Date(options.now() + skew * 1000));
    const b = await backend();
    // Where the next poll's overlap window starts for a high-water mark: a backend that filters by day (QXtend)
    // re-reads the whole day the window starts in, so the window covers that whole day (trimming at second
    // precision would forget rows it re-reads and re-emit them on every poll).
    const cutoffOf = (mark: QadInstant | null): QadInstant | undefined => {
      const windowStart = mark ? minusSeconds(mark, overlap) : undefined;
      return windowStart && b.modifiedSinceGranularity === "day" ? { date: windowStart.date, time: 0 } : windowStart;
    };
    delivered.advance(cutoffOf(hw));
    for await (const page of b.pages(kind, {
      pageSize: options.pageSize,
      ...(since ? { modifiedSince: since } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    })) {
      for (const raw of page) {
        stats.read++;
        const { stamp, at } = stampOf(raw);
        const key = recordKey(kind, raw) ?? `~${stamp}`;
        if (prev[key] === stamp || delivered.has(key, stamp)) {
          stats.skippedDuplicates++;
          continue;
        }
        carried.delete(key);
        if (at && (hw === null || compareInstants(at, hw) > 0)) {
          if (compareInstants(at, horizon) <= 0) {
            hw = at;
            delivered.advance(cutoffOf(hw));
          } else stats.futureStamps++;
        }
        delivered.add(key, stamp, at);
        const v = checkInstant(kind, raw, validateRow(kind, raw));
        if (isQadInvalidRecord(v)) {
          stats.invalid++;
          if (options.invalid !== "emit") throw toValidationError(kind, v);
        }
        stats.emitted++;
        yield v;
      }
    }
    // Keep only what the next overlap window will re-read; older entries can never come back unchanged.
    const seen: Record<string, string> = {};
    const cutoff = cutoffOf(hw);
    // Entries without a readable instant are only kept while they are still being read, so they cannot pile up.
    for (const [k, s] of carried) {
      const at = instantOfStamp(s);
      if (at && (!cutoff || compareInstants(at, cutoff) >= 0)) seen[k] = s;
    }
    for (const [k, s] of delivered.entries(cutoff)) seen[k] = s;
    next = { v: 1, entity: kind, highWater: hw, seen };
  }

  return {
    [Symbol.asyncIterator]: () => run()[Symbol.asyncIterator](),
    checkpoint: () => structuredClone(next ?? initial),
    stats,
  };
}
