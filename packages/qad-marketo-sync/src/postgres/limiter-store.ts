/**
 * A PostgreSQL {@link LimiterStore}: one Marketo instance's quota (100 calls per sliding 20 s, the concurrency cap, the
 * daily budget, the 606/615 pause gate) shared by every process, on any machine, whose `MarketoClient` uses a store
 * on the same database.
 *
 * Atomicity: every operation is one transaction that first locks the instance's row (`INSERT … ON CONFLICT DO UPDATE`,
 * which takes the same row lock as `SELECT … FOR UPDATE`), so check-and-record never races. Slots live in a table;
 * finished slots and slots whose lease ran out (a crashed holder) are deleted once they left the window.
 *
 * Time source (default `time: "database"`): workers' clocks skew, so every window, lease and pause computation uses
 * the database server's clock (`clock_timestamp()`, read after the row lock is held). A caller's clock is used only for
 * durations it measured itself (how long ago an answer arrived, how long a pause lasts), never as a point in time.
 * Times handed back (`retryAt`, `pausedUntil`) are translated into the caller's frame: caller's `now` +
 * (database time − database now). With `time: "caller"` the store uses the times callers pass, like the in-memory
 * store (for tests with a fake clock, or callers that share one clock).
 *
 * @module
 */

import type { LimiterState, LimiterStore, Reservation, ReserveLimits } from "@ml/marketo-client";
import pg from "pg";
import { SyncConfigError } from "../errors.js";
import { createPool, inTransaction, storeError } from "./connection.js";
import { checkSchemaName, migrate } from "./migrate.js";

/** Name of the migration set of the limiter's tables. */
export const LIMITER_MIGRATION_SET = "limiter";

const LIMITER_MIGRATIONS = [
  {
    version: 1,
    name: "initial",
    sql: `
CREATE TABLE ml_limiter_instances (
  key text COLLATE "C" PRIMARY KEY,
  paused_until double precision NOT NULL DEFAULT 0,
  day text NOT NULL DEFAULT '',
  daily_used bigint NOT NULL DEFAULT 0
);
CREATE TABLE ml_limiter_slots (
  key text COLLATE "C" NOT NULL REFERENCES ml_limiter_instances (key) ON DELETE CASCADE,
  id bigint GENERATED ALWAYS AS IDENTITY,
  started_at double precision NOT NULL,
  ended_at double precision,
  PRIMARY KEY (key, id)
);`,
  },
] as const;

/** Options of {@link createPostgresLimiterStore}. */
export interface PostgresLimiterStoreOptions {
  /** A `pg` pool to use (not closed by {@link PostgresLimiterStore.close}). Either this or `connectionString`. */
  pool?: pg.Pool;
  /** Connection string of a pool the store creates (and closes in {@link PostgresLimiterStore.close}). */
  connectionString?: string;
  /**
   * Schema of the tables (created by the `limiter` migration set if missing).
   * @default "public"
   */
  schema?: string;
  /**
   * Where points in time come from. `database` (default): the database server's clock, so workers with skewed clocks
   * still share one window; the times callers pass are only used for durations and to translate answers back into
   * their frame. `caller`: the times the callers pass (every caller must share one clock; tests with a fake clock).
   * @default "database"
   */
  time?: "database" | "caller";
}

/** A {@link LimiterStore} on PostgreSQL. */
export interface PostgresLimiterStore extends LimiterStore {
  /** Closes the pool when the store created it; a pool passed in is left open. */
  close(): Promise<void>;
}

interface InstanceRow {
  paused_until: number;
  day: string;
  daily_used: string;
}

interface CountRow {
  db_now: number;
  in_flight: string;
  window_calls: string;
  earliest_exit: number | null;
}

/**
 * Creates the tables (migration set `limiter`, safe when many workers start at once) and returns the store.
 *
 * @example
 * ```ts
 * const limiterStore = await createPostgresLimiterStore({ pool, schema: "marketo" });
 * const mk = new MarketoClient({ munchkinId, clientId, clientSecret, limiterStore });
 * ```
 */
export async function createPostgresLimiterStore(options: PostgresLimiterStoreOptions): Promise<PostgresLimiterStore> {
  if (!options.pool && !options.connectionString) {
    throw new SyncConfigError("createPostgresLimiterStore needs a pool or a connectionString");
  }
  const schema = checkSchemaName(options.schema ?? "public");
  const own = options.pool ? undefined : createPool(options.connectionString!);
  const pool = options.pool ?? own!;
  try {
    await migrate(pool, LIMITER_MIGRATION_SET, LIMITER_MIGRATIONS, { schema });
  } catch (e) {
    await own?.end();
    throw e;
  }
  return new PgLimiterStore(pool, schema, options.time ?? "database", own);
}

const DB_NOW = "(extract(epoch FROM clock_timestamp()) * 1000)::double precision";

class PgLimiterStore implements PostgresLimiterStore {
  readonly #pool: pg.Pool;
  readonly #own: pg.Pool | undefined;
  readonly #dbTime: boolean;
  readonly #instances: string;
  readonly #slots: string;

  constructor(pool: pg.Pool, schema: string, time: "database" | "caller", own: pg.Pool | undefined) {
    this.#pool = pool;
    this.#own = own;
    this.#dbTime = time === "database";
    const q = pg.escapeIdentifier(schema);
    this.#instances = `${q}.ml_limiter_instances`;
    this.#slots = `${q}.ml_limiter_slots`;
  }

  /** Locks the instance's row (creating it) and returns it. */
  async #lock(c: pg.PoolClient, key: string): Promise<InstanceRow> {
    const r = await c.query<InstanceRow>(
      `INSERT INTO ${this.#instances} AS i (key) VALUES ($1)
       ON CONFLICT (key) DO UPDATE SET key = i.key
       RETURNING paused_until, day, daily_used`,
      [key],
    );
    return r.rows[0]!;
  }

  /**
   * With the row locked: the store's now (database clock, or the caller's `now`), the counts, and old slots removed.
   * A slot never released counts as finished at `started + leaseMs`.
   */
  async #count(c: pg.PoolClient, key: string, now: number, windowMs: number, leaseMs: number): Promise<CountRow> {
    const end = "COALESCE(ended_at, CASE WHEN started_at + $3 <= t.now THEN started_at + $3 END)";
    const r = await c.query<CountRow>(
      `WITH t AS MATERIALIZED (SELECT ${this.#dbTime ? DB_NOW : "$4::double precision"} AS now),
       gone AS (
         DELETE FROM ${this.#slots} s USING t
         WHERE s.key = $1 AND COALESCE(s.ended_at, s.started_at + $3) + $2 <= t.now
       )
       SELECT t.now AS db_now,
              count(s.id) FILTER (WHERE s.id IS NOT NULL AND ${end} IS NULL) AS in_flight,
              count(s.id) FILTER (WHERE s.id IS NOT NULL AND (${end} IS NULL OR ${end} + $2 > t.now)) AS window_calls,
              min(${end} + $2) FILTER (WHERE ${end} IS NOT NULL AND ${end} + $2 > t.now) AS earliest_exit
       FROM t LEFT JOIN ${this.#slots} s ON s.key = $1
       GROUP BY t.now`,
      this.#dbTime ? [key, windowMs, leaseMs] : [key, windowMs, leaseMs, now],
    );
    return r.rows[0]!;
  }

  /** A database time translated into the caller's frame (rounded up: waking early would only be refused again). */
  #toCaller(at: number, dbNow: number, callerNow: number): number {
    return this.#dbTime ? Math.ceil(callerNow + (at - dbNow)) : at;
  }

  async reserve(key: string, now: number, day: string, limits: ReserveLimits): Promise<Reservation> {
    try {
      return await inTransaction(this.#pool, async (c) => {
        const inst = await this.#lock(c, key);
        const counts = await this.#count(c, key, now, limits.windowMs, limits.leaseMs);
        const dbNow = Number(counts.db_now);
        // The day only moves forward, so a worker whose clock lags behind midnight cannot reset today's count.
        const newDay = day > inst.day;
        const effectiveDay = newDay ? day : inst.day;
        const dailyUsed = newDay ? 0 : Number(inst.daily_used);
        const pausedUntil = Number(inst.paused_until);
        const windowCalls = Number(counts.window_calls);
        const inFlight = Number(counts.in_flight);
        const state: LimiterState = {
          windowCalls,
          inFlight,
          dailyUsed,
          pausedUntil: pausedUntil > 0 ? this.#toCaller(pausedUntil, dbNow, now) : 0,
        };
        const refuse = async (r: Reservation): Promise<Reservation> => {
          if (newDay) {
            await c.query(`UPDATE ${this.#instances} SET day = $2, daily_used = 0 WHERE key = $1`, [key, effectiveDay]);
          }
          return r;
        };
        if (dailyUsed >= limits.dailyCeiling) return refuse({ granted: false, reason: "daily", state });
        if (pausedUntil > dbNow) return refuse({ granted: false, reason: "paused", retryAt: state.pausedUntil, state });
        if (inFlight >= limits.maxConcurrent) return refuse({ granted: false, reason: "concurrency", state });
        if (windowCalls >= limits.callsPerWindow) {
          const exit = counts.earliest_exit;
          return refuse(
            exit === null
              ? { granted: false, reason: "window", state }
              : { granted: false, reason: "window", retryAt: this.#toCaller(Number(exit), dbNow, now), state },
          );
        }
        const ins = await c.query<{ id: string }>(
          `INSERT INTO ${this.#slots} (key, started_at) VALUES ($1, $2) RETURNING id`,
          [key, dbNow],
        );
        await c.query(`UPDATE ${this.#instances} SET day = $2, daily_used = $3 WHERE key = $1`, [
          key,
          effectiveDay,
          dailyUsed + 1,
        ]);
        return {
          granted: true,
          slotId: String(ins.rows[0]!.id),
          state: { ...state, windowCalls: windowCalls + 1, inFlight: inFlight + 1, dailyUsed: dailyUsed + 1 },
        };
      });
    } catch (e) {
      throw storeError("limiter reserve", e);
    }
  }

  /**
   * Marks a slot finished. With the database clock, the end is the database's now minus how long ago (on the
   * caller's clock, `callerNow − now`) the answer arrived: a duration, so clock skew cancels out.
   */
  async release(key: string, slotId: string, now: number, callerNow?: number): Promise<void> {
    if (!/^\d+$/.test(slotId)) return;
    const ago = this.#dbTime ? Math.max(0, (callerNow ?? now) - now) : 0;
    try {
      await this.#pool.query(
        `UPDATE ${this.#slots}
         SET ended_at = GREATEST(started_at, ${this.#dbTime ? `${DB_NOW} - $3` : "$3::double precision"})
         WHERE key = $1 AND id = $2 AND ended_at IS NULL`,
        [key, slotId, this.#dbTime ? ago : now],
      );
    } catch (e) {
      throw storeError("limiter release", e);
    }
  }

  /**
   * Holds every call back until `until`. With the database clock the pause lasts `until − callerNow` from the
   * database's now (`callerNow` defaults to this process's `Date.now()`).
   */
  async pause(key: string, until: number, callerNow?: number): Promise<void> {
    try {
      await inTransaction(this.#pool, async (c) => {
        await this.#lock(c, key);
        if (this.#dbTime) {
          const ms = until - (callerNow ?? Date.now());
          await c.query(
            `UPDATE ${this.#instances} SET paused_until = GREATEST(paused_until, ${DB_NOW} + $2) WHERE key = $1`,
            [key, ms],
          );
        } else {
          await c.query(`UPDATE ${this.#instances} SET paused_until = GREATEST(paused_until, $2) WHERE key = $1`, [
            key,
            until,
          ]);
        }
      });
    } catch (e) {
      throw storeError("limiter pause", e);
    }
  }

  async raiseDailyUsed(key: string, day: string, used: number): Promise<void> {
    try {
      await inTransaction(this.#pool, async (c) => {
        const inst = await this.#lock(c, key);
        if (day < inst.day) return; // a lagging clock's day: today's count is already newer
        const base = day > inst.day ? 0 : Number(inst.daily_used);
        await c.query(`UPDATE ${this.#instances} SET day = $2, daily_used = $3 WHERE key = $1`, [
          key,
          day,
          Math.max(base, used),
        ]);
      });
    } catch (e) {
      throw storeError("limiter raiseDailyUsed", e);
    }
  }

  async state(
    key: string,
    now: number,
    day: string,
    limits: Pick<ReserveLimits, "windowMs" | "leaseMs">,
  ): Promise<LimiterState> {
    try {
      return await inTransaction(this.#pool, async (c) => {
        const inst = await this.#lock(c, key);
        const counts = await this.#count(c, key, now, limits.windowMs, limits.leaseMs);
        const pausedUntil = Number(inst.paused_until);
        return {
          windowCalls: Number(counts.window_calls),
          inFlight: Number(counts.in_flight),
          dailyUsed: day > inst.day ? 0 : Number(inst.daily_used),
          pausedUntil: pausedUntil > 0 ? this.#toCaller(pausedUntil, Number(counts.db_now), now) : 0,
        };
      });
    } catch (e) {
      throw storeError("limiter state", e);
    }
  }

  async close(): Promise<void> {
    await this.#own?.end();
  }
}
