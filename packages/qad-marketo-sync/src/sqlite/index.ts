/**
 * `@ml/qad-marketo-sync/sqlite`: the embedded store (audit trail, synced state, checkpoints, leases with fencing,
 * carried-forward records, sealed secrets) in one SQLite file, and `createSqliteLimiterStore`: one Marketo quota shared
 * by the processes of one machine through a file. A file path is the whole setup. Needs the optional peer dependency
 * `better-sqlite3` (12.x).
 *
 * @example
 * import { createSqliteStore } from "@ml/qad-marketo-sync/sqlite";
 * const store = createSqliteStore({ path: "./data/sync.db" });
 *
 * @module
 */

export { SchemaVersionError } from "../errors.js";
export type { SqliteLimiterStore, SqliteLimiterStoreOptions } from "./limiter-store.js";
export { createSqliteLimiterStore, SQLITE_LIMITER_SCHEMA_VERSION } from "./limiter-store.js";
export { SQLITE_SCHEMA_VERSION, SqliteSchemaVersionError } from "./migrations.js";
export type { SqliteStore, SqliteStoreOptions } from "./store.js";
export { createSqliteStore } from "./store.js";
