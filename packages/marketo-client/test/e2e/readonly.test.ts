import { MarketoClient, MarketoReadOnlyError } from "@ml/marketo-client";
import { type MarketoSimulator, startMarketoSimulator } from "@ml/marketo-client/testing";
import { afterEach, describe, expect, it } from "vitest";

let sim: MarketoSimulator | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

describe("read-only detection (native CRM sync)", () => {
  it("a record-level 1018 flips the capability to read-only; later writes are not sent", async () => {
    sim = await startMarketoSimulator({ timeScale: 0.02, crmSync: true });
    const mk = new MarketoClient({ ...sim.clientOptions, usageSync: false });
    const first = await mk.companies.sync({ input: [{ externalCompanyId: "A" }, { externalCompanyId: "B" }] });
    expect(first.results.map((r) => [r.status, r.reasons[0]?.code])).toEqual([
      ["skipped", "1018"],
      ["skipped", "1018"],
    ]);
    expect(await mk.capabilities.get("companies")).toMatchObject({
      object: "companies",
      writable: false,
      source: "1018",
    });
    const calls = sim.inspect().totalCalls;
    const again = await mk.companies.sync({ input: [{ externalCompanyId: "C" }] });
    expect(again.results[0]).toMatchObject({ status: "skipped", reasons: [{ code: "1018" }] });
    expect(sim.inspect().totalCalls).toBe(calls); // nothing sent
    // Leads stay writable; other objects are not affected by what was learned about companies.
    expect((await mk.leads.sync({ input: [{ email: "x@example.com" }] })).results[0]!.status).toBe("created");
    expect(sim.data.companies.count()).toBe(0);
  });

  it("a response-level 1018 throws MarketoReadOnlyError naming the object, then fails fast", async () => {
    sim = await startMarketoSimulator({ timeScale: 0.02, crmSync: true, crmReadOnlyLevel: "response" });
    const mk = new MarketoClient({ ...sim.clientOptions, usageSync: false });
    const error = await mk.salesPersons.sync({ input: [{ externalSalesPersonId: "S" }] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MarketoReadOnlyError);
    expect((error as MarketoReadOnlyError).object).toBe("salesPersons");
    expect((error as MarketoReadOnlyError).code).toBe("1018");
    expect(sim.inspect().callsByEndpoint["POST /rest/v1/salespersons.json"]).toBe(1); // not retried
    expect(await mk.capabilities.get("salesPersons")).toMatchObject({ writable: false, source: "1018" });
    await expect(mk.salesPersons.sync({ input: [{ externalSalesPersonId: "S" }] })).rejects.toBeInstanceOf(
      MarketoReadOnlyError,
    );
    expect(sim.inspect().callsByEndpoint["POST /rest/v1/salespersons.json"]).toBe(1);
  });

  it("refresh forgets a learned 1018: once the CRM sync is off, writes go through again", async () => {
    sim = await startMarketoSimulator({ timeScale: 0.02, crmSync: true });
    const mk = new MarketoClient({ ...sim.clientOptions, usageSync: false });
    await mk.companies.sync({ input: [{ externalCompanyId: "A" }] });
    expect(await mk.capabilities.get("companies")).toMatchObject({ writable: false, source: "1018" });
    sim.setCrmSync(false);
    // Without refresh the learned state stands.
    expect(await mk.capabilities.get("companies")).toMatchObject({ writable: false, source: "1018" });
    expect(await mk.capabilities.get("companies", { refresh: true })).toMatchObject({
      writable: true,
      source: "probe",
    });
    const again = await mk.companies.sync({ input: [{ externalCompanyId: "A" }] });
    expect(again.results[0]?.status).toBe("created");
    expect(sim.data.companies.count()).toBe(1);
  });

  it("probes describe before any write: updateable:false everywhere means read-only (inferred)", async () => {
    sim = await startMarketoSimulator({ timeScale: 0.02, crmSync: true });
    const mk = new MarketoClient({ ...sim.clientOptions, usageSync: false });
    const cap = await mk.capabilities.get("opportunities");
    expect(cap).toMatchObject({ object: "opportunities", writable: false, source: "probe" });
    expect(cap.reason).toMatch(/updateable/);
    // Cached: a second get makes no call.
    const calls = sim.inspect().totalCalls;
    await mk.capabilities.get("opportunities");
    expect(sim.inspect().totalCalls).toBe(calls);
  });

  it("without CRM sync the probe says writable", async () => {
    sim = await startMarketoSimulator({ timeScale: 0.02 });
    const mk = new MarketoClient({ ...sim.clientOptions, usageSync: false });
    expect(await mk.capabilities.get("companies")).toMatchObject({ writable: true, source: "probe" });
    expect(await mk.capabilities.get("salesPersons")).toMatchObject({ writable: true, source: "probe" });
  });

  it("falls back to leads describe2 crmManaged when describe is unavailable, and to default when nothing answers", async () => {
    sim = await startMarketoSimulator({ timeScale: 0.02, crmSync: true });
    const mk = new MarketoClient({ ...sim.clientOptions, usageSync: false, retry: { maxRetries: 0 } });
    sim.faults.inject({ code: 610, path: "/rest/v1/companies/describe.json", times: 1 });
    const cap = await mk.capabilities.get("companies");
    expect(cap).toMatchObject({ writable: false, source: "probe" });
    expect(cap.reason).toMatch(/crmManaged/);
    sim.faults.inject({ code: 610, times: 2 });
    expect(await mk.capabilities.get("salesPersons")).toMatchObject({ writable: true, source: "default" });
  });
});
