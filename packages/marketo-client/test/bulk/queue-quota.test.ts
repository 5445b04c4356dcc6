import { manualClock, recordingSleep } from "@ml/http-kernel/testing";
import { afterEach, describe, expect, it } from "vitest";
import { type BulkExtractState, MarketoBulkQuotaError } from "../../src/bulk/index.js";
import { asRow, LEAD_FIELDS, makeLeads } from "./helpers/data.js";
import { collect, type Harness, startHarness } from "./helpers/harness.js";

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const poll = { initialDelayMs: 60_000, maxDelayMs: 60_000 };
// 120 leads, one every 12 h: 60 days → 2 windows of ≤ 31 days.
const range = { startAt: "2026-01-01T00:00:00Z", endAt: "2026-03-01T23:59:59Z" };

describe("1029 and 1035 handling", () => {
  it('waits and retries the enqueue while Marketo answers 1029 "Too many jobs in queue"', async () => {
    const leads = makeLeads(20);
    // Steps of a simulated 5 minutes on a manual clock, so the queue state set up below cannot drift; the client's
    // waits move that clock (harness time scale 0.001: a simulated ms is 0.001 clock ms) instead of waiting.
    const clock = manualClock();
    const { sleep } = recordingSleep({ advance: (ms) => clock.advance(ms * 0.001) });
    h = await startHarness(
      { leads, leadFields: LEAD_FIELDS, options: { maxQueued: 2, maxProcessing: 1, stepMs: 300_000 }, clock },
      { sleep },
    );
    // Another integration fills the queue (2, processing jobs included): one job processing, one queued.
    const fill = async () => {
      const body = {
        fields: ["id"],
        filter: { createdAt: { startAt: "2026-01-01T00:00:00Z", endAt: "2026-01-02T00:00:00Z" } },
      };
      const env = await h!.transport.request<{ exportId: string }>({
        method: "POST",
        api: "bulk",
        path: "/v1/leads/export/create.json",
        body,
        retry: "unsafe",
      });
      const id = env.result?.[0]?.exportId as string;
      await h!.transport.request({
        method: "POST",
        api: "bulk",
        path: `/v1/leads/export/${id}/enqueue.json`,
        retry: "safe",
      });
      return id;
    };
    await fill();
    clock.advance(350); // > 1 step: the first one may start processing
    h.sim.inspect(); // the simulator moves jobs along whenever it is asked
    await fill();
    expect(h.sim.inspect().jobs.map((j) => j.status)).toEqual(["Processing", "Queued"]);
    const rows = await collect(
      h.bulk.leads.extract(
        { filter: { createdAt: { startAt: "2026-01-01T00:00:00Z", endAt: "2026-01-20T00:00:00Z" } } },
        { poll: { initialDelayMs: 300_000, maxDelayMs: 300_000 }, queueRetryDelayMs: 60_000 },
      ),
    );
    expect(rows).toEqual(leads.map((l) => asRow(l)));
    const seen = h.sim.inspect();
    expect(seen.code1029.queueFull).toBeGreaterThan(0);
    expect(seen.maxQueuedSeen).toBeLessThanOrEqual(2);
    expect(seen.jobs.every((j) => j.status === "Completed")).toBe(true);
  });

  it.each([1, 2])(
    'stops on 1029 "Export daily quota exceeded" with a resumable state, then resumes without duplicate rows (concurrency %i)',
    async (concurrency) => {
      // 180 leads over 90 days: 3 jobs. Quota is counted when a job completes, so with concurrency 2 the first two
      // jobs are already queued when the first file pushes the day over the quota; the third one is refused.
      const leads = makeLeads(180);
      const wide = { startAt: "2026-01-01T00:00:00Z", endAt: "2026-03-31T23:59:59Z" };
      h = await startHarness({ leads, leadFields: LEAD_FIELDS, options: { dailyQuotaBytes: 1_000 } });
      const first: Record<string, string | null>[] = [];
      let error: unknown;
      try {
        for await (const row of h.bulk.leads.extract({ filter: { createdAt: wide } }, { poll, concurrency })) {
          first.push(row);
        }
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(MarketoBulkQuotaError);
      const quota = error as MarketoBulkQuotaError;
      expect(quota.code).toBe("1029");
      expect(quota.retryable).toBe(false);
      const state = quota.state as BulkExtractState;
      expect(state.jobs).toHaveLength(3);
      // Windows before the refused one were delivered in full; Marketo refused to create the next job.
      expect(state.jobs.map((j) => j.status)).toEqual(
        concurrency === 1 ? ["done", "pending", "pending"] : ["done", "done", "pending"],
      );
      expect(state.rowsDelivered).toBe(first.length);
      expect(first).toEqual(leads.slice(0, first.length).map((l) => asRow(l)));
      expect(h.sim.inspect().code1029.dailyQuota).toBe(1);

      // Like a daily job: save the state as JSON, wait for the quota reset, resume; repeat until done.
      const all = [...first];
      let saved = JSON.parse(JSON.stringify(state)) as BulkExtractState;
      for (let day = 0; day < 5; day++) {
        h.sim.resetDailyQuota();
        const extraction = h.bulk.leads.extract({ filter: { createdAt: wide } }, { poll, resumeFrom: saved });
        try {
          for await (const row of extraction) all.push(row);
          break;
        } catch (e) {
          expect(e).toBeInstanceOf(MarketoBulkQuotaError);
          saved = JSON.parse(JSON.stringify((e as MarketoBulkQuotaError).state)) as BulkExtractState;
        }
      }
      expect(all).toEqual(leads.map((l) => asRow(l)));
      expect(new Set(all.map((r) => r["id"])).size).toBe(leads.length);
      // Every window got exactly one job, whatever the number of resumes.
      expect(h.sim.inspect().jobs).toHaveLength(3);
    },
  );

  it("resumes mid-file from a saved state without repeating delivered rows", async () => {
    const leads = makeLeads(120);
    h = await startHarness({ leads, leadFields: LEAD_FIELDS });
    const extraction = h.bulk.leads.extract({ filter: { createdAt: range } }, { poll });
    const first: Record<string, string | null>[] = [];
    for await (const row of extraction) {
      first.push(row);
      if (first.length === 37) break;
    }
    const state = extraction.state() as BulkExtractState;
    expect(state.rowsDelivered).toBe(37);
    expect(state.jobs[0]?.rowsDelivered).toBe(37);
    const rest = await collect(h.bulk.leads.extract({ filter: { createdAt: range } }, { poll, resumeFrom: state }));
    expect([...first, ...rest]).toEqual(leads.map((l) => asRow(l)));
  });

  it('carries on when enqueue answers 1029 "Job already queued" (a resume after a lost enqueue answer)', async () => {
    const leads = makeLeads(10);
    h = await startHarness({ leads, leadFields: LEAD_FIELDS });
    const r = { startAt: "2026-01-01T00:00:00Z", endAt: "2026-01-10T00:00:00Z" };
    const env = await h.transport.request<{ exportId: string }>({
      method: "POST",
      api: "bulk",
      path: "/v1/leads/export/create.json",
      body: { fields: LEAD_FIELDS.map((f) => f.name), format: "CSV", filter: { createdAt: r } },
      retry: "unsafe",
    });
    const exportId = env.result?.[0]?.exportId as string;
    await h.transport.request({
      method: "POST",
      api: "bulk",
      path: `/v1/leads/export/${exportId}/enqueue.json`,
      retry: "safe",
    });
    // The state was saved before the enqueue answer arrived: it still says "created".
    const state: BulkExtractState = {
      version: 1,
      object: "leads",
      fields: LEAD_FIELDS.map((f) => f.name),
      format: "CSV",
      jobs: [{ filter: { createdAt: r }, exportId, status: "created", rowsDelivered: 0, bytesReceived: 0 }],
      rowsDelivered: 0,
      warnings: [],
    };
    const rows = await collect(h.bulk.leads.extract({ filter: { createdAt: r } }, { poll, resumeFrom: state }));
    expect(rows).toEqual(leads.map((l) => asRow(l)));
    expect(h.sim.inspect().code1029.alreadyQueued).toBe(1);
    expect(h.sim.inspect().jobs).toHaveLength(1);
  });

  it("falls back from updatedAt to createdAt with a warning on 1035", async () => {
    const leads = makeLeads(120);
    const warnings: unknown[] = [];
    h = await startHarness({ leads, leadFields: LEAD_FIELDS, options: { unsupportedFilters: ["updatedAt"] } });
    const api = h.api({ logger: { debug() {}, info() {}, warn: (o, m) => warnings.push([o, m]), error() {} } });
    const extraction = api.leads.extract({ filter: { updatedAt: range } }, { poll, concurrency: 2 });
    const rows = await collect(extraction);
    expect(rows).toEqual(leads.map((l) => asRow(l)));
    expect(extraction.warnings).toHaveLength(1);
    expect(extraction.warnings[0]).toMatch(/1035/);
    expect(warnings).toHaveLength(1);
    expect(h.sim.inspect().errors["1035"]).toBeGreaterThanOrEqual(1);
    expect(h.sim.inspect().jobs.every((j) => "createdAt" in j.filter)).toBe(true);
  });
});

describe("abort", () => {
  it("stops on the caller's signal with the abort reason; the state still resumes without duplicates", async () => {
    const leads = makeLeads(120);
    h = await startHarness({ leads, leadFields: LEAD_FIELDS });
    const controller = new AbortController();
    const extraction = h.bulk.leads.extract({ filter: { createdAt: range } }, { poll, signal: controller.signal });
    const first: Record<string, string | null>[] = [];
    const reason = new Error("shutting down");
    const err = await (async () => {
      try {
        for await (const row of extraction) {
          first.push(row);
          if (first.length === 70) controller.abort(reason);
        }
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBe(reason);
    expect(first).toHaveLength(70); // no row after the abort, though the current batch had more
    const state = extraction.state() as BulkExtractState;
    expect(state.rowsDelivered).toBe(70);
    const rest = await collect(h.bulk.leads.extract({ filter: { createdAt: range } }, { poll, resumeFrom: state }));
    expect([...first, ...rest]).toEqual(leads.map((l) => asRow(l)));
  });
});
