import { describe, expect, it } from "vitest";
import { type AccountContext, arraySource, createMemoryStore, createSync, type RunOutcome } from "../src/index.js";
import { customers } from "./support/customers.js";
import { FakeGateway } from "./support/fake-gateway.js";

const summaryOf = (o: RunOutcome) => {
  if (o.status === "alreadyRunning") throw new Error("unexpected alreadyRunning");
  return o.summary;
};

describe("read-back into account contexts", () => {
  it("folds opportunities, owner sales person and lead activity per externalCompanyId, and emits them", async () => {
    const marketo = new FakeGateway();
    marketo.opportunities = [
      {
        id: "o1",
        externalCompanyId: "SET.C1",
        amount: 1000,
        isClosed: false,
        externalSalesPersonId: "SP9",
        name: "Renewal",
      },
      { id: "o2", externalCompanyId: "SET.C1", amount: 5000, isClosed: false, externalSalesPersonId: "SP7" },
      { id: "o3", externalCompanyId: "SET.C1", amount: 200, isClosed: true, isWon: true },
      { id: "o4", externalCompanyId: "OTHER", amount: 9, isClosed: false },
    ];
    marketo.salesPersonInfo = [{ externalSalesPersonId: "SP7", email: "seven@corp.example", firstName: "Sev" }];
    const store = createMemoryStore();
    const sync = createSync({ source: arraySource(customers(3)), marketo, store });
    const emitted: AccountContext[] = [];
    sync.on("accountContext", (c) => emitted.push(c));
    // Activities arrive after the leads exist (their Marketo ids come from the write results).
    const s1 = summaryOf(await sync.runOnce());
    expect(s1.contextsUpdated).toBeGreaterThan(0);
    const ctx1 = await sync.accountContext("SET.C1");
    expect(ctx1?.openOpportunities).toEqual({ count: 2, amount: 6000 });
    expect(ctx1?.wonOpportunities).toEqual({ count: 1, amount: 200 });
    expect(ctx1?.owner).toEqual({ externalSalesPersonId: "SP7", email: "seven@corp.example", firstName: "Sev" });
    expect(emitted.map((c) => c.externalCompanyId)).toContain("SET.C1");

    const leadId = marketo.leads.get("pat2@customer2.example")?.id as number;
    marketo.activityLog.push(
      { id: "101", leadId, activityDate: "2026-11-20T10:00:00Z", activityTypeId: 1 },
      { id: "102", leadId, activityDate: "2026-11-21T10:00:00Z", activityTypeId: 2 },
      { id: "103", leadId, activityDate: "2026-11-19T10:00:00Z", activityTypeId: 1 },
      { id: "104", leadId: 999_999, activityDate: "2026-11-21T10:00:00Z", activityTypeId: 1 },
    );
    const r = await sync.refreshAccountContexts([]);
    expect(r).toMatchObject({ activities: 4, activitiesMatched: 3 });
    const ctx2 = await sync.accountContext("SET.C2");
    expect(ctx2?.activityCounts).toEqual({ "Visit Webpage": 2, "Fill Out Form": 1 });
    expect(ctx2?.lastEngagementAt).toBe("2026-11-21T10:00:00Z");
    // The activity checkpoint was saved: a second refresh counts nothing twice.
    expect(await store.getCheckpoint("default", "activities")).toBe("4");
    await sync.refreshAccountContexts([]);
    expect((await sync.accountContext("SET.C2"))?.activityCounts).toEqual({ "Visit Webpage": 2, "Fill Out Form": 1 });
  });

  it("uses the bulk extract for the first activity pull when asked to and the gateway offers it", async () => {
    const marketo = new FakeGateway();
    let bulkCalls = 0;
    const sync = createSync({
      source: arraySource(customers(1)),
      marketo,
      store: createMemoryStore(),
      readBack: { opportunities: false, bulkFirstPull: true },
    });
    marketo.extractActivities = async function* () {
      bulkCalls++;
      const leadId = marketo.leads.get("pat1@customer1.example")?.id as number;
      yield { id: "5", leadId, activityDate: "2026-11-01T00:00:00Z", activityTypeId: 1 };
    };
    summaryOf(await sync.runOnce());
    expect(bulkCalls).toBe(1);
    expect((await sync.accountContext("SET.C1"))?.activityCounts).toEqual({ "Visit Webpage": 1 });
    summaryOf(await sync.runOnce());
    expect(bulkCalls).toBe(1);
  });
});
