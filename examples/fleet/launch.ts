/**
 * Multi-worker fleet on PostgreSQL, against simulators:
 *
 *   pnpm --filter @ml/examples run fleet
 *
 * Starts one Marketo simulator shared by three QAD simulators (three tenant pairs), schedules each pair (every 15
 * minutes) and queues a run of each now, then starts `FLEET_WORKERS` worker processes (default 4). Unless
 * `FLEET_KILL=0`, it SIGKILLs the worker running the first pair to commit its third batch, and another worker takes
 * that pair over once the job expires. When every pair has completed a run it prints the simulator's counters
 * (zero quota violations, zero duplicates), stops the workers with SIGTERM and exits.
 *
 *   DATABASE_URL   PostgreSQL URL (default postgres://postgres@127.0.0.1:5432/postgres). Each start keeps its
 *                  tables in two fresh schemas, `ml_fleet_example_<id>` and `ml_fleet_example_<id>_boss` (printed;
 *                  left in place for inspection: drop them with `DROP SCHEMA ... CASCADE`).
 */
import { type ChildProcess, fork } from "node:child_process";
import { randomUUID } from "node:crypto";
import { fileURLToPath } from "node:url";
import { startMarketoSimulator } from "@ml/marketo-client/testing";
import { startQadSimulator } from "@ml/qad-client/testing";
import { createFleet } from "@ml/qad-marketo-sync/fleet";
import { type FleetExampleConfig, JOB } from "./pairs.js";

const TENANTS = ["north", "south", "east"];
const CUSTOMERS = 300;
const workers = Number(process.env.FLEET_WORKERS ?? 4);
const kill = process.env.FLEET_KILL !== "0";
const databaseUrl = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
// A fresh schema per start, so each start is a first sync of new simulators.
const schema = `ml_fleet_example_${randomUUID().slice(0, 8)}`;

const marketo = await startMarketoSimulator({ timeScale: 0.05 });
const qads = await Promise.all(TENANTS.map((_, i) => startQadSimulator({ customers: CUSTOMERS, seed: 40 + i })));
const config: FleetExampleConfig = {
  databaseUrl,
  schema,
  qad: Object.fromEntries(TENANTS.map((t, i) => [t, qads[i]!.clientOptions])),
  marketo: marketo.clientOptions,
  batchSize: 20,
};
console.log(`simulators up: Marketo ${marketo.url}, QAD ${qads.map((q) => q.tenantUrl).join(", ")}`);
console.log(`PostgreSQL schemas ${schema}, ${schema}_boss`);

// The scheduling side (any process can do it): one queue and one cron schedule per pair, and a run of each now.
const admin = createFleet({ connectionString: databaseUrl, bossOptions: { schema: `${schema}_boss` }, job: JOB });
for (const t of TENANTS) {
  await admin.schedule(t, "*/15 * * * *");
  await admin.runNow(t);
}

interface Report {
  worker: string;
  event: string;
  tenant?: string;
  batch?: number;
  status?: string;
  action?: string;
  calls?: number;
  companies?: Record<string, number>;
}
const children = new Map<string, ChildProcess>();
const completed = new Set<string>();
let killed: string | undefined;
let allDone!: () => void;
const done = new Promise<void>((r) => {
  allDone = r;
});
const worker = fileURLToPath(new URL("./worker.ts", import.meta.url));

for (let i = 1; i <= workers; i++) {
  const name = `worker-${i}`;
  const child = fork(worker, [], {
    execArgv: ["--import", "tsx"],
    env: { ...process.env, FLEET_EXAMPLE: JSON.stringify(config), FLEET_WORKER_NAME: name },
  });
  children.set(name, child);
  child.on("message", (m: Report) => {
    if (m.event === "batch" && kill && !killed && (m.batch ?? 0) >= 3) {
      killed = m.worker;
      console.log(`${m.worker} is in the middle of ${m.tenant}: SIGKILL`);
      children.get(m.worker)?.kill("SIGKILL");
    } else if (m.event === "run") {
      const c = m.companies ?? {};
      console.log(
        `${m.worker} ${m.tenant}: run ${m.status}, companies created ${c.created ?? 0}, updated ${c.updated ?? 0}, ` +
          `unchanged ${c.unchanged ?? 0}, ${m.calls} Marketo calls`,
      );
      if (m.status === "completed" && m.tenant) completed.add(m.tenant);
      if (completed.size === TENANTS.length) allDone();
    } else if (m.event === "job") {
      console.log(`${m.worker} ${m.tenant}: job ${m.action}`);
    } else if (m.event === "ready") {
      console.log(`${m.worker} ready`);
    }
  });
}

const timeout = setTimeout(() => {
  console.error("gave up after 120 s");
  process.exitCode = 1;
  allDone();
}, 120_000);
await done;
clearTimeout(timeout);

const seen = marketo.inspect();
console.log(
  `Marketo: ${seen.totalCalls} calls, violations ${JSON.stringify(seen.violations)}, ` +
    `duplicates ${JSON.stringify(seen.duplicates)}, companies ${marketo.data.companies.count()} ` +
    `(expected ${CUSTOMERS * TENANTS.length})`,
);
const exits = [...children.entries()]
  .filter(([n]) => n !== killed)
  .map(([, c]) => new Promise((r) => c.once("exit", r)));
for (const [n, c] of children) if (n !== killed) c.kill("SIGTERM");
await Promise.all(exits);
await admin.stop();
await marketo.close();
await Promise.all(qads.map((q) => q.close()));
