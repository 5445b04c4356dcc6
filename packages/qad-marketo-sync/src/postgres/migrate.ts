/**
 * Versioned, forward-only schema migrations for the PostgreSQL stores. Several independent sets (`audit`,
 * `limiter`, ...) share one runner and one bookkeeping table, `ml_migrations(set, version, name, applied_at)`, in the
 * target schema. A run takes a transaction-scoped advisory lock first and applies every pending step inside that one
 * transaction, so two workers starting at once never run a step twice: the second waits, then finds nothing to do.
 *
 * @module
 */

import pg from "pg";
import { SchemaVersionError, SyncConfigError, SyncError } from "../errors.js";
import { inTransaction } from "./connection.js";

/** One forward migration step of a set. */
export interface MigrationStep {
  /** Version, a positive integer; the steps of a set are applied in increasing version order. */
  version: number;
  /** Short name, recorded with the version (e.g. `initial`, `carry-index`). */
  name: string;
  /**
   * The SQL of the step; may hold several statements. It runs with `search_path` set to the target schema, so
   * unqualified names land there.
   */
  sql: string;
  /**
   * Runs after `sql`, in the same transaction and with the same `search_path`: for work SQL cannot do, such as
   * filling a new column with values computed in JavaScript (in pages, so memory stays flat).
   */
  run?: ((client: pg.PoolClient) => Promise<void>) | undefined;
}

/** Options of {@link migrate}. */
export interface MigrateOptions {
  /**
   * Target schema: created if missing; holds `ml_migrations` and everything the steps create.
   * @default "public"
   */
  schema?: string | undefined;
}

/** Answer of {@link migrate}. */
export interface MigrateResult {
  /** Versions this call applied, in order (empty when the database was already up to date). */
  applied: number[];
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/** Validates a schema name (plain identifiers only, so it is safe to quote into DDL). @internal */
export function checkSchemaName(schema: string): string {
  if (!IDENTIFIER.test(schema)) {
    throw new SyncConfigError(`invalid PostgreSQL schema name ${JSON.stringify(schema)}: use letters, digits and _`);
  }
  return schema;
}

function checkSteps(set: string, steps: readonly MigrationStep[]): void {
  if (set === "") throw new SyncConfigError("migration set name must not be empty");
  let previous = 0;
  for (const step of steps) {
    if (!Number.isSafeInteger(step.version) || step.version <= previous) {
      throw new SyncConfigError(
        `migration set ${set}: versions must be positive integers in increasing order (got ${step.version} after ${previous})`,
      );
    }
    previous = step.version;
  }
}

/**
 * Applies the pending steps of one migration set, exactly once across any number of concurrent callers (on any number
 * of machines): all in one transaction under `pg_advisory_xact_lock`, so a failing step leaves the database as it was.
 *
 * @param pool - Pool to take one connection from (returned afterwards).
 * @param set - Name of the migration set (e.g. `audit`); sets are versioned independently.
 * @param steps - Every step of the set, in increasing version order.
 * @throws {@link SchemaVersionError} when the database is ahead of `steps` (or misses a step below its version).
 * @throws `SyncError` with code `store` when a step fails (the transaction is rolled back), or retryable when the
 *   database cannot be reached.
 * @example
 * ```ts
 * await migrate(pool, "audit", [{ version: 1, name: "initial", sql: "CREATE TABLE t (id int)" }], { schema: "sync" });
 * ```
 */
export async function migrate(
  pool: pg.Pool,
  set: string,
  steps: readonly MigrationStep[],
  options: MigrateOptions = {},
): Promise<MigrateResult> {
  const schema = checkSchemaName(options.schema ?? "public");
  checkSteps(set, steps);
  const quoted = pg.escapeIdentifier(schema);
  try {
    return await inTransaction(pool, async (client) => {
      // One lock per schema: it also serialises creating the schema and the bookkeeping table.
      await client.query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", [`ml_migrations:${schema}`]);
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoted}`);
      await client.query(`SET LOCAL search_path TO ${quoted}`);
      await client.query(
        `CREATE TABLE IF NOT EXISTS ${quoted}.ml_migrations (
           set text NOT NULL,
           version integer NOT NULL,
           name text NOT NULL,
           applied_at timestamptz NOT NULL DEFAULT now(),
           PRIMARY KEY (set, version)
         )`,
      );
      const done = await client.query<{ version: number }>(
        `SELECT version FROM ${quoted}.ml_migrations WHERE set = $1 ORDER BY version`,
        [set],
      );
      const applied = new Set(done.rows.map((r) => r.version));
      const databaseVersion = done.rows.at(-1)?.version ?? 0;
      const codeVersion = steps.at(-1)?.version ?? 0;
      if (databaseVersion > codeVersion) {
        throw new SchemaVersionError(
          `PostgreSQL schema ${schema}: migration set ${set} is at version ${databaseVersion}, newer than this code knows (${codeVersion}); run a release that knows it`,
          { set, databaseVersion, codeVersion },
        );
      }
      const pending = steps.filter((s) => !applied.has(s.version));
      const gap = pending.find((s) => s.version < databaseVersion);
      if (gap) {
        throw new SchemaVersionError(
          `PostgreSQL schema ${schema}: migration set ${set} is at version ${databaseVersion} but step ${gap.version} (${gap.name}) was never applied; migrations are forward only`,
          { set, databaseVersion, codeVersion },
        );
      }
      for (const step of pending) {
        try {
          await client.query(step.sql);
          if (step.run) await step.run(client);
        } catch (e) {
          throw new SyncError(
            "store",
            `migration ${set} ${step.version} (${step.name}) failed: ${e instanceof Error ? e.message : String(e)}`,
            { cause: e },
          );
        }
        await client.query(`INSERT INTO ${quoted}.ml_migrations (set, version, name) VALUES ($1, $2, $3)`, [
          set,
          step.version,
          step.name,
        ]);
      }
      return { applied: pending.map((s) => s.version) };
    });
  } catch (e) {
    if (e instanceof SyncError) throw e;
    throw new SyncError("store", `migration set ${set} failed: ${e instanceof Error ? e.message : String(e)}`, {
      cause: e,
      retryable: true,
    });
  }
}
