import { describe, expect, it } from "vitest";
import { defaultExternalCompanyId, escapeKeyPart, type SourceCustomer } from "../src/index.js";
import { customer } from "./support/customers.js";
import { run, setup } from "./support/fake-sync.js";

const names = (n: number) => ({ name: `Customer ${n} Inc` });

describe("the default externalCompanyId is injective", () => {
  it("escapes `.` and `%` inside the codes and leaves plain codes as they were", () => {
    expect(defaultExternalCompanyId(customer(1, { sharedSetCode: "SET", customerCode: "C1" }))).toBe("SET.C1");
    expect(defaultExternalCompanyId(customer(1, { sharedSetCode: "SS1", customerCode: "X.Y" }))).toBe("SS1.X%2EY");
    expect(defaultExternalCompanyId(customer(1, { sharedSetCode: "SS1.X", customerCode: "Y" }))).toBe("SS1%2EX.Y");
    expect(defaultExternalCompanyId(customer(1, { sharedSetCode: "A%2EB", customerCode: "C" }))).toBe("A%252EB.C");
    expect(escapeKeyPart("no-change_here 1")).toBe("no-change_here 1");
  });

  it("SS1/X.Y and SS1.X/Y become two Marketo companies with two audit rows", async () => {
    const s = setup([
      customer(1, { sharedSetCode: "SS1", customerCode: "X.Y", ...names(1) }),
      customer(2, { sharedSetCode: "SS1.X", customerCode: "Y", ...names(2) }),
    ]);
    const { rows, summary } = await run(s);
    expect(summary.outcomes.company.created).toBe(2);
    expect([...s.marketo.companies.keys()].sort()).toEqual(["SS1%2EX.Y", "SS1.X%2EY"]);
    expect(rows.filter((r) => r.kind === "company").map((r) => r.key)).toHaveLength(2);
  });

  it("a user keyOf mapping two customers to one key rejects both, each naming the other", async () => {
    const legacy = (c: SourceCustomer) => `${c.sharedSetCode}.${c.customerCode}`;
    const s = setup(
      [
        customer(1, { sharedSetCode: "SS1", customerCode: "X.Y", ...names(1) }),
        customer(2, { sharedSetCode: "SS1.X", customerCode: "Y", ...names(2) }),
        customer(3),
      ],
      { keyOf: legacy },
    );
    const { rows, summary } = await run(s);
    expect(s.marketo.companies.has("SS1.X.Y")).toBe(false);
    expect(summary.outcomes.company.created).toBe(1);
    const rejected = rows.filter((r) => r.outcome === "rejected");
    expect(rejected).toHaveLength(2);
    for (const r of rejected) {
      expect(r.kind).toBe("customer");
      expect(r.reasons[0]?.code).toBe("key_collision");
    }
    const messages = rejected.map((r) => r.reasons[0]?.message).join("\n");
    expect(messages).toContain("customer SS1%2EX.Y, row 1.2");
    expect(messages).toContain("customer SS1.X%2EY, row 1.1");
    // Two audit rows, not one upserted over the other.
    expect(new Set(rejected.map((r) => r.key)).size).toBe(2);
  });
});

describe("the same key twice in a batch", () => {
  it("the later source row wins and the earlier copy is rejected naming it", async () => {
    const s = setup([
      customer(3, { customerCode: "T3", name: "First Copy" }),
      customer(4),
      customer(3, { customerCode: "T3 ", name: "Second Copy" }),
    ]);
    const { rows, summary } = await run(s);
    expect(s.marketo.companies.get("SET.T3")?.company).toBe("Second Copy");
    expect(summary.outcomes.company.created).toBe(2);
    expect(summary.outcomes.customer.rejected).toBe(1);
    const [dropped] = rows.filter((r) => r.outcome === "rejected");
    expect(dropped).toMatchObject({ kind: "customer", key: "SET.T3", sourceKey: "SET.T3" });
    expect(dropped?.reasons[0]?.code).toBe("duplicate_key");
    expect(dropped?.reasons[0]?.message).toMatch(/"SET\.T3" \(row 1\.3\).*later source row is written/);
  });

  it("three copies leave two rejected rows and one write: one audit outcome per source row", async () => {
    const s = setup([customer(5, { name: "A" }), customer(5, { name: "B" }), customer(5, { name: "C" })]);
    const { rows } = await run(s);
    const customerRows = rows.filter((r) => r.kind === "customer" || r.kind === "company");
    expect(customerRows.map((r) => r.outcome).sort()).toEqual(["created", "rejected", "rejected"]);
    expect(s.marketo.companies.get("SET.C5")?.company).toBe("C");
  });
});

describe("case variants of a key", () => {
  it("d2 and D2 are both rejected (one Marketo company), never audited as created and updated", async () => {
    const s = setup([
      customer(2, { customerCode: "d2", name: "Lower" }),
      customer(2, { customerCode: "D2", name: "Upper" }),
      customer(7),
    ]);
    const { rows, summary } = await run(s);
    expect(s.marketo.companies.has("SET.d2")).toBe(false);
    expect(s.marketo.companies.has("SET.D2")).toBe(false);
    expect(summary.outcomes.company.created).toBe(1);
    const rejected = rows.filter((r) => r.outcome === "rejected");
    expect(rejected.map((r) => r.key).sort()).toEqual(["SET.D2", "SET.d2"]);
    for (const r of rejected) expect(r.reasons[0]?.code).toBe("key_case_variant");
    expect(rejected.find((r) => r.key === "SET.d2")?.reasons[0]?.message).toContain('"SET.D2" (row 1.2)');
    expect(rows.some((r) => r.kind === "company" && r.key.toLowerCase() === "set.d2")).toBe(false);
  });
});

describe("keys across the batches of a run", () => {
  it("a case variant in a later batch is rejected naming the record written earlier", async () => {
    const s = setup(
      [
        customer(2, { customerCode: "d2", name: "Lower" }),
        customer(8),
        customer(2, { customerCode: "D2", name: "Up" }),
      ],
      { batchSize: 2 },
    );
    const { rows } = await run(s);
    expect(s.marketo.companies.get("SET.d2")?.company).toBe("Lower");
    expect(s.marketo.companies.has("SET.D2")).toBe(false);
    const [late] = rows.filter((r) => r.outcome === "rejected");
    expect(late?.key).toBe("SET.D2");
    expect(late?.reasons[0]).toMatchObject({ code: "key_case_variant" });
    expect(late?.reasons[0]?.message).toContain('"SET.d2" (written earlier in this run)');
  });

  it("a user keyOf collision across batches keeps the first record and rejects the later one", async () => {
    const s = setup(
      [
        customer(1, { sharedSetCode: "SS1", customerCode: "X.Y", ...names(1) }),
        customer(3),
        customer(2, { sharedSetCode: "SS1.X", customerCode: "Y", ...names(2) }),
      ],
      { batchSize: 2, keyOf: (c) => `${c.sharedSetCode}.${c.customerCode}` },
    );
    const { rows } = await run(s);
    expect(s.marketo.companies.get("SS1.X.Y")?.company).toBe("Customer 1 Inc");
    const [late] = rows.filter((r) => r.outcome === "rejected");
    expect(late?.reasons[0]?.code).toBe("key_collision");
    expect(late?.reasons[0]?.message).toContain("customer SS1.X%2EY, written earlier in this run");
  });

  it("rows colliding inside a batch keep later batches with that key rejected too", async () => {
    const s = setup(
      [customer(2, { customerCode: "d2" }), customer(2, { customerCode: "D2" }), customer(2, { customerCode: "d2" })],
      {
        batchSize: 2,
      },
    );
    const { rows } = await run(s);
    expect(s.marketo.companies.size).toBe(0);
    const rejected = rows.filter((r) => r.outcome === "rejected");
    expect(rejected).toHaveLength(3);
    expect(rejected[2]?.reasons[0]?.message).toContain("rejected earlier in this run");
  });

  it("the same record read again in a later batch is written again, not rejected", async () => {
    const s = setup([customer(4, { name: "Old" }), customer(5), customer(4, { name: "New" })], { batchSize: 2 });
    const { rows } = await run(s);
    expect(s.marketo.companies.get("SET.C4")?.company).toBe("New");
    expect(rows.filter((r) => r.outcome === "rejected")).toHaveLength(0);
  });
});
