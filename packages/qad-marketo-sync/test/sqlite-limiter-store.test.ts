import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type LimiterStore, MarketoClient, type ReserveLimits } from "@ml/marketo-client";
import { limiterStoreContract, startMarketoSimulator } from "@ml/marketo-client/testing";
import Database from "better-sqlite3";
import { afterAll, describe, expect, it } from "vitest";
import { SchemaVersionError } from "../src/errors.js";
import {
  createSqliteLimiterStore,
  createSqliteStore,
  SQLITE_LIMITER_SCHEMA_VERSION,
  SQLITE_SCHEMA_VERSION,
  type SqliteLimiterStore,
  type SqliteLimiterStoreOptions,
  type SqliteStore,
} from "../src/sqlite/index.js";

const DAY = "2026-03-02";
// Every step of the AuditStore's own schema, applied to a new file.
const AUDIT_STEPS = Array.from({ length: SQLITE_SCHEMA_VERSION }, (_, i) => i + 1);
const dir = mkdtempSync(join(tmpdir(), "ml-sqlite-limiter-"));
const closers: (() => void)[] = [];
const children: ChildProcess[] = [];
let n = 0;
const fresh = () => join(dir, `limiter-${++n}.db`);
const open = (options: SqliteLimiterStoreOptions): SqliteLimiterStore => {
  const store = createSqliteLimiterStore(options);
  closers.push(() => store.close());
  return store;
};
const openAudit = (path: string): SqliteStore => {
  const store = createSqliteStore({ path });
  closers.push(() => store.close());
  return store;
};
afterAll(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
  for (const close of closers) close();
  rmSync(dir, { recursive: true, force: true });
});

/** Reads the file through a connection of its own, outside the store. */
const inspect = <T>(path: string, sql: string): T => {
  const db = new Database(path, { readonly: true });
  try {
    return db.prepare(sql).get() as T;
  } finally {
    db.close();
  }
};
const slotRows = (path: string) => inspect<{ n: number }>(path, "SELECT count(*) AS n FROM ml_limiter_slots").n;

const t = { describe, it, expect };
limiterStoreContract("sqlite file", () => open({ path: fresh() }), t);
limiterStoreContract("sqlite :memory:", () => open({ path: ":memory:" }), t);
limiterStoreContract(
  "sqlite file shared with the AuditStore",
  () => {
    const path = fresh();
    openAudit(path);
    return open({ path });
  },
  t,
);

const L: ReserveLimits = {
  callsPerWindow: 10,
  windowMs: 20_000,
  maxConcurrent: 100,
  dailyCeiling: 1_000,
  leaseMs: 60_000,
};

describe("SQLite LimiterStore: one file, several connections", () => {
  it("two connections reserving in turn share one window and one concurrency cap", async () => {
    const path = fresh();
    const a = open({ path });
    const b = open({ path });
    const burst = (limits: ReserveLimits, key: string) =>
      Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 ? a : b).reserve(key, 1_000, DAY, limits)));
    const window = await burst(L, "w");
    expect(window.filter((r) => r.granted)).toHaveLength(10);
    // Both connections were granted slots, and both were refused once the shared window was full.
    expect(window.filter((r, i) => r.granted && i % 2 === 1).length).toBeGreaterThan(0);
    expect(window.filter((r, i) => r.granted && i % 2 === 0).length).toBeGreaterThan(0);
    expect(window.slice(10).every((r) => !r.granted && r.reason === "window")).toBe(true);
    expect(await b.state("w", 1_000, DAY, L)).toEqual({ windowCalls: 10, inFlight: 10, dailyUsed: 10, pausedUntil: 0 });

    const concurrency = await burst({ ...L, callsPerWindow: 100, maxConcurrent: 4 }, "c");
    expect(concurrency.filter((r) => r.granted)).toHaveLength(4);
    // A slot granted through one connection is released through the other: ids are the file's.
    const first = concurrency.find((r) => r.granted);
    if (!first?.granted) throw new Error("expected a slot");
    await a.release("c", first.slotId, 1_500);
    expect(b.peek("c", 1_500, DAY, L)).toMatchObject({ inFlight: 3, windowCalls: 4 });
    expect((await b.reserve("c", 1_600, DAY, { ...L, callsPerWindow: 100, maxConcurrent: 4 })).granted).toBe(true);
  });

  it("a pause or Marketo's daily figure set through one connection holds the other", async () => {
    const path = fresh();
    const a = open({ path });
    const b = open({ path });
    await a.pause("k", 5_000);
    expect(await b.reserve("k", 4_999, DAY, L)).toMatchObject({ granted: false, reason: "paused", retryAt: 5_000 });
    await a.raiseDailyUsed("k", DAY, L.dailyCeiling);
    expect(await b.reserve("k", 6_000, DAY, L)).toMatchObject({ granted: false, reason: "daily" });
  });

  it("reserve takes the file's write lock: it waits for another writer and fails retryable after busyTimeoutMs", async () => {
    const path = fresh();
    const store = open({ path, busyTimeoutMs: 50 });
    const writer = new Database(path);
    closers.push(() => writer.close());
    writer.exec("BEGIN IMMEDIATE");
    await expect(store.reserve("k", 0, DAY, L)).rejects.toMatchObject({ code: "store", retryable: true });
    writer.exec("COMMIT");
    expect((await store.reserve("k", 0, DAY, L)).granted).toBe(true);
  });
});

// ---- other processes -------------------------------------------------------------------------------------------

const CHILD = fileURLToPath(new URL("./sqlite-limiter-child.ts", import.meta.url));
const repoRoot = fileURLToPath(new URL("../../..", import.meta.url));

interface ChildAnswer {
  ready?: true;
  granted?: string[];
  refused?: Record<string, number>;
  error?: string;
}

function startChild(path: string): { proc: ChildProcess; next: () => Promise<ChildAnswer> } {
  const proc = spawn(process.execPath, ["--import", "tsx", CHILD, path], {
    cwd: repoRoot,
    stdio: ["ignore", "ignore", "pipe", "ipc"],
  });
  children.push(proc);
  let stderr = "";
  proc.stderr?.on("data", (d) => {
    stderr += String(d);
  });
  const inbox: ChildAnswer[] = [];
  const waiting: { resolve: (m: ChildAnswer) => void; reject: (e: Error) => void }[] = [];
  proc.on("message", (m: ChildAnswer) => {
    const w = waiting.shift();
    if (w) w.resolve(m);
    else inbox.push(m);
  });
  proc.on("exit", (code, signal) => {
    for (const w of waiting.splice(0)) w.reject(new Error(`child ended (${code ?? signal}): ${stderr}`));
  });
  const next = () =>
    new Promise<ChildAnswer>((resolve, reject) => {
      const m = inbox.shift();
      if (m) resolve(m);
      else if (proc.exitCode !== null || proc.signalCode !== null) reject(new Error(`child ended: ${stderr}`));
      else waiting.push({ resolve, reject });
    });
  return { proc, next };
}

const exited = (proc: ChildProcess) =>
  new Promise<void>((resolve) => {
    if (proc.exitCode !== null || proc.signalCode !== null) resolve();
    else proc.once("exit", () => resolve());
  });

describe("SQLite LimiterStore: processes on one machine", () => {
  it("four processes reserving at the same moment never over-grant the window or the concurrency cap", async () => {
    const path = fresh();
    open({ path }); // creates the tables before the children race to open the file
    const workers = Array.from({ length: 4 }, () => startChild(path));
    for (const w of workers) expect(await w.next()).toEqual({ ready: true });

    const race = async (key: string, limits: ReserveLimits) => {
      // Every child starts its burst at once; their transactions interleave on the file.
      for (const w of workers) w.proc.send({ op: "reserve", key, count: 150, now: 1_000, day: DAY, limits });
      const answers = await Promise.all(workers.map((w) => w.next()));
      for (const a of answers) expect(a.error).toBeUndefined();
      return answers;
    };

    const window = await race("w", { ...L, callsPerWindow: 250, maxConcurrent: 10_000 });
    const grantedW = window.flatMap((a) => a.granted ?? []);
    expect(grantedW).toHaveLength(250);
    expect(new Set(grantedW).size).toBe(250);
    expect(window.reduce((s, a) => s + (a.refused?.window ?? 0), 0)).toBe(4 * 150 - 250);

    const conc = await race("c", { ...L, callsPerWindow: 10_000, maxConcurrent: 37 });
    expect(conc.flatMap((a) => a.granted ?? [])).toHaveLength(37);

    const store = open({ path });
    expect(await store.state("w", 1_000, DAY, L)).toMatchObject({ windowCalls: 250, inFlight: 250, dailyUsed: 250 });
    expect(await store.state("c", 1_000, DAY, L)).toMatchObject({ inFlight: 37, dailyUsed: 37 });
    for (const w of workers) w.proc.send({ op: "close" });
    await Promise.all(workers.map((w) => exited(w.proc)));
    for (const w of workers) expect(w.proc.exitCode).toBe(0);
  });

  it("a SIGKILLed holder's slots stop counting after leaseMs and are deleted once they left the window", async () => {
    const path = fresh();
    const limits: ReserveLimits = { ...L, maxConcurrent: 3, windowMs: 20_000, leaseMs: 30_000 };
    const t0 = 1_000_000;
    const child = startChild(path);
    expect(await child.next()).toEqual({ ready: true });
    child.proc.send({ op: "reserve", key: "k", count: 3, now: t0, day: DAY, limits });
    expect((await child.next()).granted).toHaveLength(3);
    child.proc.kill("SIGKILL");
    await exited(child.proc);
    expect(child.proc.signalCode).toBe("SIGKILL");

    const store = open({ path });
    expect(await store.reserve("k", t0 + 1, DAY, limits)).toMatchObject({
      granted: false,
      reason: "concurrency",
      state: { inFlight: 3 },
    });
    expect(await store.reserve("k", t0 + limits.leaseMs - 1, DAY, limits)).toMatchObject({ granted: false });
    const after = await store.reserve("k", t0 + limits.leaseMs, DAY, limits);
    expect(after.granted).toBe(true);
    // The dead slots count as finished at their lease's end: out of flight, still in the window they ended in.
    expect(after.state).toMatchObject({ inFlight: 1, windowCalls: 4, dailyUsed: 4 });
    if (after.granted) await store.release("k", after.slotId, t0 + limits.leaseMs + 10);
    expect(slotRows(path)).toBe(4);

    const later = t0 + limits.leaseMs + 10 + limits.windowMs;
    const next = await store.reserve("k", later, DAY, limits);
    expect(next).toMatchObject({ granted: true, state: { inFlight: 1, windowCalls: 1, dailyUsed: 5 } });
    expect(slotRows(path)).toBe(1); // the three dead slots and the released one were garbage-collected
  });
});

describe("SQLite LimiterStore: the file, its schema and the AuditStore", () => {
  it("shares a file with the AuditStore in either order; neither schema version touches the other", async () => {
    for (const limiterFirst of [true, false]) {
      const path = fresh();
      const limiter = limiterFirst ? open({ path }) : undefined;
      const audit = openAudit(path);
      const lim = limiter ?? open({ path });
      expect(audit.appliedMigrations).toEqual(AUDIT_STEPS);
      expect(lim.appliedMigrations).toEqual([1]);
      const slot = await lim.reserve("k", 0, DAY, L);
      if (!slot.granted) throw new Error("expected a slot");
      await audit.commitBatch({
        tenant: "t1",
        entries: [
          {
            tenant: "t1",
            runId: "r1",
            key: "C1",
            kind: "company",
            outcome: "created",
            sourceKey: "C1",
            reasons: [],
            at: 1,
          },
        ],
        synced: [],
      });
      await lim.release("k", slot.slotId, 10);
      expect((await audit.queryAudit({ tenant: "t1" })).map((e) => e.key)).toEqual(["C1"]);
      expect(await lim.state("k", 10, DAY, L)).toMatchObject({ windowCalls: 1, inFlight: 0, dailyUsed: 1 });
      expect(inspect<{ user_version: number }>(path, "PRAGMA user_version").user_version).toBe(SQLITE_SCHEMA_VERSION);
      expect(
        inspect<{ value: number }>(path, "SELECT value FROM ml_limiter_meta WHERE name = 'schema_version'").value,
      ).toBe(SQLITE_LIMITER_SCHEMA_VERSION);
    }
  });

  it("a reopen applies nothing and keeps the counts; a newer limiter schema is refused and left untouched", async () => {
    const path = fresh();
    const first = open({ path });
    await first.reserve("k", 0, DAY, L);
    first.close();
    const again = open({ path });
    expect(again.appliedMigrations).toEqual([]);
    expect(again.schemaVersion).toBe(SQLITE_LIMITER_SCHEMA_VERSION);
    expect(await again.state("k", 0, DAY, L)).toMatchObject({ inFlight: 1, dailyUsed: 1 });
    again.close();

    const db = new Database(path);
    db.prepare("UPDATE ml_limiter_meta SET value = 99 WHERE name = 'schema_version'").run();
    db.close();
    let thrown: unknown;
    try {
      open({ path });
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(SchemaVersionError);
    expect(thrown).toMatchObject({ code: "store", set: "limiter", databaseVersion: 99, retryable: false });
    expect(slotRows(path)).toBe(1);
    // The AuditStore's own version is a different one: it still opens the file.
    expect(openAudit(path).appliedMigrations).toEqual(AUDIT_STEPS);
  });

  it("close() is idempotent and later operations reject with code store", async () => {
    const store = createSqliteLimiterStore({ path: fresh() });
    store.close();
    store.close();
    await expect(store.reserve("k", 0, DAY, L)).rejects.toMatchObject({ code: "store" });
    await expect(store.release("k", "1", 0)).rejects.toMatchObject({ code: "store" });
    expect(() => store.peek("k", 0, DAY, L)).toThrow(/after close/);
  });
});

describe("SQLite LimiterStore: details", () => {
  it("the day only moves forward: a lagging caller neither resets nor lowers today's count", async () => {
    const store = open({ path: fresh() });
    await store.raiseDailyUsed("k", "2026-03-03", 7);
    const lagging = await store.reserve("k", 0, "2026-03-02", L);
    expect(lagging.state.dailyUsed).toBe(8);
    await store.raiseDailyUsed("k", "2026-03-02", 500);
    expect((await store.state("k", 0, "2026-03-03", L)).dailyUsed).toBe(8);
    expect((await store.reserve("k", 0, "2026-03-04", L)).state.dailyUsed).toBe(1);
  });

  it("release ends a slot once (never before it started), ignores ids it never granted, and peek equals state", async () => {
    const store = open({ path: fresh() });
    const r = await store.reserve("k", 100, DAY, L);
    if (!r.granted) throw new Error("expected a slot");
    await store.release("k", "not-a-slot", 100);
    await store.release("other-key", r.slotId, 100);
    expect(store.peek("k", 100, DAY, L)).toMatchObject({ inFlight: 1 });
    await store.release("k", r.slotId, 50); // before it started: counts from its start
    await store.release("k", r.slotId, 9_000); // a second release changes nothing
    const full = await store.reserve("k", 100, DAY, { ...L, callsPerWindow: 1 });
    expect(full).toMatchObject({ granted: false, reason: "window", retryAt: 100 + L.windowMs });
    expect(store.peek("k", 500, DAY, L)).toEqual(await store.state("k", 500, DAY, L));
  });
});

describe("SQLite LimiterStore: MarketoClients sharing one instance", () => {
  // Three clients, each with its own connection to one file (as three processes would have), against a simulator
  // whose 20 s window lasts 200 ms and takes 20 calls (few enough that the window, not the HTTP round trips, binds).
  // The control gives each client its own in-memory store.
  const burst = async (stores: (LimiterStore | undefined)[]) => {
    const sim = await startMarketoSimulator({ timeScale: 0.01, latencyMs: 5, limits: { callsPerWindow: 20 } });
    try {
      const clients = stores.map(
        (limiterStore) =>
          new MarketoClient({
            ...sim.clientOptions,
            // Each client alone may use the whole instance: 10 in flight (Marketo's cap), 20 calls per window.
            limits: { ...sim.clientOptions.limits, maxConcurrent: 10 },
            usageSync: false,
            ...(limiterStore ? { limiterStore } : {}),
          }),
      );
      const calls = clients.flatMap((mk, c) =>
        Array.from({ length: 40 }, (_, i) => mk.companies.sync({ input: [{ externalCompanyId: `C${c}-${i}` }] })),
      );
      const settled = await Promise.allSettled(calls);
      return { sim: sim.inspect(), written: settled.filter((s) => s.status === "fulfilled").length, clients };
    } finally {
      await sim.close();
    }
  };

  it("stay inside the window and the concurrency cap together (zero 606/615); separate stores do not", async () => {
    const path = fresh();
    const shared = await burst([open({ path }), open({ path }), open({ path })]);
    expect(shared.sim.violations).toEqual({ total: 0, "606": 0, "615": 0, "607": 0 });
    expect(shared.written).toBe(120);
    expect(shared.sim.peakWindowCalls).toBe(20); // the shared window was used up to its limit, never beyond
    // Each client's quota() reads the shared file: every client sees all 120 calls.
    const seen = shared.clients.map((mk) => mk.quota().dailyUsed);
    expect(new Set(seen).size).toBe(1);
    expect(seen[0]).toBeGreaterThanOrEqual(120);

    const separate = await burst([undefined, undefined, undefined]);
    expect(separate.sim.violations.total).toBeGreaterThan(0);
  });
});
