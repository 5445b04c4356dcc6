/**
 * Quota bench at Marketo's REAL 20 s window (simulator timeScale 1, in a child process).
 *
 * 1. One process: 300 company write calls submitted at once to one client (concurrency 5). 300 calls need three
 *    windows: the 201st call cannot arrive before the 1st one's arrival + 40 s, so the run cannot finish before
 *    40 s + the round trips of the last wave (≈ 40.1 s). Prints the finish time (first submission → last answer) and
 *    the share of the physical limit (ideal / measured).
 * 2. Four worker processes sharing one simulator through the PostgreSQL `LimiterStore` of @ml/qad-marketo-sync
 *    (worker: packages/qad-marketo-sync/bench/quota-worker.ts). Prints calls per complete 20 s window and violations.
 *
 * Run: `pnpm --filter @ml/marketo-client bench quota` or `pnpm exec tsx bench/quota.bench.ts` (from the package).
 * The 4-worker part needs PostgreSQL: `ML_BENCH_PG_URL` (or `ML_TEST_PG_URL`), default
 * postgres://postgres@127.0.0.1:5432/postgres; a scratch database is created and dropped.
 * Saves bench/results/quota.json.
 */
import { fork } from "node:child_process";
import { once } from "node:events";
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import { MarketoClient } from "../src/index.js";
import type { SimCallRecord } from "../src/testing/index.js";
import { remoteSimulator } from "./sim-host.js";

const WINDOW_MS = 20_000;
const CEILING = 100;
const LATENCY_MS = 2;

const round = (x: number, digits = 2) => Math.round(x * 10 ** digits) / 10 ** digits;

/** Calls per complete window: windows [first + i·W, first + (i+1)·W) that lie wholly inside the run's arrivals. */
export function completeWindows(arrivals: number[], windowMs: number): number[] {
  if (arrivals.length === 0) return [];
  const first = arrivals[0]!;
  const last = arrivals.at(-1)!;
  const counts: number[] = [];
  for (let start = first; start + windowMs <= last; start += windowMs) {
    counts.push(arrivals.filter((a) => a >= start && a < start + windowMs).length);
  }
  return counts;
}

function machine() {
  return {
    node: process.version,
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? "unknown",
    platform: process.platform,
    loadAverage1m: round(loadavg()[0]!),
  };
}

/** One process, 300 writes. */
async function singleProcess(calls = 300) {
  const sim = await remoteSimulator(1, LATENCY_MS);
  try {
    const mk = new MarketoClient({ ...sim.clientOptions, usageSync: false });
    await mk.stats.usage(); // token and connection warm-up, then let the window empty
    await new Promise((r) => setTimeout(r, WINDOW_MS + 100));
    await sim.reset();
    const started = Date.now();
    const settled = await Promise.allSettled(
      Array.from({ length: calls }, (_, i) => mk.companies.sync({ input: [{ externalCompanyId: `Q-${i}` }] })),
    );
    const finishMs = Date.now() - started;
    const { inspect, log } = await sim.inspect();
    const writes = log.filter((c) => c.path.endsWith("/companies.json"));
    // The physical limit: the last wave cannot start before 2 windows after the first arrival, and its calls go
    // `maxConcurrent` at a time, each taking at least the fastest round trip measured in this run.
    const waves = Math.ceil(calls / CEILING);
    const lastWave = calls - (waves - 1) * CEILING;
    const minRoundTripMs = fastestRoundTrip(writes);
    const idealMs = (waves - 1) * WINDOW_MS + Math.ceil(lastWave / 5) * minRoundTripMs;
    return {
      name: `1 process, ${calls} company writes submitted at once, timeScale 1 (20 s window), concurrency 5`,
      calls,
      finishMs,
      firstToLastArrivalMs: writes.at(-1)!.at - writes[0]!.at,
      physicalLimitMs: idealMs,
      shareOfPhysicalLimit: round(idealMs / finishMs, 4),
      peakWindowCalls: inspect.peakWindowCalls,
      peakConcurrent: inspect.peakConcurrent,
      violations: inspect.violations,
      failedCalls: settled.filter((s) => s.status === "rejected").length,
    };
  } finally {
    await sim.close();
  }
}

/** The fastest round trip, estimated from consecutive arrivals in the first wave (5 in flight: ≥ 1 RTT apart per 5). */
function fastestRoundTrip(writes: SimCallRecord[]): number {
  const firstWave = writes.slice(0, CEILING).map((c) => c.at);
  const gaps: number[] = [];
  for (let i = 5; i < firstWave.length; i += 5) gaps.push(firstWave[i]! - firstWave[i - 5]!);
  return gaps.length ? Math.max(1, Math.min(...gaps)) : 1;
}

/** Four worker processes on one PostgreSQL limiter store. */
async function fourWorkers(workers = 4, callsPerWorker = Number(process.env.QUOTA_BENCH_CALLS_PER_WORKER ?? 150)) {
  const pgUrl =
    process.env.ML_BENCH_PG_URL ?? process.env.ML_TEST_PG_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
  const sim = await remoteSimulator(1, LATENCY_MS);
  const workerPath = fileURLToPath(new URL("../../qad-marketo-sync/bench/quota-worker.ts", import.meta.url));
  const spawn = (args: string[]) => fork(workerPath, args, { stdio: ["ignore", "inherit", "inherit", "ipc"] });
  const setup = spawn(["--setup", pgUrl]);
  const setupExit = once(setup, "exit");
  const [[db]] = (await once(setup, "message")) as [[{ url: string; name: string }]];
  await setupExit;
  try {
    await sim.reset();
    const children = Array.from({ length: workers }, (_, w) =>
      spawn(["--work", db.url, String(w), String(callsPerWorker)]),
    );
    const exits = children.map((c) => once(c, "exit"));
    // Each worker reports ready (store migrated, token fetched) and then waits for the start signal.
    await Promise.all(children.map((c) => once(c, "message")));
    await sim.reset();
    const started = Date.now();
    for (const c of children) c.send({ type: "start", options: sim.clientOptions });
    const results = (await Promise.all(children.map((c) => once(c, "message")))).map(
      ([m]) => m as { failed: number; done: number },
    );
    const finishMs = Date.now() - started;
    await Promise.all(exits);
    const { inspect, log } = await sim.inspect();
    const arrivals = log.filter((c) => c.path.endsWith("/companies.json")).map((c) => c.at);
    const windows = completeWindows(arrivals, WINDOW_MS);
    const mean = windows.reduce((a, b) => a + b, 0) / Math.max(1, windows.length);
    return {
      name: `${workers} worker processes × ${callsPerWorker} company writes, one simulator (timeScale 1), PostgreSQL LimiterStore`,
      workers,
      calls: workers * callsPerWorker,
      finishMs,
      completeWindows: windows,
      callsPerCompleteWindowMean: round(mean),
      callsPerCompleteWindowMin: Math.min(...windows),
      shareOfCeiling: round(mean / CEILING, 4),
      peakWindowCalls: inspect.peakWindowCalls,
      peakConcurrent: inspect.peakConcurrent,
      violations: inspect.violations,
      failedCalls: results.reduce((a, r) => a + r.failed, 0),
    };
  } finally {
    await sim.close();
    const drop = spawn(["--drop", pgUrl, db.name]);
    await once(drop, "exit");
  }
}

/** Runs both scenarios, prints them and saves bench/results/quota.json. */
export async function runQuotaBench(): Promise<void> {
  const only = process.env.QUOTA_BENCH ?? "all";
  const single = only === "workers" ? undefined : await singleProcess();
  if (single) {
    console.log(
      `${single.name}: finished in ${(single.finishMs / 1000).toFixed(2)} s (physical limit ${(single.physicalLimitMs / 1000).toFixed(2)} s, ` +
        `${(single.shareOfPhysicalLimit * 100).toFixed(1)}% of it), peak ${single.peakWindowCalls}/window, ` +
        `violations ${single.violations.total}, failed ${single.failedCalls}`,
    );
  }
  const multi = only === "single" ? undefined : await fourWorkers();
  if (multi) {
    console.log(
      `${multi.name}: calls per complete 20 s window ${multi.completeWindows.join(", ")} (mean ${multi.callsPerCompleteWindowMean}, ` +
        `${(multi.shareOfCeiling * 100).toFixed(1)}% of 100), peak ${multi.peakWindowCalls}/window, peak ${multi.peakConcurrent} in flight, ` +
        `violations ${multi.violations.total} (606: ${multi.violations["606"]}, 615: ${multi.violations["615"]}), failed ${multi.failedCalls}`,
    );
  }
  const out = {
    bench: "quota",
    date: new Date().toISOString(),
    machine: machine(),
    note:
      "timeScale 1: Marketo's real 100 calls / 20 s. shareOfPhysicalLimit = (2 windows + the last wave's round trips) / " +
      "measured first-submission-to-last-answer time. Complete windows are [first arrival + i·20 s, + 20 s) inside the run.",
    results: [single, multi].filter((r) => r !== undefined),
  };
  const dir = fileURLToPath(new URL("./results/", import.meta.url));
  mkdirSync(dir, { recursive: true });
  writeFileSync(`${dir}quota.json`, `${JSON.stringify(out, null, 2)}\n`);
}

const entry = process.argv[1] ? fileURLToPath(import.meta.url) === process.argv[1] : false;
if (entry) await runQuotaBench();
