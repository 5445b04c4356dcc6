import type { ReserveLimits } from "@ml/marketo-client";
import { limiterStoreContract } from "@ml/marketo-client/testing";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPostgresLimiterStore } from "../src/postgres/limiter-store.js";
import { createScratchDatabase, hasPostgres, type ScratchDatabase } from "./support/postgres.js";

const DAY = "2026-03-02";
let db: ScratchDatabase | undefined;
let pool: pg.Pool;
let other: pg.Pool;
let schemas = 0;
const freshSchema = () => `lim_${++schemas}`;

describe.skipIf(!hasPostgres)("PostgreSQL LimiterStore", () => {
  beforeAll(async () => {
    db = await createScratchDatabase("mllimiter");
    pool = new pg.Pool({ connectionString: db.url, max: 10 });
    other = new pg.Pool({ connectionString: db.url, max: 10 });
    // The scratch database is dropped WITH (FORCE) at the end: connections still closing then get a FATAL 57P01.
    for (const p of [pool, other]) p.on("error", () => {});
  });
  afterAll(async () => {
    await pool?.end();
    await other?.end();
    await db?.drop();
  });

  it("a store with its own pool survives the server dropping its idle connections (no uncaught error)", async () => {
    const store = await createPostgresLimiterStore({ connectionString: db!.url, schema: freshSchema() });
    const uncaught: unknown[] = [];
    const onUncaught = (e: unknown) => uncaught.push(e);
    process.on("uncaughtException", onUncaught);
    try {
      await store.state("k", Date.now(), "2026-12-01", { windowMs: 1000, leaseMs: 10_000 });
      // Kill every other connection to this database: the store's idle pooled connection among them.
      await pool.query(
        "select pg_terminate_backend(pid) from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()",
      );
      await new Promise((r) => setTimeout(r, 200));
      // The next call gets a fresh connection and works.
      const st = await store.state("k", Date.now(), "2026-12-01", { windowMs: 1000, leaseMs: 10_000 });
      expect(st.inFlight).toBe(0);
      expect(uncaught).toEqual([]);
    } finally {
      process.off("uncaughtException", onUncaught);
      await store.close();
    }
  });

  // The suite drives time through the `now` it passes, so it runs with the callers' clock.
  limiterStoreContract(
    "postgres (time: caller)",
    () => createPostgresLimiterStore({ pool, schema: freshSchema(), time: "caller" }),
    { describe, it, expect },
  );

  describe("database clock (time: database)", () => {
    const L: ReserveLimits = {
      callsPerWindow: 10,
      windowMs: 2_000,
      maxConcurrent: 100,
      dailyCeiling: 1_000,
      leaseMs: 60_000,
    };

    it("two pools hammering reserve at once never over-grant the window or the concurrency cap", async () => {
      const schema = freshSchema();
      const [a, b] = await Promise.all([
        createPostgresLimiterStore({ pool, schema }),
        createPostgresLimiterStore({ pool: other, schema }),
      ]);
      const burst = (limits: ReserveLimits, key: string) =>
        Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 ? a : b).reserve(key, Date.now(), DAY, limits)));
      const window = await burst(L, "w");
      expect(window.filter((r) => r.granted)).toHaveLength(10);
      expect(window.filter((r) => !r.granted).every((r) => !r.granted && r.reason === "window")).toBe(true);
      const concurrency = await burst({ ...L, callsPerWindow: 100, maxConcurrent: 4 }, "c");
      expect(concurrency.filter((r) => r.granted)).toHaveLength(4);
      expect((await a.state("c", Date.now(), DAY, L)).inFlight).toBe(4);
    });

    it("a caller whose clock runs 5 s ahead still cannot over-grant, and gets retryAt in its own frame", async () => {
      const schema = freshSchema();
      const limits = { ...L, callsPerWindow: 3 };
      const store = await createPostgresLimiterStore({ pool, schema });
      const late = () => Date.now();
      const ahead = () => Date.now() + 5_000;
      for (let i = 0; i < 3; i++) {
        const r = await store.reserve("k", late(), DAY, limits);
        if (!r.granted) throw new Error("expected a slot");
        const t = late();
        await store.release("k", r.slotId, t, t);
      }
      const now = ahead();
      const refused = await store.reserve("k", now, DAY, limits);
      expect(refused).toMatchObject({ granted: false, reason: "window" });
      const retryAt = refused.granted ? 0 : (refused.retryAt ?? 0);
      // In the fast caller's frame: about one window from its now, not 5 s earlier (which would be in its past).
      expect(retryAt - now).toBeGreaterThan(0);
      expect(retryAt - now).toBeLessThanOrEqual(limits.windowMs + 1);

      // Control: trusting the callers' clocks, the same sequence over-grants (the fast caller sees the window empty).
      const naive = await createPostgresLimiterStore({ pool, schema: freshSchema(), time: "caller" });
      for (let i = 0; i < 3; i++) {
        const r = await naive.reserve("k", late(), DAY, limits);
        if (r.granted) await naive.release("k", r.slotId, late());
      }
      expect((await naive.reserve("k", ahead(), DAY, limits)).granted).toBe(true);
    });

    it("a pause set by one caller holds another, translated into each caller's frame", async () => {
      const store = await createPostgresLimiterStore({ pool, schema: freshSchema() });
      const aheadNow = Date.now() + 5_000;
      await store.pause("k", aheadNow + 1_000, aheadNow); // a 1 s pause from a clock 5 s ahead
      const now = Date.now();
      const r = await store.reserve("k", now, DAY, L);
      expect(r).toMatchObject({ granted: false, reason: "paused" });
      const retryAt = r.granted ? 0 : (r.retryAt ?? 0);
      expect(retryAt - now).toBeGreaterThan(0);
      expect(retryAt - now).toBeLessThanOrEqual(1_001);
      await store.pause("k", now - 10_000, now); // never shortened
      expect((await store.state("k", Date.now(), DAY, L)).pausedUntil).toBeGreaterThan(Date.now());
    });

    it("a crashed holder's slot stops counting after leaseMs and is garbage-collected after the window", async () => {
      const schema = freshSchema();
      const store = await createPostgresLimiterStore({ pool, schema });
      const limits = { ...L, maxConcurrent: 1, leaseMs: 30_000 };
      const held = await store.reserve("k", Date.now(), DAY, limits); // never released: its process died
      expect(held.granted).toBe(true);
      expect(await store.reserve("k", Date.now(), DAY, limits)).toMatchObject({
        granted: false,
        reason: "concurrency",
      });
      const slots = `${pg.escapeIdentifier(schema)}.ml_limiter_slots`;
      // Age the slot on the database's own time line instead of waiting: started just over one lease ago.
      await pool.query(`UPDATE ${slots} SET started_at = started_at - $1`, [limits.leaseMs + 100]);
      const next = await store.reserve("k", Date.now(), DAY, limits);
      expect(next.granted).toBe(true);
      expect(next.state.windowCalls).toBe(2); // the expired slot still counts in the window it ended in
      if (next.granted) await store.release("k", next.slotId, Date.now(), Date.now());
      await pool.query(`UPDATE ${slots} SET started_at = started_at - $1, ended_at = ended_at - $1`, [
        limits.windowMs + 100,
      ]);
      await store.state("k", Date.now(), DAY, limits);
      await store.reserve("k", Date.now(), DAY, limits);
      const left = await pool.query(`SELECT count(*)::int AS n FROM ${slots}`);
      expect(left.rows[0].n).toBe(1); // only the new slot: both old ones were deleted
    });

    it("stores created at once on one schema migrate it once", async () => {
      const schema = freshSchema();
      await Promise.all(Array.from({ length: 4 }, () => createPostgresLimiterStore({ pool, schema })));
      const r = await pool.query(
        `SELECT count(*)::int AS n FROM ${pg.escapeIdentifier(schema)}.ml_migrations WHERE set = 'limiter'`,
      );
      expect(r.rows[0].n).toBe(1);
    });
  });
});
