import { describe, expect, it } from "vitest";
import { arraySource, createMemoryStore, createSync, type SourceCustomer, type SyncOptions } from "../src/index.js";
import { customer } from "./support/customers.js";
import { FakeGateway } from "./support/fake-gateway.js";

/** Customer `n` whose one contact has `email`. */
const withEmail = (n: number, email: string, over: Partial<SourceCustomer> = {}) =>
  customer(n, { contacts: [{ contactCode: `P${n}`, firstName: "Pat", lastName: `Doe${n}`, email }], ...over });

const setup = (records: () => unknown[], opts: Partial<SyncOptions> = {}) => {
  const marketo = new FakeGateway();
  const store = createMemoryStore();
  const source = {
    read: (_from: unknown, o?: { signal?: AbortSignal }) => arraySource(records()).read(undefined, o),
  };
  const sync = createSync({ source, marketo, store, readBack: false, ...opts });
  const run = async () => {
    const o = await sync.runOnce();
    if (o.status === "alreadyRunning") throw new Error("unexpected alreadyRunning");
    const rows = await store.queryAudit({ tenant: "default", runId: o.summary.runId, kinds: ["lead"] });
    return { ...o, rows };
  };
  return { marketo, store, sync, run };
};

const brief = (rows: { key: string; outcome: string; sourceKey: string; reasons: { code: string }[] }[]) =>
  rows.map((r) => [r.key, r.outcome, r.sourceKey, r.reasons.map((x) => x.code).join(",")]);

describe("two customers sharing one contact email (Marketo keeps one lead per email)", () => {
  it("in one batch: the later customer's lead is written, the earlier one rejected naming it", async () => {
    const s = setup(() => [withEmail(1, "Ann@Shared.example"), withEmail(2, "ann@shared.example"), customer(3)]);
    const { rows, summary, status } = await s.run();
    expect(status).toBe("completed");
    expect(s.marketo.leads.get("ann@shared.example")?.externalCompanyId).toBe("SET.C2");
    expect(brief(rows)).toEqual([
      ["ann@shared.example (customer SET.C1)", "rejected", "SET.C1", "duplicate_email"],
      ["ann@shared.example", "created", "SET.C2", ""],
      ["pat3@customer3.example", "created", "SET.C3", ""],
    ]);
    expect(rows[0]?.reasons[0]?.message).toContain("customer SET.C2");
    expect(summary.outcomes.lead).toMatchObject({ created: 2, rejected: 1 });
  });

  it("across batches while the earlier lead is pooled: rejected in the later batch's commit", async () => {
    const s = setup(() => [withEmail(1, "ann@shared.example"), customer(2), withEmail(3, "ANN@shared.example")], {
      batchSize: 1,
    });
    const { rows } = await s.run();
    expect(s.marketo.leads.get("ann@shared.example")?.externalCompanyId).toBe("SET.C3");
    const dup = rows.find((r) => r.outcome === "rejected");
    expect(dup?.key).toBe("ann@shared.example (customer SET.C1)");
    expect(dup?.reasons[0]?.code).toBe("duplicate_email");
    expect(dup?.reasons[0]?.message).toContain("customer SET.C3 (batch 3)");
    expect(rows.find((r) => r.key === "ann@shared.example")?.outcome).toBe("created");
    // Every lead is accounted for: three contacts, three rows.
    expect(rows).toHaveLength(3);
  });

  it("a re-run keeps the later customer's lead: the unchanged later lead supersedes the earlier pooled one", async () => {
    const s = setup(() => [withEmail(1, "ann@shared.example"), customer(2), withEmail(3, "ann@shared.example")], {
      batchSize: 1,
    });
    await s.run();
    const again = await s.run();
    expect(s.marketo.leads.get("ann@shared.example")?.externalCompanyId).toBe("SET.C3");
    expect(brief(again.rows.filter((r) => r.key.startsWith("ann@")))).toEqual([
      ["ann@shared.example", "unchanged", "SET.C3", ""],
      ["ann@shared.example (customer SET.C1)", "rejected", "SET.C1", "duplicate_email"],
    ]);
  });

  it("across batches after the earlier lead was written: the later is written over it with a note naming it", async () => {
    // 300 other leads in batch 1 flush a full lead call, so customer 1's lead is written before customer 302 is read.
    const many = Array.from({ length: 299 }, (_, i) => customer(i + 2));
    const s = setup(() => [withEmail(1, "ann@shared.example"), ...many, withEmail(302, "Ann@shared.example")], {
      batchSize: 300,
    });
    const { rows } = await s.run();
    expect(s.marketo.leads.get("ann@shared.example")?.externalCompanyId).toBe("SET.C302");
    const ann = rows.filter((r) => r.key.startsWith("ann@"));
    // One row per (run, kind, key): the later write's row, which names the earlier customer.
    expect(ann.map((r) => [r.key, r.sourceKey])).toEqual([["ann@shared.example", "SET.C302"]]);
    expect(ann[0]?.reasons.map((r) => r.code)).toEqual(["duplicate_email"]);
    expect(ann[0]?.reasons[0]?.message).toContain("customer SET.C1 (batch 1)");
  });

  it("the same customer read twice across batches is not a duplicate email", async () => {
    const s = setup(() => [withEmail(1, "ann@shared.example"), customer(2), withEmail(1, "ann@shared.example")], {
      batchSize: 1,
    });
    const { rows } = await s.run();
    expect(brief(rows.filter((r) => r.key.startsWith("ann@")))).toEqual([
      ["ann@shared.example", "created", "SET.C1", ""],
    ]);
  });
});
