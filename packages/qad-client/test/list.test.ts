import { type Customer, customerSchema, isQadInvalidRecord, QadClient } from "@ml/qad-client";
import { type QadSimulator, startQadSimulator } from "@ml/qad-client/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

let sim: QadSimulator;
beforeAll(async () => {
  sim = await startQadSimulator({ customers: 120, seed: 3 });
});
afterAll(async () => {
  await sim.close();
});

describe("list over the REST face", () => {
  it("reads every customer with addresses and contacts, in key order, across pages", async () => {
    const qad = new QadClient({ ...sim.clientOptions, pageSize: 25 });
    const got: Customer[] = [];
    for await (const c of qad.customers.list()) got.push(c);
    expect(got).toHaveLength(120);
    expect(got.map((c) => c.customerCode)).toEqual(sim.data.customers().map((c) => c.customerCode));
    // The canonical record read over REST equals the store's row.
    expect(got).toEqual(sim.data.customers());
    for (const c of got) expect(customerSchema.safeParse(c).success).toBe(true);
    expect(got.some((c) => c.contacts.length > 1)).toBe(true);
    expect(got.some((c) => c.contacts.length === 0)).toBe(true);
    expect(got.some((c) => /[^\x00-\x7f]/.test(c.name))).toBe(true);
    expect(got.some((c) => c.name.length > 200)).toBe(true);
    const insp = sim.inspect();
    // 5 browse pages of customers + one contacts browse per page; no per-customer requests.
    expect(insp.requestsByPath["api/qracore/browses"]).toBe(10);
    expect(insp.lastRequestByPath["api/qracore/browses"]?.headers["x-qad-workspace-id"]).toBe("10USA_10USACO");
  });

  it("pages() yields whole pages", async () => {
    const qad = new QadClient({ ...sim.clientOptions });
    const sizes: number[] = [];
    for await (const page of qad.customers.list({ pageSize: 50 }).pages()) sizes.push(page.length);
    expect(sizes).toEqual([50, 50, 20]);
  });

  it("reads the other business documents", async () => {
    const qad = new QadClient({ ...sim.clientOptions });
    for (const kind of [
      "suppliers",
      "purchaseOrders",
      "supplierInvoices",
      "glAccounts",
      "costCenters",
      "items",
      "goodsReceipts",
    ] as const) {
      const rows: unknown[] = [];
      for await (const r of qad.resource(kind).list({ pageSize: 10 })) rows.push(r);
      expect(rows, kind).toHaveLength(25);
      expect(rows.some(isQadInvalidRecord)).toBe(false);
    }
  });
});
