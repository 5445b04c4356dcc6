import type {
  Customer,
  EntityKind,
  Item,
  QadBackend,
  QadCheckpoint,
  QadClient,
  QadClientOptions,
  QadError,
  QadInvalidRecord,
  QadList,
  QadPage,
  QadPoll,
  Supplier,
} from "@ml/qad-client";
import { isQadError, isQadInvalidRecord } from "@ml/qad-client";
import type { QadSimulator } from "@ml/qad-client/testing";
import { describe, expectTypeOf, it } from "vitest";

declare const qad: QadClient;
declare const sim: QadSimulator;

describe("public types", () => {
  it("list() yields the canonical record, or also QadInvalidRecord with invalid: 'emit'", () => {
    expectTypeOf(qad.customers.list()).toEqualTypeOf<QadList<Customer>>();
    expectTypeOf(qad.customers.list({ invalid: "emit" })).toEqualTypeOf<QadList<Customer | QadInvalidRecord>>();
    expectTypeOf(qad.items.list()).toEqualTypeOf<QadList<Item>>();
    expectTypeOf(qad.suppliers.list().pages()).toEqualTypeOf<AsyncIterable<QadPage<Supplier>>>();
    // Still usable wherever a page was a plain array.
    expectTypeOf(qad.suppliers.list().pages()).toExtend<AsyncIterable<Supplier[]>>();
    expectTypeOf<QadPage<Supplier>["warnings"]>().toEqualTypeOf<string[]>();
  });

  it("changes() is an async iterable with a JSON checkpoint", () => {
    const poll = qad.customers.changes(null, { invalid: "emit" });
    expectTypeOf(poll).toEqualTypeOf<QadPoll<Customer | QadInvalidRecord>>();
    expectTypeOf(qad.customers.changes()).toEqualTypeOf<QadPoll<Customer>>();
    expectTypeOf(poll.checkpoint()).toEqualTypeOf<QadCheckpoint>();
    expectTypeOf<QadCheckpoint["seen"]>().toEqualTypeOf<Record<string, string>>();
  });

  it("guards narrow", () => {
    const x = {} as unknown;
    if (isQadError(x)) expectTypeOf(x).toEqualTypeOf<QadError>();
    const r = {} as Customer | QadInvalidRecord;
    if (isQadInvalidRecord(r)) expectTypeOf(r.issues).toEqualTypeOf<readonly string[]>();
    else expectTypeOf(r).toEqualTypeOf<Customer>();
  });

  it("the simulator's clientOptions fit the client; the backend seam is as agreed", () => {
    expectTypeOf(sim.clientOptions).toExtend<QadClientOptions>();
    expectTypeOf<QadBackend["pages"]>().parameters.toEqualTypeOf<
      [EntityKind, { modifiedSince?: { date: string; time: number }; pageSize: number; signal?: AbortSignal }]
    >();
    expectTypeOf<QadBackend["pages"]>().returns.toEqualTypeOf<AsyncIterable<unknown[]>>();
    // @ts-expect-error protocol is a closed set
    const bad: QadClientOptions = { tenantUrl: "https://a.qad.com", protocol: "graphql" };
    void bad;
  });
});
