import { MarketoClient } from "@ml/marketo-client";
import { startMarketoSimulator } from "@ml/marketo-client/testing";
import { expect, it } from "vitest";

// The failure seen with an existing npm client against Marketo's real limits: 300 batches at once asked for 300
// tokens and lost 45% of the records to 606/615. Same load here, against the simulator's real (time-scaled) limits.
it("300 sync batches fired at once: one token, zero 606/615, every record written once", async () => {
  const sim = await startMarketoSimulator({ timeScale: 0.02, latencyMs: 5 });
  try {
    // usageSync off: its background stats call would make the two call counts below race.
    const mk = new MarketoClient({ ...sim.clientOptions, usageSync: false });
    const batches = Array.from({ length: 300 }, (_, b) =>
      Array.from({ length: 10 }, (_, i) => ({ externalCompanyId: `B${b}-R${i}`, company: `Company ${b}/${i}` })),
    );
    const results = await Promise.all(batches.map((input) => mk.companies.sync({ input })));
    const all = results.flatMap((r) => r.results);
    expect(all).toHaveLength(3000);
    expect(all.every((r) => r.status === "created")).toBe(true);
    const i = sim.inspect();
    expect(i.tokenRequests).toBe(1);
    expect(i.violations).toEqual({ total: 0, "606": 0, "615": 0, "607": 0 });
    expect(i.records.companies).toBe(3000);
    expect(i.duplicates.companies).toBe(0);
    // 300 requests; on a loaded machine a kept-alive connection can be reset and an idempotent upsert sent again.
    expect(i.callsByEndpoint["POST /rest/v1/companies.json"]).toBeGreaterThanOrEqual(300);
    expect(i.callsByEndpoint["POST /rest/v1/companies.json"]).toBeLessThanOrEqual(303);
    expect(mk.quota().callsMade).toBe(i.totalCalls);
  } finally {
    await sim.close();
  }
}, 30_000);
