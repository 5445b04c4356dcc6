import { collect, manualClock } from "@ml/http-kernel/testing";
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
import type { EntityKind, PageRequest, QadBackend } from "../src/backend.js";
import { createPoll } from "../src/polling/changes.js";
import { compareInstants, minusSeconds, type QadInstant } from "../src/polling/checkpoint.js";
import { DeliveredKeys } from "../src/polling/delivered.js";
import { generateCustomer, instantOf } from "../src/testing/generate.js";
import { seededRandom } from "../src/testing/random.js";

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
  for (const r of s.data.rows()) {
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

/**
 * A backend over fixed rows, key-ordered and filtered by modifiedSince like REST. With `shift`, every page after
 * the first starts `shift(page)` rows early, repeating rows of the page before (offset paging while rows in front of
 * the read position are deleted). Records how many rows it served.
 */
function shiftingBackend(rows: Customer[], shift?: (page: number) => number) {
  const served = { rows: 0 };
  const backend: QadBackend = {
    protocol: "rest",
    async *pages(_entity: EntityKind, req: PageRequest) {
      const since = req.modifiedSince;
      const all = since ? rows.filter((r) => compareInstants(r.lastModified as QadInstant, since) >= 0) : rows;
      let offset = 0;
      for (let page = 1; offset < all.length; page++) {
        const start = page === 1 ? 0 : Math.max(0, offset - (shift?.(page) ?? 0));
        const chunk = all.slice(start, start + req.pageSize);
        served.rows += chunk.length;
        yield chunk;
        offset = start + req.pageSize;
      }
    },
    available: async () => true,
  };
  return { backend, served };
}

/** `n` customers stamped over the 30 days before `now`, on whole seconds, in key order. */
function customersOver30Days(n: number, now: number, seed = 3): Customer[] {
  const r = seededRandom(seed);
  const out: Customer[] = [];
  for (let i = 1; i <= n; i++) {
    const at = now - Math.floor(r() * 30 * 86_400) * 1000 - 1000;
    out.push(generateCustomer(i, r, { sharedSets: 1, modifiedAt: at, hash: `h${i}` }));
  }
  return out;
}

describe("incremental polling keeps memory bounded, never emitting a row twice", () => {
  const now = Date.parse("2026-03-02T09:00:00Z");

  it("page shifts of up to two pages repeat rows of older versions: each is skipped, every key emitted once", async () => {
    const rows = customersOver30Days(6_000, now);
    // Shifts of 1..200 rows (2 × the page size of 100), most pages shifted.
    const r = seededRandom(7);
    const shifts: number[] = [];
    const { backend, served } = shiftingBackend(rows, (page) => {
      const k = r() < 0.8 ? 1 + Math.floor(r() * 200) : 0;
      shifts[page] = k;
      return k;
    });
    const poll = createPoll("customers", async () => backend, undefined, { pageSize: 100, now: () => now });
    const got = await collect(poll);
    const keys = got.map((c) => keyOf(c));
    expect(new Set(keys).size).toBe(keys.length);
    expect(keys.sort()).toEqual(rows.map((c) => `SS1/${c.customerCode}`).sort());
    expect(served.rows - rows.length).toBeGreaterThan(100_000 / 100); // many rows were served twice...
    expect(poll.stats.skippedDuplicates).toBe(served.rows - rows.length); // ...and every repeat was skipped
    expect(poll.stats.emitted).toBe(rows.length);
  });

  it("the checkpoint holds exactly the overlap window, and the next polls emit nothing twice", async () => {
    const rows = customersOver30Days(5_000, now, 9);
    const { backend } = shiftingBackend(rows, () => 37);
    const first = createPoll("customers", async () => backend, undefined, { pageSize: 50, now: () => now });
    expect(await collect(first)).toHaveLength(rows.length);
    const cp = JSON.parse(JSON.stringify(first.checkpoint())) as QadCheckpoint;
    // The newest stamp is the high-water mark; `seen` is every row at or after it minus 900 s, nothing else.
    const newest = rows.map((c) => c.lastModified as QadInstant).reduce((a, b) => (compareInstants(a, b) >= 0 ? a : b));
    expect(cp.highWater).toEqual(newest);
    const cutoff = minusSeconds(newest, 900);
    const inWindow = rows.filter((c) => compareInstants(c.lastModified as QadInstant, cutoff) >= 0);
    expect(inWindow.length).toBeGreaterThan(0);
    expect(Object.keys(cp.seen).sort()).toEqual(inWindow.map((c) => `SS1/${c.customerCode}`).sort());

    // Unchanged source: the window is re-read (with shifts) and skipped.
    const again = createPoll("customers", async () => backend, cp, { pageSize: 2, now: () => now });
    expect(await collect(again)).toEqual([]);
    expect(again.stats.skippedDuplicates).toBeGreaterThanOrEqual(inWindow.length);
    // One edit, a second later: only it comes back, once, even though pages shift under it.
    const edited = { ...rows[4_321]!, name: "Edited", lastModified: instantOf(now + 1000), concurrencyHash: "e1" };
    const rows2 = rows.map((c, i) => (i === 4_321 ? edited : c));
    const { backend: b2 } = shiftingBackend(rows2, () => 1);
    const third = createPoll("customers", async () => b2, again.checkpoint(), { pageSize: 2, now: () => now + 2000 });
    expect((await collect(third)).map((c) => keyOf(c))).toEqual([`SS1/${edited.customerCode}`]);
    const fourth = createPoll("customers", async () => b2, third.checkpoint(), { pageSize: 2, now: () => now + 3000 });
    expect(await collect(fourth)).toEqual([]);
  });

  it("holds the window and the last pages, not every key read", () => {
    // 200,000 versions, one per second in a random order within each 1,000 (keys read in key order, stamps not
    // ordered), 900 s window, 1,000 recent: at most window + recent + the sweep's slack are held.
    const d = new DeliveredKeys(1_000);
    const r = seededRandom(1);
    const t0 = Date.parse("2026-01-01T00:00:00Z");
    let hw: QadInstant | undefined;
    for (let block = 0; block < 200; block++) {
      const order = [...Array(1_000).keys()].sort(() => r() - 0.5);
      for (const j of order) {
        const at = instantOf(t0 + (block * 1_000 + j) * 1000);
        if (!hw || compareInstants(at, hw) > 0) {
          hw = at;
          d.advance(minusSeconds(hw, 900));
        }
        d.add(`K${block}-${j}`, `${at.date}|${at.time}|h`, at);
      }
    }
    expect(d.size.peak).toBeLessThan(2 * (900 + 1_000) + 1_000 + 1_024);
    // The checkpoint's part: exactly the last 900 s + the high-water second.
    const kept = [...d.entries(minusSeconds(hw!, 900))];
    expect(kept).toHaveLength(901);
    // Duplicates: recent versions and windowed ones are known; an old one outside both is not (it is older than
    // the window and more than `recentCapacity` rows back, which no page shift of one poll reaches).
    const last = instantOf(t0 + 199_999 * 1000);
    expect(d.has("K199-999", `${last.date}|${last.time}|h`)).toBe(true);
    expect(d.has("K199-999", "other")).toBe(false);
    const old = instantOf(t0 + 5 * 1000);
    expect(d.has("K0-5", `${old.date}|${old.time}|h`)).toBe(false);
  });

  it("versions without a readable instant are always kept, and a newer version below the window replaces an older one", () => {
    const d = new DeliveredKeys(2, 4);
    d.advance({ date: "2026-01-02", time: 0 });
    d.add("A", "?|?|x", undefined);
    d.add("B", "2026-01-03|5|b", { date: "2026-01-03", time: 5 });
    d.add("B", "2026-01-01|5|b2", { date: "2026-01-01", time: 5 });
    for (let i = 0; i < 10; i++) d.add(`C${i}`, `2026-01-01|${i}|c`, { date: "2026-01-01", time: i });
    expect([...d.entries({ date: "2026-01-02", time: 0 })]).toEqual([["A", "?|?|x"]]);
    expect(d.has("A", "?|?|x")).toBe(true);
    expect(() => new DeliveredKeys(0)).toThrow(RangeError);
  });
});
