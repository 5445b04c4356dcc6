/**
 * The SQL of the PostgreSQL store, built once per schema. Filters become parameterised `WHERE` clauses shaped for the
 * indexes of {@link AUDIT_MIGRATIONS} (the index test runs `EXPLAIN` on exactly these statements). Bulk writes send a
 * batch as one `jsonb` array parameter expanded by `jsonb_array_elements`, so a batch of any size is one statement.
 *
 * @module
 * @internal
 */

import pg from "pg";
import type { AuditQuery, CarryQuery } from "../store/audit-store.js";
import type { SealedQuery } from "../store/secret-store.js";

/** A statement and its parameters. @internal */
export interface Statement {
  /** SQL text. */
  text: string;
  /** Parameters `$1..$n`. */
  values: unknown[];
}

/**
 * The store's notion of "now" in SQL, in ms since the epoch: the injected clock's value when the parameter is not
 * null, else the database server's clock (`statement_timestamp()`, the same value everywhere in one statement).
 * @internal
 */
export const nowSql = (param: string): string =>
  `COALESCE(${param}::bigint, floor(extract(epoch FROM statement_timestamp()) * 1000)::bigint)`;

/** Schema-qualified table names. @internal */
export interface Tables {
  runs: string;
  audit: string;
  synced: string;
  checkpoints: string;
  leases: string;
  carried: string;
  contexts: string;
  sealed: string;
}

/** Schema-qualified names of the store's tables. @internal */
export function tables(schema: string): Tables {
  const q = (t: string) => `${pg.escapeIdentifier(schema)}.${t}`;
  return {
    runs: q("ml_runs"),
    audit: q("ml_audit"),
    synced: q("ml_synced"),
    checkpoints: q("ml_checkpoints"),
    leases: q("ml_leases"),
    carried: q("ml_carried"),
    contexts: q("ml_account_contexts"),
    sealed: q("ml_sealed"),
  };
}

/** Columns read back for an audit row. @internal */
export const AUDIT_COLUMNS =
  "tenant, run_id, kind, key, outcome, source_key, reasons, error, marketo_id, payload, hash, at, replay_of";

/** Columns read back for a carried record. @internal */
export const CARRIED_COLUMNS =
  "kind, key, source_key, payload, hash, cause, state, attempts, first_at, last_at, next_at, run_id, error, reasons";

/** Columns read back for a synced state row. @internal */
export const SYNCED_COLUMNS = "kind, key, hash, marketo_id, marketo_guid, name, company_key, run_id, at";

/** Columns read back for a sealed record. @internal */
export const SEALED_COLUMNS = "tenant, name, key_id, nonce, ciphertext, tag, updated_at";

class Params {
  readonly values: unknown[] = [];
  add(v: unknown): string {
    this.values.push(v);
    return `$${this.values.length}`;
  }
}

/** The `queryAudit` statement for a filter (recording order). @internal */
export function auditQuery(t: Tables, q: AuditQuery): Statement {
  const p = new Params();
  const where = [`tenant = ${p.add(q.tenant)}`];
  if (q.runId !== undefined) where.push(`run_id = ${p.add(q.runId)}`);
  if (q.keys !== undefined) where.push(`key = ANY(${p.add(q.keys)}::text[])`);
  if (q.kinds !== undefined) where.push(`kind = ANY(${p.add(q.kinds)}::text[])`);
  if (q.outcomes !== undefined) where.push(`outcome = ANY(${p.add(q.outcomes)}::text[])`);
  if (q.since !== undefined) where.push(`at >= ${p.add(Math.ceil(q.since))}::bigint`);
  let text = `SELECT ${AUDIT_COLUMNS} FROM ${t.audit} WHERE ${where.join(" AND ")} ORDER BY seq`;
  if (q.limit !== undefined) text += ` LIMIT ${p.add(Math.max(0, Math.floor(q.limit)))}`;
  return { text, values: p.values };
}

/** The synced named accounts holding normalised names (the smallest key per name), by `ml_synced_name`. @internal */
export function namedAccountKeysQuery(t: Tables, tenant: string, names: readonly string[]): Statement {
  return {
    text: `SELECT name_norm, min(key) AS key FROM ${t.synced}
           WHERE tenant = $1 AND kind = 'namedAccount' AND name_norm = ANY($2::text[])
           GROUP BY name_norm`,
    values: [tenant, names],
  };
}

/** The `listCarried` statement for a filter, ordered by (kind, key). @internal */
export function carriedQuery(t: Tables, q: CarryQuery): Statement {
  const p = new Params();
  const tenant = p.add(q.tenant);
  const where = [`tenant = ${tenant}`];
  if (q.state !== undefined) where.push(`state = ${p.add(q.state)}`);
  if (q.causes !== undefined) where.push(`cause = ANY(${p.add(q.causes)}::text[])`);
  if (q.dueBy !== undefined) where.push(`next_at <= ${p.add(Math.floor(q.dueBy))}::bigint`);
  if (q.kinds !== undefined) where.push(`kind = ANY(${p.add(q.kinds)}::text[])`);
  if (q.keys !== undefined) where.push(`key = ANY(${p.add(q.keys)}::text[])`);
  // The row comparison includes the tenant so it is an index condition on the primary key (tenant, kind, key).
  if (q.after !== undefined)
    where.push(`(tenant, kind, key) > (${tenant}, ${p.add(q.after.kind)}, ${p.add(q.after.key)})`);
  let text = `SELECT ${CARRIED_COLUMNS} FROM ${t.carried} WHERE ${where.join(" AND ")} ORDER BY kind, key`;
  if (q.limit !== undefined) text += ` LIMIT ${p.add(Math.max(0, Math.floor(q.limit)))}`;
  return { text, values: p.values };
}

/** The `listSealed` statement for a filter, ordered by (tenant, name). @internal */
export function sealedQuery(t: Tables, q: SealedQuery): Statement {
  const p = new Params();
  const where: string[] = [];
  if (q.tenant !== undefined) where.push(`tenant = ${p.add(q.tenant)}`);
  if (q.notKeyId !== undefined) where.push(`key_id <> ${p.add(q.notKeyId)}`);
  if (q.after !== undefined) where.push(`(tenant, name) > (${p.add(q.after.tenant)}, ${p.add(q.after.name)})`);
  let text = `SELECT ${SEALED_COLUMNS} FROM ${t.sealed}`;
  if (where.length > 0) text += ` WHERE ${where.join(" AND ")}`;
  text += " ORDER BY tenant, name";
  if (q.limit !== undefined) text += ` LIMIT ${p.add(Math.max(0, Math.floor(q.limit)))}`;
  return { text, values: p.values };
}

/**
 * The retention statement: deletes the audit rows beyond the policy, keeping each record's newest row, every row of a
 * carried-forward record and every row of a running run; then the finished runs older than the age limit that no
 * remaining audit row refers to. Parameters: tenant, cutoff (ms or null), rows to keep per record (or null). Answers
 * one row `(audit_rows, runs)`.
 * @internal
 */
export function pruneStatement(t: Tables, tenant: string, cutoff: number | null, keep: number | null): Statement {
  const text = `
WITH ranked AS (
  SELECT a.seq, a.at, a.run_id,
         row_number() OVER (PARTITION BY a.kind, a.key ORDER BY a.at DESC, a.seq DESC) AS rn
  FROM ${t.audit} a
  WHERE a.tenant = $1
    AND NOT EXISTS (SELECT 1 FROM ${t.carried} c WHERE c.tenant = $1 AND c.kind = a.kind AND c.key = a.key)
),
doomed AS (
  SELECT r.seq FROM ranked r
  WHERE r.rn > 1
    AND NOT EXISTS (SELECT 1 FROM ${t.runs} x WHERE x.tenant = $1 AND x.run_id = r.run_id AND x.status = 'running')
    AND ((r.at < $2::bigint) OR (r.rn > $3::bigint))
),
deleted AS (
  DELETE FROM ${t.audit} d USING doomed WHERE d.tenant = $1 AND d.seq = doomed.seq RETURNING d.run_id
),
gone_runs AS (
  DELETE FROM ${t.runs} r
  WHERE r.tenant = $1 AND $2::bigint IS NOT NULL AND r.status <> 'running'
    AND COALESCE(r.finished_at, r.started_at) < $2::bigint
    AND NOT EXISTS (
      SELECT 1 FROM ${t.audit} a WHERE a.tenant = $1 AND a.run_id = r.run_id
        AND a.seq NOT IN (SELECT seq FROM doomed)
    )
  RETURNING 1
)
SELECT (SELECT count(*) FROM deleted) AS audit_rows, (SELECT count(*) FROM gone_runs) AS runs`;
  return { text, values: [tenant, cutoff, keep] };
}
