// Store benchmark: how fast each AuditStore records, what a sync costs end to end on each store, and a first sync of
// up to 1,000,000 customers on SQLite with its peak memory. Prints the figures and saves bench/results/stores.json.
//
//   pnpm --filter @ml/qad-marketo-sync exec tsx bench/stores.ts
//   SYNC_BENCH_PG_URL=postgres://postgres@127.0.0.1:5432/postgres   PostgreSQL figures (default: that URL when CI=true
//                                                                    or ML_TEST_PG_URL is set; skipped otherwise)
//   SYNC_BENCH_MILLION=1     also the first sync of 10k, 100k and 1M customers on SQLite (not CI: about 30 minutes),
//                            and again at 100k and 1M with the V8 heap capped (--max-old-space-size=SYNC_BENCH_CAP_MB,
//                            default 256): a run that completes capped holds no O(N) heap.
//
// Figures:
// - auditWrite: audit rows per second through commitBatch, 300 entries + 300 synced rows per batch (a sync batch).
// - endToEnd: records per second of a first sync of SYNC_BENCH_E2E_N customers (companies, named accounts, leads)
//   against the simulators (child process, time scale 0.01 so the quota barely binds and the store shows).
// - restartAfterKill: the scenario (3,000 customers, the worker SIGKILLed 8 times mid-run on SQLite, then run
//   to completion): Marketo calls in all against a clean run's, and the calls each restart cost.
// - firstSync (flag): calls against the minimum 2 × ceil(N/300) and the sync process's peak RSS, per N.
import { type ChildProcess, fork } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { getHeapStatistics, writeHeapSnapshot } from "node:v8";
import { MarketoClient, type MarketoClientOptions } from "@ml/marketo-client";
import { QadClient, type QadClientOptions } from "@ml/qad-client";
import pg from "pg";
import {
  type AuditEntry,
  type AuditStore,
  createMemoryStore,
  createSync,
  extendMapping,
  marketoGateway,
  qadCustomerSource,
  type SyncedState,
} from "../src/index.js";
import { createPostgresStore } from "../src/postgres/index.js";
import { createSqliteStore } from "../src/sqlite/index.js";

const PG_URL =
  process.env.SYNC_BENCH_PG_URL ??
  process.env.ML_TEST_PG_URL ??
  (process.env.CI === "true" ? "postgres://postgres@127.0.0.1:5432/postgres" : undefined);
const E2E_N = Number(process.env.SYNC_BENCH_E2E_N ?? 20_000);
const MILLION = process.env.SYNC_BENCH_MILLION === "1";
const AUDIT_BATCHES = Number(process.env.SYNC_BENCH_AUDIT_BATCHES ?? 200);

const round = (x: number, d = 3) => Math.round(x * 10 ** d) / 10 ** d;
const tmp = mkdtempSync(join(tmpdir(), "ml-bench-stores-"));

type Closable = AuditStore & { close?: () => Promise<void> | void };

async function scratchDb(): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `mlbench_${Date.now().toString(36)}_${Math.floor(Math.random() * 1e6)}`;
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const u = new URL(PG_URL!);
  u.pathname = `/${name}`;
  return {
    url: u.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: PG_URL });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

interface StoreCase {
  name: string;
  open(): Promise<{ store: Closable; cleanup: () => Promise<void> }>;
}

const cases: StoreCase[] = [
  { name: "memory", open: async () => ({ store: createMemoryStore(), cleanup: async () => {} }) },
  {
    name: "sqlite",
    open: async () => {
      const path = join(tmp, `s-${Date.now()}-${Math.random()}.db`);
      const store = createSqliteStore({ path });
      return { store, cleanup: async () => store.close() };
    },
  },
  ...(PG_URL
    ? [
        {
          name: "postgres",
          open: async () => {
            const db = await scratchDb();
            const store = createPostgresStore({ connectionString: db.url });
            return {
              store,
              cleanup: async () => {
                await store.close();
                await db.drop();
              },
            };
          },
        },
      ]
    : []),
];

/** Audit rows per second through commitBatch: batches like a sync's (300 audit rows + 300 synced rows). */
async function auditWrite(c: StoreCase) {
  const { store, cleanup } = await c.open();
  const lease = await store.acquireLease("sync:bench", "bench", 600_000);
  if (!lease.acquired) throw new Error("lease");
  const batch = (b: number) => {
    const entries: AuditEntry[] = [];
    const synced: SyncedState[] = [];
    for (let i = 0; i < 300; i++) {
      const key = `SS1.C${b * 300 + i}`;
      entries.push({
        tenant: "bench",
        runId: "r1",
        key,
        kind: "company",
        outcome: "created",
        sourceKey: key,
        reasons: [],
        payload: {
          externalCompanyId: key,
          company: `Customer ${key} GmbH`,
          billingCity: "Berlin",
          website: "x.example",
        },
        hash: `h${b}-${i}`,
        marketoId: String(b * 300 + i),
        at: Date.now(),
      });
      synced.push({ kind: "company", key, hash: `h${b}-${i}`, marketoId: b * 300 + i, runId: "r1", at: Date.now() });
    }
    return { entries, synced };
  };
  const t0 = performance.now();
  for (let b = 0; b < AUDIT_BATCHES; b++) {
    const { entries, synced } = batch(b);
    await store.commitBatch({
      tenant: "bench",
      entries,
      synced,
      checkpoint: { name: "source", value: b },
      fence: lease.lease,
    });
  }
  const ms = performance.now() - t0;
  await cleanup();
  const rows = AUDIT_BATCHES * 300;
  return {
    store: c.name,
    batches: AUDIT_BATCHES,
    auditRows: rows,
    ms: Math.round(ms),
    auditRowsPerSecond: Math.round((rows / ms) * 1000),
  };
}

function startHost(): { child: ChildProcess; ask: <T>(msg: object) => Promise<T> } {
  const child = fork(fileURLToPath(new URL("./sim-host.ts", import.meta.url)), [], {
    execArgv: ["--import", "tsx", "--max-old-space-size=8192"],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const ask = <T>(msg: object) =>
    new Promise<T>((resolve, reject) => {
      child.once("message", (m) => resolve(m as T));
      child.once("error", reject);
      child.send(msg);
    });
  return { child, ask };
}

/** A first sync of `n` customers against the simulators on one store: records/s, calls vs minimum, peak RSS. */
async function firstSync(c: StoreCase, n: number, withLeads: boolean) {
  const { ask } = startHost();
  const opts = await ask<{ qad: QadClientOptions; marketo: MarketoClientOptions }>({
    cmd: "start",
    customers: n,
    timeScale: 0.01,
    seed: 11,
  });
  const { store, cleanup } = await c.open();
  const mk = new MarketoClient({ ...opts.marketo });
  const sync = createSync({
    source: qadCustomerSource(new QadClient({ ...opts.qad }), { pageSize: 5000 }),
    marketo: marketoGateway(mk, { bulkFirstPull: false }),
    store,
    mapping: withLeads ? extendMapping({}) : extendMapping({ lead: false }),
    readBack: false,
  });
  const peak = { rss: 0, heapUsed: 0, external: 0 };
  const sample = () => {
    const m = process.memoryUsage();
    peak.rss = Math.max(peak.rss, m.rss);
    peak.heapUsed = Math.max(peak.heapUsed, m.heapUsed);
    peak.external = Math.max(peak.external, m.external);
  };
  sample();
  const sampler = setInterval(sample, 100);
  // SYNC_BENCH_LIVE_HEAP=1 (with --expose-gc): collects garbage every second during the run and keeps the largest
  // heap left, i.e. what the run really holds live (slows the run; a diagnostic, not a figure of the normal bench).
  const gcNow = (globalThis as { gc?: () => void }).gc;
  let peakLive = 0;
  const liveSampler =
    process.env.SYNC_BENCH_LIVE_HEAP === "1" && gcNow
      ? setInterval(() => {
          gcNow();
          peakLive = Math.max(peakLive, process.memoryUsage().heapUsed);
        }, 1000)
      : undefined;
  // SYNC_BENCH_HEAP_SNAPSHOT_AT=<batch>: writes a V8 heap snapshot (to the working directory) after that batch's commit.
  const snapshotAt = Number(process.env.SYNC_BENCH_HEAP_SNAPSHOT_AT ?? 0);
  if (snapshotAt > 0) {
    sync.on("batchCommitted", ({ batch }) => {
      if (batch === snapshotAt) console.log("heap snapshot:", writeHeapSnapshot());
    });
  }
  const rss0 = process.memoryUsage().rss;
  const t0 = performance.now();
  const out = await sync.runOnce();
  const ms = performance.now() - t0;
  clearInterval(sampler);
  clearInterval(liveSampler);
  sample();
  // What the run left live (garbage collected first; only when node runs with --expose-gc).
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const heapAfterGc = gc ? process.memoryUsage().heapUsed : undefined;
  if (out.status === "alreadyRunning") throw new Error("alreadyRunning");
  const s = out.summary;
  const written = s.outcomes.company.created + s.outcomes.company.updated;
  const leads = s.outcomes.lead.created + s.outcomes.lead.updated;
  const minimum = 2 * Math.ceil(written / 300) + Math.ceil(leads / 300);
  await ask({ cmd: "close" });
  await cleanup();
  return {
    store: c.name,
    customers: n,
    status: s.status,
    durationMs: Math.round(ms),
    recordsPerSecond: Math.round((n / ms) * 1000),
    marketoCalls: s.marketoCalls,
    marketoWriteCalls: s.marketoWriteCalls,
    minimumWriteCalls: minimum,
    callsOverMinimum: s.marketoCalls - minimum,
    leadsWritten: leads,
    rssAtStartMb: Math.round(rss0 / 2 ** 20),
    peakRssMb: Math.round(peak.rss / 2 ** 20),
    peakHeapUsedMb: Math.round(peak.heapUsed / 2 ** 20),
    peakExternalMb: Math.round(peak.external / 2 ** 20),
    ...(heapAfterGc === undefined ? {} : { heapUsedAfterGcMb: Math.round(heapAfterGc / 2 ** 20) }),
    ...(liveSampler ? { peakLiveHeapMb: Math.round(peakLive / 2 ** 20) } : {}),
    heapLimitMb: Math.round(getHeapStatistics().heap_size_limit / 2 ** 20),
    nodeFlags: process.execArgv.filter((f) => f.startsWith("--max") || f.startsWith("--expose")),
  };
}

/** 3,000 customers, a worker (test/crash/child.ts) on SQLite killed 8 times after a few batches, then completed. */
async function restartAfterKill(n = 3_000, kills = 8) {
  const host = startHost();
  const opts = await host.ask<{ qad: QadClientOptions; marketo: MarketoClientOptions }>({
    cmd: "start",
    customers: n,
    timeScale: 0.01,
    seed: 5,
  });
  const calls = async () =>
    (await host.ask<{ inspect: { totalCalls: number; duplicates: Record<string, number> } }>({ cmd: "inspect" }))
      .inspect;
  const path = join(tmp, "restart.db");
  const env = {
    ...process.env,
    TSX_TSCONFIG_PATH: fileURLToPath(new URL("../tsconfig.json", import.meta.url)),
    CRASH_CONFIG: JSON.stringify({
      store: "sqlite",
      location: path,
      qad: opts.qad,
      marketo: opts.marketo,
      batchSize: 100,
    }),
  };
  const run = (killAfterCommits?: number) =>
    new Promise<"killed" | "completed">((resolve, reject) => {
      const child = fork(fileURLToPath(new URL("../test/crash/child.ts", import.meta.url)), [], {
        execArgv: ["--import", "tsx"],
        env,
        stdio: ["ignore", "inherit", "inherit", "ipc"],
      });
      let commits = 0;
      child.on("message", (m: { committed?: number }) => {
        if (m.committed !== undefined && killAfterCommits !== undefined && ++commits >= killAfterCommits)
          child.kill("SIGKILL");
      });
      child.on("error", reject);
      child.on("exit", (code, signal) =>
        signal === "SIGKILL"
          ? resolve("killed")
          : code === 0
            ? resolve("completed")
            : reject(new Error(`exit ${code}`)),
      );
    });
  const before = (await calls()).totalCalls;
  let killed = 0;
  for (let k = 0; k < kills; k++) if ((await run(2 + (k % 3))) === "killed") killed++;
  await run();
  const after = await calls();
  await host.ask({ cmd: "close" });
  // The clean run: same data, one uninterrupted worker.
  const clean = startHost();
  const cleanOpts = await clean.ask<{ qad: QadClientOptions; marketo: MarketoClientOptions }>({
    cmd: "start",
    customers: n,
    timeScale: 0.01,
    seed: 5,
  });
  const cleanSync = createSync({
    tenant: "crash",
    source: qadCustomerSource(new QadClient({ ...cleanOpts.qad })),
    marketo: marketoGateway(new MarketoClient({ ...cleanOpts.marketo })),
    store: createMemoryStore(),
    batchSize: 100,
    readBack: false,
  });
  await cleanSync.runOnce();
  const cleanCalls = (await clean.ask<{ inspect: { totalCalls: number } }>({ cmd: "inspect" })).inspect.totalCalls;
  await clean.ask({ cmd: "close" });
  const total = after.totalCalls - before;
  return {
    customers: n,
    kills: killed,
    marketoCallsWithKills: total,
    marketoCallsClean: cleanCalls,
    callsPerRestart: round((total - cleanCalls) / Math.max(1, killed), 1),
    duplicates: after.duplicates,
  };
}

/** One first sync on SQLite in a fresh process of its own, so each N's peak RSS is measured from the same start. */
function firstSyncInChild(n: number, nodeFlags: string[] = []): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(import.meta.url), [], {
      // --expose-gc only lets the case report the heap left after garbage collection at its end.
      execArgv: ["--import", "tsx", "--expose-gc", ...nodeFlags],
      env: { ...process.env, SYNC_BENCH_FIRST_SYNC_N: String(n) },
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    child.once("message", resolve);
    child.once("error", reject);
    child.once("exit", (code) => (code === 0 ? undefined : reject(new Error(`first sync of ${n} exited ${code}`))));
  });
}

const ONLY = process.env.SYNC_BENCH_FIRST_SYNC_N;
if (ONLY) {
  const sqlite = cases.find((c) => c.name === "sqlite")!;
  const r = await firstSync(sqlite, Number(ONLY), false);
  rmSync(tmp, { recursive: true, force: true });
  process.send?.(r);
  process.exit(0);
}

const results: Record<string, unknown> = {};
try {
  results.auditWrite = [];
  for (const c of cases) {
    const r = await auditWrite(c);
    console.log("audit write:", r);
    (results.auditWrite as unknown[]).push(r);
  }
  results.endToEnd = [];
  for (const c of cases) {
    const r = await firstSync(c, E2E_N, true);
    console.log("end to end:", r);
    (results.endToEnd as unknown[]).push(r);
  }
  results.restartAfterKill = await restartAfterKill();
  console.log("restart after kill:", results.restartAfterKill);
  if (MILLION) {
    results.firstSyncSqlite = [];
    for (const n of [10_000, 100_000, 1_000_000]) {
      const r = await firstSyncInChild(n);
      console.log("first sync on SQLite (own process):", r);
      (results.firstSyncSqlite as unknown[]).push(r);
    }
    const cap = [`--max-old-space-size=${Number(process.env.SYNC_BENCH_CAP_MB ?? 256)}`];
    results.firstSyncSqliteCapped = [];
    for (const n of [100_000, 1_000_000]) {
      const r = await firstSyncInChild(n, cap);
      console.log("first sync on SQLite, heap capped (own process):", r);
      (results.firstSyncSqliteCapped as unknown[]).push(r);
    }
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}

const out = {
  name: "stores",
  date: new Date().toISOString(),
  machine: {
    node: process.version,
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model,
    memoryGb: round(totalmem() / 2 ** 30, 1),
  },
  settings: { auditBatches: AUDIT_BATCHES, endToEndCustomers: E2E_N, million: MILLION, postgres: PG_URL !== undefined },
  ...results,
};
mkdirSync(new URL("./results/", import.meta.url), { recursive: true });
writeFileSync(
  new URL(MILLION ? "./results/stores-million.json" : "./results/stores.json", import.meta.url),
  `${JSON.stringify(out, null, 2)}\n`,
);
console.log(`saved bench/results/${MILLION ? "stores-million" : "stores"}.json`);
