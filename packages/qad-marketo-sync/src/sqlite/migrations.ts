/**
 * The SQLite schema as a list of forward-only migrations, and the runner that applies them. The schema version lives
 * in the database header (`PRAGMA user_version`), written in the same IMMEDIATE transaction as the migrations, so two
 * processes opening one new file at once cannot both migrate it, and a crash mid-migration leaves the old version.
 *
 * @module
 */

import type BetterSqlite3 from "better-sqlite3";
import { SchemaVersionError } from "../errors.js";
import { normName } from "../store/named-account-names.js";

/** One schema step. Versions start at 1 and increase by one; a released step is never edited, only followed. */
interface Migration {
  version: number;
  /** The step's SQL, or a function running it (for steps that compute values in JavaScript). */
  sql: string | ((db: BetterSqlite3.Database) => void);
}

// SQL's lower() folds ASCII only; names are normalised by the engine's own function, called from SQL through a
// connection-local function (never stored in the schema, so other tools can still open the file).
const NORM_NAME_FN = "ml_norm_name";

// Tables are created without IF NOT EXISTS on purpose: a step applied twice fails loudly instead of passing silently.
const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    sql: `
      CREATE TABLE runs (
        id          INTEGER PRIMARY KEY,
        tenant      TEXT    NOT NULL,
        run_id      TEXT    NOT NULL,
        trigger     TEXT    NOT NULL,
        status      TEXT    NOT NULL,
        started_at  INTEGER NOT NULL,
        finished_at INTEGER,
        summary     TEXT,
        UNIQUE (tenant, run_id)
      );
      CREATE INDEX runs_by_tenant ON runs (tenant, id);

      CREATE TABLE audit (
        id         INTEGER PRIMARY KEY,
        tenant     TEXT    NOT NULL,
        run_id     TEXT    NOT NULL,
        kind       TEXT    NOT NULL,
        key        TEXT    NOT NULL,
        outcome    TEXT    NOT NULL,
        source_key TEXT    NOT NULL,
        reasons    TEXT    NOT NULL,
        error      TEXT,
        marketo_id TEXT,
        payload    TEXT,
        hash       TEXT,
        at         INTEGER NOT NULL,
        replay_of  TEXT,
        UNIQUE (tenant, run_id, kind, key)
      );
      CREATE INDEX audit_by_run     ON audit (tenant, run_id, id);
      CREATE INDEX audit_by_record  ON audit (tenant, key, kind, at);
      CREATE INDEX audit_by_outcome ON audit (tenant, outcome, id);
      CREATE INDEX audit_by_at      ON audit (tenant, at);

      CREATE TABLE synced (
        tenant       TEXT    NOT NULL,
        kind         TEXT    NOT NULL,
        key          TEXT    NOT NULL,
        hash         TEXT    NOT NULL,
        marketo_id   INTEGER,
        marketo_guid TEXT,
        name         TEXT,
        company_key  TEXT,
        run_id       TEXT    NOT NULL,
        at           INTEGER NOT NULL,
        PRIMARY KEY (tenant, kind, key)
      ) WITHOUT ROWID;

      CREATE TABLE carried (
        tenant     TEXT    NOT NULL,
        kind       TEXT    NOT NULL,
        key        TEXT    NOT NULL,
        source_key TEXT    NOT NULL,
        payload    TEXT    NOT NULL,
        hash       TEXT    NOT NULL,
        cause      TEXT    NOT NULL,
        state      TEXT    NOT NULL,
        attempts   INTEGER NOT NULL,
        first_at   INTEGER NOT NULL,
        last_at    INTEGER NOT NULL,
        next_at    INTEGER NOT NULL,
        run_id     TEXT    NOT NULL,
        error      TEXT,
        reasons    TEXT    NOT NULL,
        PRIMARY KEY (tenant, kind, key)
      ) WITHOUT ROWID;
      CREATE INDEX carried_due ON carried (tenant, state, next_at);

      CREATE TABLE checkpoints (
        tenant TEXT NOT NULL,
        name   TEXT NOT NULL,
        value  TEXT NOT NULL,
        PRIMARY KEY (tenant, name)
      ) WITHOUT ROWID;

      CREATE TABLE leases (
        name       TEXT    PRIMARY KEY,
        owner      TEXT    NOT NULL,
        token      INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        held       INTEGER NOT NULL
      ) WITHOUT ROWID;

      CREATE TABLE account_contexts (
        tenant              TEXT NOT NULL,
        external_company_id TEXT NOT NULL,
        value               TEXT NOT NULL,
        PRIMARY KEY (tenant, external_company_id)
      ) WITHOUT ROWID;

      CREATE TABLE sealed_secrets (
        tenant     TEXT    NOT NULL,
        name       TEXT    NOT NULL,
        key_id     TEXT    NOT NULL,
        nonce      TEXT    NOT NULL,
        ciphertext TEXT    NOT NULL,
        tag        TEXT    NOT NULL,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (tenant, name)
      ) WITHOUT ROWID;
    `,
  },
  {
    // Named-account names, normalised and indexed: a run looks the names of a batch up instead of loading them all.
    version: 2,
    sql: (db) => {
      db.exec("ALTER TABLE synced ADD COLUMN name_norm TEXT");
      db.function(NORM_NAME_FN, { deterministic: true }, (name: unknown) =>
        name === null || name === undefined ? null : normName(String(name)),
      );
      db.exec(`UPDATE synced SET name_norm = ${NORM_NAME_FN}(name) WHERE name IS NOT NULL`);
      db.exec("CREATE INDEX synced_by_name ON synced (tenant, kind, name_norm) WHERE name_norm IS NOT NULL");
    },
  },
];

/** The schema version this code writes and reads. */
export const SQLITE_SCHEMA_VERSION: number = MIGRATIONS.length;

/**
 * The SQLite store's former name of {@link SchemaVersionError}, which every store now throws.
 * @deprecated Use `SchemaVersionError`.
 */
export const SqliteSchemaVersionError = SchemaVersionError;
/** @deprecated Use `SchemaVersionError`. */
export type SqliteSchemaVersionError = SchemaVersionError;

/** What {@link migrate} did. @internal */
export interface MigrationReport {
  /** Schema version found when the file was opened (0: a new file). */
  from: number;
  /** Versions applied now, in order (empty when the file was current). */
  applied: number[];
}

/**
 * Brings the database to {@link SQLITE_SCHEMA_VERSION} (or to `target`, for tests that build an older file);
 * throws {@link SchemaVersionError} for a newer file.
 * @internal
 */
export function migrate(db: BetterSqlite3.Database, target: number = SQLITE_SCHEMA_VERSION): MigrationReport {
  const run = db.transaction((): MigrationReport => {
    const from = Number(db.pragma("user_version", { simple: true }));
    if (from > SQLITE_SCHEMA_VERSION) {
      throw new SchemaVersionError(
        `SQLite store: the database has schema version ${from}, newer than this version of @ml/qad-marketo-sync ` +
          `supports (${SQLITE_SCHEMA_VERSION}); upgrade the package, or open a copy made before the upgrade`,
        { set: "audit", databaseVersion: from, codeVersion: SQLITE_SCHEMA_VERSION },
      );
    }
    const applied: number[] = [];
    for (const m of MIGRATIONS) {
      if (m.version <= from || m.version > target) continue;
      if (typeof m.sql === "string") db.exec(m.sql);
      else m.sql(db);
      applied.push(m.version);
    }
    if (applied.length > 0) db.pragma(`user_version = ${Math.max(...applied)}`);
    return { from, applied };
  });
  return run.immediate();
}
