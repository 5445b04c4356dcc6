import { MarketoValidationError } from "../errors.js";
import type { BulkDateRange } from "./types.js";

const DAY_MS = 86_400_000;

/** One job's date window: ISO 8601 in UTC without milliseconds (as Marketo asks), both ends inclusive. */
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
 * Splits a range into consecutive windows of at most `maxDays` days. Marketo's datetimes have whole seconds and both
 * ends of a range are inclusive, so each window ends 1 s before the next starts: a record lands in exactly one job.
 * The start is rounded down and the end up to whole seconds, so nothing inside the given range is left out.
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
  let from = start;
  for (;;) {
    // A window [from, from + span] spans exactly `maxDays` days, which Marketo accepts.
    if (end - from <= span) {
      windows.push({ startAt: isoSeconds(from), endAt: isoSeconds(end) });
      return windows;
    }
    const next = from + span;
    windows.push({ startAt: isoSeconds(from), endAt: isoSeconds(next - 1000) });
    from = next;
  }
}
