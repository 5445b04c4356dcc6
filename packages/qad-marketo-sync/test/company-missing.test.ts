import { MarketoClient } from "@ml/marketo-client";
import { type MarketoSimulator, startMarketoSimulator } from "@ml/marketo-client/testing";
import { QadClient } from "@ml/qad-client";
import { type QadSimulator, startQadSimulator } from "@ml/qad-client/testing";
import { afterEach, describe, expect, it } from "vitest";
import { createMemoryStore, createSync, marketoGateway, qadCustomerSource, type RunOutcome } from "../src/index.js";

const summaryOf = (o: RunOutcome) => {
  if (o.status === "alreadyRunning") throw new Error("unexpected alreadyRunning");
  return o.summary;
};

let open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const s of open) await s.close();
  open = [];
});

interface SourceCustomer {
  customerCode: string;
  sharedSetCode: string;
  name: string;
  contacts: { email?: string }[];
}

async function env() {
  const qadSim: QadSimulator = await startQadSimulator({ customers: 60, seed: 7 });
  const mkSim: MarketoSimulator = await startMarketoSimulator({ timeScale: 0.01, latencyMs: 0, crmSync: true });
  open.push(qadSim, mkSim);
  const store = createMemoryStore();
  const sync = createSync({
    source: qadCustomerSource(new QadClient({ ...qadSim.clientOptions })),
    marketo: marketoGateway(new MarketoClient({ ...mkSim.clientOptions }), { bulkFirstPull: false }),
    store,
    readBack: false,
    readOnlyRecheckMs: 0,
  });
  const customers = (qadSim.data.customers() as unknown as SourceCustomer[]).filter(
    (c) => typeof c.name === "string" && c.name.trim() !== "" && c.contacts.some((x) => typeof x.email === "string"),
  );
  const keyOf = (c: SourceCustomer) => `${c.sharedSetCode}.${c.customerCode}`;
  // The CRM sync created the companies of every other customer; the rest do not exist in Marketo.
  const existing = customers.filter((_, i) => i % 2 === 0);
  const missing = customers.filter((_, i) => i % 2 === 1);
  mkSim.data.companies.seed(existing.map((c) => ({ externalCompanyId: keyOf(c), company: c.name })));
  const leadCompanies = () => mkSim.data.leads.all().map((l) => String(l["externalCompanyId"] ?? ""));
  return { qadSim, mkSim, store, sync, existing, missing, keyOf, leadCompanies };
}

describe("CRM-synced instance: leads of customers whose company does not exist in Marketo", () => {
  it("are held back (skipped, read_only + company_missing, carried forward), never sent; written once the company exists", async () => {
    const e = await env();
    expect(e.missing.length).toBeGreaterThan(5);
    const outcome = await e.sync.runOnce();
    const s = summaryOf(outcome);
    expect(outcome.status).toBe("completed");
    expect(s.readOnly.map((r) => r.object)).toContain("companies");

    // No lead went out with the externalCompanyId of a company Marketo does not have.
    const missingKeys = new Set(e.missing.map(e.keyOf));
    const existingKeys = new Set(e.existing.map(e.keyOf));
    expect(e.leadCompanies().filter((k) => missingKeys.has(k))).toEqual([]);
    // Leads of existing companies were written with their company link.
    for (const k of existingKeys) expect(e.leadCompanies()).toContain(k);

    const rows = await e.store.queryAudit({ tenant: "default", kinds: ["lead"] });
    // Contacts the planner passed over (no email: no payload) never reach the company check.
    const held = rows.filter((r) => missingKeys.has(r.sourceKey) && r.payload !== undefined);
    expect(held.length).toBeGreaterThanOrEqual(e.missing.length);
    for (const r of held) {
      expect(r.outcome).toBe("skipped");
      expect(r.reasons[0]?.code).toBe("read_only");
      expect(r.reasons.map((x) => x.code)).toContain("company_missing");
      expect(r.reasons.find((x) => x.code === "company_missing")?.message).toContain(r.sourceKey);
    }
    for (const r of rows.filter((x) => existingKeys.has(x.sourceKey) && x.payload !== undefined)) {
      expect(r.outcome).toBe("created");
    }
    const carried = await e.sync.carried({ state: "pending" });
    expect(
      carried
        .filter((c) => c.kind === "lead")
        .map((c) => c.sourceKey)
        .sort(),
    ).toEqual(held.map((r) => r.sourceKey).sort());

    // A run with nothing new changes nothing: the held leads stay held, still not sent.
    await e.sync.runOnce();
    expect(e.leadCompanies().filter((k) => missingKeys.has(k))).toEqual([]);

    // The CRM creates the missing companies: the next run writes the held leads, linked.
    e.mkSim.data.companies.seed(e.missing.map((c) => ({ externalCompanyId: e.keyOf(c), company: c.name })));
    await e.sync.runOnce();
    for (const k of missingKeys) expect(e.leadCompanies()).toContain(k);
    expect((await e.sync.carried({ state: "pending" })).filter((c) => c.kind === "lead")).toEqual([]);
  });

  it("when companies become writable, the company is written and then its held lead", async () => {
    const e = await env();
    await e.sync.runOnce();
    const missingKeys = new Set(e.missing.map(e.keyOf));
    expect(e.leadCompanies().filter((k) => missingKeys.has(k))).toEqual([]);
    e.mkSim.setCrmSync(false);
    await e.sync.runOnce();
    const companies = new Set(e.mkSim.data.companies.all().map((c) => String(c["externalCompanyId"])));
    for (const k of missingKeys) {
      expect(companies.has(k)).toBe(true);
      expect(e.leadCompanies()).toContain(k);
    }
    expect((await e.sync.carried({ state: "pending" })).filter((c) => c.kind === "lead")).toEqual([]);
  });
});
