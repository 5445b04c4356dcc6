import { collect } from "@ml/http-kernel/testing";
import { type Customer, isQadInvalidRecord, QadClient } from "@ml/qad-client";
import { QadSimStore, startQadSimulator } from "@ml/qad-client/testing";
import { describe, expect, it } from "vitest";

const now = () => Date.parse("2026-03-02T09:00:00Z");
const codes = (rows: readonly { customerCode?: unknown }[]) => rows.map((r) => r.customerCode);

describe("simulator data accessors", () => {
  it("customers() and customer() hold the valid rows; rows() and row() every row; corruptionOf tells what broke", () => {
    const s = new QadSimStore({ customers: 4, now });
    const valid: readonly Customer[] = s.customers();
    expect(valid).toHaveLength(4);
    expect(s.rows()).toEqual(valid);
    s.corrupt("C000002", "missingName");
    s.corrupt("C000003", "wrongTypes");
    expect(codes(s.customers())).toEqual(["C000001", "C000004"]);
    expect(codes(s.rows())).toEqual(["C000001", "C000002", "C000003", "C000004"]);
    expect(s.customer("C000002")).toBeUndefined();
    expect(s.row("C000002")).toMatchObject({ customerCode: "C000002" });
    expect(s.row("C000002")).not.toHaveProperty("name");
    expect(s.row("C000003")?.isActive).toBe("sometimes");
    expect(s.corruptionOf("C000001")).toEqual([]);
    expect(s.corruptionOf("C000002")).toEqual(["missingName"]);
    expect(() => s.corruptionOf("C000404")).toThrow(/No customer/);
    // No marker field in the rows: a corrupt row has exactly the canonical fields minus the broken one.
    const { name: _name, ...rest } = s.row("C000001") as Customer;
    expect(Object.keys(s.row("C000002")!).sort()).toEqual(Object.keys(rest).sort());
  });

  it("isValid narrows by the store's bookkeeping: stored valid rows only, never a corrupt row or a copy", () => {
    const s = new QadSimStore({ customers: 3, now });
    s.corrupt("C000002", "badLastModified");
    const [a, b, c] = s.rows();
    expect([a, b, c].map((r) => s.isValid(r!))).toEqual([true, false, true]);
    expect(s.isValid(structuredClone(a!))).toBe(false);
    const added = s.add({ name: "Added" });
    expect(s.isValid(s.row(added.customerCode)!)).toBe(true);
    s.update("C000001", { name: "Renamed" });
    expect(s.isValid(s.row("C000001")!)).toBe(true);
    // The row object replaced by the update is no longer the stored one, but it was valid when stored.
    expect(s.row("C000001")).not.toBe(a);
  });

  it("edits that fix what corrupt() broke repair the row; others leave it corrupt", () => {
    const s = new QadSimStore({ customers: 2, now });
    s.corrupt("C000001", "missingName");
    s.corrupt("C000001", "wrongTypes");
    expect(s.corruptionOf("C000001")).toEqual(["missingName", "wrongTypes"]);
    s.touch("C000001");
    s.update("C000001", { email: "x@example.com" });
    expect(s.corruptionOf("C000001")).toEqual(["missingName", "wrongTypes"]);
    expect(s.customer("C000001")).toBeUndefined();
    s.update("C000001", { name: "Named again" });
    expect(s.corruptionOf("C000001")).toEqual(["wrongTypes"]);
    expect(s.isValid(s.row("C000001")!)).toBe(false);
    s.update("C000001", { isActive: true });
    expect(s.corruptionOf("C000001")).toEqual([]);
    expect(s.customer("C000001")).toMatchObject({ name: "Named again", isActive: true, email: "x@example.com" });
    expect(s.isValid(s.row("C000001")!)).toBe(true);

    // A bad lastModified is repaired by the next stamp: a save, an update, or another corruption's stamp.
    s.corrupt("C000002", "badLastModified");
    expect(s.corruptionOf("C000002")).toEqual(["badLastModified"]);
    s.touch("C000002");
    expect(s.corruptionOf("C000002")).toEqual([]);
    s.corrupt("C000002", "badLastModified");
    s.corrupt("C000002", "missingCustomerCode");
    expect(s.corruptionOf("C000002")).toEqual(["missingCustomerCode"]);
    expect(s.row("C000002")?.lastModified).toEqual({ date: "2026-03-02", time: 9 * 3600 });
    s.update("C000002", { customerCode: "C000002" });
    expect(codes(s.customers())).toEqual(["C000001", "C000002"]);
  });

  it("both faces still serve corrupt rows, which the client reports as invalid records", async () => {
    const sim = await startQadSimulator({ customers: 5, seed: 3 });
    try {
      sim.data.corrupt("C000004", "wrongTypes");
      expect(sim.data.customers()).toHaveLength(4);
      expect(sim.data.corruptionOf("C000004")).toEqual(["wrongTypes"]);
      for (const protocol of ["rest", "qxtend"] as const) {
        const qad = new QadClient({ ...sim.clientOptions, protocol });
        const got = await collect(qad.customers.list({ invalid: "emit" }));
        expect(got, protocol).toHaveLength(5);
        expect(
          got.filter(isQadInvalidRecord).map((r) => r.key),
          protocol,
        ).toEqual(["SS1/C000004"]);
        // QXtend carries fewer fields than REST, so the valid rows are compared by code there.
        const validRows = got.filter((r): r is Customer => !isQadInvalidRecord(r));
        if (protocol === "rest") expect(validRows).toEqual(sim.data.customers());
        expect(codes(validRows), protocol).toEqual(codes(sim.data.customers()));
      }
      const [row] = sim.data.rows().filter((r) => !sim.data.isValid(r));
      expect(row?.customerCode).toBe("C000004");
    } finally {
      await sim.close();
    }
  });
});
