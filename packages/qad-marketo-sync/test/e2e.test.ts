import { MarketoClient } from "@ml/marketo-client";
import { type MarketoSimulator, startMarketoSimulator } from "@ml/marketo-client/testing";
import { QadClient } from "@ml/qad-client";
import { type QadSimulator, startQadSimulator } from "@ml/qad-client/testing";
import { afterEach, describe, expect, it } from "vitest";
import {
  type AuditStore,
  createMemoryStore,
  createSync,
  extendMapping,
  marketoGateway,
  qadCustomerSource,
  type RunOutcome,
  type Sync,
} from "../src/index.js";

const summaryOf = (o: RunOutcome) => {
  if (o.status === "alreadyRunning") throw new Error("unexpected alreadyRunning");
  return o.summary;
};

const WRITE_PATHS = /\/rest\/v1\/(companies|namedaccounts|leads|salespersons|opportunities)\.json$/;

interface Env {
  qadSim: QadSimulator;
  mkSim: MarketoSimulator;
  mk: MarketoClient;
  store: AuditStore;
  sync: Sync;
  writeCalls(): number;
}

let open: Env[] = [];
afterEach(async () => {
  for (const e of open) {
    await e.qadSim.close();
    await e.mkSim.close();
  }
  open = [];
});

async function env(
  opts: {
    customers?: number;
    crmSync?: boolean;
    crmReadOnlyLevel?: "record" | "response";
    store?: AuditStore;
    bulk?: boolean;
  } = {},
): Promise<Env> {
  const qadSim = await startQadSimulator({ customers: opts.customers ?? 120, seed: 11 });
  const mkSim = await startMarketoSimulator({
    timeScale: 0.01,
    latencyMs: 0,
    crmSync: opts.crmSync ?? false,
    ...(opts.crmReadOnlyLevel ? { crmReadOnlyLevel: opts.crmReadOnlyLevel } : {}),
  });
  const mk = new MarketoClient({ ...mkSim.clientOptions });
  const store = opts.store ?? createMemoryStore();
  const sync = createSync({
    source: qadCustomerSource(new QadClient({ ...qadSim.clientOptions })),
    marketo: marketoGateway(mk, { bulkFirstPull: opts.bulk ?? false, bulkPoll: { initialDelayMs: 5, maxDelayMs: 20 } }),
    store,
    // The engine's bulk first pull is off by default; the bulk variant turns it on.
    ...(opts.bulk ? { readBack: { bulkFirstPull: true } } : {}),
  });
  const e: Env = {
    qadSim,
    mkSim,
    mk,
    store,
    sync,
    writeCalls: () => mkSim.callLog().filter((c) => c.method === "POST" && WRITE_PATHS.test(c.path)).length,
  };
  open.push(e);
  return e;
}

const validCustomers = (sim: QadSimulator) => sim.data.customers().filter((c) => c.name.trim() !== "");

describe("end to end: QAD simulator → engine → Marketo simulator over HTTP", () => {
  it("first run creates every customer once; an unchanged re-run makes zero writes; edits write only the changed", async () => {
    const e = await env({ customers: 650 });
    const customers = validCustomers(e.qadSim);
    const first = summaryOf(await e.sync.runOnce());
    expect(first.status).toBe("completed");
    expect(first.outcomes.company.created).toBe(customers.length);
    expect(first.outcomes.namedAccount.created).toBe(customers.length);
    const inspect = e.mkSim.inspect();
    expect(inspect.records.companies).toBe(customers.length);
    expect(inspect.records.namedAccounts).toBe(customers.length);
    expect(inspect.duplicates).toMatchObject({ companies: 0, namedAccounts: 0, leads: 0 });
    expect(inspect.violations.total).toBe(0);
    const stored = e.mkSim.data.companies.find(
      "externalCompanyId",
      `${customers[0]!.sharedSetCode}.${customers[0]!.customerCode}`,
    );
    expect(stored[0]).toMatchObject({ company: customers[0]!.name });
    // Full batches: ceil(650/300) company calls and as many named-account calls.
    const companyPosts = e.mkSim
      .callLog()
      .filter((c) => c.method === "POST" && c.path.endsWith("/companies.json")).length;
    expect(companyPosts).toBe(3);

    const writesAfterFirst = e.writeCalls();
    const second = summaryOf(await e.sync.runOnce());
    expect(second.status).toBe("completed");
    expect(e.writeCalls()).toBe(writesAfterFirst);
    expect(second.marketoWriteCalls).toBe(0);

    e.qadSim.advanceTime(60_000);
    const [a, b] = customers;
    e.qadSim.data.update(a!.customerCode, { telephone: "+1-999-555-0000" } as never);
    e.qadSim.data.update(b!.customerCode, { name: `${b!.name} Renamed` } as never);
    const third = summaryOf(await e.sync.runOnce());
    expect(third.outcomes.company.updated).toBe(2);
    expect(third.outcomes.namedAccount.updated).toBe(1);
    expect(third.outcomes.company.created).toBe(0);
    // One companies call, one named-account rename call, and one leads call when b's contacts carry its name.
    const bLeads = b!.contacts.filter((c) => c.email).length;
    expect(third.outcomes.lead.updated).toBe(bLeads);
    expect(third.marketoWriteCalls).toBe(bLeads > 0 ? 3 : 2);
    const after = e.mkSim.inspect();
    expect(after.records.namedAccounts).toBe(customers.length);
    expect(after.duplicates).toMatchObject({ companies: 0, namedAccounts: 0, leads: 0 });
  });

  it("running the same window twice (no saved state) never duplicates", async () => {
    const e = await env({ customers: 200 });
    summaryOf(await e.sync.runOnce());
    // A second engine with an empty store re-reads and re-writes the whole window.
    const again = createSync({
      source: qadCustomerSource(new QadClient({ ...e.qadSim.clientOptions })),
      marketo: marketoGateway(e.mk, { bulkFirstPull: false }),
      store: createMemoryStore(),
    });
    const s = summaryOf(await again.runOnce());
    expect(s.outcomes.company.updated).toBe(validCustomers(e.qadSim).length);
    const inspect = e.mkSim.inspect();
    expect(inspect.duplicates).toMatchObject({ companies: 0, namedAccounts: 0, leads: 0 });
    expect(inspect.records.companies).toBe(validCustomers(e.qadSim).length);
  });

  it("a CRM-synced instance: companies read, named accounts and leads written, every unwritten record explained", async () => {
    for (const level of ["record", "response"] as const) {
      const e = await env({ customers: 80, crmSync: true, crmReadOnlyLevel: level });
      const n = validCustomers(e.qadSim).length;
      const outcome = await e.sync.runOnce();
      const s = summaryOf(outcome);
      expect(outcome.status).toBe("completed");
      expect(s.outcomes.company.skipped).toBe(n);
      expect(s.outcomes.namedAccount.created).toBe(n);
      expect(s.outcomes.lead.created).toBeGreaterThan(0);
      expect(s.readOnly.map((r) => r.object)).toContain("companies");
      expect(e.mkSim.inspect().records.companies).toBe(0);
      expect(e.mkSim.callLog().some((c) => c.method === "GET" && c.path.endsWith("/companies.json"))).toBe(true);
      const rows = await e.store.queryAudit({ tenant: "default", kinds: ["company"] });
      expect(rows).toHaveLength(n);
      for (const r of rows) {
        expect(r.outcome).toBe("skipped");
        expect(r.reasons[0]?.message).toMatch(/read-only/);
      }
    }
  });

  it("survives injected 606, 615, 601 and 5xx faults with nothing lost", async () => {
    const e = await env({ customers: 700 });
    e.mkSim.faults.inject({ code: 606, probability: 0.15, path: "/rest/v1/" });
    e.mkSim.faults.inject({ code: 615, probability: 0.1, path: "/rest/v1/" });
    e.mkSim.faults.inject({ code: 601, times: 2, path: "/rest/v1/" });
    e.mkSim.faults.inject({ code: 502, probability: 0.1, path: "/rest/v1/" });
    const s = summaryOf(await e.sync.runOnce());
    expect(e.mkSim.inspect().faultsFired).toBeGreaterThan(0);
    const n = validCustomers(e.qadSim).length;
    // Anything a call could not deliver after the client's retries is recorded as failed, and replay delivers it.
    if (s.outcomes.company.failed + s.outcomes.namedAccount.failed + s.outcomes.lead.failed > 0) {
      e.mkSim.faults.clear();
      const r = summaryOf(await e.sync.replay({ runId: s.runId }));
      expect(r.outcomes.company.failed + r.outcomes.namedAccount.failed + r.outcomes.lead.failed).toBe(0);
    }
    const inspect = e.mkSim.inspect();
    expect(inspect.records.companies).toBe(n);
    expect(inspect.records.namedAccounts).toBe(n);
    expect(inspect.duplicates).toMatchObject({ companies: 0, namedAccounts: 0, leads: 0 });
  });

  it("rejects bad QAD records with reasons while the rest land", async () => {
    const e = await env({ customers: 60 });
    const [x, y] = validCustomers(e.qadSim);
    e.qadSim.data.corrupt(x!.customerCode, "missingName");
    e.qadSim.data.corrupt(y!.customerCode, "wrongTypes");
    const s = summaryOf(await e.sync.runOnce());
    expect(s.status).toBe("completed");
    expect(s.outcomes.customer.rejected).toBe(2);
    expect(s.outcomes.company.created).toBe(58);
    const rejected = await e.store.queryAudit({ tenant: "default", outcomes: ["rejected"], kinds: ["customer"] });
    expect(rejected.map((r) => r.key).sort()).toEqual(
      [`${x!.sharedSetCode}.${x!.customerCode}`, `${y!.sharedSetCode}.${y!.customerCode}`].sort(),
    );
    for (const r of rejected) expect(r.reasons[0]?.message).toMatch(/QAD row failed validation/);
    expect(e.mkSim.inspect().records.companies).toBe(58);
  });

  it("replay re-drives records that failed after the client's retries", async () => {
    const e = await env({ customers: 30 });
    e.mkSim.faults.inject({ code: 611, times: 50, path: "/rest/v1/companies.json", method: "POST" });
    const s = summaryOf(await e.sync.runOnce());
    expect(s.outcomes.company.failed).toBe(30);
    expect(e.mkSim.inspect().records.companies).toBe(0);
    e.mkSim.faults.clear();
    const r1 = summaryOf(await e.sync.replay({ runId: s.runId }));
    expect(r1.outcomes.company.created).toBe(30);
    const writes = e.writeCalls();
    const r2 = summaryOf(await e.sync.replay({ runId: s.runId }));
    expect(r2.outcomes.company.unchanged).toBe(30);
    expect(e.writeCalls()).toBe(writes);
    expect(e.mkSim.inspect().duplicates.companies).toBe(0);
    expect(e.mkSim.inspect().records.companies).toBe(30);
  });

  it("reads back opportunities, sales persons and lead activity into account contexts", async () => {
    for (const bulk of [false, true]) {
      const e = await env({ customers: 40, bulk });
      const first = validCustomers(e.qadSim).find((c) => c.contacts.some((x) => x.email));
      const key = `${first!.sharedSetCode}.${first!.customerCode}`;
      // Marketo already holds sales context for this account (as a CRM or sales team would put it there).
      e.mkSim.data.salesPersons.seed([
        { externalSalesPersonId: "SP-1", email: "owner@corp.example", firstName: "Olga" },
      ]);
      e.mkSim.data.opportunities.seed([
        {
          externalOpportunityId: "O-1",
          externalCompanyId: key,
          name: "Big deal",
          amount: 12000,
          isClosed: false,
          externalSalesPersonId: "SP-1",
        },
        { externalOpportunityId: "O-2", externalCompanyId: key, name: "Small deal", amount: 800, isClosed: false },
        {
          externalOpportunityId: "O-3",
          externalCompanyId: key,
          name: "Old deal",
          amount: 5000,
          isClosed: true,
          isWon: true,
        },
      ]);
      const contexts: string[] = [];
      e.sync.on("accountContext", (c) => contexts.push(c.externalCompanyId));
      const s1 = summaryOf(await e.sync.runOnce());
      expect(s1.status).toBe("completed");
      const ctx = await e.sync.accountContext(key);
      expect(ctx?.openOpportunities).toEqual({ count: 2, amount: 12800 });
      expect(ctx?.wonOpportunities).toEqual({ count: 1, amount: 5000 });
      expect(ctx?.owner).toMatchObject({ externalSalesPersonId: "SP-1", email: "owner@corp.example" });
      expect(contexts).toContain(key);

      // Leads of the account engage; the next read-back folds their activity in.
      const leads = e.mkSim.data.leads.find("externalCompanyId", key);
      expect(leads.length).toBeGreaterThan(0);
      const leadId = leads[0]!.id;
      e.mkSim.data.activities.seed([
        { leadId, activityTypeId: 1 },
        { leadId, activityTypeId: 1 },
        { leadId, activityTypeId: 2 },
      ]);
      await e.sync.refreshAccountContexts([]);
      const ctx2 = await e.sync.accountContext(key);
      expect(ctx2?.activityCounts).toEqual({ "Visit Webpage": 2, "Fill Out Form": 1 });
      expect(ctx2?.lastEngagementAt).toBeTruthy();
      // Resumed from the saved paging token: nothing is counted twice.
      await e.sync.refreshAccountContexts([]);
      expect((await e.sync.accountContext(key))?.activityCounts).toEqual({ "Visit Webpage": 2, "Fill Out Form": 1 });
      if (bulk)
        expect(e.mkSim.callLog().some((c) => c.path.includes("/bulk/v1/activities/export/create.json"))).toBe(true);
    }
  });

  it("writes mapped sales persons before the companies that reference them", async () => {
    const e = await env({ customers: 50 });
    const sync = createSync({
      source: qadCustomerSource(new QadClient({ ...e.qadSim.clientOptions })),
      marketo: marketoGateway(e.mk, { bulkFirstPull: false }),
      store: createMemoryStore(),
      readBack: false,
      mapping: extendMapping({
        salesPerson: (c) =>
          c.salespersonCode
            ? { externalSalesPersonId: c.salespersonCode, email: `${c.salespersonCode.toLowerCase()}@corp.example` }
            : undefined,
      }),
    });
    const s = summaryOf(await sync.runOnce());
    expect(s.status).toBe("completed");
    const people = e.mkSim.data.salesPersons.all();
    expect(people.length).toBeGreaterThan(0);
    expect(s.outcomes.salesPerson.created).toBe(people.length);
    const log = e.mkSim.callLog().filter((c) => c.method === "POST");
    const first = (path: string) => log.findIndex((c) => c.path.endsWith(path));
    expect(first("/salespersons.json")).toBeLessThan(first("/companies.json"));
    const withOwner = e.mkSim.data.companies.all().filter((c) => typeof c.externalSalesPersonId === "string");
    expect(withOwner.length).toBeGreaterThan(0);
    expect(e.mkSim.inspect().duplicates.salesPersons).toBe(0);
  });
});
