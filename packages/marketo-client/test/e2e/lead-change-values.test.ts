import { type LeadChange, MarketoClient } from "@ml/marketo-client";
import { type MarketoSimulator, startMarketoSimulator } from "@ml/marketo-client/testing";
import { afterEach, beforeEach, describe, expect, expectTypeOf, it } from "vitest";

let sim: MarketoSimulator;
let mk: MarketoClient;
beforeEach(async () => {
  sim = await startMarketoSimulator({ timeScale: 0.02 });
  mk = new MarketoClient({ ...sim.clientOptions, usageSync: false });
});
afterEach(async () => {
  await sim.close();
});

/** A lead-change field as Marketo sends it: the value in the field's own type. */
type Wire = { name: string; newValue: string | number | boolean | null; oldValue: string | number | boolean | null };

describe("lead changes carry values of the field's own type", () => {
  it("integers, floats and booleans in newValue/oldValue are read, typed, and do not abort the page", async () => {
    const since = new Date(sim.now() - 1000);
    const fields: Wire[][] = [
      [{ name: "firstName", newValue: "Anna", oldValue: "Ann" }],
      [{ name: "leadScore", newValue: 42, oldValue: 7 }],
      [{ name: "unsubscribed", newValue: true, oldValue: false }],
      [{ name: "annualRevenue", newValue: 1234.5, oldValue: null }],
    ];
    sim.data.activities.seed(
      fields.map((f, i) => ({
        leadId: 1 + i,
        activityTypeId: 13,
        activityDate: new Date(sim.now() - 500 + i).toISOString(),
        // The simulator's seed type still says string; Marketo sends the field's type, which is what this test needs.
        fields: f as unknown as { name: string; newValue: string | null; oldValue: string | null }[],
      })),
    );
    const token = await mk.activities.pagingToken(since);
    const changes = await mk.activities
      .leadChanges({ nextPageToken: token, fields: ["firstName", "leadScore", "unsubscribed", "annualRevenue"] })
      .toArray();
    expect(changes.map((c) => c.fields?.map(({ name, newValue, oldValue }) => ({ name, newValue, oldValue })))).toEqual(
      fields,
    );
    const value = changes[1]!.fields![0]!.newValue;
    expectTypeOf(value).toEqualTypeOf<string | number | boolean | null | undefined>();
    expectTypeOf<NonNullable<LeadChange["fields"]>[number]["oldValue"]>().toEqualTypeOf<
      string | number | boolean | null | undefined
    >();
  });
});
