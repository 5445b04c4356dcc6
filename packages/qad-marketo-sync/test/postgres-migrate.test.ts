import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isSyncError } from "../src/index.js";
import { createPostgresStore, type MigrationStep, migrate, SchemaVersionError } from "../src/postgres/index.js";
import { AUDIT_MIGRATIONS } from "../src/postgres/schema.js";
import { createScratchDatabase, hasPostgres, type ScratchDatabase } from "./support/postgres.js";

// Steps that fail when run twice: a plain CREATE TABLE, and a counter of executions.
const counted: MigrationStep[] = [
  { version: 1, name: "counter", sql: "CREATE TABLE runs_of_steps (version int NOT NULL)" },
  { version: 2, name: "widgets", sql: "CREATE TABLE widgets (id int); INSERT INTO runs_of_steps VALUES (2)" },
  {
    version: 3,
    name: "slow",
    sql: "ALTER TABLE widgets ADD COLUMN name text; SELECT pg_sleep(0.05); INSERT INTO runs_of_steps VALUES (3)",
  },
];

// The audit set's steps, as recorded in ml_migrations.
const AUDIT_STEPS = ["1:initial", "2:synced-name-norm", "3:synced-name-index"];

describe.skipIf(!hasPostgres)("PostgreSQL migrations", () => {
  const dbs: ScratchDatabase[] = [];
  const pools: pg.Pool[] = [];
  const freshDatabase = async () => {
    const db = await createScratchDatabase("mlpgmig");
    dbs.push(db);
    return db;
  };
  const newPool = (db: ScratchDatabase) => {
    const p = new pg.Pool({ connectionString: db.url, max: 2 });
    p.on("error", () => {}); // connections terminated by the final DROP DATABASE ... WITH (FORCE)
    pools.push(p);
    return p;
  };
  let db: ScratchDatabase;
  let pool: pg.Pool;

  beforeAll(async () => {
    db = await freshDatabase();
    pool = newPool(db);
  });
  afterAll(async () => {
    for (const p of pools) await p.end();
    for (const d of dbs) await d.drop();
  });

  const recorded = async (p: pg.Pool, schema: string, set: string) =>
    (
      await p.query(`SELECT version, name FROM ${schema}.ml_migrations WHERE set = $1 ORDER BY version`, [set])
    ).rows.map((r) => `${r.version}:${r.name}`);

  it("two stores migrating the same fresh database at once (separate pools) apply each step exactly once", async () => {
    const fresh = await freshDatabase();
    const a = createPostgresStore({ pool: newPool(fresh), schema: "sync" });
    const b = createPostgresStore({ pool: newPool(fresh), schema: "sync" });
    const [ra, rb] = await Promise.all([a.migrate(), b.migrate()]);
    const applied = [...ra.applied, ...rb.applied].sort();
    expect(applied).toEqual([1, 2, 3]);
    const p = newPool(fresh);
    expect(await recorded(p, "sync", "audit")).toEqual(AUDIT_STEPS);
    // Both stores work on the migrated schema, and migrating again applies nothing.
    await a.saveCheckpoint("t1", "source", 1);
    expect(await b.getCheckpoint("t1", "source")).toBe(1);
    expect((await b.migrate()).applied).toEqual([]);
  });

  it("eight runners on eight pools at once: every step runs exactly once", async () => {
    const fresh = await freshDatabase();
    const runners = Array.from({ length: 8 }, () => migrate(newPool(fresh), "widgets", counted, { schema: "w" }));
    const results = await Promise.all(runners);
    expect(results.flatMap((r) => r.applied).sort()).toEqual([1, 2, 3]);
    expect(results.filter((r) => r.applied.length > 0)).toHaveLength(1);
    const p = newPool(fresh);
    expect((await p.query("SELECT version FROM w.runs_of_steps ORDER BY version")).rows).toEqual([
      { version: 2 },
      { version: 3 },
    ]);
    expect(await recorded(p, "w", "widgets")).toEqual(["1:counter", "2:widgets", "3:slow"]);
  });

  it("applies only the steps added since the last run, forward", async () => {
    const first = await migrate(pool, "grow", counted.slice(0, 2), { schema: "grow" });
    expect(first.applied).toEqual([1, 2]);
    const second = await migrate(pool, "grow", counted, { schema: "grow" });
    expect(second.applied).toEqual([3]);
    expect((await migrate(pool, "grow", counted, { schema: "grow" })).applied).toEqual([]);
    expect(await recorded(pool, "grow", "grow")).toEqual(["1:counter", "2:widgets", "3:slow"]);
  });

  it("refuses a database whose set is at a higher version than the code knows, changing nothing", async () => {
    await migrate(pool, "ahead", counted, { schema: "ahead" });
    const err = await migrate(pool, "ahead", counted.slice(0, 2), { schema: "ahead" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SchemaVersionError);
    expect(isSyncError(err) && err.code).toBe("store");
    expect(err).toMatchObject({ set: "ahead", databaseVersion: 3, codeVersion: 2, retryable: false });
    expect((err as Error).message).toMatch(/version 3, newer than this code knows \(2\)/);
    expect(await recorded(pool, "ahead", "ahead")).toEqual(["1:counter", "2:widgets", "3:slow"]);
  });

  it("a store on a database migrated by a newer release refuses to work (lazily and explicitly)", async () => {
    const store = createPostgresStore({ pool, schema: "newer" });
    await store.migrate();
    await pool.query("INSERT INTO newer.ml_migrations (set, version, name) VALUES ('audit', 99, 'from the future')");
    const later = createPostgresStore({ pool, schema: "newer" });
    await expect(later.getCheckpoint("t1", "source")).rejects.toBeInstanceOf(SchemaVersionError);
    await expect(later.migrate()).rejects.toMatchObject({ code: "store", databaseVersion: 99 });
  });

  it("refuses a step below the database's version that was never applied (forward only)", async () => {
    const one = { version: 1, name: "one", sql: "CREATE TABLE one (id int)" };
    const three = { version: 3, name: "three", sql: "CREATE TABLE three (id int)" };
    const two = { version: 2, name: "widgets", sql: "CREATE TABLE two (id int)" };
    expect((await migrate(pool, "gap", [one, three], { schema: "gap" })).applied).toEqual([1, 3]);
    const err = await migrate(pool, "gap", [one, two, three], { schema: "gap" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SchemaVersionError);
    expect((err as Error).message).toMatch(/step 2 \(widgets\) was never applied/);
  });

  it("a failing step rolls back the whole run: no step of it is recorded or kept", async () => {
    const broken: MigrationStep[] = [
      ...counted.slice(0, 2),
      { version: 3, name: "broken", sql: "ALTER TABLE no_such_table ADD COLUMN x int" },
    ];
    const err = await migrate(pool, "broken", broken, { schema: "broken" }).catch((e: unknown) => e);
    expect(isSyncError(err) && err.code).toBe("store");
    expect((err as Error).message).toMatch(/migration broken 3 \(broken\) failed/);
    const tablesLeft = await pool.query(
      "SELECT table_name FROM information_schema.tables WHERE table_schema = 'broken' ORDER BY table_name",
    );
    expect(tablesLeft.rows).toEqual([]);
    // Fixed, it applies from the start.
    expect((await migrate(pool, "broken", counted, { schema: "broken" })).applied).toEqual([1, 2, 3]);
  });

  it("independent sets share one schema and one bookkeeping table", async () => {
    const limiter: MigrationStep[] = [{ version: 1, name: "limiter", sql: "CREATE TABLE limiter_slots (id int)" }];
    const [audit, lim] = await Promise.all([
      createPostgresStore({ pool, schema: "shared" }).migrate(),
      migrate(pool, "limiter", limiter, { schema: "shared" }),
    ]);
    expect(audit.applied).toEqual([1, 2, 3]);
    expect(lim.applied).toEqual([1]);
    expect(await recorded(pool, "shared", "audit")).toEqual(AUDIT_STEPS);
    expect(await recorded(pool, "shared", "limiter")).toEqual(["1:limiter"]);
  });

  it("migrates a version-1 audit schema forward: old named-account names are normalised in JavaScript, in pages", async () => {
    await migrate(pool, "audit", AUDIT_MIGRATIONS.slice(0, 1), { schema: "oldnames" });
    // 2,500 old rows (more than one backfill page), one of them with a name SQL's lower() would not fold.
    await pool.query(
      `INSERT INTO oldnames.ml_synced (tenant, kind, key, hash, name, run_id, at)
       SELECT 't1', 'namedAccount', 'k' || lpad(i::text, 5, '0'), 'h', 'Name ' || i, 'r0', 1
       FROM generate_series(1, 2500) AS i`,
    );
    await pool.query(
      `INSERT INTO oldnames.ml_synced (tenant, kind, key, hash, name, run_id, at) VALUES
       ('t1', 'namedAccount', 'S.E', 'h', '  ÉCOLE Straße ', 'r0', 1),
       ('t1', 'namedAccount', 'S.N', 'h', NULL, 'r0', 1),
       ('t2', 'namedAccount', 'S.T', 'h', 'Other', 'r0', 1)`,
    );
    const store = createPostgresStore({ pool, schema: "oldnames" });
    expect((await store.migrate()).applied).toEqual([2, 3]);
    expect(await recorded(pool, "oldnames", "audit")).toEqual(AUDIT_STEPS);
    const got = await store.namedAccountKeys("t1", ["école straße", "name 1", "name 2500", "other", "ÉCOLE Straße"]);
    expect(Object.fromEntries(got)).toEqual({ "école straße": "S.E", "name 1": "k00001", "name 2500": "k02500" });
    const missing = await pool.query(
      "SELECT count(*)::int AS n FROM oldnames.ml_synced WHERE name IS NOT NULL AND name_norm IS NULL",
    );
    expect(missing.rows[0].n).toBe(0);
    expect((await store.getSynced("t1", "namedAccount", ["S.E"])).get("S.E")?.name).toBe("  ÉCOLE Straße ");
  });

  it("rejects invalid schema names and unordered steps as configuration errors, before touching the database", async () => {
    await expect(migrate(pool, "x", counted, { schema: 'x"; DROP TABLE y; --' })).rejects.toMatchObject({
      code: "config",
    });
    const unordered = [counted[1], counted[0]] as MigrationStep[];
    await expect(migrate(pool, "x", unordered, { schema: "x" })).rejects.toMatchObject({ code: "config" });
    await expect(migrate(pool, "", counted, { schema: "x" })).rejects.toMatchObject({ code: "config" });
    const schemas = await pool.query("SELECT 1 FROM information_schema.schemata WHERE schema_name = 'x'");
    expect(schemas.rowCount).toBe(0);
  });
});
