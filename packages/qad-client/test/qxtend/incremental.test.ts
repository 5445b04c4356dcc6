import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { QadClient } from "../../src/index.js";
import type { Customer } from "../../src/records/customer.js";
import { type QadSimulator, startQadSimulator } from "../../src/testing/index.js";
import { collect } from "./helpers.js";

let sim: QadSimulator;
let now = Date.UTC(2026, 10, 27, 12, 0, 0);
beforeAll(async () => {
  sim = await startQadSimulator({ customers: 90, seed: 4, clock: { now: () => now } });
});
afterAll(() => sim.close());

describe("incremental polling over QXtend (day-granular dates)", () => {
  it("a second poll from the checkpoint emits exactly the changed and added customers, nothing lost", async () => {
    const qx = new QadClient({ ...sim.clientOptions, protocol: "qxtend" });
    const first = qx.customers.changes();
    const all = (await collect(first)) as Customer[];
    expect(all).toHaveLength(90);
    const checkpoint = first.checkpoint();
    expect(JSON.parse(JSON.stringify(checkpoint))).toEqual(checkpoint);

    // Later the same day: one customer renamed, one added. QXtend sees no time of day for either.
    now += 3_600_000;
    const target = all[10]!.customerCode;
    sim.data.update(target, { name: "Renamed Later Today" });
    const added = sim.data.add({ name: "Brand New Customer" }) as { customerCode: string };

    const second = qx.customers.changes(checkpoint);
    const changed = (await collect(second)) as Customer[];
    const codes = changed.map((c) => c.customerCode);
    // Nothing lost: both changes arrive, with their new content.
    expect(codes).toContain(target);
    expect(codes).toContain(added.customerCode);
    expect(changed.find((c) => c.customerCode === target)!.name).toBe("Renamed Later Today");
    // Known weakness (see README): the poll trims its "seen" set at high-water minus the overlap at second precision,
    // but QXtend stamps every row with time 0, so rows dated the day before the high-water day are re-read by the
    // day-granular filter and re-emitted once. Only those may repeat; rows of the high-water day never do.
    const highWaterDay = checkpoint.highWater!.date;
    const dayBefore = new Date(Date.parse(`${highWaterDay}T00:00:00Z`) - 86_400_000).toISOString().slice(0, 10);
    for (const c of changed) {
      if (c.customerCode === target || c.customerCode === added.customerCode) continue;
      expect(c.lastModified.date).toBe(dayBefore);
    }
    expect(new Set(codes).size).toBe(codes.length);

    // A third poll with nothing changed emits nothing new (at most the same day-before repeats).
    const third = (await collect(qx.customers.changes(second.checkpoint()))) as Customer[];
    for (const c of third) expect(c.lastModified.date).toBe(dayBefore);
  });
});
