import { MarketoValidationError } from "../errors.js";
import type { BulkDateRange } from "./types.js";

const DAY_MS = 86_400_000;

/**
 * One job's date window: ISO 8601 in UTC without milliseconds (as Marketo asks). Consecutive windows share their
 * boundary (`endAt` of one is `startAt` of the next), so time is tiled with no gap; the extract treats every window
 * but the last as ending just before its `endAt` (see {@link splitWindows}).
 */
export interface DateWindow {
  startAt: string;
  endAt: string;
}

function toMs(value: Date | string, name: string): number {
  const ms = value instanceof Date ? value.getTime() : Date.parse(value);
  if (!Number.isFinite(ms)) {
    throw new MarketoValidationError(`Invalid ${name}: ${String(value)}`, { issues: [`${name} is not a date`] });
  }
  return ms;
}

/** `2026-01-01T00:00:00Z`: Marketo's bulk filters take datetimes without milliseconds. */
export function isoSeconds(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19)}Z`;
}

/**
 * Splits a range into consecutive windows of at most `maxDays` days that tile time: each window ends where the next
 * one starts. Marketo's filter takes whole seconds and does not document whether `endAt` is inclusive, while records
 * carry milliseconds; a window ending one second before the next begins (the old rule) loses every record stamped
 * inside that last second. So boundaries are shared, every window is meant as `[startAt, endAt)` and the last one as
 * `[startAt, endAt]`, and the extract passes over a row of a non-last window stamped at or after its `endAt` (it
 * belongs to the next window), which makes each instant belong to exactly one window whichever way Marketo reads
 * `endAt`. The start is rounded down and the end up to whole seconds, so nothing inside the given range is left out.
 */
export function splitWindows(range: BulkDateRange, maxDays: number): DateWindow[] {
  const start = Math.floor(toMs(range.startAt, "startAt") / 1000) * 1000;
  const end = Math.ceil(toMs(range.endAt, "endAt") / 1000) * 1000;
  if (end < start) {
    throw new MarketoValidationError("endAt is before startAt", { issues: ["endAt must not be before startAt"] });
  }
  if (!(maxDays > 0)) {
    throw new MarketoValidationError("maxWindowDays must be positive", { issues: ["maxWindowDays must be > 0"] });
  }
  const span = Math.max(1000, Math.floor((maxDays * DAY_MS) / 1000) * 1000);
  const windows: DateWindow[] = [];
  for (let from = start; ; from += span) {
    // A window [from, from + span] spans exactly `maxDays` days, which Marketo accepts.
    const to = Math.min(end, from + span);
    windows.push({ startAt: isoSeconds(from), endAt: isoSeconds(to) });
    if (to >= end) return windows;
  }
}

/** The date filter of a job (`createdAt` / `updatedAt` with its window), if it has one. @internal */
export function dateWindowOf(
  filter: Record<string, unknown>,
): { key: string; startAt: string; endAt: string } | undefined {
  for (const key of ["createdAt", "updatedAt"]) {
    const w = filter[key] as { startAt?: unknown; endAt?: unknown } | undefined;
    if (w && typeof w.startAt === "string" && typeof w.endAt === "string") {
      return { key, startAt: w.startAt, endAt: w.endAt };
    }
  }
  return undefined;
}
