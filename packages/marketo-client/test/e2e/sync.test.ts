import { MarketoClient, MarketoSyncIncompleteError } from "@ml/marketo-client";
import { type MarketoSimulator, startMarketoSimulator } from "@ml/marketo-client/testing";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

let sim: MarketoSimulator;
let mk: MarketoClient;
beforeEach(async () => {
  sim = await startMarketoSimulator({ timeScale: 0.02 });
  mk = new MarketoClient({ ...sim.clientOptions, usageSync: false });
});
afterEach(async () => {
  await sim.close();
});

describe("writes: batches, per-record results, duplicates", () => {
  it("partial batch results reach the caller record by record", async () => {
    sim.data.companies.seed([{ externalCompanyId: "EXIST", company: "Old" }]);
    const r = await mk.companies.sync({
      action: "createOnly",
      input: [
        { externalCompanyId: "A", company: "Acme" },
        { externalCompanyId: "B", numberOfEmployees: "many" }, // invalid integer → 1003
        { externalCompanyId: "EXIST", company: "New" }, // createOnly on existing → 1017
        { company: "no key" }, // missing dedupe field → 1003
        { externalCompanyId: "C", externalSalesPersonId: "SP-unknown" }, // 718
      ],
    });
    expect(r.results.map((x) => [x.index, x.status, x.reasons[0]?.code])).toEqual([
      [0, "created", undefined],
      [1, "skipped", "1003"],
      [2, "skipped", "1017"],
      [3, "skipped", "1003"],
      [4, "skipped", "718"],
    ]);
    expect(r.results[0]!.id).toBeTypeOf("number");
    expect(r.requestIds).toHaveLength(1);
  });

  it("350 records go as 300 + 50 and come back in input order with their index", async () => {
    const input = Array.from({ length: 350 }, (_, i) => ({ externalCompanyId: `X-${i}`, company: `Co ${i}` }));
    const r = await mk.companies.sync({ input });
    expect(sim.inspect().callsByEndpoint["POST /rest/v1/companies.json"]).toBe(2);
    expect(r.requestIds).toHaveLength(2);
    expect(r.results).toHaveLength(350);
    expect(r.results.map((x) => x.index)).toEqual(input.map((_, i) => i));
    expect(r.results.every((x) => x.status === "created")).toBe(true);
    // seq is the position inside its request: 0..299 then 0..49
    expect(r.results[299]!.seq).toBe(299);
    expect(r.results[300]!.seq).toBe(0);
    // ids map back to the right records
    const stored = sim.data.companies.find("externalCompanyId", "X-321")[0]!;
    expect(r.results[321]!.id).toBe(stored.id);
  });

  it("duplicate externalCompanyId in one batch never creates duplicates (last write wins)", async () => {
    const r = await mk.companies.sync({
      input: [
        { externalCompanyId: "D-1", company: "first" },
        { externalCompanyId: "D-2", company: "other" },
        { externalCompanyId: "D-1", company: "second" },
        { externalCompanyId: "d-1 ", company: "case variant" }, // Marketo matches it too: the server answers 1036
      ],
    });
    expect(r.results[0]).toMatchObject({ status: "skipped", reasons: [{ code: "1036" }] });
    expect(r.results[0]!.reasons[0]!.message).toMatch(/last write wins/);
    expect(r.results[1]!.status).toBe("created");
    expect(r.results[2]!.status).toBe("created");
    // Sent again alone after the server's 1036: it updates the record created from index 2.
    expect(r.results[3]!.status).toBe("updated");
    expect(r.results[3]!.id).toBe(r.results[2]!.id);
    const i = sim.inspect();
    expect(i.duplicates.companies).toBe(0);
    expect(i.records.companies).toBe(2);
    expect(sim.data.companies.find("externalCompanyId", "D-1")[0]!.company).toBe("case variant");
    expect(i.callsByEndpoint["POST /rest/v1/companies.json"]).toBe(2);
  });

  it("the simulator itself answers 1036 for a duplicate inside one request", async () => {
    const res = await mk.transport.request<{ status: string; reasons?: { code: string }[] }>({
      method: "POST",
      api: "rest",
      path: "/v1/companies.json",
      body: {
        action: "createOrUpdate",
        dedupeBy: "dedupeFields",
        input: [{ externalCompanyId: "Q" }, { externalCompanyId: "Q" }],
      },
      retry: "safe",
    });
    expect(res.result.map((x) => x.reasons?.[0]?.code ?? x.status)).toEqual(["created", "1036"]);
    expect(sim.inspect().duplicates.companies).toBe(0);
  });

  it("named accounts dedupe by name; leads by lookupField; sales persons before companies", async () => {
    const na = await mk.namedAccounts.sync({
      input: [{ name: "Acme" }, { name: "Beta" }, { name: "Acme", city: "Paris" }],
    });
    expect(na.results.map((x) => x.status)).toEqual(["skipped", "created", "created"]);
    expect(na.results[2]!.marketoGUID).toBeTypeOf("string");
    expect(sim.data.namedAccounts.find("name", "acme")[0]!.city).toBe("Paris");

    const sp = await mk.salesPersons.sync({ input: [{ externalSalesPersonId: "SP-1", email: "sp1@example.com" }] });
    expect(sp.results[0]!.status).toBe("created");
    const co = await mk.companies.sync({ input: [{ externalCompanyId: "K-1", externalSalesPersonId: "SP-1" }] });
    expect(co.results[0]!.status).toBe("created");

    const leads = await mk.leads.sync({
      lookupField: "email",
      input: [
        { email: "a@example.com", firstName: "A" },
        { email: "b@example.com", externalCompanyId: "K-1" },
        { email: "not-an-email" },
      ],
    });
    expect(leads.results.map((x) => x.status)).toEqual(["created", "created", "skipped"]);
    expect(leads.results[2]!.reasons[0]!.code).toBe("1003");
    const upd = await mk.leads.sync({
      action: "updateOnly",
      input: [{ email: "a@example.com", lastName: "Z" }, { email: "zz@example.com" }],
    });
    expect(upd.results.map((x) => [x.status, x.reasons[0]?.code])).toEqual([
      ["updated", undefined],
      ["skipped", "1004"],
    ]);
    const found = await mk.leads
      .get({ filterType: "email", filterValues: ["a@example.com"], fields: ["email", "lastName"] })
      .toArray();
    expect(found).toEqual([expect.objectContaining({ email: "a@example.com", lastName: "Z" })]);
    expect(Object.values(sim.inspect().duplicates).every((n) => n === 0)).toBe(true);
  });

  it("opportunities and roles sync, read back and delete", async () => {
    const opp = await mk.opportunities.sync({
      input: [{ externalOpportunityId: "O-1", name: "Deal", amount: 1000, externalCompanyId: "K-1" }],
    });
    expect(opp.results[0]!.status).toBe("created");
    const lead = await mk.leads.sync({ input: [{ email: "r@example.com" }] });
    const roles = await mk.opportunities.roles.sync({
      input: [{ externalOpportunityId: "O-1", leadId: lead.results[0]!.id!, role: "Buyer", isPrimary: true }],
    });
    expect(roles.results[0]!.status).toBe("created");
    const got = await mk.opportunities.get({ filterType: "externalCompanyId", filterValues: ["K-1"] }).toArray();
    expect(got).toHaveLength(1);
    expect(got[0]!.amount).toBe(1000);
    const del = await mk.opportunities.delete({
      input: [{ externalOpportunityId: "O-1" }, { externalOpportunityId: "nope" }],
    });
    expect(del.results.map((x) => x.status)).toEqual(["deleted", "skipped"]);
    expect(sim.data.opportunities.count()).toBe(0);
  });

  it("describe returns fields with updateable flags", async () => {
    const d = await mk.companies.describe();
    expect(d.dedupeFields).toEqual(["externalCompanyId"]);
    expect(d.fields.find((f) => f.name === "company")?.updateable).toBe(true);
    const lf = await mk.leads.describe();
    expect(lf.find((f) => f.rest?.name === "email")?.dataType).toBe("email");
    const d2 = await mk.leads.describe2();
    expect(d2.fields.some((f) => f.crmManaged === true)).toBe(false);
  });

  it("a batch failing after retries while another succeeds loses nothing: MarketoSyncIncompleteError", async () => {
    const input = Array.from({ length: 310 }, (_, i) => ({ externalCompanyId: `P-${i}` }));
    // One of the two requests meets a fatal envelope error (610 is not retried).
    sim.faults.inject({ code: 610, times: 1, path: "/rest/v1/companies.json" });
    const error = await mk.companies.sync({ input }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MarketoSyncIncompleteError);
    const e = error as MarketoSyncIncompleteError;
    expect(e.code).toBe("610");
    expect(e.partial.results.length + e.failedIndexes.length).toBe(310);
    expect(new Set([...e.partial.results.map((r) => r.index), ...e.failedIndexes]).size).toBe(310);
    expect(sim.data.companies.count()).toBe(e.partial.results.length);
  });
});
