// Sync benchmark: N QAD customers → Marketo companies and named accounts, against the time-scaled QAD and Marketo
// simulators (@ml/qad-client/testing, @ml/marketo-client/testing) running in a child process (bench/sim-host.ts), so
// the CPU figures of this process are the sync's own. Prints the figures and saves them to bench/results/sync.json.
//
//   pnpm --filter @ml/qad-marketo-sync bench   (SYNC_BENCH_N=100000, SYNC_BENCH_TIME_SCALE=0.5, SYNC_BENCH_LEADS_N=20000)
//
// Figures: Marketo calls used vs the minimum (2 × ceil(N/300) sync calls + a constant), throughput as a share of
// Marketo's quota ceiling (100 calls per 20 s, scaled), calls on an unchanged re-run (incremental and a full re-read),
// CPU of the sync process per record, CPU of the engine alone per record (no HTTP), and the simulator's inspection
// (duplicates, limit violations). Each process's CPU share of the run's wall time shows the quota, not CPU, set the pace.
import { type ChildProcess, fork } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { fileURLToPath } from "node:url";
import { MarketoClient, type MarketoClientOptions } from "@ml/marketo-client";
import { QadClient, type QadClientOptions } from "@ml/qad-client";
import {
  arraySource,
  createMemoryStore,
  createSync,
  extendMapping,
  type GatewayRecordResult,
  type MarketoGateway,
  marketoGateway,
  qadCustomerSource,
  type RunOutcome,
  type RunSummary,
  type SourceCustomer,
} from "../src/index.js";

const N = Number(process.env.SYNC_BENCH_N ?? 100_000);
/**
 * Time scale of the runs: 0.5 makes Marketo's 20 s window 10 s (100 calls per 10 s). Slow enough that the quota, not
 * the CPU of the sync process or of the simulators, sets the pace (see `cpuShareOfWall` in the results).
 */
const TIME_SCALE = Number(process.env.SYNC_BENCH_TIME_SCALE ?? 0.5);
/** Customers of the run that also writes leads (contacts with an email). */
const LEADS_N = Number(process.env.SYNC_BENCH_LEADS_N ?? 20_000);
const CEILING_PER_WINDOW = 100;

/** Lead call sizes: how many calls, how many were full (300), and the sizes of the others. */
const summarizeSizes = (sizes: number[]) => ({
  calls: sizes.length,
  full: sizes.filter((x) => x === 300).length,
  others: sizes.filter((x) => x !== 300),
});

interface SimCall {
  at: number;
  method: string;
  path: string;
  status: number;
  code?: string;
}
interface HostInspection {
  inspect: {
    duplicates: Record<string, number>;
    violations: { total: number; "606": number; "615": number; "607": number };
    records: Record<string, number>;
    peakWindowCalls: number;
    peakConcurrent: number;
  };
  calls: SimCall[];
  /** CPU of the simulators' process since start, µs. */
  cpu: { user: number; system: number };
}

function startHost(): Promise<{ child: ChildProcess; ask: <T>(msg: object) => Promise<T> }> {
  const child = fork(fileURLToPath(new URL("./sim-host.ts", import.meta.url)), [], {
    execArgv: ["--import", "tsx"],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const ask = <T>(msg: object) =>
    new Promise<T>((resolve, reject) => {
      child.once("message", (m) => resolve(m as T));
      child.once("error", reject);
      child.send(msg);
    });
  return Promise.resolve({ child, ask });
}

const summaryOf = (o: RunOutcome): RunSummary => {
  if (o.status === "alreadyRunning") throw new Error("unexpected alreadyRunning");
  return o.summary;
};

const WRITE = /\/rest\/v1\/(companies|namedaccounts|leads)\.json$/;

async function endToEnd(n: number, timeScale: number, withLeads = false) {
  const windowMs = 20_000 * timeScale;
  const { ask } = await startHost();
  const t0 = performance.now();
  const opts = await ask<{ qad: QadClientOptions; marketo: MarketoClientOptions }>({
    cmd: "start",
    customers: n,
    timeScale,
    seed: 7,
  });
  const simStartMs = performance.now() - t0;
  // Lead sync call sizes (records per POST /leads.json), read off the requests this process sends.
  const leadCalls: number[] = [];
  const countingFetch: typeof fetch = async (input, init) => {
    const request = new Request(input, init);
    if (request.method === "POST" && new URL(request.url).pathname.endsWith("/leads.json")) {
      leadCalls.push(((await request.clone().json()) as { input: unknown[] }).input.length);
    }
    return fetch(request);
  };
  const mk = new MarketoClient({ ...opts.marketo, fetch: countingFetch });
  const qad = new QadClient({ ...opts.qad });
  const store = createMemoryStore();
  const sync = createSync({
    source: qadCustomerSource(qad, { pageSize: 5000 }),
    marketo: marketoGateway(mk, { bulkFirstPull: false }),
    store,
    // Companies and named accounts only (the minimum 2 × ceil(N/300) counts those two objects), unless withLeads.
    mapping: withLeads ? extendMapping({}) : extendMapping({ lead: false }),
    readBack: false,
  });
  // The Marketo simulator's inspection and call log.
  const look = async () => {
    const i = await ask<HostInspection>({ cmd: "inspect" });
    const writes = i.calls.filter((c) => c.method === "POST" && WRITE.test(c.path));
    return {
      writes: writes.length,
      callTimes: writes.map((c) => c.at),
      duplicates: i.inspect.duplicates,
      violations: i.inspect.violations,
      records: {
        companies: i.inspect.records.companies ?? 0,
        namedAccounts: i.inspect.records.namedAccounts ?? 0,
        leads: i.inspect.records.leads ?? 0,
      },
      peakConcurrent: i.inspect.peakConcurrent,
      peakWindowCalls: i.inspect.peakWindowCalls,
      cpuMs: (i.cpu.user + i.cpu.system) / 1000,
    };
  };
  const before = await look();

  const cpu0 = process.cpuUsage();
  const w0 = performance.now();
  const first = summaryOf(await sync.runOnce());
  const firstMs = performance.now() - w0;
  const cpu1 = process.cpuUsage(cpu0);
  const afterFirst = await look();

  const second = summaryOf(await sync.runOnce());
  const afterSecond = await look();

  // Full re-read: forget the QAD checkpoint, so every customer is read again; content hashes must stop every write.
  await store.saveCheckpoint("default", "source", null);
  const w2 = performance.now();
  const third = summaryOf(await sync.runOnce());
  const thirdMs = performance.now() - w2;
  const afterThird = await look();
  await ask({ cmd: "close" });

  const hostCpuFirstMs = afterFirst.cpuMs - before.cpuMs;
  const valid = first.outcomes.company.created + first.outcomes.company.updated;
  const leadsWritten = first.outcomes.lead.created + first.outcomes.lead.updated;
  const minimumSyncCalls = 2 * Math.ceil(valid / 300) + Math.ceil(leadsWritten / 300);
  const runCallsPerWindow = (first.marketoCalls / firstMs) * windowMs;
  // The write phase from the first to the last write call (the run also reads the first QAD page and probes).
  const times = afterFirst.callTimes;
  const spanMs = times.length > 1 ? times.at(-1)! - times[0]! : Number.NaN;
  const writeCallsPerWindow = ((afterFirst.writes - 1) / spanMs) * windowMs;
  // A sliding window admits a burst of 100 at the start, so a rate over a finite run can exceed 100 per window. Two
  // figures without that edge: calls over the most a window of 100 admits in the run's duration (100 × (⌊T/W⌋ + 1)),
  // and the write calls in each complete window of the write phase (first write + i·W, + W), mean and lowest.
  const admissible = CEILING_PER_WINDOW * (Math.floor(firstMs / windowMs) + 1);
  const fullWindows = Math.floor(spanMs / windowMs);
  const perWindow = Array.from(
    { length: fullWindows },
    (_, i) => times.filter((t) => t >= times[0]! + i * windowMs && t < times[0]! + (i + 1) * windowMs).length,
  );
  const meanPerWindow = perWindow.reduce((a, b) => a + b, 0) / Math.max(1, fullWindows);
  return {
    marketo: "@ml/marketo-client/testing simulator (child process, with the QAD simulator)",
    customers: n,
    timeScale,
    windowMs,
    validCustomers: valid,
    rejected: first.outcomes.customer.rejected,
    simulatorStartMs: Math.round(simStartMs),
    firstRun: {
      status: first.status,
      durationMs: Math.round(firstMs),
      marketoCalls: first.marketoCalls,
      marketoSyncCalls: first.marketoWriteCalls,
      minimumSyncCalls,
      callsOverMinimum: first.marketoCalls - minimumSyncCalls,
      created: {
        company: first.outcomes.company.created,
        namedAccount: first.outcomes.namedAccount.created,
        lead: first.outcomes.lead.created,
      },
      leadsSkippedNoEmail: first.outcomes.lead.skipped,
      leadCallSizes: summarizeSizes(leadCalls),
      failed: first.outcomes.company.failed + first.outcomes.namedAccount.failed + first.outcomes.lead.failed,
      throughput: {
        quotaCeilingPerWindow: CEILING_PER_WINDOW,
        wholeRunCallsPerWindow: round(runCallsPerWindow),
        wholeRunShareOfCeiling: round(runCallsPerWindow / CEILING_PER_WINDOW),
        writePhaseCallsPerWindow: round(writeCallsPerWindow),
        writePhaseShareOfCeiling: round(writeCallsPerWindow / CEILING_PER_WINDOW),
        admissibleCallsInRun: admissible,
        wholeRunShareOfAdmissible: round(first.marketoCalls / admissible),
        completeWindowsOfWritePhase: fullWindows,
        writeCallsPerCompleteWindow: { mean: round(meanPerWindow), lowest: Math.min(...perWindow) },
        completeWindowsShareOfCeiling: round(meanPerWindow / CEILING_PER_WINDOW),
        recordsPerSecond: Math.round((valid / firstMs) * 1000),
      },
      marketoSide: {
        duplicates: afterFirst.duplicates,
        limitViolations: afterFirst.violations,
        records: afterFirst.records,
        peakConcurrent: afterFirst.peakConcurrent,
        peakWindowCalls: afterFirst.peakWindowCalls,
      },
      syncProcessCpuMsPerRecord: round((cpu1.user + cpu1.system) / 1000 / n, 4),
      // Below 1 for both: neither process was CPU-bound, the quota was the limit.
      cpuShareOfWall: {
        syncProcess: round((cpu1.user + cpu1.system) / 1000 / firstMs),
        simulatorsProcess: round(hostCpuFirstMs / firstMs),
      },
    },
    incrementalRerun: {
      sourceRows: second.sourceItems,
      marketoCalls: second.marketoCalls,
      marketoWriteCalls: afterSecond.writes - afterFirst.writes,
    },
    fullRereadUnchanged: {
      sourceRows: third.sourceItems,
      durationMs: Math.round(thirdMs),
      unchanged: third.outcomes.company.unchanged + third.outcomes.namedAccount.unchanged,
      marketoCalls: third.marketoCalls,
      marketoWriteCalls: afterThird.writes - afterSecond.writes,
    },
    afterAllRuns: {
      duplicates: afterThird.duplicates,
      limitViolations: afterThird.violations,
    },
  };
}

/** The engine alone: validate → map → hash → plan → record, over an in-memory source and a no-op gateway. */
async function engineOnly() {
  const records: SourceCustomer[] = Array.from({ length: N }, (_, i) => ({
    customerCode: `C${i}`,
    sharedSetCode: "SS1",
    name: `Customer ${i} GmbH`,
    address: { street1: `${i} Main St`, city: "Berlin", zipCode: "10115", countryCode: "DE" },
    telephone: "+49 30 1234",
    webSite: `https://c${i}.example.com`,
    isActive: true,
    customerTypeCode: "RETAIL",
    currencyCode: "EUR",
    region: "EMEA",
    contacts: [{ contactCode: `P${i}`, firstName: "Ana", lastName: `L${i}`, email: `ana${i}@c${i}.example.com` }],
    lastModified: { date: "2026-11-01", time: i % 86_400 },
    custom: {},
  }));
  let id = 1;
  const ok = async (input: unknown[]): Promise<GatewayRecordResult[]> =>
    input.map(() => ({ status: "created", id: id++, marketoGUID: `g${id}`, reasons: [] }));
  let calls = 0;
  const gateway: MarketoGateway = {
    capability: async (object) => ({ object, writable: true, source: "probe" }),
    syncCompanies: ok,
    syncNamedAccounts: ok,
    syncLeads: ok,
    syncSalesPersons: ok,
    getCompanies: async () => [],
    getOpportunities: async () => [],
    getSalesPersons: async () => [],
    activities: () => ({ token: () => undefined, async *[Symbol.asyncIterator]() {} }),
    usage: () => ({ callsMade: calls++, dailyUsed: 0, dailyLimit: 50_000 }),
  };
  const store = createMemoryStore();
  const sync = createSync({ source: arraySource(records), marketo: gateway, store, readBack: false });
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  summaryOf(await sync.runOnce());
  const ms = performance.now() - t0;
  const c = process.cpuUsage(c0);
  // Unchanged pass: same records from the start, all hashes match.
  await store.saveCheckpoint("default", "source", 0);
  const c1 = process.cpuUsage();
  const s2 = summaryOf(await sync.runOnce());
  const cu = process.cpuUsage(c1);
  return {
    records: N,
    payloadsPerRecord: 3,
    firstPassCpuMsPerRecord: round((c.user + c.system) / 1000 / N, 4),
    firstPassRecordsPerSecond: Math.round((N / ms) * 1000),
    unchangedPassCpuMsPerRecord: round((cu.user + cu.system) / 1000 / N, 4),
    unchangedPassWrites: s2.marketoWriteCalls,
  };
}

const round = (x: number, d = 3) => Math.round(x * 10 ** d) / 10 ** d;

const engine = await engineOnly();
console.log("engine only:", engine);
const quotaBound = await endToEnd(N, TIME_SCALE);
console.log(`${N} customers:`, JSON.stringify(quotaBound, null, 2));
const withLeads = await endToEnd(LEADS_N, TIME_SCALE, true);
console.log("with leads:", JSON.stringify(withLeads, null, 2));
const result = {
  name: "sync",
  date: new Date().toISOString(),
  machine: {
    node: process.version,
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model,
    memoryGb: round(totalmem() / 2 ** 30, 1),
  },
  settings: {
    N,
    timeScale: TIME_SCALE,
    leadsN: LEADS_N,
    readBack: false,
  },
  targets: {
    callsOverMinimum: "≤ 10",
    shareOfCeiling: "≥ 0.9",
    unchangedRerunWriteCalls: 0,
    duplicates: 0,
    limitViolations: 0,
  },
  quotaBound,
  withLeads,
  engineOnly: engine,
};
mkdirSync(new URL("./results/", import.meta.url), { recursive: true });
writeFileSync(new URL("./results/sync.json", import.meta.url), `${JSON.stringify(result, null, 2)}\n`);
console.log("saved bench/results/sync.json");
