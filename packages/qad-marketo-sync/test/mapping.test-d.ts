import { describe, expectTypeOf, it } from "vitest";
import {
  createSync,
  extendMapping,
  type FieldPath,
  type RunOutcome,
  type SourceCustomer,
  type Sync,
  type SyncMapping,
} from "../src/index.js";

describe("mapping types", () => {
  it("field paths are checked against the record type", () => {
    expectTypeOf<"name">().toMatchTypeOf<FieldPath<SourceCustomer>>();
    expectTypeOf<"address.city">().toMatchTypeOf<FieldPath<SourceCustomer>>();
    expectTypeOf<"custom.customCombo0">().toMatchTypeOf<FieldPath<SourceCustomer>>();
    // @ts-expect-error: a typo in a path does not compile
    extendMapping({ company: { billingCity: "adress.city" } });
    // @ts-expect-error: contacts is an array, not a primitive field
    extendMapping({ company: { x: "contacts" } });
    expectTypeOf(extendMapping({ company: { industry: (c) => c.customerTypeCode } })).toEqualTypeOf<
      SyncMapping<SourceCustomer>
    >();
  });

  it("runOnce answers a discriminated outcome", () => {
    expectTypeOf<Sync["runOnce"]>().returns.resolves.toEqualTypeOf<RunOutcome>();
    expectTypeOf(createSync).returns.toEqualTypeOf<Sync>();
    const narrow = (o: RunOutcome) => (o.status === "alreadyRunning" ? o.holder : o.summary.runId);
    expectTypeOf(narrow).returns.toBeString();
  });
});
