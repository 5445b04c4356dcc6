import { describe, expect, it } from "vitest";
import { LeadPool } from "../../src/engine/lead-pool.js";
import type { Planned } from "../../src/engine/plan.js";

const lead = (key: string, v = 1): Planned => ({
  kind: "lead",
  key,
  sourceKey: "S",
  payload: { email: key, v },
  hash: `${key}:${v}`,
});
const leads = (n: number, prefix: string) => Array.from({ length: n }, (_, i) => lead(`${prefix}${i}@x.example`));

describe("LeadPool", () => {
  it("hands out whole calls of 300 and keeps the rest pooled until the final turn", async () => {
    const pool = new LeadPool();
    const t1 = pool.ticket(1, false);
    const t2 = pool.ticket(2, false);
    const t3 = pool.ticket(3, true);
    expect(await t1.take(leads(250, "a"))).toHaveLength(0);
    expect(t1.pendingFrom()).toBe(1);
    expect(await t2.take(leads(250, "b"))).toHaveLength(300);
    expect(t2.pendingFrom()).toBe(2);
    expect(await t3.take(leads(100, "c"))).toHaveLength(300);
    expect(t3.pendingFrom()).toBe(Number.POSITIVE_INFINITY);
    expect(pool.size()).toBe(0);
  });

  it("turns run in ticket order even when a later batch is ready first", async () => {
    const pool = new LeadPool();
    const t1 = pool.ticket(1, false);
    const t2 = pool.ticket(2, true);
    const order: number[] = [];
    const second = t2.take([lead("b@x.example")]).then((r) => {
      order.push(2);
      return r;
    });
    await new Promise((r) => setTimeout(r, 1));
    expect(order).toEqual([]);
    await t1.take([lead("a@x.example")]);
    order.push(1);
    expect((await second).map((p) => p.key)).toEqual(["a@x.example", "b@x.example"]);
    expect(order).toEqual([1, 2]);
  });

  it("a newer payload of a pooled key replaces the older one", async () => {
    const pool = new LeadPool();
    await pool.ticket(1, false).take([lead("a@x.example", 1)]);
    const out = await pool.ticket(2, true).take([lead("a@x.example", 2)]);
    expect(out).toEqual([lead("a@x.example", 2)]);
  });

  it("a released turn lets later turns go on and reports what stays pooled", async () => {
    const pool = new LeadPool();
    await pool.ticket(1, false).take([lead("a@x.example")]);
    const t2 = pool.ticket(2, false);
    t2.release();
    const out = await pool.ticket(3, true).take([]);
    expect(out.map((p) => p.key)).toEqual(["a@x.example"]);
    expect(t2.pendingFrom()).toBe(1);
  });
});

describe("LeadPool: one email, two customers", () => {
  const of = (key: string, sourceKey: string, v = 1): Planned => ({ ...lead(key, v), sourceKey });

  it("a pooled lead of another customer is superseded (reported, not silently replaced); the same customer's is not", async () => {
    const pool = new LeadPool();
    const t1 = pool.ticket(1, false);
    await t1.take([of("a@x.example", "S1"), of("b@x.example", "S1")]);
    expect(t1.superseded()).toEqual([]);
    const t2 = pool.ticket(2, true);
    const out = await t2.take([of("a@x.example", "S2"), of("b@x.example", "S1", 2)]);
    expect(out.map((p) => [p.key, p.sourceKey])).toEqual([
      ["a@x.example", "S2"],
      ["b@x.example", "S1"],
    ]);
    expect(t2.superseded().map((s) => [s.lead.key, s.lead.sourceKey, s.reason.code])).toEqual([
      ["a@x.example", "S1", "duplicate_email"],
    ]);
    expect(t2.superseded()[0]?.reason.message).toContain("customer S2 (batch 2)");
  });

  it("an unchanged lead takes its email: the earlier customer's pooled lead is superseded and not written", async () => {
    const pool = new LeadPool();
    await pool.ticket(1, false).take([of("a@x.example", "S1")]);
    const t2 = pool.ticket(2, true);
    expect(await t2.take([], [{ key: "a@x.example", sourceKey: "S2" }])).toEqual([]);
    expect(t2.superseded().map((s) => s.lead.sourceKey)).toEqual(["S1"]);
  });

  it("a lead whose email another customer's lead took and was written earlier is written, with a note", async () => {
    const pool = new LeadPool();
    const first = await pool.ticket(1, false).take(leads(299, "f").concat([of("a@x.example", "S1")]));
    expect(first).toHaveLength(300);
    const t2 = pool.ticket(2, true);
    const [written] = await t2.take([of("a@x.example", "S2")]);
    expect(t2.superseded()).toEqual([]);
    expect(written?.notes?.map((n) => n.code)).toEqual(["duplicate_email"]);
    expect(written?.notes?.[0]?.message).toContain("customer S1 (batch 1)");
  });
});
