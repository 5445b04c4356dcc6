import { createServer } from "node:net";
import { MarketoClient } from "@ml/marketo-client";
import { type MarketoSimulator, startMarketoSimulator } from "@ml/marketo-client/testing";
import { QadClient } from "@ml/qad-client";
import { type QadSimulator, startQadSimulator } from "@ml/qad-client/testing";
import { afterEach, describe, expect, it } from "vitest";
import {
  createMemoryStore,
  createSync,
  type MarketoGateway,
  marketoGateway,
  qadCustomerSource,
  type RunOutcome,
} from "../src/index.js";

const summaryOf = (o: RunOutcome) => {
  if (o.status === "alreadyRunning") throw new Error("unexpected alreadyRunning");
  return o.summary;
};

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

const MIN = 60_000;
let sims: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const s of sims) await s.close();
  sims = [];
});

async function sims2(customers: number, crmSync = false): Promise<{ qadSim: QadSimulator; mkSim: MarketoSimulator }> {
  const qadSim = await startQadSimulator({ customers, seed: 7 });
  const mkSim = await startMarketoSimulator({ timeScale: 0.01, latencyMs: 0, crmSync });
  sims.push(qadSim, mkSim);
  return { qadSim, mkSim };
}

const validCount = (sim: QadSimulator) => sim.data.customers().filter((c) => c.name.trim() !== "").length;

describe("outage: nothing left behind (QAD and Marketo simulators over HTTP)", () => {
  it("Marketo unreachable for one run: failed with the reason, every record carried; the next run writes each once", async () => {
    const { qadSim, mkSim } = await sims2(90);
    const n = validCount(qadSim);
    let t = 1_700_000_000_000;
    const clock = { now: () => t };
    const up = marketoGateway(new MarketoClient({ ...mkSim.clientOptions }), { bulkFirstPull: false });
    const deadUrl = `http://127.0.0.1:${await closedPort()}`;
    const down = marketoGateway(
      new MarketoClient({
        ...mkSim.clientOptions,
        baseUrls: { rest: `${deadUrl}/rest`, identity: `${deadUrl}/identity`, bulk: `${deadUrl}/bulk` },
      }),
      { bulkFirstPull: false },
    );
    // One engine, one store; its Marketo is switched off for the first run (the network, not the code, fails).
    const marketo: MarketoGateway = { ...down };
    const store = createMemoryStore();
    const sync = createSync({
      source: qadCustomerSource(new QadClient({ ...qadSim.clientOptions })),
      marketo,
      store,
      clock,
      readBack: false,
      carryForward: { baseDelayMs: MIN, maxDelayMs: 10 * MIN },
    });

    const outage = await sync.runOnce();
    const s1 = summaryOf(outage);
    expect(outage.status).toBe("failed");
    expect(s1.error?.message).toMatch(/every Marketo write failed/);
    expect(s1.error?.retryable).toBe(true);
    expect(s1.outcomes.company.failed).toBe(n);
    expect(s1.outcomes.namedAccount.failed).toBe(n);
    const leads = s1.outcomes.lead.failed;
    expect(leads).toBeGreaterThan(0);
    expect(s1.carried).toEqual({ retried: 0, written: 0, pending: 2 * n + leads, dead: 0 });
    expect((await sync.carried()).every((c) => c.state === "pending" && c.attempts === 1)).toBe(true);
    expect(mkSim.inspect().records.companies).toBe(0);

    // Marketo is back; the next normal run (after the retry delay) writes every carried record, no replay.
    Object.assign(marketo, up);
    t += MIN;
    const back = await sync.runOnce();
    const s2 = summaryOf(back);
    expect(back.status).toBe("completed");
    expect(s2.carried).toEqual({ retried: 2 * n + leads, written: 2 * n + leads, pending: 0, dead: 0 });
    expect(s2.sourceItems).toBe(0);
    const inspect = mkSim.inspect();
    expect(inspect.records.companies).toBe(n);
    expect(inspect.records.namedAccounts).toBe(n);
    expect(inspect.records.leads).toBe(leads);
    expect(inspect.duplicates).toMatchObject({ companies: 0, namedAccounts: 0, leads: 0 });

    // None is written twice: a further run sends nothing.
    const posts = mkSim.callLog().filter((c) => c.method === "POST").length;
    t += 60 * MIN;
    const s3 = summaryOf(await sync.runOnce());
    expect(s3.marketoWriteCalls).toBe(0);
    expect(mkSim.callLog().filter((c) => c.method === "POST").length).toBe(posts);
  });

  it("CRM sync on: companies skipped and carried; after setCrmSync(false) and the TTL they are written", async () => {
    const { qadSim, mkSim } = await sims2(40, true);
    const n = validCount(qadSim);
    let t = 1_700_000_000_000;
    const sync = createSync({
      source: qadCustomerSource(new QadClient({ ...qadSim.clientOptions })),
      marketo: marketoGateway(new MarketoClient({ ...mkSim.clientOptions }), { bulkFirstPull: false }),
      store: createMemoryStore(),
      clock: { now: () => t },
      readBack: false,
      readOnlyRecheckMs: 30 * MIN,
    });
    const s1 = summaryOf(await sync.runOnce());
    expect(s1.status).toBe("completed");
    expect(s1.outcomes.company.skipped).toBe(n);
    expect(s1.readOnly.map((r) => r.object)).toContain("companies");
    expect(s1.carried.pending).toBe(n);
    expect(mkSim.inspect().records.companies).toBe(0);

    mkSim.setCrmSync(false);
    t += 5 * MIN;
    const within = summaryOf(await sync.runOnce());
    expect(within.carried.retried).toBe(0);
    t += 30 * MIN;
    const s2 = summaryOf(await sync.runOnce());
    expect(s2.readOnly).toEqual([]);
    expect(s2.carried).toEqual({ retried: n, written: n, pending: 0, dead: 0 });
    expect(mkSim.inspect().records.companies).toBe(n);
    expect(mkSim.inspect().duplicates.companies).toBe(0);
  });
});
