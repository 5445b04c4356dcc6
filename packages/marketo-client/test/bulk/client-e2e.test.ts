/**
 * The bulk extract through the real client (transport, auth, limiter) against the full Marketo simulator server.
 */
import { MarketoBulkQuotaError, MarketoClient } from "@ml/marketo-client";
import { type MarketoSimulator, startMarketoSimulator } from "@ml/marketo-client/testing";
import { afterEach, describe, expect, it } from "vitest";

let sim: MarketoSimulator | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

const TS = 0.001; // one simulated minute = 60 real ms
const poll = { initialDelayMs: 60_000 * TS, maxDelayMs: 60_000 * TS };
const DAY = 86_400_000;
const START = Date.UTC(2026, 0, 1);
const AWKWARD = ['quoted "multi"\nline, value', "ls\u2028ps\u2029", null, "tab\there", "ünï 😀"];

function seedLeads(s: MarketoSimulator, n: number) {
  return s.data.leads.seed(
    Array.from({ length: n }, (_, i) => ({
      email: `bulk${i}@example.com`,
      firstName: `First${i}`,
      lastName: AWKWARD[i % AWKWARD.length],
      title: i % 3 === 0 ? null : `Title ${i}`,
      createdAt: new Date(START + i * (DAY / 2)).toISOString(),
      updatedAt: new Date(START + i * (DAY / 2) + 1000).toISOString(),
    })),
  );
}

function asRow(rec: Record<string, unknown>, keys: string[]): Record<string, string | null> {
  const out: Record<string, string | null> = {};
  for (const k of keys) out[k] = rec[k] === null || rec[k] === undefined ? null : String(rec[k]);
  return out;
}

describe("mk.bulk over the full simulator", () => {
  it("extracts every lead of a 50-day range (2 jobs), fields from describe, awkward values intact", async () => {
    sim = await startMarketoSimulator({ timeScale: TS });
    const seeded = seedLeads(sim, 100);
    const mk = new MarketoClient({ ...sim.clientOptions });
    const fields = (await mk.leads.describe()).flatMap((f) => (f.rest?.name ? [f.rest.name] : []));
    const rows = [];
    for await (const row of mk.bulk.leads.extract(
      { filter: { createdAt: { startAt: new Date(START), endAt: new Date(START + 50 * DAY) } } },
      { poll },
    )) {
      rows.push(row);
    }
    expect(Object.keys(rows[0] ?? {})).toEqual(fields);
    const sorted = [...seeded].sort((a, b) => String(a["createdAt"]).localeCompare(String(b["createdAt"])));
    expect(rows).toEqual(sorted.map((r) => asRow(r, fields)));
    expect(sim.bulk.inspect().jobs).toHaveLength(2);
    expect(sim.inspect().violations.total).toBe(0);
    // The job list goes through the client's transport with its query string.
    const completed = await mk.bulk.leads.jobs({ status: ["Completed"] });
    expect(completed.map((j) => j.exportId).sort()).toEqual(
      sim.bulk
        .inspect()
        .jobs.map((j) => j.exportId)
        .sort(),
    );
    expect(await mk.bulk.leads.jobs({ status: ["Failed"] })).toEqual([]);
  });

  it("resumes a dropped download with Range through the client's transport", async () => {
    sim = await startMarketoSimulator({ timeScale: TS, bulk: { faults: { dropConnectionAfterBytes: 1_000 } } });
    seedLeads(sim, 60);
    const mk = new MarketoClient({ ...sim.clientOptions });
    const rows = [];
    for await (const row of mk.bulk.leads.extract(
      {
        fields: ["email", "lastName"],
        filter: { createdAt: { startAt: new Date(START), endAt: new Date(START + 30 * DAY) } },
      },
      { poll },
    )) {
      rows.push(row);
    }
    expect(rows).toHaveLength(60);
    expect(new Set(rows.map((r) => r["email"])).size).toBe(60);
    const files = sim.bulk.inspect().fileRequests;
    expect(files).toHaveLength(2);
    const size = sim.bulk.inspect().jobs[0]?.fileSize as number;
    const m = /^bytes=(\d+)-(\d+)$/.exec(files[1]?.range ?? "");
    expect(Number(m?.[1])).toBeGreaterThan(0);
    expect(Number(m?.[1])).toBeLessThanOrEqual(1_000);
    expect(Number(m?.[2])).toBe(size - 1);
    expect(files[1]?.status).toBe(206);
  });

  it("stops on the daily export quota with a state, and resumes after the reset without duplicates", async () => {
    sim = await startMarketoSimulator({ timeScale: TS, bulk: { dailyQuotaBytes: 500 } });
    seedLeads(sim, 90);
    const mk = new MarketoClient({ ...sim.clientOptions });
    const params = {
      fields: ["email"],
      filter: { createdAt: { startAt: new Date(START), endAt: new Date(START + 45 * DAY) } },
    };
    const got: string[] = [];
    let state: unknown;
    try {
      for await (const row of mk.bulk.leads.extract(params, { poll })) got.push(row["email"] as string);
    } catch (e) {
      expect(e).toBeInstanceOf(MarketoBulkQuotaError);
      state = (e as MarketoBulkQuotaError).state;
    }
    expect(state).toBeDefined();
    expect(got.length).toBeGreaterThan(0);
    expect(got.length).toBeLessThan(90);
    sim.bulk.resetDailyQuota();
    for await (const row of mk.bulk.leads.extract(params, { poll, resumeFrom: JSON.parse(JSON.stringify(state)) })) {
      got.push(row["email"] as string);
    }
    expect(got).toHaveLength(90);
    expect(new Set(got).size).toBe(90);
  });

  it("extracts activities of one type by name over 40 days (2 jobs), attributes as JSON", async () => {
    sim = await startMarketoSimulator({ timeScale: TS });
    sim.data.activities.seed(
      Array.from({ length: 80 }, (_, i) => ({
        leadId: 1 + (i % 7),
        activityTypeId: i % 2 === 0 ? 1 : 10,
        activityDate: new Date(START + i * (DAY / 2)).toISOString(),
        primaryAttributeValueId: 500 + i,
        primaryAttributeValue: `page, "${i}"\nsecond line`,
        attributes: [{ name: "Client IP Address", value: `10.1.0.${i}` }],
      })),
    );
    const mk = new MarketoClient({ ...sim.clientOptions });
    const rows = [];
    for await (const row of mk.bulk.activities.extract(
      {
        activityTypes: ["Visit Webpage"],
        filter: { createdAt: { startAt: new Date(START), endAt: new Date(START + 40 * DAY) } },
      },
      { poll },
    )) {
      rows.push(row);
    }
    expect(rows).toHaveLength(40);
    expect(rows.every((r) => r["activityTypeId"] === "1")).toBe(true);
    expect(rows[1]?.["primaryAttributeValue"]).toBe('page, "2"\nsecond line');
    expect(JSON.parse(rows[1]?.["attributes"] as string)).toEqual({ "Client IP Address": "10.1.0.2" });
    expect(sim.bulk.inspect().jobs.map((j) => j.filter["activityTypeIds"])).toEqual([[1], [1]]);
  });
});
