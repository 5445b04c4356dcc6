/**
 * `createPostgresStore`: the {@link AuditStore} and {@link SecretStore} on PostgreSQL, for many workers on many
 * machines sharing one database.
 *
 * - Leases are single-statement upserts on one row per name: the fencing token grows by one on every acquisition, and
 *   concurrent acquirers serialise on the row, so exactly one wins.
 * - `commitBatch` is one transaction that first reads the fencing lease row `FOR SHARE` (a takeover's update waits
 *   until the batch is committed, and a batch that finds a newer token is refused whole with `LeaseLostError`), then
 *   writes audit rows, synced state, carried records and the checkpoint with one statement each, whatever the size.
 * - Time for lease expiry is the database server's clock, the one clock every worker shares; the `clock` option
 *   replaces it (tests that move time). Every other time (`at`, `nextAt`, ...) is the engine's, stored as given.
 *
 * @module
 */

import type pg from "pg";
import { LeaseLostError, SyncConfigError } from "../errors.js";
import type { Clock } from "../internal/runtime.js";
import type { JsonValue } from "../ports.js";
import type { AccountContext } from "../readback/account-context.js";
import type {
  AuditStore,
  BatchCommit,
  CarriedRecord,
  CarryState,
  Lease,
  LeaseAcquisition,
  PruneResult,
  SyncedState,
  WritableKind,
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
  sealedFromRow,
  syncedFromRow,
  syncedToRow,
} from "../store/rows.js";
import type { SealedSecret, SecretStore } from "../store/secret-store.js";
import { createPool, inTransaction, storeError } from "./connection.js";
import { checkSchemaName, type MigrateResult, migrate } from "./migrate.js";
import { AUDIT_MIGRATION_SET, AUDIT_MIGRATIONS } from "./schema.js";
import {
  auditQuery,
  CARRIED_COLUMNS,
  carriedQuery,
  namedAccountKeysQuery,
  nowSql,
  pruneStatement,
  SEALED_COLUMNS,
  SYNCED_COLUMNS,
  sealedQuery,
  tables,
} from "./sql.js";

/** Options of {@link createPostgresStore}. Give `pool` or `connectionString`. */
export interface PostgresStoreOptions {
  /** A pool of your own; {@link PostgresStore.close} leaves it open. */
  pool?: pg.Pool | undefined;
  /** Connection string for a pool the store creates (and ends on {@link PostgresStore.close}). */
  connectionString?: string | undefined;
  /**
   * Maximum connections of the pool the store creates.
   * @default 10
   */
  maxConnections?: number | undefined;
  /**
   * Schema holding the store's tables (created when missing).
   * @default "public"
   */
  schema?: string | undefined;
  /**
   * Clock for lease expiry. By default the database server's clock, which all workers share whatever their own
   * clocks' skew; inject one only where every user of the database uses the same clock (tests).
   */
  clock?: Clock | undefined;
  /**
   * Apply the store's migrations before the first operation. With `false`, call {@link PostgresStore.migrate} (e.g.
   * from a deploy step) before using the store.
   * @default true
   */
  autoMigrate?: boolean | undefined;
  /**
   * Rows per page of {@link AuditStore.listSynced} (keyset paging: memory stays flat however many rows there are): a
   * whole number ≥ 1, anything else is refused with a `SyncConfigError`.
   * @default 1000
   */
  pageSize?: number | undefined;
}

/** What {@link createPostgresStore} returns. */
export interface PostgresStore extends AuditStore, SecretStore {
  /**
   * Applies the store's pending migrations (set `audit`), once across all workers. Safe to call any number of times,
   * from any number of processes at once.
   * @throws {@link SchemaVersionError} when the database was migrated by a newer release.
   */
  migrate(): Promise<MigrateResult>;
  /** Ends the pool when the store created it (a pool passed in stays open). Idempotent. */
  close(): Promise<void>;
}

const LEASE_ATTEMPTS = 3;

/**
 * JSON columns are `jsonb`: the driver parses them on read, and bulk writes send the rows inside one JSON array
 * parameter, so a value goes in as it is.
 */
const JSONB: JsonColumns = { encode: (v) => v, decode: (v) => v };
const fromAudit = (r: Row) => auditFromRow(JSONB, r);
const fromCarried = (r: Row) => carriedFromRow(JSONB, r);
const fromRun = (r: Row) => runFromRow(JSONB, r);

/** The last element per id, at the position of the first (what repeated upserts in one batch amount to). */
function lastPerId<T>(items: readonly T[], id: (item: T) => string): T[] {
  const m = new Map<string, T>();
  for (const item of items) m.set(id(item), item);
  return [...m.values()];
}

/**
 * Creates the PostgreSQL store. Needs the optional peer dependency `pg` (8.x).
 *
 * @example
 * ```ts
 * import { createPostgresStore } from "@ml/qad-marketo-sync/postgres";
 * const store = createPostgresStore({ connectionString: process.env.DATABASE_URL, schema: "marketo_sync" });
 * const sync = createSync({ tenant: "acme", source, marketo, store });
 * // ... at shutdown
 * await store.close();
 * ```
 */
export function createPostgresStore(options: PostgresStoreOptions): PostgresStore {
  const schema = checkSchemaName(options.schema ?? "public");
  const pageSize = checkPageSize("createPostgresStore", options.pageSize, 1000);
  const ownsPool = options.pool === undefined;
  let pool: pg.Pool;
  if (options.pool) {
    pool = options.pool;
  } else {
    if (!options.connectionString) {
      throw new SyncConfigError("createPostgresStore needs `pool` or `connectionString`");
    }
    pool = createPool(options.connectionString, options.maxConnections ?? 10);
  }
  const clock = options.clock;
  const autoMigrate = options.autoMigrate ?? true;
  const t = tables(schema);
  const NOW = nowSql("$1");
  let closed = false;
  /** Settles when the last migration run did; reset when it failed, so a later operation tries again. */
  let migrated: Promise<void> | undefined;

  const runMigrations = (): Promise<MigrateResult> => {
    const run = migrate(pool, AUDIT_MIGRATION_SET, AUDIT_MIGRATIONS, { schema });
    const done = run.then(() => undefined);
    done.catch(() => {
      if (migrated === done) migrated = undefined;
    });
    migrated = done;
    return run;
  };
  const ready = async (): Promise<void> => {
    if (autoMigrate) await (migrated ?? runMigrations());
  };
  /** The injected clock's now, or null for the database clock (see {@link nowSql}). */
  const now = (): number | null => (clock ? Math.floor(clock.now()) : null);

  const op = async <T>(operation: string, fn: () => Promise<T>): Promise<T> => {
    try {
      await ready();
      return await fn();
    } catch (e) {
      throw storeError(operation, e);
    }
  };
  /** Checks an operation's input before any connection is used: a rejected promise when it is refused. */
  const guard = (check: () => void): Promise<never> | undefined => {
    try {
      check();
      return undefined;
    } catch (e) {
      return Promise.reject(e);
    }
  };
  const query = (text: string, values: unknown[] = [], client: pg.Pool | pg.PoolClient = pool) =>
    client.query<Record<string, unknown>>(text, values);

  const checkFence = async (client: pg.PoolClient, fence: Lease): Promise<void> => {
    const held = await query(
      `SELECT 1 FROM ${t.leases}
       WHERE name = $2 AND token = $3 AND owner IS NOT NULL AND expires_at > ${NOW} FOR SHARE`,
      [now(), fence.name, fence.token],
      client,
    );
    if (held.rowCount === 0) throw new LeaseLostError(`lease ${fence.name} (token ${fence.token}) is no longer held`);
  };

  const upsertCheckpoint = (client: pg.PoolClient | pg.Pool, tenant: string, name: string, value: JsonValue) =>
    query(
      `INSERT INTO ${t.checkpoints} (tenant, name, value) VALUES ($1, $2, $3::jsonb)
       ON CONFLICT (tenant, name) DO UPDATE SET value = EXCLUDED.value`,
      [tenant, name, JSON.stringify(value)],
      client,
    );

  const writeBatch = async (client: pg.PoolClient, batch: BatchCommit): Promise<void> => {
    const { tenant } = batch;
    const entries = lastPerId(batch.entries, (e) => `${e.runId}\u0000${e.kind}\u0000${e.key}`);
    if (entries.length > 0) {
      await query(
        `INSERT INTO ${t.audit}
           (tenant, run_id, kind, key, outcome, source_key, reasons, error, marketo_id, payload, hash, at, replay_of)
         SELECT $1, e->>'run_id', e->>'kind', e->>'key', e->>'outcome', e->>'source_key', e->'reasons',
                NULLIF(e->'error', 'null'), e->>'marketo_id', NULLIF(e->'payload', 'null'), e->>'hash',
                (e->>'at')::numeric::bigint, e->>'replay_of'
         FROM jsonb_array_elements($2::jsonb) WITH ORDINALITY AS x(e, ord) ORDER BY ord
         ON CONFLICT (tenant, run_id, kind, key) DO UPDATE SET
           outcome = EXCLUDED.outcome, source_key = EXCLUDED.source_key, reasons = EXCLUDED.reasons,
           error = EXCLUDED.error, marketo_id = EXCLUDED.marketo_id, payload = EXCLUDED.payload,
           hash = EXCLUDED.hash, at = EXCLUDED.at, replay_of = EXCLUDED.replay_of`,
        [tenant, JSON.stringify(entries.map((e) => auditToRow(JSONB, e)))],
        client,
      );
    }
    const synced = lastPerId(batch.synced, (s) => `${s.kind}\u0000${s.key}`);
    if (synced.length > 0) {
      await query(
        `INSERT INTO ${t.synced} (tenant, kind, key, hash, marketo_id, marketo_guid, name, name_norm, company_key,
                                  run_id, at)
         SELECT $1, s->>'kind', s->>'key', s->>'hash', (s->>'marketo_id')::numeric::bigint, s->>'marketo_guid',
                s->>'name', s->>'name_norm', s->>'company_key', s->>'run_id', (s->>'at')::numeric::bigint
         FROM jsonb_array_elements($2::jsonb) AS x(s)
         ON CONFLICT (tenant, kind, key) DO UPDATE SET
           hash = EXCLUDED.hash, marketo_id = EXCLUDED.marketo_id, marketo_guid = EXCLUDED.marketo_guid,
           name = EXCLUDED.name, name_norm = EXCLUDED.name_norm, company_key = EXCLUDED.company_key, run_id = EXCLUDED.run_id, at = EXCLUDED.at`,
        [tenant, JSON.stringify(synced.map(syncedToRow))],
        client,
      );
    }
    if (batch.checkpoint) await upsertCheckpoint(client, tenant, batch.checkpoint.name, batch.checkpoint.value);
    // Clears first, then puts: a record both written and carried again in one batch stays carried.
    const clear = batch.carry?.clear ?? [];
    if (clear.length > 0) {
      await query(
        `DELETE FROM ${t.carried} c USING unnest($2::text[], $3::text[]) AS r(kind, key)
         WHERE c.tenant = $1 AND c.kind = r.kind AND c.key = r.key`,
        [tenant, clear.map((r) => r.kind), clear.map((r) => r.key)],
        client,
      );
    }
    const put = lastPerId(batch.carry?.put ?? [], (c) => `${c.kind}\u0000${c.key}`);
    if (put.length > 0) {
      await query(
        `INSERT INTO ${t.carried} (tenant, kind, key, source_key, payload, hash, cause, state, attempts, first_at,
                                   last_at, next_at, run_id, error, reasons)
         SELECT $1, c->>'kind', c->>'key', c->>'source_key', c->'payload', c->>'hash', c->>'cause', c->>'state',
                (c->>'attempts')::integer, (c->>'first_at')::numeric::bigint, (c->>'last_at')::numeric::bigint,
                (c->>'next_at')::numeric::bigint, c->>'run_id', NULLIF(c->'error', 'null'), c->'reasons'
         FROM jsonb_array_elements($2::jsonb) AS x(c)
         ON CONFLICT (tenant, kind, key) DO UPDATE SET
           source_key = EXCLUDED.source_key, payload = EXCLUDED.payload, hash = EXCLUDED.hash, cause = EXCLUDED.cause,
           state = EXCLUDED.state, attempts = EXCLUDED.attempts, first_at = EXCLUDED.first_at,
           last_at = EXCLUDED.last_at, next_at = EXCLUDED.next_at, run_id = EXCLUDED.run_id, error = EXCLUDED.error,
           reasons = EXCLUDED.reasons`,
        [tenant, JSON.stringify(put.map((c) => carriedToRow(JSONB, c)))],
        client,
      );
    }
  };

  const tryAcquire = async (name: string, owner: string, ttlMs: number): Promise<LeaseAcquisition> => {
    const ttl = Math.max(0, Math.ceil(ttlMs));
    for (let attempt = 1; ; attempt++) {
      const got = await query(
        `INSERT INTO ${t.leases} AS l (name, owner, token, expires_at) VALUES ($2, $3, 1, ${NOW} + $4::bigint)
         ON CONFLICT (name) DO UPDATE SET owner = EXCLUDED.owner, token = l.token + 1, expires_at = EXCLUDED.expires_at
         WHERE l.owner IS NULL OR l.expires_at <= ${NOW}
         RETURNING token, expires_at`,
        [now(), name, owner, ttl],
      );
      const row = got.rows[0];
      if (row)
        return { acquired: true, lease: { name, owner, token: Number(row.token), expiresAt: Number(row.expires_at) } };
      const held = await query(
        `SELECT owner, expires_at, expires_at > ${NOW} AS live FROM ${t.leases} WHERE name = $2`,
        [now(), name],
      );
      const h = held.rows[0];
      if (h && h.owner != null && h.live === true) {
        return { acquired: false, holder: String(h.owner), expiresAt: Number(h.expires_at) };
      }
      // Released or expired between the two statements: try again (bounded; the answer stays truthful).
      if (attempt >= LEASE_ATTEMPTS) {
        return {
          acquired: false,
          holder: h?.owner == null ? "" : String(h.owner),
          expiresAt: Number(h?.expires_at ?? 0),
        };
      }
    }
  };

  const store: PostgresStore = {
    migrate: () => runMigrations(),
    async close() {
      if (closed) return;
      closed = true;
      if (ownsPool) await pool.end();
    },

    startRun: (run) =>
      op("startRun", async () => {
        await query(
          `INSERT INTO ${t.runs} (tenant, run_id, trigger, status, started_at, finished_at, summary)
           VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb)
           ON CONFLICT (tenant, run_id) DO UPDATE SET trigger = EXCLUDED.trigger, status = EXCLUDED.status,
             started_at = EXCLUDED.started_at, finished_at = EXCLUDED.finished_at, summary = EXCLUDED.summary`,
          [
            run.tenant,
            run.runId,
            run.trigger,
            run.status,
            run.startedAt,
            run.finishedAt ?? null,
            run.summary === undefined ? null : JSON.stringify(run.summary),
          ],
        );
      }),
    finishRun: (tenant, runId, end) =>
      op("finishRun", async () => {
        await query(
          `UPDATE ${t.runs} SET status = $3, finished_at = $4, summary = $5::jsonb WHERE tenant = $1 AND run_id = $2`,
          [tenant, runId, end.status, end.finishedAt, JSON.stringify(end.summary)],
        );
      }),
    getRun: (tenant, runId) =>
      op("getRun", async () => {
        const r = await query(`SELECT * FROM ${t.runs} WHERE tenant = $1 AND run_id = $2`, [tenant, runId]);
        return r.rows[0] ? fromRun(r.rows[0]) : undefined;
      }),
    listRuns: (tenant, opts = {}) =>
      guard(() => {
        checkLimit("listRuns", opts.limit);
      }) ??
      op("listRuns", async () => {
        const limit = opts.limit === undefined ? null : Math.max(0, Math.floor(opts.limit));
        const r = await query(`SELECT * FROM ${t.runs} WHERE tenant = $1 ORDER BY seq DESC LIMIT $2`, [tenant, limit]);
        return r.rows.map(fromRun);
      }),

    commitBatch: (batch) =>
      op("commitBatch", () =>
        inTransaction(pool, async (client) => {
          if (batch.fence) await checkFence(client, batch.fence);
          await writeBatch(client, batch);
        }),
      ),
    queryAudit: (q) =>
      guard(() => {
        checkLimit("queryAudit", q.limit);
      }) ??
      op("queryAudit", async () => {
        if (q.limit !== undefined && q.limit <= 0) return [];
        const s = auditQuery(t, q);
        return (await query(s.text, s.values)).rows.map(fromAudit);
      }),
    prune: (tenant, policy, at) =>
      op("prune", async (): Promise<PruneResult> => {
        const bounds = retentionBounds(policy, at);
        if (!bounds) return { auditRows: 0, runs: 0 };
        // bigint parameters: a fractional cutoff is floored.
        const cutoff = bounds.cutoff === null ? null : Math.floor(bounds.cutoff);
        const s = pruneStatement(t, tenant, cutoff, bounds.keep);
        const row = (await query(s.text, s.values)).rows[0] ?? {};
        return { auditRows: Number(row.audit_rows ?? 0), runs: Number(row.runs ?? 0) };
      }),

    listCarried: (q) =>
      guard(() => {
        checkLimit("listCarried", q.limit);
        checkCursor("listCarried", q.after, ["kind", "key"]);
      }) ??
      op("listCarried", async () => {
        if (q.limit !== undefined && q.limit <= 0) return [];
        const s = carriedQuery(t, q);
        return (await query(s.text, s.values)).rows.map(fromCarried);
      }),
    getCarried: (tenant, kind, keys) =>
      op("getCarried", async () => {
        const out = new Map<string, CarriedRecord>();
        if (keys.length === 0) return out;
        const r = await query(
          `SELECT ${CARRIED_COLUMNS} FROM ${t.carried} WHERE tenant = $1 AND kind = $2 AND key = ANY($3::text[])`,
          [tenant, kind, keys],
        );
        for (const row of r.rows) {
          const c = fromCarried(row);
          out.set(c.key, c);
        }
        return out;
      }),
    countCarried: (tenant) =>
      op("countCarried", async () => {
        const counts: Record<CarryState, number> = { pending: 0, dead: 0 };
        const r = await query(`SELECT state, count(*) AS n FROM ${t.carried} WHERE tenant = $1 GROUP BY state`, [
          tenant,
        ]);
        for (const row of r.rows) counts[String(row.state) as CarryState] = Number(row.n);
        return counts;
      }),

    getSynced: (tenant, kind, keys) =>
      op("getSynced", async () => {
        const out = new Map<string, SyncedState>();
        if (keys.length === 0) return out;
        const r = await query(
          `SELECT ${SYNCED_COLUMNS} FROM ${t.synced} WHERE tenant = $1 AND kind = $2 AND key = ANY($3::text[])`,
          [tenant, kind, keys],
        );
        for (const row of r.rows) {
          const s = syncedFromRow(row);
          out.set(s.key, s);
        }
        return out;
      }),
    listSynced(tenant: string, kind: WritableKind): AsyncIterable<SyncedState> {
      return {
        async *[Symbol.asyncIterator]() {
          let after: string | null = null;
          for (;;) {
            const cursor: string | null = after;
            const page: pg.QueryResult<Record<string, unknown>> = await op("listSynced", () =>
              query(
                `SELECT ${SYNCED_COLUMNS} FROM ${t.synced}
                 WHERE tenant = $1 AND kind = $2 AND ($3::text IS NULL OR key > $3::text)
                 ORDER BY key LIMIT $4`,
                [tenant, kind, cursor, pageSize],
              ),
            );
            for (const row of page.rows) yield syncedFromRow(row);
            const last: Record<string, unknown> | undefined = page.rows.at(-1);
            if (page.rows.length < pageSize || !last) return;
            after = String(last.key);
          }
        },
      };
    },

    namedAccountKeys: (tenant, names) =>
      op("namedAccountKeys", async () => {
        const out = new Map<string, string>();
        if (names.length === 0) return out;
        const q = namedAccountKeysQuery(t, tenant, names);
        const r = await query(q.text, q.values);
        for (const row of r.rows) out.set(String(row.name_norm), String(row.key));
        return out;
      }),

    getCheckpoint: (tenant, name) =>
      op("getCheckpoint", async () => {
        const r = await query(`SELECT value FROM ${t.checkpoints} WHERE tenant = $1 AND name = $2`, [tenant, name]);
        return r.rows[0] ? (r.rows[0].value as JsonValue) : undefined;
      }),
    saveCheckpoint: (tenant, name, value, fence) =>
      op("saveCheckpoint", async () => {
        if (!fence) {
          await upsertCheckpoint(pool, tenant, name, value);
          return;
        }
        await inTransaction(pool, async (client) => {
          await checkFence(client, fence);
          await upsertCheckpoint(client, tenant, name, value);
        });
      }),

    acquireLease: (name, owner, ttlMs) => op("acquireLease", () => tryAcquire(name, owner, ttlMs)),
    renewLease: (lease, ttlMs) =>
      op("renewLease", async () => {
        const r = await query(
          `UPDATE ${t.leases} SET expires_at = ${NOW} + $4::bigint
           WHERE name = $2 AND token = $3 AND owner IS NOT NULL AND expires_at > ${NOW}
           RETURNING owner, token, expires_at`,
          [now(), lease.name, lease.token, Math.max(0, Math.ceil(ttlMs))],
        );
        const row = r.rows[0];
        if (!row) return undefined;
        return {
          name: lease.name,
          owner: String(row.owner),
          token: Number(row.token),
          expiresAt: Number(row.expires_at),
        };
      }),
    releaseLease: (lease) =>
      op("releaseLease", async () => {
        // The row stays (owner cleared) so the next acquisition's token is still higher than every earlier one.
        await query(`UPDATE ${t.leases} SET owner = NULL WHERE name = $1 AND token = $2 AND owner IS NOT NULL`, [
          lease.name,
          lease.token,
        ]);
      }),

    putAccountContexts: (tenant, contexts) =>
      op("putAccountContexts", async () => {
        const unique = lastPerId(contexts, (c) => c.externalCompanyId);
        if (unique.length === 0) return;
        await query(
          `INSERT INTO ${t.contexts} (tenant, external_company_id, context)
           SELECT $1, c->>'externalCompanyId', c FROM jsonb_array_elements($2::jsonb) AS x(c)
           ON CONFLICT (tenant, external_company_id) DO UPDATE SET context = EXCLUDED.context`,
          [tenant, JSON.stringify(unique)],
        );
      }),
    getAccountContext: (tenant, externalCompanyId) =>
      op("getAccountContext", async () => {
        const r = await query(`SELECT context FROM ${t.contexts} WHERE tenant = $1 AND external_company_id = $2`, [
          tenant,
          externalCompanyId,
        ]);
        return r.rows[0] ? (r.rows[0].context as AccountContext) : undefined;
      }),

    putSealed: (secret: SealedSecret, opts = {}) =>
      op("putSealed", async () => {
        const values = [
          secret.tenant,
          secret.name,
          secret.keyId,
          secret.nonce,
          secret.ciphertext,
          secret.tag,
          secret.updatedAt,
        ];
        if (opts.expectNonce !== undefined) {
          // Compare-and-swap on the nonce: only the writer that saw the current version replaces it.
          const r = await query(
            `UPDATE ${t.sealed} SET key_id = $3, nonce = $4, ciphertext = $5, tag = $6, updated_at = $7
             WHERE tenant = $1 AND name = $2 AND nonce = $8`,
            [...values, opts.expectNonce],
          );
          return r.rowCount === 1;
        }
        await query(
          `INSERT INTO ${t.sealed} (tenant, name, key_id, nonce, ciphertext, tag, updated_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7)
           ON CONFLICT (tenant, name) DO UPDATE SET key_id = EXCLUDED.key_id, nonce = EXCLUDED.nonce,
             ciphertext = EXCLUDED.ciphertext, tag = EXCLUDED.tag, updated_at = EXCLUDED.updated_at`,
          values,
        );
        return true;
      }),
    getSealed: (tenant, name) =>
      op("getSealed", async () => {
        const r = await query(`SELECT ${SEALED_COLUMNS} FROM ${t.sealed} WHERE tenant = $1 AND name = $2`, [
          tenant,
          name,
        ]);
        return r.rows[0] ? sealedFromRow(r.rows[0]) : undefined;
      }),
    listSealed: (q = {}) =>
      guard(() => {
        checkLimit("listSealed", q.limit);
        checkCursor("listSealed", q.after, ["tenant", "name"]);
      }) ??
      op("listSealed", async () => {
        if (q.limit !== undefined && q.limit <= 0) return [];
        const s = sealedQuery(t, q);
        return (await query(s.text, s.values)).rows.map(sealedFromRow);
      }),
    deleteSealed: (tenant, name) =>
      op("deleteSealed", async () => {
        const r = await query(`DELETE FROM ${t.sealed} WHERE tenant = $1 AND name = $2`, [tenant, name]);
        return (r.rowCount ?? 0) > 0;
      }),
  };
  return store;
}
