/**
 * The embedded store: {@link AuditStore} and {@link SecretStore} in one SQLite file through better-sqlite3.
 *
 * @module
 */

import { mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";
import Database from "better-sqlite3";
import { isSyncError, LeaseLostError, SyncError } from "../errors.js";
import { type Clock, systemClock } from "../internal/runtime.js";
import type { JsonValue } from "../ports.js";
import type { AccountContext } from "../readback/account-context.js";
import type {
  AuditEntry,
  AuditQuery,
  AuditStore,
  BatchCommit,
  CarriedRecord,
  CarryQuery,
  CarryState,
  Lease,
  LeaseAcquisition,
  PruneResult,
  RetentionPolicy,
  SyncedState,
} from "../store/audit-store.js";
import { checkCursor, checkLimit, checkPageSize } from "../store/paging.js";
import { retentionBounds } from "../store/retention.js";
import {
  auditFromRow,
  auditToRow,
  carriedFromRow,
  carriedToRow,
  type JsonColumns,
  type Row,
  runFromRow,
  runToRow,
  sealedFromRow,
  sealedToRow,
  syncedFromRow,
  syncedToRow,
} from "../store/rows.js";
import type { SealedQuery, SealedSecret, SecretStore } from "../store/secret-store.js";
import { migrate, SQLITE_SCHEMA_VERSION } from "./migrations.js";

/** Options of {@link createSqliteStore}. */
export interface SqliteStoreOptions {
  /**
   * The database file. Its folder is created when missing; the file and its schema are created on first open.
   * `":memory:"` gives a private in-memory database (tests).
   */
  path: string;
  /**
   * Clock for lease expiry and fencing. Processes sharing one file must share one time source: on one machine the
   * system clock is.
   * @default Date.now
   */
  clock?: Clock | undefined;
  /** How long a statement waits for another connection's write lock before failing with a retryable error. @default 5000 */
  busyTimeoutMs?: number | undefined;
  /**
   * `full` syncs the write-ahead log on every commit (a committed batch survives a power loss); `normal` syncs it
   * at checkpoints only (faster; a power loss may roll back the latest batches, which are then written again).
   * @default "full"
   */
  synchronous?: "full" | "normal" | undefined;
  /**
   * Rows per page read by {@link AuditStore.listSynced}, which never holds more than one page: a whole number ≥ 1,
   * anything else is refused with a `SyncConfigError`.
   * @default 1000
   */
  pageSize?: number | undefined;
}

/** What {@link createSqliteStore} returns. */
export interface SqliteStore extends AuditStore, SecretStore {
  /** The schema version of the open file (always {@link SQLITE_SCHEMA_VERSION}). */
  readonly schemaVersion: number;
  /** Schema versions this open applied (empty when the file was already current). */
  readonly appliedMigrations: readonly number[];
  /** Closes the database. Idempotent; the store is unusable afterwards. */
  close(): void;
}

type Params = Record<string, unknown>;

/** JSON columns are TEXT. */
const JSON_TEXT: JsonColumns = { encode: (v) => JSON.stringify(v), decode: (s) => JSON.parse(String(s)) };
const fromAudit = (r: Row) => auditFromRow(JSON_TEXT, r);
const fromCarried = (r: Row) => carriedFromRow(JSON_TEXT, r);
const fromRun = (r: Row) => runFromRow(JSON_TEXT, r);

const isBusy = (e: unknown): boolean =>
  typeof e === "object" && e !== null && /^SQLITE_(BUSY|LOCKED)/.test(String((e as { code?: unknown }).code));

/** Turns a driver failure into a {@link SyncError} (code `store`); this package's own errors pass through. */
const storeError = (op: string, e: unknown): Error => {
  if (isSyncError(e)) return e;
  const message = e instanceof Error ? e.message : String(e);
  return new SyncError("store", `SQLite store: ${op} failed: ${message}`, { retryable: isBusy(e), cause: e });
};

/**
 * Opens (creating when needed) a SQLite store: the embedded default for one machine. A file path is the whole
 * setup: the folder, the file and the schema are created on first use, and versioned forward migrations bring an
 * older file up to date. Several processes may share the file: writes are serialised by SQLite (WAL, busy timeout),
 * each {@link AuditStore.commitBatch} is one IMMEDIATE transaction, and leases with fencing tokens are kept in the
 * file, so they exclude runners in other processes too. Needs the optional peer dependency `better-sqlite3` (12.x).
 *
 * @throws {@link SchemaVersionError} when the file was written by a newer version of this package.
 * @throws `SyncError` with code `store` when the file cannot be opened.
 * @example
 * import { createSqliteStore } from "@ml/qad-marketo-sync/sqlite";
 * const store = createSqliteStore({ path: "./data/sync.db" });
 * const sync = createSync({ source, marketo, store });
 * // ... at shutdown:
 * store.close();
 */
export function createSqliteStore(options: SqliteStoreOptions): SqliteStore {
  const clock = options.clock ?? systemClock;
  const pageSize = checkPageSize("createSqliteStore", options.pageSize, 1_000);
  const inMemory = options.path === ":memory:" || options.path === "";
  let db: Database.Database;
  try {
    if (!inMemory) mkdirSync(dirname(resolve(options.path)), { recursive: true });
    db = new Database(options.path, { timeout: options.busyTimeoutMs ?? 5_000 });
  } catch (e) {
    throw storeError(`opening ${options.path}`, e);
  }
  let report: { applied: number[] };
  try {
    if (!inMemory) db.pragma("journal_mode = WAL");
    db.pragma(`synchronous = ${options.synchronous === "normal" ? "NORMAL" : "FULL"}`);
    db.pragma("foreign_keys = ON");
    report = migrate(db);
  } catch (e) {
    db.close();
    throw storeError("migrating the schema", e);
  }

  // Statements are prepared once per distinct SQL text (the dynamic filters produce a handful of shapes).
  const statements = new Map<string, Database.Statement>();
  const stmt = (sql: string): Database.Statement => {
    let s = statements.get(sql);
    if (!s) {
      s = db.prepare(sql);
      statements.set(sql, s);
    }
    return s;
  };
  const all = <T>(sql: string, params: Params): T[] => stmt(sql).all(params) as T[];
  const get = <T>(sql: string, params: Params): T | undefined => stmt(sql).get(params) as T | undefined;
  const run = (sql: string, params: Params): Database.RunResult => stmt(sql).run(params);
  const list = (values: readonly string[]): string => JSON.stringify(values);

  const checkFence = (fence: Lease | undefined): void => {
    if (!fence) return;
    const held = get<{ token: number; expires_at: number; held: number }>(
      "SELECT token, expires_at, held FROM leases WHERE name = @name",
      { name: fence.name },
    );
    if (held?.held !== 1 || held.token !== fence.token || held.expires_at <= clock.now()) {
      throw new LeaseLostError(`lease ${fence.name} (token ${fence.token}) is no longer held`);
    }
  };

  const UPSERT_AUDIT = `
    INSERT INTO audit (tenant, run_id, kind, key, outcome, source_key, reasons, error, marketo_id, payload, hash, at, replay_of)
    VALUES (@tenant, @run_id, @kind, @key, @outcome, @source_key, @reasons, @error, @marketo_id, @payload, @hash, @at, @replay_of)
    ON CONFLICT (tenant, run_id, kind, key) DO UPDATE SET
      outcome = excluded.outcome, source_key = excluded.source_key, reasons = excluded.reasons, error = excluded.error,
      marketo_id = excluded.marketo_id, payload = excluded.payload, hash = excluded.hash, at = excluded.at,
      replay_of = excluded.replay_of`;
  const UPSERT_SYNCED = `
    INSERT INTO synced (tenant, kind, key, hash, marketo_id, marketo_guid, name, name_norm, company_key, run_id, at)
    VALUES (@tenant, @kind, @key, @hash, @marketo_id, @marketo_guid, @name, @name_norm, @company_key, @run_id, @at)
    ON CONFLICT (tenant, kind, key) DO UPDATE SET
      hash = excluded.hash, marketo_id = excluded.marketo_id, marketo_guid = excluded.marketo_guid,
      name = excluded.name, name_norm = excluded.name_norm, company_key = excluded.company_key, run_id = excluded.run_id, at = excluded.at`;
  const UPSERT_CHECKPOINT = `
    INSERT INTO checkpoints (tenant, name, value) VALUES (@tenant, @name, @value)
    ON CONFLICT (tenant, name) DO UPDATE SET value = excluded.value`;
  const UPSERT_CARRIED = `
    INSERT INTO carried (tenant, kind, key, source_key, payload, hash, cause, state, attempts, first_at, last_at,
                         next_at, run_id, error, reasons)
    VALUES (@tenant, @kind, @key, @source_key, @payload, @hash, @cause, @state, @attempts, @first_at, @last_at,
            @next_at, @run_id, @error, @reasons)
    ON CONFLICT (tenant, kind, key) DO UPDATE SET
      source_key = excluded.source_key, payload = excluded.payload, hash = excluded.hash, cause = excluded.cause,
      state = excluded.state, attempts = excluded.attempts, first_at = excluded.first_at, last_at = excluded.last_at,
      next_at = excluded.next_at, run_id = excluded.run_id, error = excluded.error, reasons = excluded.reasons`;

  const commitBatch = db.transaction((batch: BatchCommit) => {
    checkFence(batch.fence);
    const tenant = batch.tenant;
    for (const e of batch.entries) run(UPSERT_AUDIT, { tenant, ...auditToRow(JSON_TEXT, e) });
    for (const s of batch.synced) run(UPSERT_SYNCED, { tenant, ...syncedToRow(s) });
    if (batch.checkpoint) {
      run(UPSERT_CHECKPOINT, { tenant, name: batch.checkpoint.name, value: JSON.stringify(batch.checkpoint.value) });
    }
    // Clears first, then puts: a record both written and re-carried in one batch stays carried.
    for (const ref of batch.carry?.clear ?? []) {
      run("DELETE FROM carried WHERE tenant = @tenant AND kind = @kind AND key = @key", {
        tenant,
        kind: ref.kind,
        key: ref.key,
      });
    }
    for (const c of batch.carry?.put ?? []) run(UPSERT_CARRIED, { tenant, ...carriedToRow(JSON_TEXT, c) });
  });

  const saveCheckpoint = db.transaction((tenant: string, name: string, value: JsonValue, fence?: Lease) => {
    checkFence(fence);
    run(UPSERT_CHECKPOINT, { tenant, name, value: JSON.stringify(value) });
  });

  const acquireLease = db.transaction((name: string, owner: string, ttlMs: number): LeaseAcquisition => {
    const now = clock.now();
    const row = get<{ owner: string; token: number; expires_at: number; held: number }>(
      "SELECT owner, token, expires_at, held FROM leases WHERE name = @name",
      { name },
    );
    if (row && row.held === 1 && row.expires_at > now) {
      return { acquired: false, holder: row.owner, expiresAt: row.expires_at };
    }
    const lease: Lease = { name, owner, token: (row?.token ?? 0) + 1, expiresAt: now + ttlMs };
    run(
      `INSERT INTO leases (name, owner, token, expires_at, held) VALUES (@name, @owner, @token, @expiresAt, 1)
       ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, token = excluded.token,
         expires_at = excluded.expires_at, held = 1`,
      { ...lease },
    );
    return { acquired: true, lease };
  });

  const renewLease = db.transaction((lease: Lease, ttlMs: number): Lease | undefined => {
    const now = clock.now();
    const changed = run(
      `UPDATE leases SET expires_at = @expiresAt
       WHERE name = @name AND token = @token AND held = 1 AND expires_at > @now`,
      { name: lease.name, token: lease.token, expiresAt: now + ttlMs, now },
    ).changes;
    return changed === 1 ? { ...lease, expiresAt: now + ttlMs } : undefined;
  });

  const releaseLease = db.transaction((lease: Lease) => {
    // The row (and its token) stays, so the next holder's token is still higher.
    run("UPDATE leases SET held = 0 WHERE name = @name AND token = @token", { name: lease.name, token: lease.token });
  });

  const prune = db.transaction((tenant: string, policy: RetentionPolicy, now: number): PruneResult => {
    const bounds = retentionBounds(policy, now);
    if (!bounds) return { auditRows: 0, runs: 0 };
    const { cutoff, keep } = bounds;
    // Each record's rows ranked newest first (time, then recording order); rank 1 is never deleted. NULL bounds
    // make their comparison NULL, so an absent rule deletes nothing.
    const auditRows = run(
      `DELETE FROM audit WHERE id IN (
         SELECT r.id FROM (
           SELECT id, kind, key, at, run_id,
                  ROW_NUMBER() OVER (PARTITION BY key, kind ORDER BY at DESC, id DESC) AS rank
           FROM audit WHERE tenant = @tenant
         ) AS r
         WHERE r.rank > 1
           AND (r.at < @cutoff OR r.rank > @keep)
           AND NOT EXISTS (SELECT 1 FROM carried c WHERE c.tenant = @tenant AND c.kind = r.kind AND c.key = r.key)
           AND NOT EXISTS (SELECT 1 FROM runs u WHERE u.tenant = @tenant AND u.run_id = r.run_id AND u.status = 'running')
       )`,
      { tenant, cutoff, keep },
    ).changes;
    const runs =
      cutoff === null
        ? 0
        : run(
            `DELETE FROM runs
             WHERE tenant = @tenant AND status <> 'running' AND coalesce(finished_at, started_at) < @cutoff
               AND NOT EXISTS (SELECT 1 FROM audit a WHERE a.tenant = runs.tenant AND a.run_id = runs.run_id)`,
            { tenant, cutoff },
          ).changes;
    return { auditRows, runs };
  });

  const putSealed = db.transaction((secret: SealedSecret, expectNonce: string | undefined): boolean => {
    const row = sealedToRow(secret);
    if (expectNonce !== undefined) {
      return (
        run(
          `UPDATE sealed_secrets SET key_id = @key_id, nonce = @nonce, ciphertext = @ciphertext, tag = @tag,
             updated_at = @updated_at
           WHERE tenant = @tenant AND name = @name AND nonce = @expectNonce`,
          { ...row, expectNonce },
        ).changes === 1
      );
    }
    run(
      `INSERT INTO sealed_secrets (tenant, name, key_id, nonce, ciphertext, tag, updated_at)
       VALUES (@tenant, @name, @key_id, @nonce, @ciphertext, @tag, @updated_at)
       ON CONFLICT (tenant, name) DO UPDATE SET key_id = excluded.key_id, nonce = excluded.nonce,
         ciphertext = excluded.ciphertext, tag = excluded.tag, updated_at = excluded.updated_at`,
      row,
    );
    return true;
  });

  const putContexts = db.transaction((tenant: string, contexts: AccountContext[]) => {
    for (const c of contexts) {
      run(
        `INSERT INTO account_contexts (tenant, external_company_id, value) VALUES (@tenant, @id, @value)
         ON CONFLICT (tenant, external_company_id) DO UPDATE SET value = excluded.value`,
        { tenant, id: c.externalCompanyId, value: JSON.stringify(c) },
      );
    }
  });

  /** Runs `fn` as one store operation: driver errors become {@link SyncError}s. */
  const op = <T>(name: string, fn: () => T): Promise<T> => {
    try {
      return Promise.resolve(fn());
    } catch (e) {
      return Promise.reject(storeError(name, e));
    }
  };

  let closed = false;
  const store: SqliteStore = {
    schemaVersion: SQLITE_SCHEMA_VERSION,
    appliedMigrations: Object.freeze([...report.applied]),
    close() {
      if (closed) return;
      closed = true;
      statements.clear();
      db.close();
    },

    startRun: (r) =>
      op("startRun", () => {
        run(
          `INSERT INTO runs (tenant, run_id, trigger, status, started_at, finished_at, summary)
           VALUES (@tenant, @run_id, @trigger, @status, @started_at, @finished_at, @summary)
           ON CONFLICT (tenant, run_id) DO UPDATE SET trigger = excluded.trigger, status = excluded.status,
             started_at = excluded.started_at, finished_at = excluded.finished_at, summary = excluded.summary`,
          runToRow(JSON_TEXT, r),
        );
      }),
    finishRun: (tenant, runId, end) =>
      op("finishRun", () => {
        run(
          `UPDATE runs SET status = @status, finished_at = @finishedAt, summary = @summary
           WHERE tenant = @tenant AND run_id = @runId`,
          { tenant, runId, status: end.status, finishedAt: end.finishedAt, summary: JSON.stringify(end.summary) },
        );
      }),
    getRun: (tenant, runId) =>
      op("getRun", () => {
        const row = get<Row>("SELECT * FROM runs WHERE tenant = @tenant AND run_id = @runId", { tenant, runId });
        return row ? fromRun(row) : undefined;
      }),
    listRuns: (tenant, opts = {}) =>
      op("listRuns", () => {
        checkLimit("listRuns", opts.limit);
        return all<Row>("SELECT * FROM runs WHERE tenant = @tenant ORDER BY id DESC LIMIT @limit", {
          tenant,
          limit: opts.limit ?? -1,
        }).map(fromRun);
      }),

    commitBatch: (batch) => op("commitBatch", () => commitBatch.immediate(batch)),
    queryAudit: (q: AuditQuery) =>
      op("queryAudit", (): AuditEntry[] => {
        checkLimit("queryAudit", q.limit);
        const where = ["tenant = @tenant"];
        const params: Params = { tenant: q.tenant, limit: q.limit ?? -1 };
        if (q.runId !== undefined) {
          where.push("run_id = @runId");
          params.runId = q.runId;
        }
        if (q.keys) {
          where.push("key IN (SELECT value FROM json_each(@keys))");
          params.keys = list(q.keys);
        }
        if (q.kinds) {
          where.push("kind IN (SELECT value FROM json_each(@kinds))");
          params.kinds = list(q.kinds);
        }
        if (q.outcomes) {
          where.push("outcome IN (SELECT value FROM json_each(@outcomes))");
          params.outcomes = list(q.outcomes);
        }
        if (q.since !== undefined) {
          where.push("at >= @since");
          params.since = q.since;
        }
        if (q.limit !== undefined && q.limit <= 0) return [];
        return all<Row>(`SELECT * FROM audit WHERE ${where.join(" AND ")} ORDER BY id LIMIT @limit`, params).map(
          fromAudit,
        );
      }),
    prune: (tenant, policy, now) => op("prune", () => prune.immediate(tenant, policy, now)),

    listCarried: (q: CarryQuery) =>
      op("listCarried", (): CarriedRecord[] => {
        checkLimit("listCarried", q.limit);
        checkCursor("listCarried", q.after, ["kind", "key"]);
        const where = ["tenant = @tenant"];
        const params: Params = { tenant: q.tenant, limit: q.limit ?? -1 };
        if (q.state !== undefined) {
          where.push("state = @state");
          params.state = q.state;
        }
        if (q.causes) {
          where.push("cause IN (SELECT value FROM json_each(@causes))");
          params.causes = list(q.causes);
        }
        if (q.dueBy !== undefined) {
          where.push("next_at <= @dueBy");
          params.dueBy = q.dueBy;
        }
        if (q.kinds) {
          where.push("kind IN (SELECT value FROM json_each(@kinds))");
          params.kinds = list(q.kinds);
        }
        if (q.keys) {
          where.push("key IN (SELECT value FROM json_each(@keys))");
          params.keys = list(q.keys);
        }
        if (q.after) {
          where.push("(kind, key) > (@afterKind, @afterKey)");
          params.afterKind = q.after.kind;
          params.afterKey = q.after.key;
        }
        if (q.limit !== undefined && q.limit <= 0) return [];
        return all<Row>(
          `SELECT * FROM carried WHERE ${where.join(" AND ")} ORDER BY kind, key LIMIT @limit`,
          params,
        ).map(fromCarried);
      }),
    getCarried: (tenant, kind, keys) =>
      op("getCarried", () => {
        const out = new Map<string, CarriedRecord>();
        const rows = all<Row>(
          "SELECT * FROM carried WHERE tenant = @tenant AND kind = @kind AND key IN (SELECT value FROM json_each(@keys))",
          { tenant, kind, keys: list(keys) },
        );
        for (const r of rows) {
          const c = fromCarried(r);
          out.set(c.key, c);
        }
        return out;
      }),
    countCarried: (tenant) =>
      op("countCarried", () => {
        const counts: Record<CarryState, number> = { pending: 0, dead: 0 };
        const rows = all<{ state: CarryState; n: number }>(
          "SELECT state, count(*) AS n FROM carried WHERE tenant = @tenant GROUP BY state",
          { tenant },
        );
        for (const r of rows) counts[r.state] = r.n;
        return counts;
      }),

    getSynced: (tenant, kind, keys) =>
      op("getSynced", () => {
        const out = new Map<string, SyncedState>();
        const rows = all<Row>(
          "SELECT * FROM synced WHERE tenant = @tenant AND kind = @kind AND key IN (SELECT value FROM json_each(@keys))",
          { tenant, kind, keys: list(keys) },
        );
        for (const r of rows) {
          const s = syncedFromRow(r);
          out.set(s.key, s);
        }
        return out;
      }),
    async *listSynced(tenant, kind) {
      // Keyset pages, each its own statement: no read transaction stays open between pages, and at most one page
      // is in memory however many rows there are.
      let after: string | null = null;
      for (;;) {
        const cursor: string | null = after;
        // Two shapes rather than `(@after IS NULL OR key > @after)`, which would defeat the primary-key range.
        const rows: Row[] = await op("listSynced", () =>
          cursor === null
            ? all<Row>("SELECT * FROM synced WHERE tenant = @tenant AND kind = @kind ORDER BY key LIMIT @limit", {
                tenant,
                kind,
                limit: pageSize,
              })
            : all<Row>(
                "SELECT * FROM synced WHERE tenant = @tenant AND kind = @kind AND key > @after ORDER BY key LIMIT @limit",
                { tenant, kind, after: cursor, limit: pageSize },
              ),
        );
        for (const r of rows) yield syncedFromRow(r);
        const last = rows.at(-1);
        if (rows.length < pageSize || !last) return;
        after = String(last.key);
      }
    },

    namedAccountKeys: (tenant, names) =>
      op("namedAccountKeys", () => {
        const out = new Map<string, string>();
        if (names.length === 0) return out;
        const rows = all<{ name_norm: string; key: string }>(
          `SELECT name_norm, min(key) AS key FROM synced
           WHERE tenant = @tenant AND kind = 'namedAccount' AND name_norm IN (SELECT value FROM json_each(@names))
           GROUP BY name_norm`,
          { tenant, names: list(names) },
        );
        for (const r of rows) out.set(r.name_norm, r.key);
        return out;
      }),

    getCheckpoint: (tenant, name) =>
      op("getCheckpoint", () => {
        const row = get<{ value: string }>("SELECT value FROM checkpoints WHERE tenant = @tenant AND name = @name", {
          tenant,
          name,
        });
        return row ? (JSON.parse(row.value) as JsonValue) : undefined;
      }),
    saveCheckpoint: (tenant, name, value, fence) =>
      op("saveCheckpoint", () => saveCheckpoint.immediate(tenant, name, value, fence)),

    acquireLease: (name, owner, ttlMs) => op("acquireLease", () => acquireLease.immediate(name, owner, ttlMs)),
    renewLease: (lease, ttlMs) => op("renewLease", () => renewLease.immediate(lease, ttlMs)),
    releaseLease: (lease) => op("releaseLease", () => releaseLease.immediate(lease)),

    putAccountContexts: (tenant, contexts) => op("putAccountContexts", () => putContexts.immediate(tenant, contexts)),
    getAccountContext: (tenant, externalCompanyId) =>
      op("getAccountContext", () => {
        const row = get<{ value: string }>(
          "SELECT value FROM account_contexts WHERE tenant = @tenant AND external_company_id = @id",
          { tenant, id: externalCompanyId },
        );
        return row ? (JSON.parse(row.value) as AccountContext) : undefined;
      }),

    putSealed: (secret, opts = {}) => op("putSealed", () => putSealed.immediate(secret, opts.expectNonce)),
    getSealed: (tenant, name) =>
      op("getSealed", () => {
        const row = get<Row>("SELECT * FROM sealed_secrets WHERE tenant = @tenant AND name = @name", {
          tenant,
          name,
        });
        return row ? sealedFromRow(row) : undefined;
      }),
    listSealed: (q: SealedQuery = {}) =>
      op("listSealed", () => {
        checkLimit("listSealed", q.limit);
        checkCursor("listSealed", q.after, ["tenant", "name"]);
        const where = ["1 = 1"];
        const params: Params = { limit: q.limit ?? -1 };
        if (q.tenant !== undefined) {
          where.push("tenant = @tenant");
          params.tenant = q.tenant;
        }
        if (q.notKeyId !== undefined) {
          where.push("key_id <> @notKeyId");
          params.notKeyId = q.notKeyId;
        }
        if (q.after) {
          where.push("(tenant, name) > (@afterTenant, @afterName)");
          params.afterTenant = q.after.tenant;
          params.afterName = q.after.name;
        }
        if (q.limit !== undefined && q.limit <= 0) return [];
        return all<Row>(
          `SELECT * FROM sealed_secrets WHERE ${where.join(" AND ")} ORDER BY tenant, name LIMIT @limit`,
          params,
        ).map(sealedFromRow);
      }),
    deleteSealed: (tenant, name) =>
      op(
        "deleteSealed",
        () => run("DELETE FROM sealed_secrets WHERE tenant = @tenant AND name = @name", { tenant, name }).changes > 0,
      ),
  };
  return store;
}
