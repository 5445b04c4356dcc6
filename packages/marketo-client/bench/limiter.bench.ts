/**
 * Limiter benchmark: 2,000 calls submitted at once to one client against the time-scaled simulator (timeScale 0.05:
 * the 100-calls-per-20-s window lasts 1 s). Measures how much of the 100 / 20 s ceiling the client uses and how many
 * calls the simulator refused (606 / 615 / 607).
 *
 * Utilisation = ideal span / measured span, where span is the time from the first call's arrival at the simulator to
 * the last one's, and the ideal span for N calls is (ceil(N / 100) − 1) windows: 100 calls at once, then the next 100
 * exactly one window later, and so on. 100 % is the ceiling; a client cannot go faster without 606s.
 *
 * The simulator runs in a child process (as Marketo runs on another machine), so its work does not delay the client's
 * timers and answers on a shared event loop.
 *
 * Run: `pnpm --filter @ml/marketo-client bench` (all benches) or `pnpm exec tsx bench/limiter.bench.ts`.
 * Saves bench/results/limiter.json.
 */
import { fork } from "node:child_process";
import { once } from "node:events";
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import { MarketoClient } from "../src/index.js";
import { type SimInspection, startMarketoSimulator } from "../src/testing/index.js";

type ChildMsg =
  | { type: "ready"; clientOptions: MarketoSimulatorClientOptions }
  | { type: "inspect"; inspect: SimInspection; arrivals: number[] }
  | { type: "done" };
type MarketoSimulatorClientOptions = Awaited<ReturnType<typeof startMarketoSimulator>>["clientOptions"];

/** Child side: runs the simulator and answers the parent's requests over IPC. */
async function serve(timeScale: number, latencyMs: number): Promise<void> {
  const sim = await startMarketoSimulator({ timeScale, latencyMs });
  process.on("message", async (m: { type: string }) => {
    if (m.type === "reset") {
      sim.resetInspection();
      process.send?.({ type: "done" });
    } else if (m.type === "inspect") {
      process.send?.({ type: "inspect", inspect: sim.inspect(), arrivals: sim.callLog().map((c) => c.at) });
    } else if (m.type === "close") {
      await sim.close();
      process.exit(0);
    }
  });
  process.send?.({ type: "ready", clientOptions: sim.clientOptions });
}

/** Parent side: a simulator in a child process. */
async function remoteSimulator(timeScale: number, latencyMs: number) {
  const child = fork(fileURLToPath(import.meta.url), ["--serve", String(timeScale), String(latencyMs)], {
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const next = async <T extends ChildMsg["type"]>(type: T) => {
    for (;;) {
      const [m] = (await once(child, "message")) as [ChildMsg];
      if (m.type === type) return m as Extract<ChildMsg, { type: T }>;
    }
  };
  const ready = await next("ready");
  return {
    clientOptions: ready.clientOptions,
    reset: async () => {
      child.send({ type: "reset" });
      await next("done");
    },
    inspect: async () => {
      child.send({ type: "inspect" });
      return next("inspect");
    },
    close: async () => {
      child.send({ type: "close" });
      await once(child, "exit");
    },
  };
}

/** One measured scenario. */
export interface LimiterScenarioResult {
  name: string;
  timeScale: number;
  calls: number;
  maxConcurrent: number;
  simulatorLatencyMs: number;
  windowMs: number;
  spanMs: number;
  idealSpanMs: number;
  utilisationPct: number;
  callsPerWindowAvg: number;
  peakWindowCalls: number;
  peakConcurrent: number;
  violations: { total: number; "606": number; "615": number; "607": number };
  failedCalls: number;
}

async function scenario(
  name: string,
  calls: number,
  maxConcurrent: number,
  latencyMs: number,
  timeScale: number,
): Promise<LimiterScenarioResult> {
  const sim = await remoteSimulator(timeScale, latencyMs);
  try {
    const mk = new MarketoClient({
      ...sim.clientOptions,
      limits: { ...sim.clientOptions.limits, maxConcurrent },
      usageSync: false,
    });
    await mk.stats.usage(); // token and connection warm-up, then wait for the window to empty
    await new Promise((r) => setTimeout(r, (sim.clientOptions.limits?.windowMs ?? 1000) + 50));
    await sim.reset();
    const settled = await Promise.allSettled(Array.from({ length: calls }, () => mk.stats.usage()));
    const { inspect: i, arrivals } = await sim.inspect();
    const windowMs = sim.clientOptions.limits?.windowMs ?? 1000;
    const spanMs = arrivals.at(-1)! - arrivals[0]!;
    const idealSpanMs = (Math.ceil(calls / 100) - 1) * windowMs;
    return {
      name,
      timeScale,
      calls,
      maxConcurrent,
      simulatorLatencyMs: latencyMs,
      windowMs,
      spanMs,
      idealSpanMs,
      utilisationPct: Math.round((idealSpanMs / spanMs) * 10_000) / 100,
      callsPerWindowAvg: Math.round(((calls * windowMs) / (spanMs + windowMs)) * 100) / 100,
      peakWindowCalls: i.peakWindowCalls,
      peakConcurrent: i.peakConcurrent,
      violations: i.violations,
      failedCalls: settled.filter((s) => s.status === "rejected").length,
    };
  } finally {
    await sim.close();
  }
}

/** Runs the limiter scenarios, prints them and saves bench/results/limiter.json. */
export async function runLimiterBench(): Promise<LimiterScenarioResult[]> {
  const results = [
    await scenario("2000 calls at once, timeScale 0.05 (1 s window), concurrency 5, 2 ms latency", 2000, 5, 2, 0.05),
    await scenario("2000 calls at once, timeScale 0.1 (2 s window), concurrency 5, 2 ms latency", 2000, 5, 2, 0.1),
    await scenario("2000 calls at once, timeScale 0.1 (2 s window), concurrency 10, 20 ms latency", 2000, 10, 20, 0.1),
    await scenario("2000 calls at once, timeScale 0.2 (4 s window), concurrency 5, 20 ms latency", 2000, 5, 20, 0.2),
  ];
  for (const r of results) {
    console.log(
      `${r.name}: utilisation ${r.utilisationPct}% of the 100/20 s ceiling (span ${r.spanMs} ms, ideal ${r.idealSpanMs} ms, ` +
        `avg ${r.callsPerWindowAvg} calls/window, peak ${r.peakWindowCalls}/window, peak ${r.peakConcurrent} in flight), ` +
        `violations ${r.violations.total} (606: ${r.violations["606"]}, 615: ${r.violations["615"]}), failed ${r.failedCalls}`,
    );
  }
  const out = {
    bench: "limiter",
    date: new Date().toISOString(),
    machine: {
      node: process.version,
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model ?? "unknown",
      platform: process.platform,
      // The machine is shared: a high load average means scheduler stalls, which cost most at small time scales.
      loadAverage1m: Math.round(loadavg()[0]! * 100) / 100,
    },
    note:
      "utilisation = (ceil(N/100) - 1) windows / measured first-to-last arrival span at the simulator. A call counts in " +
      "the client's window until windowMs after its answer arrived (exact: the server saw it earlier), so each window " +
      "loses about one call round trip; time scaling shrinks the window but not the round trip, so small time scales " +
      "understate real-Marketo utilisation (20 s windows).",
    results,
  };
  const dir = fileURLToPath(new URL("./results/", import.meta.url));
  mkdirSync(dir, { recursive: true });
  writeFileSync(`${dir}limiter.json`, `${JSON.stringify(out, null, 2)}\n`);
  return results;
}

const entry = process.argv[1] ? fileURLToPath(import.meta.url) === process.argv[1] : false;
if (process.argv[2] === "--serve") await serve(Number(process.argv[3]), Number(process.argv[4]));
else if (entry) await runLimiterBench();
