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
  const customers = qadSim.data
    .customers()
    .filter((c) => c.name.trim() !== "" && c.contacts.some((x) => typeof x.email === "string"));
  const keyOf = (c: SourceCustomer) => `${c.sharedSetCode}.${c.customerCode}`;
  // The CRM sync created the companies of every other customer; the rest do not exist in Marketo.
  const existing = customers.filter((_, i) => i % 2 === 0);
  const missing = customers.filter((_, i) => i % 2 === 1);
  mkSim.data.companies.seed(existing.map((c) => ({ externalCompanyId: keyOf(c), company: c.name })));
  const leadCompanies = () => mkSim.data.leads.all().map((l) => String(l["externalCompanyId"] ?? ""));
  return { qadSim, mkSim, store, sync, existing, missing, keyOf, leadCompanies };
}

describe("CRM-synced instance: leads of customers whose company does not exist in Marketo", () => {
  it("are sent without the company link, and their audit rows say so (company_missing); none is refused", async () => {
    const e = await env();
    expect(e.missing.length).toBeGreaterThan(5);
    const outcome = await e.sync.runOnce();
    const s = summaryOf(outcome);
    expect(outcome.status).toBe("completed");
    expect(s.readOnly.map((r) => r.object)).toContain("companies");
    expect(s.outcomes.lead.failed).toBe(0);

    // No lead went out with the externalCompanyId of a company Marketo does not have...
    const missingKeys = new Set(e.missing.map(e.keyOf));
    const existingKeys = new Set(e.existing.map(e.keyOf));
    expect(e.leadCompanies().filter((k) => missingKeys.has(k))).toEqual([]);
    // ...while leads of existing companies were written with their company link.
    for (const k of existingKeys) expect(e.leadCompanies()).toContain(k);

    // Contacts the planner passed over (no email: no payload) never reach the company check.
    const rows = (await e.store.queryAudit({ tenant: "default", kinds: ["lead"] })).filter((r) => r.payload);
    const unlinked = rows.filter((r) => missingKeys.has(r.sourceKey));
    expect(unlinked.length).toBeGreaterThanOrEqual(e.missing.length);
    for (const r of unlinked) {
      expect(r.outcome).toBe("created");
      expect(r.payload).not.toHaveProperty("externalCompanyId");
      const note = r.reasons.find((x) => x.code === "company_missing");
      expect(note?.message).toContain(r.sourceKey);
      expect(note?.message).toMatch(/without externalCompanyId/);
      // The contact is in Marketo.
      const email = String(r.payload?.email).toLowerCase();
      expect(e.mkSim.data.leads.all().some((l) => String(l["email"]).toLowerCase() === email)).toBe(true);
    }
    for (const r of rows.filter((x) => existingKeys.has(x.sourceKey))) {
      expect(r.outcome).toBe("created");
      expect(r.reasons.map((x) => x.code)).not.toContain("company_missing");
      expect(r.payload).toHaveProperty("externalCompanyId", r.sourceKey);
    }
  });

  it("once the company exists, the lead's next change carries the link", async () => {
    const e = await env();
    await e.sync.runOnce();
    const c = e.missing[0]!;
    const key = e.keyOf(c);
    expect(e.leadCompanies()).not.toContain(key);
    // The CRM creates the company; the customer changes in QAD.
    e.mkSim.data.companies.seed([{ externalCompanyId: key, company: c.name }]);
    e.qadSim.data.update(c.customerCode, { name: `${c.name} (renamed)` });
    await e.sync.runOnce();
    expect(e.leadCompanies()).toContain(key);
  });
});
