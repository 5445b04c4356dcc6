import { type ChildProcess, fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import { type MarketoSimulator, startMarketoSimulator } from "@ml/marketo-client/testing";
import { type QadSimulator, startQadSimulator } from "@ml/qad-client/testing";
import pg from "pg";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { createFleet, type Fleet, type FleetEvents, verdictOf } from "../src/fleet/index.js";
import type { RunOutcome, RunSummary, Sync } from "../src/index.js";
import { createPostgresStore } from "../src/postgres/index.js";
import { createScratchDatabase, hasPostgres, type ScratchDatabase } from "./support/postgres.js";

const summary = (status: RunSummary["status"], runId = "r1"): RunSummary =>
  ({
    runId,
    status,
    error: status === "failed" ? { code: "607", message: "quota", retryable: false } : undefined,
  }) as RunSummary;
const timing = { now: 100_000, marginSeconds: 1, minSeconds: 5, maxSeconds: 3600 };

describe("fleet job verdicts", () => {
  it("completes completed and degraded runs, continues stopped ones, fails failed runs and thrown errors", () => {
    expect(verdictOf({ outcome: { status: "completed", summary: summary("completed") } }, timing)).toMatchObject({
      action: "complete",
      status: "completed",
    });
    expect(verdictOf({ outcome: { status: "degraded", summary: summary("degraded") } as never }, timing)).toMatchObject(
      { action: "complete", status: "degraded" },
    );
    expect(verdictOf({ outcome: { status: "stopped", summary: summary("stopped") } }, timing)).toMatchObject({
      action: "continue",
    });
    expect(verdictOf({ outcome: { status: "failed", summary: summary("failed") } }, timing)).toMatchObject({
      action: "fail",
      error: { code: "607" },
    });
    const thrown = verdictOf({ error: new Error("connect ECONNREFUSED password=hunter2") }, timing);
    expect(thrown).toMatchObject({ action: "fail", status: "error" });
    expect(JSON.stringify(thrown)).not.toContain("hunter2");
  });

  it("defers alreadyRunning to the holder's lease expiry, within bounds, instead of failing", () => {
    const held = (expiresAt: number): RunOutcome => ({ status: "alreadyRunning", holder: "h", expiresAt });
    expect(verdictOf({ outcome: held(130_000) }, timing)).toEqual({
      action: "defer",
      status: "alreadyRunning",
      holder: "h",
      delaySeconds: 31,
    });
    expect(verdictOf({ outcome: held(90_000) }, timing)).toMatchObject({ delaySeconds: 5 }); // skewed: the floor
    expect(verdictOf({ outcome: held(100_000 + 10e6) }, timing)).toMatchObject({ delaySeconds: 3600 });
  });
});

/** A controllable stand-in for a pair's sync: each runOnce waits until the test settles it. */
function fakeSync(tenant: string) {
  const runs: { resolve: (o: RunOutcome) => void; signal: AbortSignal | undefined }[] = [];
  let active = 0;
  let maxActive = 0;
  let stops = 0;
  const sync = {
    tenant,
    runOnce: (o?: { signal?: AbortSignal }) =>
      new Promise<RunOutcome>((resolve) => {
        active++;
        maxActive = Math.max(maxActive, active);
        runs.push({
          signal: o?.signal,
          resolve: (out) => {
            active--;
            resolve(out);
          },
        });
      }),
    stop: async () => {
      stops++;
      for (const r of runs.splice(0)) r.resolve({ status: "stopped", summary: summary("stopped") });
    },
  } as unknown as Sync;
  return {
    sync,
    runs,
    get maxActive() {
      return maxActive;
    },
    get stops() {
      return stops;
    },
  };
}

const until = async (what: string, ok: () => boolean | Promise<boolean>, timeoutMs = 20_000) => {
  const end = Date.now() + timeoutMs;
  while (!(await ok())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
};

describe.skipIf(!hasPostgres)("fleet on pg-boss, in one process", () => {
  let db: ScratchDatabase | undefined;
  const fleets: Fleet[] = [];
  afterEach(async () => {
    await Promise.all(fleets.splice(0).map((f) => f.stop()));
    await db?.drop();
    db = undefined;
  });
  const jobs = async (queue: string) => {
    const c = new pg.Client({ connectionString: db!.url });
    await c.connect();
    try {
      const r = await c.query<{ state: string; retry_count: number; output: Record<string, unknown> | null }>(
        "SELECT state, retry_count, output, start_after FROM pgboss.job WHERE name = $1 ORDER BY created_on",
        [queue],
      );
      return r.rows;
    } finally {
      await c.end();
    }
  };

  it("keeps one schedule and one waiting job per pair, on a stately queue", async () => {
    db = await createScratchDatabase("mlfleet");
    const fleet = createFleet({ connectionString: db.url });
    fleets.push(fleet);
    await fleet.schedule("acme", "*/15 * * * *");
    await fleet.schedule("acme", "0 * * * *");
    await fleet.schedule("globex", "0 3 * * *", { tz: "Europe/Berlin" });
    const schedules = await fleet.boss.getSchedules();
    expect(schedules.map((s) => [s.name, s.cron]).sort()).toEqual([
      ["qad-marketo-sync.acme", "0 * * * *"],
      ["qad-marketo-sync.globex", "0 3 * * *"],
    ]);
    expect((await fleet.boss.getQueue("qad-marketo-sync.acme"))?.policy).toBe("stately");
    expect(await fleet.runNow("acme")).toEqual(expect.any(String));
    expect(await fleet.runNow("acme")).toBeNull(); // one waiting job per pair: the waiting one will do
    await fleet.unschedule("acme");
    expect((await fleet.boss.getSchedules()).map((s) => s.name)).toEqual(["qad-marketo-sync.globex"]);
    expect(() => fleet.queueOf("a b")).toThrow(/fleet tenant names/);
    // Job settings belong to the queue: a process with other settings applies its own (all should agree).
    expect(await fleet.boss.getQueue("qad-marketo-sync.acme")).toMatchObject({ expireInSeconds: 900, retryLimit: 3 });
    const other = createFleet({ connectionString: db.url, job: { expireInSeconds: 30, retryLimit: 1 } });
    fleets.push(other);
    await other.addPair("acme");
    expect(await fleet.boss.getQueue("qad-marketo-sync.acme")).toMatchObject({ expireInSeconds: 30, retryLimit: 1 });
  });

  it("refuses a pair queue made with another policy", async () => {
    db = await createScratchDatabase("mlfleet");
    const fleet = createFleet({ connectionString: db.url });
    fleets.push(fleet);
    await fleet.addPair("seed"); // starts pg-boss
    await fleet.boss.createQueue("qad-marketo-sync.loose", { name: "qad-marketo-sync.loose", policy: "standard" });
    await expect(fleet.runNow("loose")).rejects.toThrow(/stately/);
  });

  it("runs a pair on one worker at a time, settles each outcome, and stops gracefully", async () => {
    db = await createScratchDatabase("mlfleet");
    const fakes = new Map([["acme", fakeSync("acme")]]);
    const ended: FleetEvents["jobEnded"][] = [];
    const worker = () => {
      const f = createFleet({
        connectionString: db!.url,
        job: { retryDelaySeconds: 0, retryBackoff: false, retryLimit: 2 },
        defer: { minSeconds: 1 },
        pairs: (t) => fakes.get(t)!.sync,
      });
      f.on("jobEnded", (e) => ended.push(e));
      fleets.push(f);
      return f;
    };
    const w1 = worker();
    const w2 = worker();
    const acme = fakes.get("acme")!;
    const queue = w1.queueOf("acme");
    await w1.addPair("acme");
    await w1.start({ tenants: ["acme"], pollingIntervalSeconds: 0.5 });
    await w2.start({ tenants: ["acme"], pollingIntervalSeconds: 0.5 });

    // Two jobs of one pair: the second waits while the first is active, on either worker.
    await w1.runNow("acme");
    await until("first run", () => acme.runs.length === 1);
    expect(await w1.runNow("acme")).toEqual(expect.any(String));
    await new Promise((r) => setTimeout(r, 1_500)); // several polls of both workers
    expect(acme.runs.length).toBe(1);
    acme.runs.shift()!.resolve({ status: "completed", summary: summary("completed", "run-1") });
    await until("second run", () => acme.runs.length === 1);
    expect(acme.maxActive).toBe(1);

    // alreadyRunning: completed (no retry burned) and re-queued for the lease's expiry.
    acme.runs.shift()!.resolve({ status: "alreadyRunning", holder: "other", expiresAt: Date.now() + 2_000 });
    await until("deferral", () => ended.length === 2);
    expect(ended[1]!.verdict).toMatchObject({ action: "defer", delaySeconds: 3 });
    let rows = await jobs(queue);
    expect(rows.filter((r) => r.state === "completed").map((r) => r.output?.status)).toEqual([
      "completed",
      "alreadyRunning",
    ]);
    expect(rows.filter((r) => r.state === "created")).toHaveLength(1);
    expect(rows.every((r) => r.retry_count === 0)).toBe(true);

    // The deferred job runs; a failed run fails the job and pg-boss retries it.
    await until("deferred run", () => acme.runs.length === 1, 10_000);
    acme.runs.shift()!.resolve({ status: "failed", summary: summary("failed", "run-3") });
    await until("retry", () => acme.runs.length === 1, 10_000);
    rows = await jobs(queue);
    const retried = rows.find((r) => r.state === "active");
    expect(retried?.retry_count).toBe(1);

    // Graceful stop while a run is going: sync.stop() is called, the job completes and a continuation is queued.
    await Promise.all(fleets.splice(0).map((f) => f.stop()));
    expect(acme.stops).toBe(1);
    expect(ended.at(-1)!.verdict).toMatchObject({ action: "continue" });
    const check = createFleet({ connectionString: db.url });
    fleets.push(check);
    await check.addPair("acme");
    rows = await jobs(queue);
    expect(rows.filter((r) => r.state === "active")).toHaveLength(0);
    expect(rows.filter((r) => r.state === "created")).toHaveLength(1);
    expect(acme.maxActive).toBe(1);
  }, 60_000);
});

// Multi-worker test: 4 worker processes on PostgreSQL (pg-boss, the PostgreSQL store and limiter store) syncing 3
// tenant pairs that share one Marketo simulator. One worker is SIGKILLed in the middle of a run; another takes the
// pair over after the job's expiry and completes it.

const WORKER = fileURLToPath(new URL("./fleet/worker.ts", import.meta.url));
const TSCONFIG = fileURLToPath(new URL("../tsconfig.json", import.meta.url));
const TENANTS = ["north", "south", "east"];
const CUSTOMERS = 200;
const JOB = { expireInSeconds: 12, retryLimit: 3, retryDelaySeconds: 1, retryBackoff: false };

interface Msg {
  worker: string;
  at: number;
  event: string;
  tenant?: string;
  runId?: string;
  batch?: number;
  status?: string;
  verdict?: { action: string };
}

describe.skipIf(!hasPostgres)("fleet: 4 worker processes, 3 tenant pairs, one Marketo", () => {
  let db: ScratchDatabase | undefined;
  let mk: MarketoSimulator | undefined;
  const qads: QadSimulator[] = [];
  const children = new Map<string, { child: ChildProcess; exit: Promise<number | null> }>();
  afterAll(async () => {
    for (const { child } of children.values()) if (child.exitCode === null) child.kill("SIGKILL");
    await Promise.all([...children.values()].map((c) => c.exit));
    await mk?.close();
    await Promise.all(qads.map((q) => q.close()));
    await db?.drop();
  });

  it("never runs a pair twice at once, takes a killed worker's pair over, and writes everything once, in quota", async () => {
    db = await createScratchDatabase("mlfleet");
    mk = await startMarketoSimulator({ timeScale: 0.05, seed: 5 });
    for (let i = 0; i < TENANTS.length; i++) qads.push(await startQadSimulator({ customers: CUSTOMERS, seed: 21 + i }));

    // The scheduling side: one queue and one schedule per pair (daily, so the test's runs all come from runNow).
    const admin = createFleet({ connectionString: db.url, job: JOB });
    for (const t of TENANTS) await admin.schedule(t, "0 3 * * *");
    expect((await admin.boss.getSchedules()).length).toBe(3);

    const messages: Msg[] = [];
    const start = (worker: string) => {
      const env = {
        worker,
        db: db!.url,
        qad: Object.fromEntries(TENANTS.map((t, i) => [t, qads[i]!.clientOptions])),
        marketo: mk!.clientOptions,
        batchSize: 10,
        lease: { ttlMs: 2_000, renewEveryMs: 400 },
        job: JOB,
        pollingIntervalSeconds: 0.5,
      };
      const child = fork(WORKER, [], {
        execArgv: ["--import", "tsx"],
        env: { ...process.env, FLEET_WORKER: JSON.stringify(env), TSX_TSCONFIG_PATH: TSCONFIG },
        stdio: ["ignore", "inherit", "inherit", "ipc"],
      });
      child.on("message", (m) => messages.push(m as Msg));
      const exit = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
      children.set(worker, { child, exit });
    };
    for (const w of ["w1", "w2", "w3", "w4"]) start(w);
    await until("4 workers ready", () => messages.filter((m) => m.event === "ready").length === 4, 30_000);

    // Sample pg-boss: at most one active job per pair at any moment.
    const sampler = new pg.Client({ connectionString: db.url });
    await sampler.connect();
    const maxActive = new Map<string, number>();
    let sampling = true;
    const sampling$ = (async () => {
      while (sampling) {
        const r = await sampler.query<{ name: string; n: number }>(
          "SELECT name, count(*)::int AS n FROM pgboss.job WHERE state = 'active' GROUP BY name",
        );
        for (const row of r.rows) maxActive.set(row.name, Math.max(maxActive.get(row.name) ?? 0, row.n));
        await new Promise((res) => setTimeout(res, 100));
      }
    })();

    for (const t of TENANTS) expect(await admin.runNow(t)).toEqual(expect.any(String));
    // A second job per pair while the first runs: it waits (a stately queue activates one job per pair at a time).
    await until("every pair running", () =>
      TENANTS.every((t) => messages.some((m) => m.event === "runStarted" && m.tenant === t)),
    );
    for (const t of TENANTS) expect(await admin.runNow(t)).toEqual(expect.any(String));

    // Kill the worker whose run is first to commit its third batch, in the middle of that run.
    await until("a third batch", () => messages.some((m) => m.event === "batchCommitted" && (m.batch ?? 0) >= 3));
    const victim = messages.find((m) => m.event === "batchCommitted" && (m.batch ?? 0) >= 3)!;
    children.get(victim.worker)!.child.kill("SIGKILL");
    await children.get(victim.worker)!.exit;
    const killedAt = Date.now();

    const store = createPostgresStore({ connectionString: db.url, maxConnections: 2 });
    try {
      const completed = async (t: string) => (await store.listRuns(t)).some((r) => r.status === "completed");
      const unsettled = async () =>
        (await sampler.query("SELECT 1 FROM pgboss.job WHERE name LIKE 'qad-marketo-sync.%' AND state < 'completed'"))
          .rowCount;
      await until(
        "every pair completed and every job settled",
        async () => (await Promise.all(TENANTS.map(completed))).every(Boolean) && (await unsettled()) === 0,
        70_000,
      );
      sampling = false;
      await sampling$;
      await sampler.end();

      // At most one active job per pair (pg-boss), and at most one runner per pair (the store's run records).
      expect([...maxActive.keys()].sort()).toEqual(TENANTS.map((t) => admin.queueOf(t)).sort());
      for (const n of maxActive.values()) expect(n).toBe(1);
      for (const t of TENANTS) {
        const runs = (await store.listRuns(t)).sort((a, b) => a.startedAt - b.startedAt);
        for (const r of runs) {
          if (r.runId === victim.runId)
            expect(r.status).toBe("running"); // killed: never finished
          else expect(r.finishedAt).toBeDefined();
        }
        for (let i = 1; i < runs.length; i++) {
          const prev = runs[i - 1]!;
          const prevEnd = prev.finishedAt ?? killedAt;
          expect(runs[i]!.startedAt).toBeGreaterThanOrEqual(prevEnd);
        }
      }

      // The killed worker's pair was taken over by another worker, after the kill, and completed.
      const takeover = messages.find(
        (m) => m.event === "runFinished" && m.tenant === victim.tenant && m.status === "completed",
      );
      expect(takeover).toBeDefined();
      expect(takeover!.worker).not.toBe(victim.worker);
      const takeoverStart = messages.find((m) => m.event === "runStarted" && m.runId === takeover!.runId)!;
      expect(takeoverStart.at).toBeGreaterThanOrEqual(killedAt);
      console.info(
        `fleet: ${victim.tenant} taken over by ${takeover!.worker} ${takeoverStart.at - killedAt} ms after the kill ` +
          `(job expiry ${JOB.expireInSeconds} s); ${mk.inspect().totalCalls} Marketo calls for ${TENANTS.length} pairs`,
      );

      // One quota for four processes: no 606/615/607, in the counters or in the call log.
      const seen = mk.inspect();
      expect(seen.violations).toEqual({ total: 0, "606": 0, "615": 0, "607": 0 });
      expect(mk.callLog().filter((c) => ["606", "615", "607"].includes(c.code ?? ""))).toEqual([]);

      // Nothing duplicated: every customer of every pair is in Marketo exactly once, as a company and an account.
      expect(Object.values(seen.duplicates).every((n) => n === 0)).toBe(true);
      for (let i = 0; i < TENANTS.length; i++) {
        const t = TENANTS[i]!;
        const customers = qads[i]!.data.customers();
        expect(customers).toHaveLength(CUSTOMERS);
        for (const c of customers) {
          expect(mk.data.companies.find("externalCompanyId", `${t}.${c.sharedSetCode}.${c.customerCode}`)).toHaveLength(
            1,
          );
        }
        const accounts = mk.data.namedAccounts.all().filter((a) => String(a.name).startsWith(`[${t}] `));
        expect(accounts).toHaveLength(CUSTOMERS);
      }
      expect(mk.data.companies.count()).toBe(CUSTOMERS * TENANTS.length);
    } finally {
      await store.close();
    }

    // The survivors stop gracefully on SIGTERM.
    const survivors = [...children.entries()].filter(([w]) => w !== victim.worker);
    for (const [, c] of survivors) c.child.kill("SIGTERM");
    expect(await Promise.all(survivors.map(([, c]) => c.exit))).toEqual([0, 0, 0]);
    await admin.stop();
  }, 110_000);
});
