import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { QadClient, QadConfigError } from "../../src/index.js";
import { type QadSimulator, startQadSimulator } from "../../src/testing/index.js";
import { collect } from "./helpers.js";

let sim: QadSimulator;
let rest: QadClient;
let qx: QadClient;
beforeAll(async () => {
  sim = await startQadSimulator({ customers: 10, documents: 57, seed: 12 });
  rest = new QadClient({ ...sim.clientOptions, protocol: "rest" });
  qx = new QadClient({
    ...sim.clientOptions,
    protocol: "qxtend",
    qxtend: {
      ...sim.clientOptions.qxtend!,
      profiles: { customers: "Customer", suppliers: "Supplier", purchaseOrders: "PurchaseOrder", items: "Item" },
    },
  });
});
afterAll(() => sim.close());

/**
 * Fields the assumed QAD EE tables cannot carry, removed from both sides: concurrencyHash and custom (REST only),
 * lastModified.time (DATE fields), businessRelationCode (suppliers), totalAmount (no total on po_mstr), isActive
 * (items: pt_status is a status code, not a flag).
 */
const DROP: Record<string, string[]> = {
  suppliers: ["businessRelationCode"],
  purchaseOrders: ["totalAmount"],
  items: ["isActive"],
};
function shared(kind: string, r: Record<string, unknown>): Record<string, unknown> {
  const { concurrencyHash, custom, lastModified, ...rest } = r;
  for (const f of DROP[kind] ?? []) delete rest[f];
  return { ...rest, lastModified: { date: (lastModified as { date: string }).date } };
}

describe("other documents over QXtend (suppliers vd_mstr, purchase orders po_mstr, items pt_mstr)", () => {
  for (const kind of ["suppliers", "purchaseOrders", "items"] as const) {
    it(`${kind}: QXtend and REST give equal typed records on the shared fields, paged by key`, async () => {
      const a = (await collect(rest.resource(kind).list({ pageSize: 20 }))) as unknown as Record<string, unknown>[];
      const b = (await collect(qx.resource(kind).list({ pageSize: 9 }))) as unknown as Record<string, unknown>[];
      expect(a).toHaveLength(57);
      expect(b).toHaveLength(57);
      const sortKey = (r: Record<string, unknown>) => JSON.stringify(r);
      const norm = (xs: Record<string, unknown>[]) =>
        xs.map((r) => shared(kind, r)).sort((x, y) => (sortKey(x) < sortKey(y) ? -1 : 1));
      expect(norm(b)).toEqual(norm(a));
      expect(b.every((r) => (r.lastModified as { time: number }).time === 0)).toBe(true);
    });
  }

  it("an entity with no profile, or no default mapping, is a configuration error", async () => {
    await expect(collect(qx.glAccounts.list())).rejects.toBeInstanceOf(QadConfigError);
    // A configured profile without a usable mapping fails in the constructor, before any read.
    expect(
      () =>
        new QadClient({
          ...sim.clientOptions,
          protocol: "qxtend",
          qxtend: { ...sim.clientOptions.qxtend!, profiles: { customers: "Customer", costCenters: "CostCenter" } },
        }),
    ).toThrow(/needs rowElement, keyField, dateField and fields/);
  });
});
