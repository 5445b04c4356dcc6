/**
 * Row shapes of the SQLite tables and their conversion to and from the store's records. JSON columns (payloads,
 * reasons, errors, summaries, checkpoints, contexts) are TEXT; optional fields are NULL when absent and absent again
 * when read back.
 *
 * @module
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
} from "../store/audit-store.js";
import type { SealedSecret } from "../store/secret-store.js";

/** @internal */
export interface AuditRow {
  tenant: string;
  run_id: string;
  kind: string;
  key: string;
  outcome: string;
  source_key: string;
  reasons: string;
  error: string | null;
  marketo_id: string | null;
  payload: string | null;
  hash: string | null;
  at: number;
  replay_of: string | null;
}

/** @internal */
export interface RunRow {
  tenant: string;
  run_id: string;
  trigger: string;
  status: string;
  started_at: number;
  finished_at: number | null;
  summary: string | null;
}

/** @internal */
export interface SyncedRow {
  tenant: string;
  kind: string;
  key: string;
  hash: string;
  marketo_id: number | null;
  marketo_guid: string | null;
  name: string | null;
  company_key: string | null;
  run_id: string;
  at: number;
}

/** @internal */
export interface CarriedRow {
  tenant: string;
  kind: string;
  key: string;
  source_key: string;
  payload: string;
  hash: string;
  cause: string;
  state: string;
  attempts: number;
  first_at: number;
  last_at: number;
  next_at: number;
  run_id: string;
  error: string | null;
  reasons: string;
}

/** @internal */
export interface SealedRow {
  tenant: string;
  name: string;
  key_id: string;
  nonce: string;
  ciphertext: string;
  tag: string;
  updated_at: number;
}

const json = (v: unknown): string => JSON.stringify(v);
const jsonOrNull = (v: unknown): string | null => (v === undefined ? null : JSON.stringify(v));
const parse = <T>(s: string): T => JSON.parse(s) as T;

/** @internal */
export const auditToRow = (tenant: string, e: AuditEntry): AuditRow => ({
  tenant,
  run_id: e.runId,
  kind: e.kind,
  key: e.key,
  outcome: e.outcome,
  source_key: e.sourceKey,
  reasons: json(e.reasons),
  error: jsonOrNull(e.error),
  marketo_id: e.marketoId ?? null,
  payload: jsonOrNull(e.payload),
  hash: e.hash ?? null,
  at: e.at,
  replay_of: e.replayOf ?? null,
});

/** @internal */
export const auditFromRow = (r: AuditRow): AuditEntry => {
  const e: AuditEntry = {
    tenant: r.tenant,
    runId: r.run_id,
    key: r.key,
    kind: r.kind as RecordKind,
    outcome: r.outcome as Outcome,
    sourceKey: r.source_key,
    reasons: parse<Reason[]>(r.reasons),
    at: r.at,
  };
  if (r.error !== null) e.error = parse<ErrorInfo>(r.error);
  if (r.marketo_id !== null) e.marketoId = r.marketo_id;
  if (r.payload !== null) e.payload = parse<MarketoPayload>(r.payload);
  if (r.hash !== null) e.hash = r.hash;
  if (r.replay_of !== null) e.replayOf = r.replay_of;
  return e;
};

/** @internal */
export const runToRow = (r: RunRecord): RunRow => ({
  tenant: r.tenant,
  run_id: r.runId,
  trigger: r.trigger,
  status: r.status,
  started_at: r.startedAt,
  finished_at: r.finishedAt ?? null,
  summary: jsonOrNull(r.summary),
});

/** @internal */
export const runFromRow = (r: RunRow): RunRecord => {
  const run: RunRecord = {
    tenant: r.tenant,
    runId: r.run_id,
    trigger: r.trigger as RunRecord["trigger"],
    status: r.status as RunStatus,
    startedAt: r.started_at,
  };
  if (r.finished_at !== null) run.finishedAt = r.finished_at;
  if (r.summary !== null) run.summary = parse<JsonValue>(r.summary);
  return run;
};

/** @internal */
export const syncedToRow = (tenant: string, s: SyncedState): SyncedRow => ({
  tenant,
  kind: s.kind,
  key: s.key,
  hash: s.hash,
  marketo_id: s.marketoId ?? null,
  marketo_guid: s.marketoGUID ?? null,
  name: s.name ?? null,
  company_key: s.companyKey ?? null,
  run_id: s.runId,
  at: s.at,
});

/** @internal */
export const syncedFromRow = (r: SyncedRow): SyncedState => {
  const s: SyncedState = { kind: r.kind as WritableKind, key: r.key, hash: r.hash, runId: r.run_id, at: r.at };
  if (r.marketo_id !== null) s.marketoId = r.marketo_id;
  if (r.marketo_guid !== null) s.marketoGUID = r.marketo_guid;
  if (r.name !== null) s.name = r.name;
  if (r.company_key !== null) s.companyKey = r.company_key;
  return s;
};

/** @internal */
export const carriedToRow = (tenant: string, c: CarriedRecord): CarriedRow => ({
  tenant,
  kind: c.kind,
  key: c.key,
  source_key: c.sourceKey,
  payload: json(c.payload),
  hash: c.hash,
  cause: c.cause,
  state: c.state,
  attempts: c.attempts,
  first_at: c.firstAt,
  last_at: c.lastAt,
  next_at: c.nextAt,
  run_id: c.runId,
  error: jsonOrNull(c.error),
  reasons: json(c.reasons),
});

/** @internal */
export const carriedFromRow = (r: CarriedRow): CarriedRecord => {
  const c: CarriedRecord = {
    kind: r.kind as WritableKind,
    key: r.key,
    sourceKey: r.source_key,
    payload: parse<MarketoPayload>(r.payload),
    hash: r.hash,
    cause: r.cause as CarryCause,
    state: r.state as CarryState,
    attempts: r.attempts,
    firstAt: r.first_at,
    lastAt: r.last_at,
    nextAt: r.next_at,
    runId: r.run_id,
    reasons: parse<Reason[]>(r.reasons),
  };
  if (r.error !== null) c.error = parse<ErrorInfo>(r.error);
  return c;
};

/** @internal */
export const sealedToRow = (s: SealedSecret): SealedRow => ({
  tenant: s.tenant,
  name: s.name,
  key_id: s.keyId,
  nonce: s.nonce,
  ciphertext: s.ciphertext,
  tag: s.tag,
  updated_at: s.updatedAt,
});

/** @internal */
export const sealedFromRow = (r: SealedRow): SealedSecret => ({
  tenant: r.tenant,
  name: r.name,
  keyId: r.key_id,
  nonce: r.nonce,
  ciphertext: r.ciphertext,
  tag: r.tag,
  updatedAt: r.updated_at,
});
