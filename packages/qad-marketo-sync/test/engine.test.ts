import { describe, expect, it } from "vitest";
import {
  arraySource,
  type CustomerSource,
  createMemoryStore,
  createSync,
  extendMapping,
  type SourceItem,
} from "../src/index.js";
import { customer, customers } from "./support/customers.js";
import { FakeGateway } from "./support/fake-gateway.js";
import { setup } from "./support/fake-sync.js";

const done = <T extends { status: string }>(o: T) => {
  if (o.status === "alreadyRunning") throw new Error("unexpected alreadyRunning");
  return o as Extract<T, { summary: unknown }>;
};

describe("first run and change detection", () => {
  it("creates every customer as company, named account and lead in full batches of 300", async () => {
    const { marketo, sync } = setup(customers(650));
    const { summary, status } = done(await sync.runOnce());
    expect(status).toBe("completed");
    expect(summary.outcomes.company.created).toBe(650);
    expect(summary.outcomes.namedAccount.created).toBe(650);
    expect(summary.outcomes.lead.created).toBe(650);
    expect(marketo.companies.size).toBe(650);
    expect(marketo.namedAccounts.size).toBe(650);
    const sizes = marketo.calls.filter((c) => c.op === "sync:companies").map((c) => c.size);
    expect(sizes).toEqual([300, 300, 50]);
    expect(summary.marketoWriteCalls).toBe(9);
    expect(marketo.companies.get("SET.C1")).toMatchObject({
      externalCompanyId: "SET.C1",
      company: "Customer 1 Inc",
      billingCity: "Austin",
      billingCountry: "US",
      website: "www.customer1.example",
      industry: "MANUF",
      qadCurrencyCode: "USD",
      qadRegion: "NA",
      qadActive: true,
    });
    expect(marketo.namedAccounts.get("Customer 1 Inc")).toMatchObject({
      domainName: "customer1.example",
      city: "Austin",
    });
    expect(marketo.leads.get("pat1@customer1.example")).toMatchObject({
      externalCompanyId: "SET.C1",
      lastName: "Doe1",
    });
  });

  it("pools leads across batches: every lead call but the last carries 300; checkpoints wait for pooled leads", async () => {
    const { marketo, sync, store } = setup(customers(650), { batchSize: 250, batchConcurrency: 1 });
    const saved: boolean[] = [];
    sync.on("batchCommitted", (b) => saved.push(b.checkpointSaved));
    const { summary } = done(await sync.runOnce());
    expect(marketo.calls.filter((c) => c.op === "sync:leads").map((c) => c.size)).toEqual([300, 300, 50]);
    expect(marketo.calls.filter((c) => c.op === "sync:companies").map((c) => c.size)).toEqual([250, 250, 150]);
    expect(summary.outcomes.lead.created).toBe(650);
    // Batch 1's leads were all pending after it; after batch 2 only batch 2's remain, so batch 1's checkpoint is saved.
    expect(saved).toEqual([false, true, true]);
    expect(await store.getCheckpoint("default", "source")).toBe(650);
    // Leads are written after the companies they link to.
    const ops = marketo.calls.map((c) => c.op);
    expect(ops.indexOf("sync:companies")).toBeLessThan(ops.indexOf("sync:leads"));
  });

  it("an unchanged re-read costs zero Marketo writes and records every record as unchanged", async () => {
    const records = customers(20);
    const marketo = new FakeGateway();
    const store = createMemoryStore();
    // A source that re-reads everything every time (no checkpoint), like a full export.
    const full: CustomerSource = { read: () => arraySource(records).read(undefined) };
    const sync = createSync({ source: full, marketo, store, readBack: false });
    done(await sync.runOnce());
    const before = marketo.writeCalls();
    const { summary } = done(await sync.runOnce());
    expect(marketo.writeCalls()).toBe(before);
    expect(summary.marketoWriteCalls).toBe(0);
    // Describe answers and capability probes are reused: the re-run costs no Marketo call at all.
    expect(summary.marketoCalls).toBe(0);
    expect(summary.outcomes.company.unchanged).toBe(20);
    expect(summary.outcomes.namedAccount.unchanged).toBe(20);
    expect(summary.outcomes.lead.unchanged).toBe(20);
  });

  it("after an edit only the changed payloads are written; key order does not matter", async () => {
    const records = customers(10);
    const marketo = new FakeGateway();
    const sync = createSync({
      source: { read: () => arraySource(records).read(undefined) },
      marketo,
      store: createMemoryStore(),
      readBack: false,
    });
    done(await sync.runOnce());
    records[3] = { ...records[3]!, telephone: "+1 512 555 0199" }; // company-only field
    // Same content, different key order: must stay unchanged.
    const r5 = records[5]!;
    records[5] = Object.fromEntries(Object.entries(r5).reverse()) as typeof r5;
    marketo.calls = [];
    const { summary } = done(await sync.runOnce());
    expect(summary.outcomes.company).toMatchObject({ updated: 1, unchanged: 9 });
    expect(summary.outcomes.namedAccount.unchanged).toBe(10);
    expect(summary.outcomes.lead.unchanged).toBe(10);
    expect(marketo.calls.filter((c) => c.op.startsWith("sync"))).toEqual([{ op: "sync:companies", size: 1 }]);
    expect(marketo.companies.get("SET.C4")?.mainPhone).toBe("+1 512 555 0199");
  });

  it("resumes from the checkpoint: a second incremental run reads only new records", async () => {
    const records = customers(5);
    const { marketo, sync, store } = setup(records);
    done(await sync.runOnce());
    expect(await store.getCheckpoint("default", "source")).toBe(5);
    records.push(customer(6));
    const { summary } = done(await sync.runOnce());
    expect(summary.sourceItems).toBe(1);
    expect(summary.outcomes.company.created).toBe(1);
    expect(marketo.companies.size).toBe(6);
  });
});

describe("rejection", () => {
  it("rejects invalid rows with reasons and carries on with the rest", async () => {
    const records: unknown[] = [
      customer(1),
      { ...customer(2), name: "  " },
      { ...customer(3), currencyCode: "DOLLARS" },
      { customerCode: "C4" },
      customer(5),
    ];
    const source: CustomerSource = {
      read: () => {
        const inner = arraySource(records).read(undefined);
        return {
          checkpoint: inner.checkpoint,
          async *[Symbol.asyncIterator](): AsyncIterator<SourceItem> {
            yield* inner;
            yield {
              type: "invalid",
              key: "SET.C6",
              reason: "QAD row failed validation",
              issues: [{ path: "isActive", message: "expected boolean" }],
            };
          },
        };
      },
    };
    const marketo = new FakeGateway();
    const store = createMemoryStore();
    const sync = createSync({ source, marketo, store, readBack: false });
    const { summary, status } = done(await sync.runOnce());
    expect(status).toBe("completed");
    expect(summary.outcomes.customer.rejected).toBe(4);
    expect(summary.outcomes.company.created).toBe(2);
    const rejected = await store.queryAudit({ tenant: "default", outcomes: ["rejected"] });
    const byKey = Object.fromEntries(rejected.map((r) => [r.key, r.reasons.map((x) => x.message).join(" | ")]));
    expect(byKey["SET.C2"]).toMatch(/name: name is blank/);
    expect(byKey["SET.C3"]).toMatch(/currencyCode: currencyCode must be a 3-letter ISO code/);
    expect(byKey["?.C4"]).toMatch(/sharedSetCode/);
    expect(byKey["SET.C6"]).toMatch(/QAD row failed validation: isActive expected boolean/);
  });

  it("contacts without a valid email are skipped (default) or rejected (configured), with a reason", async () => {
    const rec = customer(1, {
      contacts: [
        { contactCode: "A", email: "ok@x.example" },
        { contactCode: "B", email: "not-an-email" },
        { contactCode: "C" },
        { contactCode: "D", email: "OK@x.example" },
      ],
    });
    for (const mode of ["skip", "reject"] as const) {
      const { sync, store, marketo } = setup([rec], { mapping: extendMapping({ invalidContactEmail: mode }) });
      const { summary } = done(await sync.runOnce());
      expect(marketo.leads.size).toBe(1);
      expect(summary.outcomes.lead.created).toBe(1);
      const outcome = mode === "skip" ? "skipped" : "rejected";
      const rows = await store.queryAudit({ tenant: "default", kinds: ["lead"], outcomes: [outcome] });
      expect(
        rows.filter((r) => r.reasons[0]?.code === "invalid_email").map((r) => [r.key, r.reasons[0]?.code]),
      ).toEqual([
        ["SET.C1#B", "invalid_email"],
        ["SET.C1#C", "invalid_email"],
      ]);
      const dup = await store.queryAudit({ tenant: "default", keys: ["SET.C1#D"] });
      expect(dup[0]?.reasons[0]?.code).toBe("duplicate_email");
    }
  });

  it("a mapping transform that throws rejects only that record", async () => {
    const mapping = extendMapping({
      company: {
        industry: (c) => {
          if (c.customerCode === "C2") throw new Error("no industry for C2");
          return c.customerTypeCode;
        },
      },
    });
    const { sync, store } = setup(customers(3), { mapping });
    const { summary } = done(await sync.runOnce());
    expect(summary.outcomes.company.created).toBe(2);
    const [row] = await store.queryAudit({ tenant: "default", outcomes: ["rejected"] });
    expect(row).toMatchObject({
      key: "SET.C2",
      reasons: [{ code: "mapping", message: "mapping threw: no industry for C2" }],
    });
  });
});

describe("mapping", () => {
  it("named-account name conflicts: the first customer keeps the name, the next is suffixed (or skipped)", async () => {
    const twins = [customer(1, { name: "Acme" }), customer(2, { name: "ACME " }), customer(3, { name: "Other" })];
    const { sync, marketo, store } = setup(twins);
    const s = done(await sync.runOnce()).summary;
    expect(s.outcomes.namedAccount.created).toBe(3);
    expect([...marketo.namedAccounts.keys()].sort()).toEqual(["ACME (SET.C2)", "Acme", "Other"]);
    const [row] = await store.queryAudit({ tenant: "default", kinds: ["namedAccount"], keys: ["SET.C2"] });
    expect(row?.reasons[0]?.code).toBe("name_conflict");
    // Stable across runs: a re-read finds the same names unchanged.
    const again = createSync({
      source: { read: () => arraySource(twins).read(undefined) },
      marketo,
      store,
      readBack: false,
    });
    expect(done(await again.runOnce()).summary.outcomes.namedAccount.unchanged).toBe(3);

    const skipping = setup(twins, { namedAccountNameConflicts: "skip" });
    const s2 = done(await skipping.sync.runOnce()).summary;
    expect(s2.outcomes.namedAccount).toMatchObject({ created: 2, skipped: 1 });
  });

  it("custom key, custom fields, removed defaults and sales persons written before companies", async () => {
    const mapping = extendMapping({
      externalCompanyId: (c) => `QAD-${c.customerCode}`,
      company: { qadRegion: undefined, annualRevenue: () => 1000, sicCode: "custom.sic" },
      salesPerson: (c) =>
        c.salespersonCode
          ? { externalSalesPersonId: c.salespersonCode, email: `${c.salespersonCode}@corp.example` }
          : undefined,
    });
    const { sync, marketo } = setup([customer(1, { salespersonCode: "SP1", custom: { sic: "3571" } }), customer(2)], {
      mapping,
    });
    done(await sync.runOnce());
    expect(
      marketo.calls
        .filter((c) => c.op.startsWith("sync"))
        .map((c) => c.op)
        .slice(0, 2),
    ).toContain("sync:salesPersons");
    const order = marketo.calls.map((c) => c.op);
    expect(order.indexOf("sync:salesPersons")).toBeLessThan(order.indexOf("sync:companies"));
    expect(order.indexOf("sync:companies")).toBeLessThan(order.indexOf("sync:leads"));
    const c1 = marketo.companies.get("QAD-C1");
    expect(c1).toMatchObject({ externalSalesPersonId: "SP1", annualRevenue: 1000, sicCode: "3571" });
    expect(c1).not.toHaveProperty("qadRegion");
    expect(marketo.salesPersons.get("SP1")).toMatchObject({ email: "SP1@corp.example" });
  });

  it("drops fields the instance does not describe and shortens over-long values, noting it in the audit", async () => {
    const { sync, marketo, store } = setup([customer(1)]);
    marketo.describe.companies = new Map([
      ["company", { length: 12 }],
      ["billingCity", {}],
    ]);
    const { summary } = done(await sync.runOnce());
    expect(summary.droppedFields).toContain("company.qadRegion");
    expect(summary.droppedFields).not.toContain("company.billingCity");
    expect(marketo.companies.get("SET.C1")).toEqual({
      id: expect.any(Number),
      company: "Customer 1 I",
      billingCity: "Austin",
      externalCompanyId: "SET.C1",
    });
    const [row] = await store.queryAudit({ tenant: "default", kinds: ["company"] });
    expect(row?.reasons).toEqual([{ code: "truncated", message: "company shortened from 14 to 12 characters" }]);
  });

  it("a named-account rename updates the same account by marketoGUID instead of creating a second one", async () => {
    const records = [customer(1)];
    const marketo = new FakeGateway();
    const sync = createSync({
      source: { read: () => arraySource(records).read(undefined) },
      marketo,
      store: createMemoryStore(),
      readBack: false,
    });
    done(await sync.runOnce());
    const guid = marketo.namedAccounts.get("Customer 1 Inc")?.marketoGUID;
    records[0] = { ...records[0]!, name: "Customer One GmbH" };
    const { summary } = done(await sync.runOnce());
    expect(summary.outcomes.namedAccount.updated).toBe(1);
    expect(marketo.namedAccounts.size).toBe(1);
    expect(marketo.namedAccounts.get("Customer One GmbH")?.marketoGUID).toBe(guid);
    expect(marketo.calls.some((c) => c.op === "sync:namedAccountsById")).toBe(true);
  });
});
