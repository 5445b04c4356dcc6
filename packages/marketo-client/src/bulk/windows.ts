import { MarketoValidationError } from "../errors.js";
import type { BulkDateRange } from "./types.js";

const DAY_MS = 86_400_000;

/** One job's date window, ISO 8601 strings with milliseconds, both ends inclusive. */
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

/**
 * Splits a range into consecutive windows of at most `maxDays` days. Marketo treats both ends as inclusive, so each
 * window ends 1 ms before the next starts: a record on a boundary lands in exactly one job.
 */
export function splitWindows(range: BulkDateRange, maxDays: number): DateWindow[] {
  const start = toMs(range.startAt, "startAt");
  const end = toMs(range.endAt, "endAt");
  if (end < start) {
    throw new MarketoValidationError("endAt is before startAt", { issues: ["endAt must not be before startAt"] });
  }
  if (!(maxDays > 0)) {
    throw new MarketoValidationError("maxWindowDays must be positive", { issues: ["maxWindowDays must be > 0"] });
  }
  const span = Math.floor(maxDays * DAY_MS);
  const windows: DateWindow[] = [];
  let from = start;
  for (;;) {
    // A window [from, from + span] covers exactly `maxDays` days, which Marketo accepts.
    if (end - from <= span) {
      windows.push({ startAt: new Date(from).toISOString(), endAt: new Date(end).toISOString() });
      return windows;
    }
    const next = from + span;
    windows.push({ startAt: new Date(from).toISOString(), endAt: new Date(next - 1).toISOString() });
    from = next;
  }
}
