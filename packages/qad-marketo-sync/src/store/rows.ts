/**
 * The rows of the SQL stores (SQLite and PostgreSQL) and their conversion to and from the store's records, written
 * once for both: the tables have the same columns. Drivers differ only in how a JSON column travels, which each store
 * passes as a {@link JsonColumns} codec (SQLite: TEXT; PostgreSQL: `jsonb`, expanded from one JSON parameter), and in
 * integer types (pg hands `bigint` over as a string, so integers are read through `Number`). Optional fields are
 * NULL when absent and absent again when read back.
 *
 * @module
 * @internal
 */

import type { ErrorInfo } from "../errors.js";
import type { JsonValue, MarketoPayload, Reason } from "../ports.js";
import type {
  AuditEntry,
  CarriedRecord,
  CarryCause,
  CarryState,
  Outcome,
  RecordKind,
  RunRecord,
  RunStatus,
  SyncedState,
  WritableKind,
} from "./audit-store.js";
import { normName } from "./named-account-names.js";
import type { SealedSecret } from "./secret-store.js";

/** A row: column name → value. @internal */
export type Row = Record<string, unknown>;

/** How a driver takes and gives back the value of a JSON column. @internal */
export interface JsonColumns {
  /** The value as the column (or the statement parameter) takes it. */
  encode(value: unknown): unknown;
  /** A non-NULL column value back. */
  decode(stored: unknown): unknown;
}

const text = (v: unknown): string => String(v);
const int = (v: unknown): number => Number(v);
const optional = (json: JsonColumns, v: unknown): unknown => (v === undefined ? null : json.encode(v));

/** Audit entry → row, without the tenant (the batch's). @internal */
export const auditToRow = (json: JsonColumns, e: AuditEntry): Row => ({
  run_id: e.runId,
  kind: e.kind,
  key: e.key,
  outcome: e.outcome,
  source_key: e.sourceKey,
  reasons: json.encode(e.reasons),
  error: optional(json, e.error),
  marketo_id: e.marketoId ?? null,
  payload: optional(json, e.payload),
  hash: e.hash ?? null,
  at: e.at,
  replay_of: e.replayOf ?? null,
});

/** Audit row → entry. @internal */
export const auditFromRow = (json: JsonColumns, r: Row): AuditEntry => {
  const e: AuditEntry = {
    tenant: text(r.tenant),
    runId: text(r.run_id),
    key: text(r.key),
    kind: text(r.kind) as RecordKind,
    outcome: text(r.outcome) as Outcome,
    sourceKey: text(r.source_key),
    reasons: (r.reasons == null ? [] : json.decode(r.reasons)) as Reason[],
    at: int(r.at),
  };
  if (r.error != null) e.error = json.decode(r.error) as ErrorInfo;
  if (r.marketo_id != null) e.marketoId = text(r.marketo_id);
  if (r.payload != null) e.payload = json.decode(r.payload) as MarketoPayload;
  if (r.hash != null) e.hash = text(r.hash);
  if (r.replay_of != null) e.replayOf = text(r.replay_of);
  return e;
};

/** Synced state → row, without the tenant; `name_norm` is the indexed {@link normName} of the name. @internal */
export const syncedToRow = (s: SyncedState): Row => ({
  kind: s.kind,
  key: s.key,
  hash: s.hash,
  marketo_id: s.marketoId ?? null,
  marketo_guid: s.marketoGUID ?? null,
  name: s.name ?? null,
  name_norm: s.name === undefined ? null : normName(s.name),
  company_key: s.companyKey ?? null,
  run_id: s.runId,
  at: s.at,
});

/** Synced row → state. @internal */
export const syncedFromRow = (r: Row): SyncedState => {
  const s: SyncedState = {
    kind: text(r.kind) as WritableKind,
    key: text(r.key),
    hash: text(r.hash),
    runId: text(r.run_id),
    at: int(r.at),
  };
  if (r.marketo_id != null) s.marketoId = int(r.marketo_id);
  if (r.marketo_guid != null) s.marketoGUID = text(r.marketo_guid);
  if (r.name != null) s.name = text(r.name);
  if (r.company_key != null) s.companyKey = text(r.company_key);
  return s;
};

/** Carried record → row, without the tenant. @internal */
export const carriedToRow = (json: JsonColumns, c: CarriedRecord): Row => ({
  kind: c.kind,
  key: c.key,
  source_key: c.sourceKey,
  payload: json.encode(c.payload),
  hash: c.hash,
  cause: c.cause,
  state: c.state,
  attempts: c.attempts,
  first_at: c.firstAt,
  last_at: c.lastAt,
  next_at: c.nextAt,
  run_id: c.runId,
  error: optional(json, c.error),
  reasons: json.encode(c.reasons),
});

/** Carried row → record. @internal */
export const carriedFromRow = (json: JsonColumns, r: Row): CarriedRecord => {
  const c: CarriedRecord = {
    kind: text(r.kind) as WritableKind,
    key: text(r.key),
    sourceKey: text(r.source_key),
    payload: json.decode(r.payload) as MarketoPayload,
    hash: text(r.hash),
    cause: text(r.cause) as CarryCause,
    state: text(r.state) as CarryState,
    attempts: int(r.attempts),
    firstAt: int(r.first_at),
    lastAt: int(r.last_at),
    nextAt: int(r.next_at),
    runId: text(r.run_id),
    reasons: (r.reasons == null ? [] : json.decode(r.reasons)) as Reason[],
  };
  if (r.error != null) c.error = json.decode(r.error) as ErrorInfo;
  return c;
};

/** Run record → row. @internal */
export const runToRow = (json: JsonColumns, r: RunRecord): Row => ({
  tenant: r.tenant,
  run_id: r.runId,
  trigger: r.trigger,
  status: r.status,
  started_at: r.startedAt,
  finished_at: r.finishedAt ?? null,
  summary: optional(json, r.summary),
});

/** Run row → record. @internal */
export const runFromRow = (json: JsonColumns, r: Row): RunRecord => {
  const run: RunRecord = {
    tenant: text(r.tenant),
    runId: text(r.run_id),
    trigger: text(r.trigger) as RunRecord["trigger"],
    status: text(r.status) as RunStatus,
    startedAt: int(r.started_at),
  };
  if (r.finished_at != null) run.finishedAt = int(r.finished_at);
  if (r.summary != null) run.summary = json.decode(r.summary) as JsonValue;
  return run;
};

/** Sealed secret → row. @internal */
export const sealedToRow = (s: SealedSecret): Row => ({
  tenant: s.tenant,
  name: s.name,
  key_id: s.keyId,
  nonce: s.nonce,
  ciphertext: s.ciphertext,
  tag: s.tag,
  updated_at: s.updatedAt,
});

/** Sealed row → secret. @internal */
export const sealedFromRow = (r: Row): SealedSecret => ({
  tenant: text(r.tenant),
  name: text(r.name),
  keyId: text(r.key_id),
  nonce: text(r.nonce),
  ciphertext: text(r.ciphertext),
  tag: text(r.tag),
  updatedAt: int(r.updated_at),
});
