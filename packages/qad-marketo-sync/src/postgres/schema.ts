/**
 * The tables of the PostgreSQL store, as the forward migration steps of the `audit` set. Keys are `COLLATE "C"`, so
 * keyset paging and `(kind, key)` ordering are plain byte order, the same as the other stores. Times are `bigint`
 * milliseconds since the epoch; JSON columns are `jsonb`.
 *
 * @module
 * @internal
 */

import type pg from "pg";
import { normName } from "../store/named-account-names.js";
import type { MigrationStep } from "./migrate.js";

/** Rows per page of the name backfill of step 2. */
const BACKFILL_PAGE = 1_000;

/**
 * Fills `name_norm` of the synced rows written before step 2, computed in JavaScript with the engine's own
 * normalisation (SQL's lower() folds ASCII only): keyset pages, so neither side holds more than one page.
 */
async function backfillNameNorm(client: pg.PoolClient): Promise<void> {
  let after: [string, string, string] | undefined;
  for (;;) {
    const page = await client.query<{ tenant: string; kind: string; key: string; name: string }>(
      after === undefined
        ? `SELECT tenant, kind, key, name FROM ml_synced WHERE name IS NOT NULL
           ORDER BY tenant, kind, key LIMIT $1`
        : `SELECT tenant, kind, key, name FROM ml_synced WHERE name IS NOT NULL AND (tenant, kind, key) > ($2, $3, $4)
           ORDER BY tenant, kind, key LIMIT $1`,
      after === undefined ? [BACKFILL_PAGE] : [BACKFILL_PAGE, ...after],
    );
    const rows = page.rows;
    if (rows.length > 0) {
      await client.query(
        `UPDATE ml_synced s SET name_norm = v.name_norm
         FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) AS v(tenant, kind, key, name_norm)
         WHERE s.tenant = v.tenant AND s.kind = v.kind AND s.key = v.key`,
        [rows.map((r) => r.tenant), rows.map((r) => r.kind), rows.map((r) => r.key), rows.map((r) => normName(r.name))],
      );
    }
    const last = rows.at(-1);
    if (rows.length < BACKFILL_PAGE || !last) return;
    after = [last.tenant, last.kind, last.key];
  }
}

/** Name of the migration set of the store's tables. @internal */
export const AUDIT_MIGRATION_SET = "audit";

/** Every step of the `audit` migration set, in version order. @internal */
export const AUDIT_MIGRATIONS: readonly MigrationStep[] = [
  {
    version: 1,
    name: "initial",
    sql: `
CREATE TABLE ml_runs (
  tenant text COLLATE "C" NOT NULL,
  run_id text COLLATE "C" NOT NULL,
  seq bigint GENERATED ALWAYS AS IDENTITY,
  trigger text NOT NULL,
  status text NOT NULL,
  started_at bigint NOT NULL,
  finished_at bigint,
  summary jsonb,
  PRIMARY KEY (tenant, run_id)
);
CREATE INDEX ml_runs_newest ON ml_runs (tenant, seq DESC);

CREATE TABLE ml_audit (
  seq bigint GENERATED ALWAYS AS IDENTITY,
  tenant text COLLATE "C" NOT NULL,
  run_id text COLLATE "C" NOT NULL,
  kind text COLLATE "C" NOT NULL,
  key text COLLATE "C" NOT NULL,
  outcome text NOT NULL,
  source_key text NOT NULL,
  reasons jsonb NOT NULL,
  error jsonb,
  marketo_id text,
  payload jsonb,
  hash text,
  at bigint NOT NULL,
  replay_of text,
  PRIMARY KEY (tenant, run_id, kind, key)
);
CREATE INDEX ml_audit_order ON ml_audit (tenant, seq);
CREATE INDEX ml_audit_run ON ml_audit (tenant, run_id, seq);
CREATE INDEX ml_audit_key ON ml_audit (tenant, key, seq);
CREATE INDEX ml_audit_outcome ON ml_audit (tenant, outcome, seq);
CREATE INDEX ml_audit_at ON ml_audit (tenant, at);

CREATE TABLE ml_synced (
  tenant text COLLATE "C" NOT NULL,
  kind text COLLATE "C" NOT NULL,
  key text COLLATE "C" NOT NULL,
  hash text NOT NULL,
  marketo_id bigint,
  marketo_guid text,
  name text,
  company_key text,
  run_id text NOT NULL,
  at bigint NOT NULL,
  PRIMARY KEY (tenant, kind, key)
);

CREATE TABLE ml_checkpoints (
  tenant text COLLATE "C" NOT NULL,
  name text COLLATE "C" NOT NULL,
  value jsonb NOT NULL,
  PRIMARY KEY (tenant, name)
);

CREATE TABLE ml_leases (
  name text COLLATE "C" PRIMARY KEY,
  owner text,
  token bigint NOT NULL,
  expires_at bigint NOT NULL
);

CREATE TABLE ml_carried (
  tenant text COLLATE "C" NOT NULL,
  kind text COLLATE "C" NOT NULL,
  key text COLLATE "C" NOT NULL,
  source_key text NOT NULL,
  payload jsonb NOT NULL,
  hash text NOT NULL,
  cause text NOT NULL,
  state text NOT NULL,
  attempts integer NOT NULL,
  first_at bigint NOT NULL,
  last_at bigint NOT NULL,
  next_at bigint NOT NULL,
  run_id text NOT NULL,
  error jsonb,
  reasons jsonb NOT NULL,
  PRIMARY KEY (tenant, kind, key)
);
CREATE INDEX ml_carried_due ON ml_carried (tenant, state, next_at);

CREATE TABLE ml_account_contexts (
  tenant text COLLATE "C" NOT NULL,
  external_company_id text COLLATE "C" NOT NULL,
  context jsonb NOT NULL,
  PRIMARY KEY (tenant, external_company_id)
);

CREATE TABLE ml_sealed (
  tenant text COLLATE "C" NOT NULL,
  name text COLLATE "C" NOT NULL,
  key_id text NOT NULL,
  nonce text NOT NULL,
  ciphertext text NOT NULL,
  tag text NOT NULL,
  updated_at bigint NOT NULL,
  PRIMARY KEY (tenant, name)
);
`,
  },
  {
    // Named-account names, normalised in JavaScript and indexed: a run looks up the names of each batch.
    version: 2,
    name: "synced-name-norm",
    sql: `ALTER TABLE ml_synced ADD COLUMN name_norm text COLLATE "C";`,
    run: backfillNameNorm,
  },
  {
    version: 3,
    name: "synced-name-index",
    sql: `CREATE INDEX ml_synced_name ON ml_synced (tenant, kind, name_norm) WHERE name_norm IS NOT NULL;`,
  },
];
