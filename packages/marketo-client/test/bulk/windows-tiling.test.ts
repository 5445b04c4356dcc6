import { afterEach, describe, expect, it } from "vitest";
import { splitWindows } from "../../src/bulk/windows.js";
import type { SimActivity } from "../../src/testing/context.js";
import { LEAD_FIELDS } from "./helpers/data.js";
import { type Harness, startHarness } from "./helpers/harness.js";

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 0, 1);
const poll = { initialDelayMs: 5, maxDelayMs: 20 };

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

/** Instants around every day boundary of `days` days: the last millisecond of a second, the boundary, just after. */
function boundaryStamps(days: number): number[] {
  const out: number[] = [T0, T0 + 999];
  for (let d = 1; d <= days; d++) {
    const b = T0 + d * DAY;
    out.push(b - 1001, b - 1000, b - 1, b, b + 1, b + 999);
  }
  return out.filter((t) => t <= T0 + days * DAY);
}

describe("bulk windows tile time: no gap, no overlap", () => {
  it("consecutive windows share their boundary, in whole seconds", () => {
    const w = splitWindows({ startAt: new Date(T0), endAt: new Date(T0 + 95 * DAY) }, 31);
    expect(w).toHaveLength(4);
    for (let i = 1; i < w.length; i++) expect(w[i]!.startAt).toBe(w[i - 1]!.endAt);
    for (const x of w) {
      expect(x.startAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      expect(x.endAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    }
  });

  it("leads stamped at x.999 s and on the boundary itself come out exactly once across 1-day windows", async () => {
    const stamps = boundaryStamps(4);
    const leads = stamps.map((t, i) => ({
      id: String(i + 1),
      email: `l${i}@example.com`,
      createdAt: new Date(t).toISOString(),
      updatedAt: new Date(t).toISOString(),
    }));
    h = await startHarness({ leads, leadFields: LEAD_FIELDS });
    const ex = h.bulk.leads.extract(
      {
        fields: ["id", "createdAt"],
        filter: { createdAt: { startAt: new Date(T0), endAt: new Date(T0 + 4 * DAY) } },
      },
      { poll, maxWindowDays: 1 },
    );
    const ids: string[] = [];
    for await (const row of ex) ids.push(row["id"] as string);
    expect(ex.state()?.jobs).toHaveLength(4);
    expect(ids.sort((a, b) => Number(a) - Number(b))).toEqual(leads.map((l) => l.id));
    expect(ex.state()?.rowsDelivered).toBe(leads.length);
  });

  it("without createdAt among the fields, it is exported for the boundary check and kept out of the rows", async () => {
    const leads = boundaryStamps(2).map((t, i) => ({
      id: String(i + 1),
      email: `l${i}@example.com`,
      createdAt: new Date(t).toISOString(),
    }));
    h = await startHarness({ leads, leadFields: LEAD_FIELDS });
    const rows: Record<string, string | null>[] = [];
    for await (const row of h.bulk.leads.extract(
      { fields: ["id"], filter: { createdAt: { startAt: new Date(T0), endAt: new Date(T0 + 2 * DAY) } } },
      { poll, maxWindowDays: 1 },
    ))
      rows.push(row);
    expect(rows.map((r) => Object.keys(r))).toEqual(leads.map(() => ["id"]));
    expect(rows.map((r) => r["id"]).sort((a, b) => Number(a) - Number(b))).toEqual(leads.map((l) => l.id));
  });

  it("activities stamped at x.999 s and on the boundary come out exactly once", async () => {
    const activities: SimActivity[] = boundaryStamps(3).map((t, i) => ({
      id: i + 1,
      marketoGUID: `act-${i + 1}`,
      leadId: 1,
      activityDate: new Date(t).toISOString(),
      activityTypeId: 1,
      attributes: [],
    }));
    h = await startHarness({ activities });
    const ex = h.bulk.activities.extract(
      { filter: { createdAt: { startAt: new Date(T0), endAt: new Date(T0 + 3 * DAY) } } },
      { poll, maxWindowDays: 1 },
    );
    const guids: string[] = [];
    for await (const row of ex) guids.push(row["marketoGUID"] as string);
    expect(guids.sort()).toEqual(activities.map((a) => a.marketoGUID).sort());
  });

  it("a resume after a boundary row was passed over neither repeats nor loses a row", async () => {
    // Newest first: the first row of the first window's file is the one stamped on its end, passed over.
    const stamps = boundaryStamps(2).reverse();
    const leads = stamps.map((t, i) => ({
      id: String(i + 1),
      email: `l${i}@example.com`,
      createdAt: new Date(t).toISOString(),
    }));
    h = await startHarness({ leads, leadFields: LEAD_FIELDS });
    const params = {
      fields: ["id", "createdAt"],
      filter: { createdAt: { startAt: new Date(T0), endAt: new Date(T0 + 2 * DAY) } },
    };
    const first = h.bulk.leads.extract(params, { poll, maxWindowDays: 1 });
    const ids: string[] = [];
    for await (const row of first) {
      ids.push(row["id"] as string);
      if (ids.length === 2) break;
    }
    // Two rows delivered, three consumed (the boundary row belongs to the second window).
    expect(first.state()?.jobs.map((j) => j.rowsDelivered)).toEqual([3, 0]);
    const again = h.bulk.leads.extract(params, { poll, maxWindowDays: 1, resumeFrom: first.state()! });
    for await (const row of again) ids.push(row["id"] as string);
    expect(ids.sort((a, b) => Number(a) - Number(b))).toEqual(
      leads.map((l) => l.id).sort((a, b) => Number(a) - Number(b)),
    );
  });
});
