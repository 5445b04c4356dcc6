import {
  type BulkExtraction,
  type BulkExtractState,
  type BulkRow,
  type BulkTransport,
  MarketoBulkError,
  type MarketoBulkQuotaError,
  type MarketoClient,
  type MarketoError,
  type Transport,
} from "@ml/marketo-client";
import { describe, expectTypeOf, it } from "vitest";

declare const mk: MarketoClient;

describe("bulk public types", () => {
  it("extract returns an async iterable of string|null rows with a JSON state", () => {
    const x = mk.bulk.leads.extract({ filter: { createdAt: { startAt: "2026-01-01", endAt: new Date() } } });
    expectTypeOf(x).toEqualTypeOf<BulkExtraction>();
    expectTypeOf(x).toMatchTypeOf<AsyncIterable<Record<string, string | null>>>();
    expectTypeOf<BulkRow>().toEqualTypeOf<Record<string, string | null>>();
    expectTypeOf(x.state()).toEqualTypeOf<BulkExtractState | undefined>();
    expectTypeOf(x.cancel()).toEqualTypeOf<Promise<void>>();
  });

  it("accepts exactly one lead filter kind and typed activity filters", () => {
    mk.bulk.leads.extract({ filter: { staticListId: 12 } });
    mk.bulk.leads.extract({ filter: { smartListName: "All" }, fields: ["email"], format: "TSV" });
    // @ts-expect-error: not a Marketo lead filter
    mk.bulk.leads.extract({ filter: { listId: 1 } });
    // @ts-expect-error: createdAt is required for activities
    mk.bulk.activities.extract({ filter: { activityTypeIds: [1] } });
    // @ts-expect-error: only CSV, TSV, SSV
    mk.bulk.leads.extract({ filter: { staticListId: 1 }, format: "XLSX" });
  });

  it("bulk errors are MarketoErrors, the quota error carries a state and a reset time", () => {
    expectTypeOf<MarketoBulkQuotaError>().toMatchTypeOf<MarketoError>();
    expectTypeOf<MarketoBulkQuotaError["state"]>().toEqualTypeOf<BulkExtractState | undefined>();
    expectTypeOf<MarketoBulkQuotaError["resetsAt"]>().toEqualTypeOf<Date | undefined>();
    expectTypeOf(MarketoBulkError).toBeConstructibleWith("x", { code: "X" });
  });

  it("the client's transport satisfies the bulk seam", () => {
    expectTypeOf<Transport>().toMatchTypeOf<BulkTransport>();
  });
});
