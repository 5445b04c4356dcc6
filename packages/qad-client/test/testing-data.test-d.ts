import type { Customer } from "@ml/qad-client";
import type {
  CorruptionKind,
  QadSimCorruptRow,
  QadSimData,
  QadSimRow,
  QadSimStore,
  QadSimulator,
} from "@ml/qad-client/testing";
import { describe, expectTypeOf, it } from "vitest";

declare const sim: QadSimulator;

describe("QAD simulator data accessors are typed", () => {
  it("customers() and customer(code) are the valid rows, typed Customer, on the simulator and its store", () => {
    expectTypeOf(sim.data.customers()).toEqualTypeOf<readonly Customer[]>();
    expectTypeOf(sim.data.customer("C000001")).toEqualTypeOf<Customer | undefined>();
    expectTypeOf(sim.data.store.customers()).toEqualTypeOf<readonly Customer[]>();
    expectTypeOf(sim.data.store.customer("C000001")).toEqualTypeOf<Customer | undefined>();
    // No cast needed to read a field.
    expectTypeOf(sim.data.customers()[0]!.customerCode).toEqualTypeOf<string>();
    expectTypeOf(sim.data.customers().map((c) => c.contacts)).toEqualTypeOf<Customer["contacts"][]>();
  });

  it("rows() and row(code) include corrupt rows, which a guard narrows both ways", () => {
    expectTypeOf(sim.data.rows()).toEqualTypeOf<readonly QadSimRow[]>();
    expectTypeOf(sim.data.row("C000001")).toEqualTypeOf<QadSimRow | undefined>();
    expectTypeOf<QadSimRow>().toEqualTypeOf<Customer | QadSimCorruptRow>();
    expectTypeOf(sim.data.store.rows()).toEqualTypeOf<readonly QadSimRow[]>();
    for (const row of sim.data.rows()) {
      if (sim.data.isValid(row)) {
        expectTypeOf(row).toEqualTypeOf<Customer>();
        expectTypeOf(row.name).toEqualTypeOf<string>();
      } else {
        expectTypeOf(row).toEqualTypeOf<QadSimCorruptRow>();
        expectTypeOf(row.name).toEqualTypeOf<unknown>();
      }
      if (sim.data.store.isValid(row)) expectTypeOf(row).toEqualTypeOf<Customer>();
      else expectTypeOf(row).toEqualTypeOf<QadSimCorruptRow>();
    }
    // A corrupt row's fields are unknown, not the canonical types: reading one as a string needs narrowing.
    expectTypeOf<QadSimCorruptRow["customerCode"]>().toEqualTypeOf<unknown>();
    expectTypeOf<QadSimCorruptRow>().not.toExtend<Customer>();
  });

  it("corruptionOf(code) lists the corruption kinds; the edits keep their typed signatures", () => {
    expectTypeOf(sim.data.corruptionOf("C000001")).toEqualTypeOf<readonly CorruptionKind[]>();
    expectTypeOf<QadSimStore["corruptionOf"]>().toEqualTypeOf<QadSimData["corruptionOf"]>();
    expectTypeOf(sim.data.add).parameter(0).toEqualTypeOf<Partial<Customer> | undefined>();
    expectTypeOf(sim.data.add()).toEqualTypeOf<Customer>();
    expectTypeOf(sim.data.update).parameter(1).toEqualTypeOf<Partial<Customer>>();
    expectTypeOf(sim.data.corrupt).parameter(1).toEqualTypeOf<CorruptionKind | undefined>();
  });
});
