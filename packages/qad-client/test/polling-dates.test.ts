import { manualClock } from "@ml/http-kernel/testing";
import {
  isQadInvalidRecord,
  type QadCheckpoint,
  QadClient,
  QadConfigError,
  type QadInvalidRecord,
} from "@ml/qad-client";
import { type QadSimulator, startQadSimulator } from "@ml/qad-client/testing";
import { afterEach, describe, expect, it } from "vitest";
import { isValidInstant, minusSeconds } from "../src/polling/checkpoint.js";
import { isCalendarDate } from "../src/records/calendar.js";

let sim: QadSimulator | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

/**
 * A fetch that rewrites what the server answers for one customer: its lastModified becomes `date`/`time`, as a
 * careless server (or a corrupted row) would send it. The simulator itself keeps a valid stamp.
 */
function hostileStamp(code: string, date: string, time?: number): typeof fetch {
  const patch = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(patch);
    if (typeof v !== "object" || v === null) return v;
    const o: Record<string, unknown> = Object.fromEntries(Object.entries(v).map(([k, x]) => [k, patch(x)]));
    // Plain (customerCode) or browse-dotted (customerV2.customerCode) column names.
    const col = (name: string) => Object.keys(o).find((k) => k === name || k.endsWith(`.${name}`));
    const [c, d, t] = [col("customerCode"), col("lastModifiedDate"), col("lastModifiedTime")];
    if (c && d && o[c] === code) {
      o[d] = date;
      if (time !== undefined && t) o[t] = time;
    }
    return o;
  };
  return async (input, init) => {
    const res = await fetch(input, init);
    if (!(res.headers.get("content-type") ?? "").includes("json")) return res;
    const body = patch(JSON.parse(await res.text()));
    return new Response(JSON.stringify(body), { status: res.status, headers: res.headers });
  };
}

async function poll(qad: QadClient, cp: QadCheckpoint | undefined) {
  const p = qad.customers.changes(cp, { invalid: "emit", pageSize: 4 });
  const rows: unknown[] = [];
  for await (const r of p) rows.push(r);
  return { rows, cp: JSON.parse(JSON.stringify(p.checkpoint())) as QadCheckpoint, stats: p.stats };
}

describe("impossible QAD dates never become the high-water mark", () => {
  // Each bad stamp sorts after every real one (and before the future-skew horizon), so it would be the newest.
  it.each([
    ["2026-11-45", undefined, "2026-11-30T09:00:00Z", "lastModified.date: 2026-11-45 is not a calendar date"],
    ["2026-02-30", undefined, "2026-02-28T09:00:00Z", "lastModified.date: 2026-02-30 is not a calendar date"],
    ["2026-11-30", 86_400, "2026-11-30T09:00:00Z", "lastModified.time"],
  ])(
    "a row stamped %s (time %s): three polls in a row succeed and save checkpoints",
    async (date, time, now, reason) => {
      const clock = manualClock(Date.parse(now));
      sim = await startQadSimulator({ customers: 9, seed: 5, clock });
      const qad = new QadClient({ ...sim.clientOptions, clock, fetch: hostileStamp("C000003", date, time) });

      const first = await poll(qad, undefined);
      const bad = first.rows.filter(isQadInvalidRecord) as QadInvalidRecord[];
      expect(bad).toHaveLength(1);
      expect(bad[0]?.key).toBe("SS1/C000003");
      expect(bad[0]?.issues.join("; ")).toContain(reason);
      expect(first.rows).toHaveLength(9);
      expect(isValidInstant(first.cp.highWater)).toBe(true);

      let cp = first.cp;
      for (let i = 0; i < 3; i++) {
        clock.advance(60_000);
        sim.data.update("C000003", { name: `Bad ${i}` }); // the server sends the bad row again
        sim.data.update("C000005", { name: `Renamed ${i}` });
        const next = await poll(qad, cp);
        expect(isValidInstant(next.cp.highWater)).toBe(true);
        expect(next.rows.filter((r) => !isQadInvalidRecord(r)).map((r) => (r as { name: string }).name)).toContain(
          `Renamed ${i}`,
        );
        // Never a valid record: invalid, or dropped by the REST backend's client-side window re-check.
        expect(
          next.rows.some((r) => !isQadInvalidRecord(r) && (r as { customerCode: string }).customerCode === "C000003"),
        ).toBe(false);
        expect(next.cp).not.toEqual(cp);
        cp = next.cp;
      }
    },
  );

  it("refuses a checkpoint holding an impossible date with a typed error, before any request", async () => {
    sim = await startQadSimulator({ customers: 3 });
    const qad = new QadClient({ ...sim.clientOptions });
    sim.resetInspection();
    for (const highWater of [
      { date: "2026-11-45", time: 0 },
      { date: "2026-02-30", time: 10 },
      { date: "2026-11-30", time: 86_400 },
    ]) {
      const cp = { v: 1, entity: "customers", highWater, seen: {} } as QadCheckpoint;
      expect(() => qad.customers.changes(cp)).toThrow(QadConfigError);
      expect(() => qad.customers.changes(cp)).toThrow(/Invalid checkpoint: highWater\.(date|time)/);
    }
    expect(sim.inspect().requests).toBe(0);
  });

  it("refuses an impossible since with a typed error", async () => {
    sim = await startQadSimulator({ customers: 3 });
    const qad = new QadClient({ ...sim.clientOptions });
    expect(() => qad.customers.changes(undefined, { since: { date: "2026-11-45", time: 0 } })).toThrow(QadConfigError);
    expect(() => qad.customers.changes(undefined, { since: new Date("nope") })).toThrow(QadConfigError);
  });

  it("calendar checks", () => {
    expect(isCalendarDate("2024-02-29")).toBe(true);
    expect(isCalendarDate("2025-02-29")).toBe(false);
    expect(isCalendarDate("2026-11-45")).toBe(false);
    expect(isCalendarDate("2026-13-01")).toBe(false);
    expect(isCalendarDate("2026-00-10")).toBe(false);
    expect(isValidInstant({ date: "2026-11-30", time: 86_399 })).toBe(true);
    expect(isValidInstant({ date: "2026-11-30", time: 86_400 })).toBe(false);
    expect(isValidInstant({ date: "2026-11-30", time: -1 })).toBe(false);
    expect(() => minusSeconds({ date: "2026-11-45", time: 0 }, 900)).toThrow(QadConfigError);
  });
});
