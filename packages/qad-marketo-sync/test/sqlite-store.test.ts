import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { afterAll, describe, expect, it } from "vitest";
import {
  createSqliteStore,
  SQLITE_SCHEMA_VERSION,
  SqliteSchemaVersionError,
  type SqliteStore,
  type SqliteStoreOptions,
} from "../src/sqlite/index.js";
import { migrate } from "../src/sqlite/migrations.js";
import type { Lease } from "../src/store/audit-store.js";
import { runAuditStoreContract, runSecretStoreContract } from "../src/testing/index.js";

const dir = mkdtempSync(join(tmpdir(), "ml-sqlite-store-"));
const opened: SqliteStore[] = [];
let n = 0;
const fresh = () => join(dir, `store-${++n}.db`);
const open = (options: SqliteStoreOptions): SqliteStore => {
  const store = createSqliteStore(options);
  opened.push(store);
  return store;
};
afterAll(() => {
  for (const s of opened) s.close();
  rmSync(dir, { recursive: true, force: true });
});

const t = { describe, it, expect };
runAuditStoreContract("sqlite file", (clock) => open({ path: fresh(), clock }), t);
runAuditStoreContract("sqlite :memory:", (clock) => open({ path: ":memory:", clock }), t);
runSecretStoreContract("sqlite file", () => open({ path: fresh() }), t);

const userVersion = (path: string): number => {
  const db = new Database(path, { readonly: true });
  try {
    return Number(db.pragma("user_version", { simple: true }));
  } finally {
    db.close();
  }
};

const entry = (key: string, runId = "r1") => ({
  tenant: "t1",
  runId,
  key,
  kind: "company" as const,
  outcome: "created" as const,
  sourceKey: key,
  reasons: [],
  payload: { externalCompanyId: key, company: "Acme" },
  hash: "h1",
  at: 1,
});

describe("SQLite store: the file", () => {
  it("creates the folder, the file and the schema; WAL; data survives close and reopen; migrations run once", async () => {
    const path = join(dir, "nested", "deeper", "sync.db");
    const clock = { now: () => 1_000 };
    const first = createSqliteStore({ path, clock });
    expect(first.appliedMigrations).toEqual(Array.from({ length: SQLITE_SCHEMA_VERSION }, (_, i) => i + 1));
    expect(first.schemaVersion).toBe(SQLITE_SCHEMA_VERSION);
    await first.startRun({ tenant: "t1", runId: "r1", trigger: "manual", status: "running", startedAt: 1 });
    const a = await first.acquireLease("sync:t1", "r1", 500);
    if (!a.acquired) throw new Error("lease refused");
    await first.commitBatch({
      tenant: "t1",
      entries: [entry("A")],
      synced: [{ kind: "company", key: "A", hash: "h1", marketoId: 9, runId: "r1", at: 1 }],
      checkpoint: { name: "source", value: { since: "2026-01-01" } },
      carry: {
        put: [
          {
            kind: "lead",
            key: "a@b.co",
            sourceKey: "A",
            payload: { email: "a@b.co" },
            hash: "hl",
            cause: "failed",
            state: "pending",
            attempts: 1,
            firstAt: 1,
            lastAt: 1,
            nextAt: 60_000,
            runId: "r1",
            error: { code: "502", message: "bad gateway", retryable: true },
            reasons: [],
          },
        ],
      },
      fence: a.lease,
    });
    await first.finishRun("t1", "r1", { status: "degraded", finishedAt: 2, summary: { carried: 1 } });
    await first.releaseLease(a.lease);
    await first.putSealed({
      tenant: "t1",
      name: "marketo",
      keyId: "k1",
      nonce: "bg==",
      ciphertext: "Yw==",
      tag: "dA==",
      updatedAt: 3,
    });
    first.close();
    first.close(); // idempotent

    const db = new Database(path, { readonly: true });
    expect(db.pragma("journal_mode", { simple: true })).toBe("wal");
    db.close();
    expect(userVersion(path)).toBe(SQLITE_SCHEMA_VERSION);

    const again = open({ path, clock });
    expect(again.appliedMigrations).toEqual([]);
    expect(await again.getRun("t1", "r1")).toMatchObject({ status: "degraded", summary: { carried: 1 } });
    expect((await again.queryAudit({ tenant: "t1" })).map((e) => e.key)).toEqual(["A"]);
    expect((await again.getSynced("t1", "company", ["A"])).get("A")?.marketoId).toBe(9);
    expect(await again.getCheckpoint("t1", "source")).toEqual({ since: "2026-01-01" });
    expect((await again.getCarried("t1", "lead", ["a@b.co"])).get("a@b.co")?.error?.code).toBe("502");
    expect(await again.countCarried("t1")).toEqual({ pending: 1, dead: 0 });
    expect((await again.getSealed("t1", "marketo"))?.keyId).toBe("k1");
    const b = await again.acquireLease("sync:t1", "r2", 500);
    if (!b.acquired) throw new Error("lease refused after release");
    expect(b.lease.token).toBeGreaterThan(a.lease.token); // the token survives the reopen
  });

  it("refuses a file written by a newer schema with a typed error, and leaves it untouched", async () => {
    const path = fresh();
    open({ path }).close();
    const raw = new Database(path);
    raw.pragma(`user_version = ${SQLITE_SCHEMA_VERSION + 1}`);
    raw.close();
    let err: unknown;
    try {
      createSqliteStore({ path });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SqliteSchemaVersionError);
    expect(err).toMatchObject({
      code: "store",
      retryable: false,
      databaseVersion: SQLITE_SCHEMA_VERSION + 1,
      codeVersion: SQLITE_SCHEMA_VERSION,
    });
    expect(String((err as Error).message)).toMatch(/newer/);
    expect(userVersion(path)).toBe(SQLITE_SCHEMA_VERSION + 1);
  });

  it("migrates a version-1 file forward: its named-account names are normalised in JavaScript and looked up by index", async () => {
    const path = fresh();
    const raw = new Database(path);
    expect(migrate(raw, 1)).toEqual({ from: 0, applied: [1] });
    const insert = raw.prepare(
      `INSERT INTO synced (tenant, kind, key, hash, marketo_guid, name, run_id, at)
       VALUES ('t1', @kind, @key, 'h', 'g', @name, 'r0', 1)`,
    );
    insert.run({ kind: "namedAccount", key: "S.C1", name: "  ÉCOLE Straße " });
    insert.run({ kind: "namedAccount", key: "S.C2", name: "Acme" });
    insert.run({ kind: "namedAccount", key: "S.C3", name: null });
    insert.run({ kind: "company", key: "S.C4", name: "Not an account" });
    raw.close();
    expect(userVersion(path)).toBe(1);

    const store = open({ path });
    expect(store.appliedMigrations).toEqual([2]);
    expect(userVersion(path)).toBe(SQLITE_SCHEMA_VERSION);
    // SQL's lower() would have left "ÉCOLE" alone; the engine's own normalisation lowers it.
    const got = await store.namedAccountKeys("t1", ["école straße", "acme", "not an account", "ÉCOLE Straße"]);
    expect(Object.fromEntries(got)).toEqual({ "école straße": "S.C1", acme: "S.C2" });
    // The old rows are otherwise unchanged, and new writes keep the index current.
    expect((await store.getSynced("t1", "namedAccount", ["S.C1"])).get("S.C1")).toMatchObject({
      name: "  ÉCOLE Straße ",
      marketoGUID: "g",
    });
    await store.commitBatch({
      tenant: "t1",
      entries: [],
      synced: [{ kind: "namedAccount", key: "S.C2", hash: "h2", name: "Acme Renamed", runId: "r1", at: 2 }],
    });
    expect(Object.fromEntries(await store.namedAccountKeys("t1", ["acme", "acme renamed"]))).toEqual({
      "acme renamed": "S.C2",
    });
    const check = new Database(path, { readonly: true });
    const plan = check
      .prepare(
        "EXPLAIN QUERY PLAN SELECT name_norm, min(key) FROM synced WHERE tenant = 't1' AND kind = 'namedAccount' AND name_norm IN (SELECT value FROM json_each('[\"acme\"]')) GROUP BY name_norm",
      )
      .all() as { detail: string }[];
    check.close();
    expect(plan.map((p) => p.detail).join("\n")).toContain("synced_by_name");
  });

  it("commits a batch in one transaction: a row the database rejects leaves nothing of the batch", async () => {
    const store = open({ path: fresh() });
    const bad = { ...entry("B"), sourceKey: null as unknown as string }; // violates NOT NULL
    const err = await store
      .commitBatch({
        tenant: "t1",
        entries: [entry("A"), bad],
        synced: [{ kind: "company", key: "A", hash: "h", runId: "r1", at: 1 }],
        checkpoint: { name: "source", value: 1 },
      })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "store", name: "SyncError" });
    expect(await store.queryAudit({ tenant: "t1" })).toEqual([]);
    expect((await store.getSynced("t1", "company", ["A"])).size).toBe(0);
    expect(await store.getCheckpoint("t1", "source")).toBeUndefined();
  });

  it("lists synced rows in pages of pageSize, in key order, across page boundaries", async () => {
    const store = open({ path: fresh(), pageSize: 3 });
    const keys = Array.from({ length: 10 }, (_, i) => `k${i}`);
    await store.commitBatch({
      tenant: "t1",
      entries: [],
      synced: [...keys].reverse().map((key) => ({ kind: "company" as const, key, hash: "h", runId: "r1", at: 1 })),
    });
    await store.commitBatch({
      tenant: "t1",
      entries: [],
      synced: [{ kind: "lead", key: "k00", hash: "h", runId: "r1", at: 1 }],
    });
    const seen: string[] = [];
    for await (const s of store.listSynced("t1", "company")) seen.push(s.key);
    expect(seen).toEqual(keys);
  });

  it("two connections to one file share leases and fencing", async () => {
    const path = fresh();
    const clock = { t: 1_000, now: () => clock.t };
    const one = open({ path, clock });
    const two = open({ path, clock });
    const a = await one.acquireLease("sync:t1", "one", 1_000);
    if (!a.acquired) throw new Error("lease refused");
    expect(await two.acquireLease("sync:t1", "two", 1_000)).toEqual({
      acquired: false,
      holder: "one",
      expiresAt: 2_000,
    });
    clock.t = 2_500;
    const b = await two.acquireLease("sync:t1", "two", 1_000);
    if (!b.acquired) throw new Error("takeover refused");
    await expect(
      one.commitBatch({ tenant: "t1", entries: [entry("late")], synced: [], fence: a.lease }),
    ).rejects.toMatchObject({ code: "lease_lost" });
    await two.commitBatch({ tenant: "t1", entries: [entry("ok")], synced: [], fence: b.lease });
    expect((await one.queryAudit({ tenant: "t1" })).map((e) => e.key)).toEqual(["ok"]);
  });
});

// A child process holding the lease through its own connection: the script is written at run time and run by tsx.
const CHILD = `
import { createInterface } from "node:readline";
import { createSqliteStore } from ${JSON.stringify(fileURLToPath(new URL("../src/sqlite/index.ts", import.meta.url)))};
const store = createSqliteStore({ path: process.argv[2] });
const got = await store.acquireLease("sync:t1", "child", 60_000);
if (!got.acquired) { console.log(JSON.stringify({ acquired: false })); process.exit(1); }
await store.commitBatch({ tenant: "t1", entries: [{ tenant: "t1", runId: "child", key: "C", kind: "company",
  outcome: "created", sourceKey: "C", reasons: [], at: 1 }], synced: [], fence: got.lease });
console.log(JSON.stringify({ acquired: true, lease: got.lease }));
for await (const line of createInterface({ input: process.stdin })) {
  if (line === "release") { await store.releaseLease(got.lease); store.close(); console.log("released"); process.exit(0); }
}
`;

const repoRoot = fileURLToPath(new URL("../../..", import.meta.url));

function startChild(path: string): { child: ChildProcessWithoutNullStreams; line: () => Promise<string> } {
  const script = join(dir, `child-${++n}.mts`);
  writeFileSync(script, CHILD);
  const child = spawn(process.execPath, ["--import", "tsx", script, path], { cwd: repoRoot });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  let stderr = "";
  child.stderr.on("data", (d) => {
    stderr += String(d);
  });
  const line = async () => {
    const next = await lines.next();
    if (next.done) throw new Error(`child ended without output: ${stderr}`);
    return next.value;
  };
  return { child, line };
}

const exited = (child: ChildProcessWithoutNullStreams) =>
  new Promise<number | null>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve(child.exitCode);
    else child.once("exit", (code) => resolve(code));
  });

describe("SQLite store: leases across processes", () => {
  it("a lease held by another process excludes this one until released, and the token keeps rising", async () => {
    const path = fresh();
    open({ path }).close();
    const { child, line } = startChild(path);
    const held = JSON.parse(await line()) as { acquired: boolean; lease: Lease };
    expect(held.acquired).toBe(true);
    const store = open({ path });
    expect(await store.acquireLease("sync:t1", "parent", 60_000)).toMatchObject({ acquired: false, holder: "child" });
    expect((await store.queryAudit({ tenant: "t1", runId: "child" })).map((e) => e.key)).toEqual(["C"]);
    child.stdin.write("release\n");
    expect(await line()).toBe("released");
    expect(await exited(child)).toBe(0);
    const mine = await store.acquireLease("sync:t1", "parent", 60_000);
    if (!mine.acquired) throw new Error("lease refused after the child released it");
    expect(mine.lease.token).toBeGreaterThan(held.lease.token);
  });

  it("a killed holder's lease is taken over after expiry, and its stale token is fenced out", async () => {
    const path = fresh();
    open({ path }).close();
    const { child, line } = startChild(path);
    const held = JSON.parse(await line()) as { acquired: boolean; lease: Lease };
    child.kill("SIGKILL");
    await exited(child);
    const past = { now: () => held.lease.expiresAt + 1 };
    const store = open({ path, clock: past });
    const mine = await store.acquireLease("sync:t1", "parent", 60_000);
    if (!mine.acquired) throw new Error("expired lease not taken over");
    expect(mine.lease.token).toBeGreaterThan(held.lease.token);
    await expect(
      store.commitBatch({ tenant: "t1", entries: [entry("stale")], synced: [], fence: held.lease }),
    ).rejects.toMatchObject({ code: "lease_lost" });
    expect((await store.queryAudit({ tenant: "t1" })).map((e) => e.key)).toEqual(["C"]);
  });
});
