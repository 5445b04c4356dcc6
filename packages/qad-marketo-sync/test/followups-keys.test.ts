import { type QadClient, QadInvalidRecord } from "@ml/qad-client";
import { describe, expect, it } from "vitest";
import { createMemoryStore, createSync, qadCustomerSource } from "../src/index.js";
import { customer } from "./support/customers.js";
import { FakeGateway } from "./support/fake-gateway.js";

/** A QAD client whose customer poll and listing yield `rows()` (read afresh at every call). */
const fakeQad = (rows: () => unknown[]) =>
  ({
    customers: {
      changes: () => ({
        checkpoint: () => ({ fake: true }),
        async *[Symbol.asyncIterator]() {
          yield* rows();
        },
      }),
      list: () => ({
        async *[Symbol.asyncIterator]() {
          yield* rows();
        },
      }),
    },
  }) as unknown as Pick<QadClient, "customers">;

const collect = async <T>(it: AsyncIterable<T>): Promise<T[]> => {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
};

describe("qadCustomerSource keys of codes holding `.` or `%`", () => {
  const invalid = (sharedSetCode: string, customerCode: string) =>
    new QadInvalidRecord(
      { sharedSetCode, customerCode, name: "" },
      ["name: name is blank"],
      `${sharedSetCode}/${customerCode}`,
    );

  it("an invalid row is keyed like the default mapping keys the company (escaped, trimmed)", async () => {
    const source = qadCustomerSource(
      fakeQad(() => [invalid("SS1", "X.Y"), invalid("SS1.X", "Y"), invalid("A%B", " C "), invalid("SET", "C1")]),
    );
    const items = await collect(source.read(undefined));
    expect(items.map((i) => (i.type === "invalid" ? i.key : undefined))).toEqual([
      "SS1.X%2EY",
      "SS1%2EX.Y",
      "A%25B.C",
      "SET.C1",
    ]);
  });

  it("keys() lists escaped keys for valid customers and invalid rows alike", async () => {
    const source = qadCustomerSource(
      fakeQad(() => [customer(1, { sharedSetCode: "SS1", customerCode: "X.Y" }), invalid("SS1.X", "Y")]),
    );
    if (!source.keys) throw new Error("the QAD source lists keys");
    expect((await collect(source.keys())).map((k) => k.key)).toEqual(["SS1.X%2EY", "SS1%2EX.Y"]);
  });

  it("a rejected row and its later valid version share one key in the audit trail", async () => {
    let rows: unknown[] = [invalid("SS1", "X.Y")];
    const store = createMemoryStore();
    const marketo = new FakeGateway();
    const sync = createSync({ source: qadCustomerSource(fakeQad(() => rows)), marketo, store, readBack: false });
    const first = await sync.runOnce();
    if (first.status === "alreadyRunning") throw new Error("unexpected");
    rows = [customer(1, { sharedSetCode: "SS1", customerCode: "X.Y" })];
    const second = await sync.runOnce();
    if (second.status === "alreadyRunning") throw new Error("unexpected");
    expect([...marketo.companies.keys()]).toEqual(["SS1.X%2EY"]);
    const rejected = await store.queryAudit({ tenant: "default", runId: first.summary.runId, outcomes: ["rejected"] });
    expect(rejected.map((r) => r.key)).toEqual(["SS1.X%2EY"]);
    const created = await store.queryAudit({ tenant: "default", runId: second.summary.runId, kinds: ["company"] });
    expect(created.map((r) => [r.key, r.outcome])).toEqual([["SS1.X%2EY", "created"]]);
  });
});
