import { MarketoClient } from "@ml/marketo-client";
import { startMarketoSimulator } from "@ml/marketo-client/testing";
import { QadClient } from "@ml/qad-client";
import { startQadSimulator } from "@ml/qad-client/testing";
import { describe, expect, it } from "vitest";
import { createMemoryStore, createSync, extendMapping, marketoGateway, qadCustomerSource } from "../src/index.js";

// Another integration of the same Marketo instance keeps the shared window full. Our client does not know about it:
// Marketo answers 606, the client backs off with growing jittered pauses, and what still cannot be written within
// its budget is carried forward by the engine and written by the next run. Nothing is lost, nothing duplicated.
describe("a competing integration squeezing the shared quota", () => {
  it("degrades without losing records: refused writes are carried forward and written once the squeeze ends", async () => {
    const qadSim = await startQadSimulator({ customers: 300, seed: 3 });
    const mkSim = await startMarketoSimulator({ timeScale: 0.05, seed: 3, latencyMs: 1 });
    const stopHammer = new AbortController();
    try {
      // The other integration: its own client, careless of the shared quota (it counts only itself, and lets through
      // more than the instance allows), reading as fast as it can.
      const other = new MarketoClient({
        ...mkSim.clientOptions,
        usageSync: false,
        limits: { ...mkSim.clientOptions.limits, callsPerWindow: 10_000, maxConcurrent: 8 },
        retry: { maxRetries: 0, rateLimitMaxWaitMs: 0 },
      });
      const hammer = (async () => {
        const workers = Array.from({ length: 8 }, async () => {
          while (!stopHammer.signal.aborted) {
            try {
              for await (const _ of other.companies.get({ filterType: "externalCompanyId", filterValues: ["none"] }));
            } catch {
              // refused by the quota too: it keeps trying, as a careless integration does
            }
          }
        });
        await Promise.all(workers);
      })();

      const store = createMemoryStore();
      const mk = new MarketoClient({
        ...mkSim.clientOptions,
        usageSync: false,
        // A short budget of waiting on 606/615, so some writes give up while the squeeze lasts.
        retry: { ...mkSim.clientOptions.retry, rateLimitMaxWaitMs: 300 },
      });
      const sync = createSync({
        source: qadCustomerSource(new QadClient({ ...qadSim.clientOptions })),
        marketo: marketoGateway(mk, { bulkFirstPull: false }),
        store,
        mapping: extendMapping({ lead: false }),
        batchSize: 30,
        readBack: false,
        carryForward: { baseDelayMs: 1, maxDelayMs: 1 },
      });
      const squeezed = await sync.runOnce();
      stopHammer.abort();
      await hammer;
      if (squeezed.status === "alreadyRunning") throw new Error("unexpected");
      const refused = mkSim.inspect().violations["606"] + mkSim.inspect().violations["615"];
      expect(refused).toBeGreaterThan(0); // the squeeze was real
      const carried = squeezed.summary.carried?.pending ?? 0;
      const written = squeezed.summary.outcomes.company.created + squeezed.summary.outcomes.company.updated;
      // Every company is either written or carried forward: none dropped.
      expect(written + squeezed.summary.outcomes.company.failed).toBe(300);
      expect(carried).toBe(squeezed.summary.outcomes.company.failed + squeezed.summary.outcomes.namedAccount.failed);

      // The squeeze is over: once the other integration's last calls have left Marketo's window (1 s at this time
      // scale; a scheduled run comes later still), the next run writes every carried record, once.
      await new Promise((r) => setTimeout(r, 1_200));
      const after = await sync.runOnce();
      if (after.status === "alreadyRunning") throw new Error("unexpected");
      expect(after.summary.error).toBeUndefined();
      expect(after.status).toBe("completed");
      expect(await store.countCarried("default")).toEqual({ pending: 0, dead: 0 });
      expect(mkSim.data.companies.count()).toBe(300);
      expect(mkSim.data.namedAccounts.count()).toBe(300);
      expect(mkSim.inspect().duplicates).toMatchObject({ companies: 0, namedAccounts: 0 });
      console.log(
        `competing integration: ${refused} calls refused (606/615) during the squeeze; ${written} companies written, ` +
          `${carried} records carried forward and written by the next run`,
      );
    } finally {
      stopHammer.abort();
      await qadSim.close();
      await mkSim.close();
    }
  });
});
