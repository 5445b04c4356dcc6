import { MarketoClient, MarketoValidationError } from "@ml/marketo-client";
import { type MarketoSimulator, startMarketoSimulator } from "@ml/marketo-client/testing";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

let sim: MarketoSimulator;
let mk: MarketoClient;
beforeEach(async () => {
  sim = await startMarketoSimulator({ timeScale: 0.02, activityPageScan: 50 });
  mk = new MarketoClient({ ...sim.clientOptions, usageSync: false });
});
afterEach(async () => {
  await sim.close();
});

function seedActivities(n: number) {
  const base = Date.parse("2026-01-01T00:00:00Z");
  return sim.data.activities.seed(
    Array.from({ length: n }, (_, i) => ({
      leadId: 1 + (i % 7),
      // Mostly type 1; every 10th is type 12, so pages of type 12 scanning 50 activities are short.
      activityTypeId: i % 10 === 0 ? 12 : 1,
      activityDate: new Date(base + i * 60_000).toISOString(),
      primaryAttributeValue: `page-${i}`,
    })),
  );
}

describe("paging", () => {
  it("activities loop while moreResult: short (even empty) pages still have more", async () => {
    seedActivities(400);
    const token = await mk.activities.pagingToken(new Date("2026-01-01T00:00:00Z"));
    const pages = [];
    for await (const page of mk.activities.list({ nextPageToken: token, activityTypeIds: [12] }).pages())
      pages.push(page);
    const items = pages.flatMap((p) => p.items);
    expect(items).toHaveLength(40);
    expect(new Set(items.map((a) => a.id)).size).toBe(40);
    expect(items.every((a) => a.activityTypeId === 12)).toBe(true);
    // Each page scanned 50 stored activities: 5 matches per page, far fewer than batchSize, yet moreResult was true.
    expect(pages.length).toBe(8);
    expect(pages[0]!.items.length).toBeLessThan(300);
    expect(pages[0]!.moreResult).toBe(true);
    expect(pages.at(-1)!.moreResult).toBe(false);
  });

  it("is resumable from a saved nextPageToken without gaps or repeats", async () => {
    seedActivities(300);
    const token = await mk.activities.pagingToken("2026-01-01T00:00:00Z");
    const seen: number[] = [];
    let saved: string | undefined;
    for await (const page of mk.activities.list({ nextPageToken: token, activityTypeIds: [1, 12] }).pages()) {
      seen.push(...page.items.map((a) => a.id!));
      saved = page.nextPageToken;
      if (seen.length >= 100) break; // "crash" after 100
    }
    const fresh = new MarketoClient({ ...sim.clientOptions, usageSync: false });
    for await (const a of fresh.activities.list({ nextPageToken: saved!, activityTypeIds: [1, 12] })) seen.push(a.id!);
    expect(seen).toHaveLength(300);
    expect(new Set(seen).size).toBe(300);
    expect(seen).toEqual([...seen].sort((a, b) => a - b));
  });

  it("validates activity filters before any request", () => {
    expect(() =>
      mk.activities.list({ nextPageToken: "X", activityTypeIds: Array.from({ length: 11 }, (_, i) => i) }),
    ).toThrow(MarketoValidationError);
    expect(() =>
      mk.activities.list({
        nextPageToken: "X",
        activityTypeIds: [1],
        leadIds: Array.from({ length: 31 }, (_, i) => i),
      }),
    ).toThrow(MarketoValidationError);
    expect(sim.inspect().totalCalls).toBe(0);
  });

  it("lead changes and deleted leads come from what the API did", async () => {
    const since = new Date(sim.now() - 1000);
    const created = await mk.leads.sync({ input: [{ email: "c@example.com", firstName: "Ann" }] });
    await mk.leads.sync({ input: [{ email: "c@example.com", firstName: "Anna", title: "CTO" }] });
    await mk.leads.delete({ input: [{ id: created.results[0]!.id! }] });
    const token = await mk.activities.pagingToken(since);
    const changes = await mk.activities.leadChanges({ nextPageToken: token, fields: ["firstName"] }).toArray();
    expect(changes).toHaveLength(1);
    expect(changes[0]!.fields).toEqual([
      expect.objectContaining({ name: "firstName", newValue: "Anna", oldValue: "Ann" }),
    ]);
    const deleted = await mk.activities.deletedLeads({ nextPageToken: token }).toArray();
    expect(deleted.map((d) => d.leadId)).toEqual([created.results[0]!.id]);
    const types = await mk.activities.types();
    expect(types.find((t) => t.id === 13)?.name).toBe("Change Data Value");
  });

  it("filterValues over 300 are split; pages follow nextPageToken; long URIs go as POST _method=GET", async () => {
    const ids = Array.from({ length: 650 }, (_, i) => `EXT-${String(i).padStart(4, "0")}-${"k".repeat(20)}`);
    sim.data.companies.seed(ids.map((id) => ({ externalCompanyId: id, company: id })));
    const paged = mk.companies.get({ filterType: "externalCompanyId", filterValues: ids, batchSize: 200 });
    const pages = [];
    for await (const p of paged.pages()) pages.push(p);
    const items = pages.flatMap((p) => p.items);
    expect(items).toHaveLength(650);
    expect(new Set(items.map((c) => c.externalCompanyId)).size).toBe(650);
    // 300 values × ~30 chars > 8 KB: sent as POST with _method=GET
    expect(sim.inspect().methodOverrides).toBeGreaterThan(0);
    expect(sim.inspect().tooLarge["414"]).toBe(0);
    // groups of 300/300/50 values; batchSize 200 → 2 + 2 + 1 pages
    expect(pages.map((p) => p.items.length)).toEqual([200, 100, 200, 100, 50]);
  });

  it("a read by filter of any size resumes from a page's cursor without gaps or repeats", async () => {
    const ids = Array.from({ length: 650 }, (_, i) => `R-${i}`);
    sim.data.companies.seed(ids.map((id) => ({ externalCompanyId: id })));
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    for await (const page of mk.companies
      .get({ filterType: "externalCompanyId", filterValues: ids, batchSize: 200 })
      .pages()) {
      seen.push(...page.items.map((c) => String(c.externalCompanyId)));
      cursor = page.cursor;
      if (++pages === 3) break; // "crash" inside the second group of 300 values
    }
    expect(seen).toHaveLength(500);
    const fresh = new MarketoClient({ ...sim.clientOptions, usageSync: false });
    for await (const c of fresh.companies.get({
      filterType: "externalCompanyId",
      filterValues: ids,
      batchSize: 200,
      cursor,
    })) {
      seen.push(String(c.externalCompanyId));
    }
    expect(seen).toHaveLength(650);
    expect(new Set(seen).size).toBe(650);
    expect(() => mk.companies.get({ filterType: "externalCompanyId", filterValues: ids, cursor: "garbage" })).toThrow(
      MarketoValidationError,
    );
  });

  it("a 414 from the edge is answered by resending as POST with _method=GET", async () => {
    const ids = Array.from({ length: 300 }, (_, i) => `LONG-${i}-${"z".repeat(30)}`);
    sim.data.companies.seed(ids.slice(0, 3).map((id) => ({ externalCompanyId: id })));
    // Client believes long URIs are fine; the simulator's edge refuses > 8 KB.
    const lax = new MarketoClient({ ...sim.clientOptions, usageSync: false, maxUriLength: 100_000 });
    const found = await lax.companies.get({ filterType: "externalCompanyId", filterValues: ids }).toArray();
    expect(found).toHaveLength(3);
    expect(sim.inspect().tooLarge["414"]).toBe(1);
    expect(sim.inspect().methodOverrides).toBe(1);
  });

  it("an empty search is success with no result: an empty iteration", async () => {
    const none = await mk.companies.get({ filterType: "externalCompanyId", filterValues: ["nope"] }).toArray();
    expect(none).toEqual([]);
  });
});
