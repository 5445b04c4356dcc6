import {
  type Customer,
  isQadInvalidRecord,
  type QadCheckpoint,
  QadClient,
  QadConfigError,
  type QadInvalidRecord,
  QadValidationError,
} from "@ml/qad-client";
import { type QadSimulator, startQadSimulator } from "@ml/qad-client/testing";
import { afterEach, describe, expect, it } from "vitest";
import { seededRandom } from "../src/testing/random.js";
import { manualClock } from "./support/manual-clock.js";

let sim: QadSimulator | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

type Item = Customer | QadInvalidRecord;
const keyOf = (x: Item) => (isQadInvalidRecord(x) ? (x.key ?? "?") : `${x.sharedSetCode}/${x.customerCode}`);

/** Runs one poll to the end and returns the rows plus the (JSON round-tripped) next checkpoint. */
async function poll(qad: QadClient, cp: QadCheckpoint | undefined, pageSize = 7) {
  const p = qad.customers.changes(cp, { invalid: "emit", pageSize });
  const rows: Item[] = [];
  for await (const r of p) rows.push(r);
  return {
    rows,
    keys: rows.map(keyOf).sort(),
    cp: JSON.parse(JSON.stringify(p.checkpoint())) as QadCheckpoint,
    stats: p.stats,
  };
}

/** Key → version stamp of every store row, to compute what changed between two polls. */
function versions(s: QadSimulator): Map<string, string> {
  const m = new Map<string, string>();
  for (const row of s.data.customers()) {
    const r = row as Record<string, unknown>;
    m.set(
      `${String(r.sharedSetCode)}/${String(r.customerCode)}`,
      `${JSON.stringify(r.lastModified)}|${String(r.concurrencyHash)}`,
    );
  }
  return m;
}
function changedKeys(before: Map<string, string>, after: Map<string, string>): string[] {
  return [...after]
    .filter(([k, v]) => before.get(k) !== v)
    .map(([k]) => k)
    .sort();
}

describe("incremental polling", () => {
  it("three rounds of edits: adds, updates, same-second edits and late edits inside the overlap, each exactly once", async () => {
    const clock = manualClock();
    sim = await startQadSimulator({ customers: 40, clock, seed: 11 });
    const qad = new QadClient({ ...sim.clientOptions });

    const p0 = await poll(qad, undefined);
    expect(p0.rows).toHaveLength(40);
    expect(p0.cp.highWater).not.toBeNull();

    // Round 1: update, add, two edits in one second (only the last state exists), a no-op save.
    clock.advance(10_000);
    sim.data.update("C000001", { name: "Renamed One" });
    const added = sim.data.add({ name: "Brand New Ltd" });
    sim.data.update("C000002", { name: "First edit" });
    sim.data.update("C000002", { name: "Second edit, same second" });
    sim.data.touch("C000003");
    const p1 = await poll(qad, p0.cp);
    expect(p1.keys).toEqual(["SS1/C000001", "SS1/C000002", "SS1/C000003", `SS1/${added.customerCode}`]);
    expect((p1.rows.find((r) => keyOf(r) === "SS1/C000002") as Customer).name).toBe("Second edit, same second");
    // Polled records are whole: contacts joined per customer (sparse page) equal the source.
    for (const r of p1.rows) expect(r).toEqual(sim.data.customer((r as Customer).customerCode));
    expect(p1.rows.some((r) => (r as Customer).contacts.length > 0)).toBe(true);
    // The newest row of the full read sits inside the overlap window: re-read, recognised, skipped.
    expect(p1.stats.skippedDuplicates).toBeGreaterThanOrEqual(1);

    // Round 2a: an edit, polled, then more edits in the SAME second as the high-water mark.
    clock.advance(5_000);
    sim.data.update("C000004", { name: "Four" });
    const p2a = await poll(qad, p1.cp);
    expect(p2a.keys).toEqual(["SS1/C000004"]);
    // Re-read inside the overlap window, skipped as already delivered.
    expect(p2a.stats.skippedDuplicates).toBeGreaterThanOrEqual(4);
    sim.data.update("C000005", { name: "Five, same second as the last poll's newest row" });
    sim.data.update("C000004", { name: "Four again, same second" });
    const p2b = await poll(qad, p2a.cp);
    expect(p2b.keys).toEqual(["SS1/C000004", "SS1/C000005"]);

    // Round 3: a late commit stamped 2 minutes before the high-water mark (inside the 15 min overlap),
    // a new record, and a corrupt row.
    clock.advance(30_000);
    sim.advanceTime(-120_000);
    sim.data.update("C000006", { name: "Committed late" });
    sim.advanceTime(120_000);
    sim.data.update("C000007", { name: "Seven" });
    sim.data.corrupt("C000008", "missingName");
    const p3 = await poll(qad, p2b.cp);
    expect(p3.keys).toEqual(["SS1/C000006", "SS1/C000007", "SS1/C000008"]);
    const bad = p3.rows.find(isQadInvalidRecord);
    expect(bad?.key).toBe("SS1/C000008");
    expect(bad?.issues.join("\n")).toMatch(/^name: /m);
    expect((bad?.raw as { customerCode?: string } | undefined)?.customerCode).toBe("C000008");

    // Nothing changed: nothing comes back, not even the invalid row.
    const p4 = await poll(qad, p3.cp);
    expect(p4.rows).toEqual([]);
    expect(p4.cp.highWater).toEqual(p3.cp.highWater);
  });

  it("randomised edits over 12 polls: every change exactly once", async () => {
    const clock = manualClock();
    sim = await startQadSimulator({ customers: 60, clock, seed: 5 });
    const qad = new QadClient({ ...sim.clientOptions });
    const r = seededRandom(99);
    let before = versions(sim);
    let cp = (await poll(qad, undefined)).cp;
    for (let round = 0; round < 12; round++) {
      const edits = Math.floor(r() * 8);
      for (let i = 0; i < edits; i++) {
        // Clock moves 0..2 s per edit (so many edits share a second), sometimes a late commit 0..5 min back.
        clock.advance(Math.floor(r() * 3) * 1000);
        const late = r() < 0.15 ? Math.floor(r() * 300) * 1000 : 0;
        sim.advanceTime(-late);
        const code = `C${String(1 + Math.floor(r() * 60)).padStart(6, "0")}`;
        const op = r();
        if (op < 0.15) sim.data.add({});
        else if (op < 0.3) sim.data.touch(code);
        else sim.data.update(code, { name: `round ${round} edit ${i}` });
        sim.advanceTime(late);
      }
      const after = versions(sim);
      const expected = changedKeys(before, after);
      const got = await poll(qad, cp);
      expect(got.keys, `round ${round}`).toEqual(expected);
      before = after;
      cp = got.cp;
    }
  });

  it("a row stamped far in the future is delivered but does not move the high-water mark", async () => {
    const clock = manualClock();
    sim = await startQadSimulator({ customers: 10, clock });
    const qad = new QadClient({ ...sim.clientOptions, clock });
    const { cp } = await poll(qad, undefined);
    sim.advanceTime(30 * 86_400_000); // a server with a broken clock stamps one row a month ahead
    sim.data.update("C000001", { name: "From the future" });
    sim.advanceTime(-30 * 86_400_000);
    const p1 = await poll(qad, cp);
    expect(p1.keys).toEqual(["SS1/C000001"]);
    expect(p1.stats.futureStamps).toBe(1);
    expect(p1.cp.highWater).toEqual(cp.highWater);
    clock.advance(5000);
    sim.data.update("C000002", { name: "Normal edit" });
    const p2 = await poll(qad, p1.cp);
    expect(p2.keys).toEqual(["SS1/C000002"]); // not frozen, and the future row is not repeated
  });

  it("joins contacts of a sparse poll page by one range read when edits cluster, per customer when they scatter", async () => {
    const clock = manualClock();
    sim = await startQadSimulator({ customers: 300, clock });
    const qad = new QadClient({ ...sim.clientOptions, contactsPageSize: 50 });
    const { cp } = await poll(qad, undefined);
    const contactFilters = () => sim!.inspect().filters.filter((f) => f.startsWith("customerCode,"));

    clock.advance(5000);
    for (const n of [40, 41, 42, 43, 44]) sim.data.update(`C0000${n}`, { name: `clustered ${n}` });
    sim.resetInspection();
    const clustered = await poll(qad, cp, 100);
    expect(clustered.keys).toHaveLength(5);
    for (const r of clustered.rows) expect(r).toEqual(sim.data.customer((r as Customer).customerCode));
    // The five edits: one count and one range read. (A lone row re-read from the overlap window may add one
    // per-customer lookup; it is then skipped as already delivered.)
    expect(contactFilters().filter((f) => f.includes(",rg,"))).toHaveLength(2);
    expect(contactFilters().filter((f) => f.includes(",eq,")).length).toBeLessThanOrEqual(1);

    clock.advance(5000);
    for (const n of [3, 77, 150, 222, 299])
      sim.data.update(`C${String(n).padStart(6, "0")}`, { name: `scattered ${n}` });
    sim.resetInspection();
    const scattered = await poll(qad, clustered.cp, 100);
    expect(scattered.keys).toHaveLength(5);
    for (const r of scattered.rows) expect(r).toEqual(sim.data.customer((r as Customer).customerCode));
    // The edits plus the rows re-read from the overlap window, one lookup each; no range read.
    expect(contactFilters().filter((f) => f.includes(",eq,")).length).toBeGreaterThanOrEqual(5);
    expect(contactFilters().filter((f) => f.includes(",rg,"))).toHaveLength(1); // only the count
  });

  it("an interrupted poll keeps the old checkpoint, so nothing is lost", async () => {
    const clock = manualClock();
    sim = await startQadSimulator({ customers: 20, clock });
    const qad = new QadClient({ ...sim.clientOptions });
    const { cp } = await poll(qad, undefined);
    clock.advance(2000);
    sim.data.update("C000010", { name: "Ten" });
    sim.data.update("C000011", { name: "Eleven" });
    const p = qad.customers.changes(cp);
    for await (const _ of p) break;
    expect(p.checkpoint()).toEqual(cp);
    const again = await poll(qad, p.checkpoint());
    expect(again.keys).toEqual(["SS1/C000010", "SS1/C000011"]);
  });

  it("invalid rows throw QadValidationError by default, and list() has the same option", async () => {
    sim = await startQadSimulator({ customers: 10 });
    sim.data.corrupt("C000003", "missingCustomerCode");
    sim.data.corrupt("C000004", "wrongTypes");
    const qad = new QadClient({ ...sim.clientOptions });
    const err = await (async () => {
      for await (const _ of qad.customers.changes()) {
        // consume
      }
    })().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(QadValidationError);
    const listed: Item[] = [];
    for await (const c of qad.customers.list({ invalid: "emit" })) listed.push(c);
    const invalid = listed.filter(isQadInvalidRecord);
    expect(invalid).toHaveLength(2);
    expect(invalid.map((i) => i.key ?? "(none)").sort()).toEqual(["(none)", "SS1/C000004"]);
    expect(invalid.find((i) => i.key === "SS1/C000004")?.issues.join()).toMatch(/isActive/);
    expect(invalid.find((i) => i.key === undefined)?.issues.join()).toMatch(/customerCode/);
    expect(listed.filter((x) => !isQadInvalidRecord(x))).toHaveLength(8);
    await expect(
      (async () => {
        for await (const _ of qad.customers.list()) {
          // consume
        }
      })(),
    ).rejects.toBeInstanceOf(QadValidationError);
  });

  it("refuses a malformed or foreign checkpoint", () => {
    const qad = new QadClient({
      tenantUrl: "https://acme.qad.com/clouderp",
      auth: { kind: "provider", getToken: async () => "t" },
    });
    expect(() => qad.customers.changes({ v: 2 } as unknown as QadCheckpoint)).toThrow(QadConfigError);
    expect(() => qad.customers.changes({ v: 1, entity: "items", highWater: null, seen: {} })).toThrow(/items/);
  });

  it("polls other documents too, filtered server-side by date", async () => {
    sim = await startQadSimulator({ customers: 5 });
    const qad = new QadClient({ ...sim.clientOptions });
    const p = qad.items.changes();
    let n = 0;
    for await (const _ of p) n++;
    expect(n).toBe(25);
    const p2 = qad.items.changes(p.checkpoint());
    let m = 0;
    for await (const _ of p2) m++;
    expect(m).toBe(0);
    expect(sim.inspect().filters.at(-1)).toMatch(/^lastModifiedDate,(ge|gt),\d{4}-\d{2}-\d{2},literal$/);
  });
});
