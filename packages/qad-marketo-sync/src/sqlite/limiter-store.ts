/**
 * A SQLite {@link LimiterStore}: one Marketo instance's quota (calls per sliding window, the concurrency cap, the daily
 * budget, the 606/615 pause gate) shared by every process on one machine whose `MarketoClient` uses a store on the
 * same file.
 *
 * Atomicity: `reserve`, `release`, `pause` and `raiseDailyUsed` are each one `BEGIN IMMEDIATE` transaction, which takes
 * the file's write lock before it reads, so check-and-record never races with another connection or process (and a
 * write never fails on a stale WAL snapshot). better-sqlite3 is synchronous: a transaction holds the lock for
 * microseconds; a connection that finds it taken waits up to `busyTimeoutMs`.
 *
 * Time source: the `now` every caller passes (its `MarketoClient` clock, `Date.now` by default). All processes on one
 * machine read one system clock, so their times are comparable and the store keeps no clock of its own; the optional
 * `callerNow` arguments of `release` and `pause` are not needed and ignored. Processes on several machines need the
 * PostgreSQL limiter store (`@ml/qad-marketo-sync/postgres`), which uses the database server's clock.
 *
 * Schema: the tables `ml_limiter_instances`, `ml_limiter_slots` and `ml_limiter_meta`. The limiter's schema version is
 * kept in `ml_limiter_meta`, not in `PRAGMA user_version` (which belongs to the SQLite AuditStore), so the limiter
 * may live in the sync store's own file or in a file of its own.
 *
 * @module
 */

import { mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";
import type { LimiterState, LimiterStore, Reservation, ReserveLimits } from "@ml/marketo-client";
import Database from "better-sqlite3";
import { isSyncError, SchemaVersionError, SyncError } from "../errors.js";

/** One schema step of the limiter's tables. A released step is never edited, only followed. */
interface LimiterMigration {
  version: number;
  sql: string;
}

const LIMITER_MIGRATIONS: readonly LimiterMigration[] = [
  {
    version: 1,
    sql: `
      CREATE TABLE ml_limiter_instances (
        key          TEXT    PRIMARY KEY,
        paused_until REAL    NOT NULL DEFAULT 0,
        day          TEXT    NOT NULL DEFAULT '',
        daily_used   INTEGER NOT NULL DEFAULT 0
      ) WITHOUT ROWID;
      -- AUTOINCREMENT: a slot id is never reused after garbage collection, so a late release cannot end another slot.
      CREATE TABLE ml_limiter_slots (
        id         INTEGER PRIMARY KEY AUTOINCREMENT,
        key        TEXT    NOT NULL,
        started_at REAL    NOT NULL,
        ended_at   REAL
      );
      CREATE INDEX ml_limiter_slots_by_key ON ml_limiter_slots (key);
    `,
  },
];

/** The limiter schema version this code writes and reads (kept in `ml_limiter_meta`, row `schema_version`). */
export const SQLITE_LIMITER_SCHEMA_VERSION: number = LIMITER_MIGRATIONS.length;

/** Options of {@link createSqliteLimiterStore}. */
export interface SqliteLimiterStoreOptions {
  /**
   * The database file: the sync store's own file (`createSqliteStore`) or one of its own. Its folder is created when
   * missing; the tables are created on first open. Every process sharing one Marketo instance's quota opens the same
   * file. `":memory:"` gives a private in-memory database (tests; nothing is shared).
   */
  path: string;
  /** How long an operation waits for another connection's write lock before failing with a retryable error. @default 5000 */
  busyTimeoutMs?: number | undefined;
  /**
   * `normal` (default) syncs the write-ahead log at checkpoints only: a power loss may forget the latest counts, which
   * is harmless because it also ends every process that held a slot. `full` syncs on every operation.
   * @default "normal"
   */
  synchronous?: "full" | "normal" | undefined;
}

/** What {@link createSqliteLimiterStore} returns. */
export interface SqliteLimiterStore extends LimiterStore {
  /** The limiter schema version of the open file (always {@link SQLITE_LIMITER_SCHEMA_VERSION}). */
  readonly schemaVersion: number;
  /** Limiter schema versions this open applied (empty when the file was already current). */
  readonly appliedMigrations: readonly number[];
  /** Counters read synchronously from the file (one short read transaction); `MarketoClient.quota()` uses it. */
  peek(key: string, now: number, day: string, limits: Pick<ReserveLimits, "windowMs" | "leaseMs">): LimiterState;
  /** Closes this connection. Idempotent; the store is unusable afterwards (operations reject with code `store`). */
  close(): void;
}

interface InstanceRow {
  paused_until: number;
  day: string;
  daily_used: number;
}

interface CountRow {
  in_flight: number;
  window_calls: number;
  earliest_exit: number | null;
}

const isBusy = (e: unknown): boolean =>
  typeof e === "object" && e !== null && /^SQLITE_(BUSY|LOCKED)/.test(String((e as { code?: unknown }).code));

/** A driver failure as a {@link SyncError} (code `store`, retryable when the file was locked too long). */
const storeError = (op: string, e: unknown): Error => {
  if (isSyncError(e)) return e;
  const message = e instanceof Error ? e.message : String(e);
  return new SyncError("store", `SQLite limiter store: ${op} failed: ${message}`, { retryable: isBusy(e), cause: e });
};

/** Brings the limiter's tables to {@link SQLITE_LIMITER_SCHEMA_VERSION} in one IMMEDIATE transaction. */
function migrateLimiter(db: Database.Database): number[] {
  const run = db.transaction((): number[] => {
    db.exec("CREATE TABLE IF NOT EXISTS ml_limiter_meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID");
    const row = db.prepare("SELECT value FROM ml_limiter_meta WHERE name = 'schema_version'").get() as
      | { value: number }
      | undefined;
    const from = row?.value ?? 0;
    if (from > SQLITE_LIMITER_SCHEMA_VERSION) {
      throw new SchemaVersionError(
        `SQLite limiter store: the database has limiter schema version ${from}, newer than this version of ` +
          `@ml/qad-marketo-sync supports (${SQLITE_LIMITER_SCHEMA_VERSION}); upgrade the package`,
        { set: "limiter", databaseVersion: from, codeVersion: SQLITE_LIMITER_SCHEMA_VERSION },
      );
    }
    const applied: number[] = [];
    for (const m of LIMITER_MIGRATIONS) {
      if (m.version <= from) continue;
      db.exec(m.sql);
      applied.push(m.version);
    }
    if (applied.length > 0) {
      db.prepare(
        `INSERT INTO ml_limiter_meta (name, value) VALUES ('schema_version', @v)
         ON CONFLICT (name) DO UPDATE SET value = excluded.value`,
      ).run({ v: SQLITE_LIMITER_SCHEMA_VERSION });
    }
    return applied;
  });
  return run.immediate();
}

// A slot never released counts as finished at `started_at + lease` (its holder crashed).
const END = "COALESCE(ended_at, CASE WHEN started_at + @lease <= @now THEN started_at + @lease END)";
const COUNT = `
  SELECT count(*) FILTER (WHERE e IS NULL)                         AS in_flight,
         count(*) FILTER (WHERE e IS NULL OR e + @window > @now)    AS window_calls,
         min(e + @window) FILTER (WHERE e + @window > @now)         AS earliest_exit
  FROM (SELECT ${END} AS e FROM ml_limiter_slots WHERE key = @key)`;

/**
 * Opens (creating when needed) a SQLite {@link LimiterStore}, so several processes on one machine that talk to one
 * Marketo instance stay inside its quota together. Pass it as `limiterStore` to every `MarketoClient` of the
 * instance, in every process, each opening the same file. The file may be the sync store's own
 * (`createSqliteStore({ path })`): the limiter's tables and schema version do not touch the AuditStore's.
 *
 * Times are the callers' `now` (one machine, one clock): every client sharing the file must use the system clock
 * (the default) or one shared fake clock. An in-flight slot whose process crashed stops counting `leaseMs` after it
 * was granted; finished and expired slots are deleted by the next `reserve` once they left the window.
 *
 * @throws {@link SchemaVersionError} (set `limiter`) when the file's limiter tables were written by a newer version.
 * @throws `SyncError` with code `store` when the file cannot be opened.
 * @example
 * import { createSqliteLimiterStore } from "@ml/qad-marketo-sync/sqlite";
 * const limiterStore = createSqliteLimiterStore({ path: "./data/sync.db" });
 * const mk = new MarketoClient({ munchkinId, clientId, clientSecret, limiterStore });
 * // ... at shutdown:
 * limiterStore.close();
 */
export function createSqliteLimiterStore(options: SqliteLimiterStoreOptions): SqliteLimiterStore {
  const inMemory = options.path === ":memory:" || options.path === "";
  let db: Database.Database;
  try {
    if (!inMemory) mkdirSync(dirname(resolve(options.path)), { recursive: true });
    db = new Database(options.path, { timeout: options.busyTimeoutMs ?? 5_000 });
  } catch (e) {
    throw storeError(`opening ${options.path}`, e);
  }
  let applied: number[];
  try {
    if (!inMemory) db.pragma("journal_mode = WAL");
    db.pragma(`synchronous = ${options.synchronous === "full" ? "FULL" : "NORMAL"}`);
    applied = migrateLimiter(db);
  } catch (e) {
    db.close();
    throw storeError("migrating the limiter tables", e);
  }

  const selectInstance = db.prepare<{ key: string }, InstanceRow>(
    "SELECT paused_until, day, daily_used FROM ml_limiter_instances WHERE key = @key",
  );
  const ensureInstance = db.prepare<{ key: string }>(
    "INSERT INTO ml_limiter_instances (key) VALUES (@key) ON CONFLICT (key) DO NOTHING",
  );
  const setDay = db.prepare<{ key: string; day: string; used: number }>(
    "UPDATE ml_limiter_instances SET day = @day, daily_used = @used WHERE key = @key",
  );
  type CountParams = { key: string; now: number; window: number; lease: number };
  const count = db.prepare<CountParams, CountRow>(COUNT);
  const collect = db.prepare<CountParams>(
    `DELETE FROM ml_limiter_slots WHERE key = @key AND COALESCE(ended_at, started_at + @lease) + @window <= @now`,
  );
  const insertSlot = db.prepare<{ key: string; now: number }>(
    "INSERT INTO ml_limiter_slots (key, started_at) VALUES (@key, @now)",
  );
  const endSlot = db.prepare<{ key: string; id: number; now: number }>(
    "UPDATE ml_limiter_slots SET ended_at = max(started_at, @now) WHERE key = @key AND id = @id AND ended_at IS NULL",
  );
  const raisePause = db.prepare<{ key: string; until: number }>(
    `INSERT INTO ml_limiter_instances (key, paused_until) VALUES (@key, @until)
     ON CONFLICT (key) DO UPDATE SET paused_until = max(paused_until, excluded.paused_until)`,
  );

  const instance = (key: string): InstanceRow => {
    ensureInstance.run({ key });
    return selectInstance.get({ key })!;
  };

  const reserve = db.transaction((key: string, now: number, day: string, limits: ReserveLimits): Reservation => {
    const inst = instance(key);
    const params = { key, now, window: limits.windowMs, lease: limits.leaseMs };
    collect.run(params);
    const counts = count.get(params)!;
    // The day only moves forward, so a caller still before midnight cannot reset today's count.
    const newDay = day > inst.day;
    const effectiveDay = newDay ? day : inst.day;
    const dailyUsed = newDay ? 0 : inst.daily_used;
    const state: LimiterState = {
      windowCalls: counts.window_calls,
      inFlight: counts.in_flight,
      dailyUsed,
      pausedUntil: inst.paused_until,
    };
    const refuse = (r: Reservation): Reservation => {
      if (newDay) setDay.run({ key, day: effectiveDay, used: 0 });
      return r;
    };
    if (dailyUsed >= limits.dailyCeiling) return refuse({ granted: false, reason: "daily", state });
    if (inst.paused_until > now) {
      return refuse({ granted: false, reason: "paused", retryAt: inst.paused_until, state });
    }
    if (counts.in_flight >= limits.maxConcurrent) return refuse({ granted: false, reason: "concurrency", state });
    if (counts.window_calls >= limits.callsPerWindow) {
      return refuse(
        counts.earliest_exit === null
          ? { granted: false, reason: "window", state }
          : { granted: false, reason: "window", retryAt: counts.earliest_exit, state },
      );
    }
    const slotId = String(insertSlot.run({ key, now }).lastInsertRowid);
    setDay.run({ key, day: effectiveDay, used: dailyUsed + 1 });
    return {
      granted: true,
      slotId,
      state: { ...state, windowCalls: state.windowCalls + 1, inFlight: state.inFlight + 1, dailyUsed: dailyUsed + 1 },
    };
  });

  const release = db.transaction((key: string, id: number, now: number) => {
    endSlot.run({ key, id, now });
  });

  const pause = db.transaction((key: string, until: number) => {
    raisePause.run({ key, until });
  });

  const raiseDailyUsed = db.transaction((key: string, day: string, used: number) => {
    const inst = instance(key);
    if (day < inst.day) return; // a lagging caller's day: today's count is already newer
    const base = day > inst.day ? 0 : inst.daily_used;
    setDay.run({ key, day, used: Math.max(base, used) });
  });

  // A read transaction (no write lock): the instance row and the counts from one snapshot.
  const read = db.transaction(
    (key: string, now: number, day: string, limits: Pick<ReserveLimits, "windowMs" | "leaseMs">): LimiterState => {
      const inst = selectInstance.get({ key });
      const counts = count.get({ key, now, window: limits.windowMs, lease: limits.leaseMs })!;
      return {
        windowCalls: counts.window_calls,
        inFlight: counts.in_flight,
        dailyUsed: inst && day <= inst.day ? inst.daily_used : 0,
        pausedUntil: inst?.paused_until ?? 0,
      };
    },
  );

  let closed = false;
  const guard = <T>(op: string, body: () => T): T => {
    if (closed) throw new SyncError("store", `SQLite limiter store: ${op} after close()`);
    try {
      return body();
    } catch (e) {
      throw storeError(op, e);
    }
  };

  return {
    schemaVersion: SQLITE_LIMITER_SCHEMA_VERSION,
    appliedMigrations: applied,
    async reserve(key, now, day, limits) {
      return guard("reserve", () => reserve.immediate(key, now, day, limits));
    },
    async release(key, slotId, now) {
      // Ids are this store's decimal row ids; anything else was never granted here.
      if (!/^\d+$/.test(slotId)) return;
      guard("release", () => release.immediate(key, Number(slotId), now));
    },
    async pause(key, until) {
      guard("pause", () => pause.immediate(key, until));
    },
    async raiseDailyUsed(key, day, used) {
      guard("raiseDailyUsed", () => raiseDailyUsed.immediate(key, day, used));
    },
    async state(key, now, day, limits) {
      return guard("state", () => read.deferred(key, now, day, limits));
    },
    peek(key, now, day, limits) {
      return guard("peek", () => read.deferred(key, now, day, limits));
    },
    close() {
      if (closed) return;
      closed = true;
      db.close();
    },
  };
}
