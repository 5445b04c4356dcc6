/**
 * `@ml/qad-marketo-sync/postgres`: the PostgreSQL store (audit trail, synced state, checkpoints, leases with fencing,
 * carried-forward records, sealed secrets) for many workers on many machines, and the migration runner the
 * PostgreSQL stores share. Needs the optional peer dependency `pg` (8.x).
 *
 * @module
 */

export { SchemaVersionError } from "../errors.js";
export {
  createPostgresLimiterStore,
  LIMITER_MIGRATION_SET,
  type PostgresLimiterStore,
  type PostgresLimiterStoreOptions,
} from "./limiter-store.js";
export type { MigrateOptions, MigrateResult, MigrationStep } from "./migrate.js";
export { migrate } from "./migrate.js";
export type { PostgresStore, PostgresStoreOptions } from "./store.js";
export { createPostgresStore } from "./store.js";
