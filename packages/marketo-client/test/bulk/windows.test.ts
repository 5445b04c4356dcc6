import { describe, expect, it } from "vitest";
import { splitWindows } from "../../src/bulk/windows.js";
import { MarketoValidationError } from "../../src/errors.js";

const DAY = 86_400_000;

describe("date window split", () => {
  it("keeps a range of 31 days or less as one window", () => {
    expect(splitWindows({ startAt: "2026-01-01T00:00:00Z", endAt: "2026-02-01T00:00:00Z" }, 31)).toEqual([
      { startAt: "2026-01-01T00:00:00Z", endAt: "2026-02-01T00:00:00Z" },
    ]);
  });

  it("splits a long range into contiguous, non-overlapping windows of at most 31 days", () => {
    const start = Date.UTC(2025, 0, 1);
    const end = Date.UTC(2026, 0, 1);
    const w = splitWindows({ startAt: new Date(start), endAt: new Date(end) }, 31);
    expect(w).toHaveLength(12); // 365 days / 31
    expect(Date.parse(w[0]!.startAt)).toBe(start);
    expect(Date.parse(w.at(-1)!.endAt)).toBe(end);
    for (let i = 0; i < w.length; i++) {
      expect(Date.parse(w[i]!.endAt) - Date.parse(w[i]!.startAt)).toBeLessThanOrEqual(31 * DAY);
      // Whole seconds, no milliseconds (Marketo's format); each window ends where the next starts: no gap (a record
      // stamped inside the last second of a window belongs to it; the extract passes over the boundary instant).
      expect(w[i]!.startAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      expect(w[i]!.endAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      if (i > 0) expect(w[i]!.startAt).toBe(w[i - 1]!.endAt);
    }
  });

  it("widens a range with milliseconds to whole seconds instead of losing its edges", () => {
    expect(splitWindows({ startAt: "2026-01-01T00:00:00.700Z", endAt: "2026-01-02T10:00:00.200Z" }, 31)).toEqual([
      { startAt: "2026-01-01T00:00:00Z", endAt: "2026-01-02T10:00:01Z" },
    ]);
  });

  it("rejects reversed or invalid ranges", () => {
    expect(() => splitWindows({ startAt: "2026-02-01", endAt: "2026-01-01" }, 31)).toThrow(MarketoValidationError);
    expect(() => splitWindows({ startAt: "nope", endAt: "2026-01-01" }, 31)).toThrow(MarketoValidationError);
  });
});
