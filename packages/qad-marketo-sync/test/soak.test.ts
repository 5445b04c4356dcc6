/**
 * Soak: many QAD customers with their contacts (QAD REST simulator) synced to a time-scaled Marketo simulator, both
 * over real HTTP, on the SQLite store, with faults injected throughout the run: 606/615 bursts, 5xx, connections
 * dropped mid-answer (after the write ran) and reset, slow answers, 601/602 for valid tokens, tokens that lapse on
 * their own every 1.2 s (Marketo) and 1.5 s (QAD), tokens expired and revoked and QAD sessions expired at random
 * moments, QAD 503s, resets, cut answers, slow pages and random session-expired answers. Then one follow-up run
 * without faults. Checked: every valid record is in Marketo exactly once (no duplicates, counts equal to the audit
 * trail and the source), the audit trail holds one final outcome per record, the simulator saw no limit violation
 * caused by the client, and nothing is left carried after the follow-up.
 *
 * Size: `ML_SOAK_CUSTOMERS` customers when set; else 50,000 with `ML_SOAK_LONG=1`, and 10,000 by default (CI).
 * The figures of a run (records, seconds, calls, faults, peak RSS) are printed.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MarketoClient } from "@ml/marketo-client";
import { startMarketoSimulator } from "@ml/marketo-client/testing";
import { QadClient } from "@ml/qad-client";
import { startQadSimulator } from "@ml/qad-client/testing";
import { describe, expect, it } from "vitest";
import { createSync, marketoGateway, qadCustomerSource, type RunOutcome } from "../src/index.js";
import { createSqliteStore } from "../src/sqlite/index.js";
import { armSoakFaults, forceTokenExpiry } from "./soak/faults.js";

const LONG = process.env.ML_SOAK_LONG === "1";
const CUSTOMERS = Number(process.env.ML_SOAK_CUSTOMERS ?? (LONG ? 50_000 : 10_000));
const TENANT = "soak";

const summaryOf = (o: RunOutcome) => {
  if (o.status === "alreadyRunning") throw new Error("unexpected alreadyRunning");
  return o.summary;
};

describe("soak", () => {
  it(`${CUSTOMERS} customers with contacts through faults: exactly once, audited, no violations`, {
    timeout: 900_000,
  }, async () => {
    const dir = mkdtempSync(join(tmpdir(), "ml-soak-"));
    // QAD sessions live 1.5 s (the client renews 200 ms before the end): many natural lapses in one run.
    const qadSim = await startQadSimulator({ customers: CUSTOMERS, seed: 8, tokenTtlMs: 1_500 });
    // 20 s window → 20 ms: the run lives through many windows. Tokens live 20 min scaled (1.2 s real): the client
    // renews them inside the (scaled) margin and, when identity hands the same token back, right at its end.
    const mkSim = await startMarketoSimulator({ timeScale: 0.001, latencyMs: 1, seed: 8, tokenLifeSeconds: 1_200 });
    const store = createSqliteStore({ path: join(dir, "soak.db") });
    const started = performance.now();
    let peakRss = process.memoryUsage().rss;
    const rssTimer = setInterval(() => {
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
    }, 250);
    rssTimer.unref();
    try {
      const mk = new MarketoClient({ ...mkSim.clientOptions });
      const qad = new QadClient({
        ...qadSim.clientOptions,
        retry: { maxRetries: 6, baseDelayMs: 5, maxDelayMs: 50 },
        token: { refreshMarginMs: 200 },
      });
      const sync = createSync({
        source: qadCustomerSource(qad),
        marketo: marketoGateway(mk, { bulkFirstPull: false }),
        store,
        tenant: TENANT,
        readBack: false,
        carryForward: { baseDelayMs: 0 },
      });

      armSoakFaults(mkSim, qadSim, CUSTOMERS / 10_000);
      const expiry = forceTokenExpiry(mkSim, qadSim, { minGapMs: 50, maxGapMs: 800 });
      const first = summaryOf(await sync.runOnce());
      const expiries = expiry.stop();
      const faulted = mkSim.inspect();
      const qadFaults = { ...qadSim.faults.served };
      const qadAuth = qadSim.inspect();
      mkSim.faults.clear();
      qadSim.faults.clear();
      const firstSeconds = (performance.now() - started) / 1000;

      const followUp = summaryOf(await sync.runOnce());
      const seconds = (performance.now() - started) / 1000;
      const inspection = mkSim.inspect();

      // The run read everything and lived through the faults.
      expect(["completed", "degraded"], JSON.stringify({ status: first.status, error: first.error })).toContain(
        first.status,
      );
      expect(first.sourceItems).toBe(CUSTOMERS);
      expect(faulted.faultsFired).toBeGreaterThan(0);
      expect(expiries.marketoExpired).toBeGreaterThan(0);
      expect(expiries.marketoRevoked).toBeGreaterThan(0);
      expect(expiries.qad).toBeGreaterThan(0);
      expect(["completed"]).toContain(followUp.status);

      // Zero violations caused by the client: the simulator's own limits never refused a call.
      expect(inspection.violations).toEqual({ total: 0, "606": 0, "615": 0, "607": 0 });
      // Exactly once: no record shares a dedupe key with another.
      for (const [object, n] of Object.entries(inspection.duplicates)) expect(n, `duplicates in ${object}`).toBe(0);

      // The audit trail: one final outcome per record; written records are exactly those in Marketo.
      const last = new Map<string, { outcome: string; sourceKey: string; reasons: number }>();
      for (const row of await store.queryAudit({ tenant: TENANT })) {
        last.set(`${row.kind}\u0000${row.key}`, {
          outcome: row.outcome,
          sourceKey: row.sourceKey,
          reasons: row.reasons.length,
        });
      }
      const finals = { company: new Set<string>(), lead: new Set<string>(), namedAccount: new Set<string>() };
      const customers = new Map<string, string>();
      const notFinal: string[] = [];
      for (const [k, v] of last) {
        const [kind, key] = k.split("\u0000") as [string, string];
        if (kind === "customer") customers.set(key, v.outcome);
        // Final: written, unchanged, rejected or skipped with a reason (a contact without an email); never failed.
        if (v.outcome === "failed" || (v.outcome === "skipped" && v.reasons === 0)) notFinal.push(`${k} ${v.outcome}`);
        if (["created", "updated", "unchanged"].includes(v.outcome) && kind in finals) {
          finals[kind as keyof typeof finals].add(key.toLowerCase());
        }
      }
      expect(notFinal.slice(0, 10)).toEqual([]);
      const sourceKeys = new Set([...last.values()].map((v) => v.sourceKey));
      expect(sourceKeys.size).toBe(CUSTOMERS);
      const rejected = [...last.entries()].filter(([, v]) => v.outcome === "rejected").map(([, v]) => v.sourceKey);
      const validCustomers = CUSTOMERS - new Set(rejected.filter((s) => !finals.company.has(s))).size;
      expect(inspection.records.companies).toBe(finals.company.size);
      expect(finals.company.size).toBe(validCustomers);
      expect(inspection.records.leads).toBe(finals.lead.size);
      expect(inspection.records.namedAccounts).toBe(finals.namedAccount.size);
      const inMarketo = new Set(mkSim.data.companies.all().map((c) => String(c.externalCompanyId).toLowerCase()));
      for (const key of finals.company) expect(inMarketo.has(key), key).toBe(true);

      // Nothing left carried after the follow-up.
      expect(await store.countCarried(TENANT)).toEqual({ pending: 0, dead: 0 });

      const figures = {
        customers: CUSTOMERS,
        companies: inspection.records.companies,
        leads: inspection.records.leads,
        namedAccounts: inspection.records.namedAccounts,
        firstRun: { status: first.status, seconds: Number(firstSeconds.toFixed(1)), marketoCalls: first.marketoCalls },
        totalSeconds: Number(seconds.toFixed(1)),
        marketoCalls: inspection.totalCalls,
        tokenRequests: inspection.tokenRequests,
        marketoTokens: { issued: faulted.tokensIssued, refused: faulted.authFailures },
        qadAuth: { logins: qadAuth.authCalls, unauthorized: qadAuth.unauthorized },
        marketoFaultsFired: faulted.faultsFired,
        qadFaults,
        forcedExpiries: expiries,
        peakRssMb: Math.round(peakRss / 2 ** 20),
      };
      console.log(`soak figures ${JSON.stringify(figures)}`);
    } finally {
      clearInterval(rssTimer);
      store.close();
      await qadSim.close();
      await mkSim.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
