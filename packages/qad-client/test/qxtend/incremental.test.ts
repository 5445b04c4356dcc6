import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { QadClient } from "../../src/index.js";
import type { Customer } from "../../src/records/customer.js";
import { type QadSimulator, startQadSimulator } from "../../src/testing/index.js";
import { collect } from "./helpers.js";

let sim: QadSimulator;
let now = Date.UTC(2026, 10, 27, 12, 0, 0);
const HOUR = 3_600_000;
beforeAll(async () => {
  sim = await startQadSimulator({ customers: 90, seed: 4, clock: { now: () => now } });
});
afterAll(() => sim.close());

const codesOf = (xs: unknown[]) => (xs as Customer[]).map((c) => c.customerCode).sort();

describe("incremental polling over QXtend (day-granular dates)", () => {
  it("a second poll from the checkpoint emits exactly the changed and added customers, nothing lost", async () => {
    const qx = new QadClient({ ...sim.clientOptions, protocol: "qxtend" });
    const first = qx.customers.changes();
    const all = (await collect(first)) as Customer[];
    expect(all).toHaveLength(90);
    const checkpoint = first.checkpoint();
    expect(JSON.parse(JSON.stringify(checkpoint))).toEqual(checkpoint);

    // Later the same day: one customer renamed, one added. QXtend sees no time of day for either.
    now += HOUR;
    const target = all[10]!.customerCode;
    sim.data.update(target, { name: "Renamed Later Today" });
    const added = sim.data.add({ name: "Brand New Customer" });

    const second = qx.customers.changes(checkpoint);
    const changed = (await collect(second)) as Customer[];
    expect(codesOf(changed)).toEqual([target, added.customerCode].sort());
    expect(changed.find((c) => c.customerCode === target)!.name).toBe("Renamed Later Today");
    expect(second.stats.emitted).toBe(2);

    // A third poll with nothing changed emits nothing.
    const third = qx.customers.changes(second.checkpoint());
    expect(await collect(third)).toEqual([]);
  });

  it("consecutive polls with no edits emit zero records, also for rows dated the day before the high-water day", async () => {
    const qx = new QadClient({ ...sim.clientOptions, protocol: "qxtend" });
    // Make sure rows exist on the day before the high-water day and on the high-water day itself.
    now = Date.UTC(2026, 10, 28, 15, 0, 0);
    const codes = sim.data.customers().map((c) => c.customerCode);
    sim.data.update(codes[3]!, { name: "Edited Yesterday" });
    now = Date.UTC(2026, 10, 29, 9, 0, 0);
    sim.data.update(codes[4]!, { name: "Edited Today" });

    let poll = qx.customers.changes();
    expect(await collect(poll)).toHaveLength(codes.length);
    const hw = poll.checkpoint().highWater!;
    expect(hw).toEqual({ date: "2026-11-29", time: 0 });
    for (let i = 0; i < 3; i++) {
      now += HOUR;
      poll = qx.customers.changes(poll.checkpoint());
      const out = await collect(poll);
      expect(out).toEqual([]);
      // The day-granular filter re-reads both days; every row is recognised as already delivered.
      expect(poll.stats.read).toBeGreaterThanOrEqual(2);
      expect(poll.stats.skippedDuplicates).toBe(poll.stats.read);
    }
    // The "seen" set holds the rows of the re-read days only, not the whole table.
    const seen = Object.values(poll.checkpoint().seen);
    expect(seen.length).toBe(poll.stats.read);
    expect(seen.every((s) => s.startsWith("2026-11-28|") || s.startsWith("2026-11-29|"))).toBe(true);
  });

  it("same-day edits (no time of day, no concurrencyHash) are each delivered once, including a late-stamped row", async () => {
    const qx = new QadClient({ ...sim.clientOptions, protocol: "qxtend" });
    now = Date.UTC(2026, 10, 30, 8, 0, 0);
    const code = sim.data.customers()[7]!.customerCode;
    let poll = qx.customers.changes();
    await collect(poll);

    const names: string[] = [];
    for (const name of ["First Edit", "Second Edit", "First Edit"]) {
      now += 60_000; // same day, same QXtend stamp (date only)
      sim.data.update(code, { name });
      poll = qx.customers.changes(poll.checkpoint());
      const out = (await collect(poll)) as Customer[];
      expect(out.map((c) => c.customerCode)).toEqual([code]);
      names.push(out[0]!.name);
    }
    // Reverting to an earlier content is a change too.
    expect(names).toEqual(["First Edit", "Second Edit", "First Edit"]);

    // A row committed late, stamped the day before the high-water day, is not missed.
    const late = sim.data.customers()[8]!.customerCode;
    const keep = now;
    now = Date.UTC(2026, 10, 29, 23, 0, 0);
    sim.data.update(late, { name: "Committed Late" });
    now = keep + HOUR;
    poll = qx.customers.changes(poll.checkpoint());
    const out = (await collect(poll)) as Customer[];
    expect(out.map((c) => [c.customerCode, c.name])).toEqual([[late, "Committed Late"]]);
    poll = qx.customers.changes(poll.checkpoint());
    expect(await collect(poll)).toEqual([]);
  });
});
