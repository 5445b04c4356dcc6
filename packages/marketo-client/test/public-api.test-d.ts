import {
  type Capability,
  type Envelope,
  isMarketoError,
  type LimiterStore,
  MarketoClient,
  type MarketoClientOptions,
  type MarketoError,
  type MarketoReadOnlyError,
  type Page,
  type Paged,
  type QuotaSnapshot,
  type RecordResult,
  type SyncResult,
  type TransportRequest,
} from "@ml/marketo-client";
import { type MarketoSimulator, startMarketoSimulator } from "@ml/marketo-client/testing";
import { describe, expectTypeOf, it } from "vitest";

declare const mk: MarketoClient;
declare const sim: MarketoSimulator;

describe("public surface types", () => {
  it("client options", () => {
    expectTypeOf<MarketoClientOptions>().toHaveProperty("munchkinId");
    expectTypeOf<MarketoClientOptions["clientSecret"]>().toEqualTypeOf<string>();
    // @ts-expect-error clientId and clientSecret are required
    new MarketoClient({ munchkinId: "123-ABC-456" });
    expectTypeOf<MarketoClientOptions["limiterStore"]>().toEqualTypeOf<LimiterStore | undefined>();
  });

  it("sync results", () => {
    expectTypeOf(
      mk.companies.sync({ input: [{ externalCompanyId: "x", custom__c: 1 }] }),
    ).resolves.toEqualTypeOf<SyncResult>();
    expectTypeOf<RecordResult["status"]>().toEqualTypeOf<
      "created" | "updated" | "deleted" | "skipped" | "added" | "removed"
    >();
    expectTypeOf<RecordResult["reasons"]>().toEqualTypeOf<{ code: string; message: string }[]>();
    // @ts-expect-error action is a closed set
    mk.companies.sync({ action: "upsert", input: [] });
    mk.leads.sync({ lookupField: "email", partitionName: "Default", input: [{ email: "a@b.c" }] });
  });

  it("paged reads are async iterables of items with pages()", () => {
    const paged = mk.companies.get({ filterType: "externalCompanyId", filterValues: ["a"] });
    expectTypeOf(paged).toMatchTypeOf<AsyncIterable<Record<string, unknown>>>();
    expectTypeOf(paged.pages()).toMatchTypeOf<AsyncIterable<Page<Record<string, unknown>>>>();
    expectTypeOf<Page<number>["nextPageToken"]>().toEqualTypeOf<string | undefined>();
    expectTypeOf(mk.activities.list({ nextPageToken: "t", activityTypeIds: [1] })).toMatchTypeOf<
      AsyncIterable<{ leadId: number; activityTypeId: number }>
    >();
    expectTypeOf(mk.leads.get({ filterType: "email", filterValues: ["a"] }).toArray()).resolves.toMatchTypeOf<
      unknown[]
    >();
    expectTypeOf<Paged<number>["toArray"]>().returns.resolves.toEqualTypeOf<number[]>();
  });

  it("capabilities, quota, errors", () => {
    expectTypeOf(mk.capabilities.get("companies")).resolves.toEqualTypeOf<Capability>();
    expectTypeOf<Capability["source"]>().toEqualTypeOf<"probe" | "1018" | "default">();
    // @ts-expect-error only CRM-ownable objects
    mk.capabilities.get("leads");
    expectTypeOf(mk.quota()).toEqualTypeOf<QuotaSnapshot>();
    expectTypeOf<QuotaSnapshot>().toHaveProperty("dailyUsed").toEqualTypeOf<number>();
    const e: unknown = new Error("x");
    if (isMarketoError(e)) {
      expectTypeOf(e).toEqualTypeOf<MarketoError>();
      expectTypeOf(e.code).toEqualTypeOf<string>();
      expectTypeOf(e.retryable).toEqualTypeOf<boolean>();
    }
    expectTypeOf<MarketoReadOnlyError>().toMatchTypeOf<MarketoError>();
  });

  it("transport seam", () => {
    expectTypeOf(
      mk.transport.request<{ a: 1 }>({ method: "GET", api: "rest", path: "/v1/x.json", retry: "safe" }),
    ).resolves.toEqualTypeOf<Envelope<{ a: 1 }>>();
    expectTypeOf(
      mk.transport.raw({ method: "GET", api: "bulk", path: "/v1/x", retry: "safe" }),
    ).resolves.toEqualTypeOf<Response>();
    expectTypeOf<TransportRequest["retry"]>().toEqualTypeOf<"safe" | "unsafe">();
  });

  it("simulator", () => {
    expectTypeOf(startMarketoSimulator).returns.resolves.toEqualTypeOf<MarketoSimulator>();
    // clientOptions spread straight into the client
    new MarketoClient({ ...sim.clientOptions });
    expectTypeOf(sim.inspect().duplicates.companies).toEqualTypeOf<number>();
  });
});
