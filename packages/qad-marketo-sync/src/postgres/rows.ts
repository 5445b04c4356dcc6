/**
 * Row mappers of the PostgreSQL store: database rows to the interface's objects and back. `bigint` columns arrive as
 * strings from the driver (no global type parser is installed: that would change every other user of `pg` in the
 * process), so they are converted here. Optional fields absent in the row are absent in the object.
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
} from "../store/audit-store.js";
import type { SealedSecret } from "../store/secret-store.js";

type Row = Record<string, unknown>;

const num = (v: unknown): number => (typeof v === "number" ? v : Number(v));
const str = (v: unknown): string => String(v);

/** Audit row → entry. @internal */
export function toAuditEntry(r: Row): AuditEntry {
  const e: AuditEntry = {
    tenant: str(r.tenant),
    runId: str(r.run_id),
    key: str(r.key),
    kind: str(r.kind) as RecordKind,
    outcome: str(r.outcome) as Outcome,
    sourceKey: str(r.source_key),
    reasons: (r.reasons ?? []) as Reason[],
    at: num(r.at),
  };
  if (r.error != null) e.error = r.error as ErrorInfo;
  if (r.marketo_id != null) e.marketoId = str(r.marketo_id);
  if (r.payload != null) e.payload = r.payload as MarketoPayload;
  if (r.hash != null) e.hash = str(r.hash);
  if (r.replay_of != null) e.replayOf = str(r.replay_of);
  return e;
}

/** Entry → the JSON element the bulk upsert expands (tenant comes from the batch). @internal */
export function auditElement(e: AuditEntry): Row {
  return {
    runId: e.runId,
    kind: e.kind,
    key: e.key,
    outcome: e.outcome,
    sourceKey: e.sourceKey,
    reasons: e.reasons,
    error: e.error ?? null,
    marketoId: e.marketoId ?? null,
    payload: e.payload ?? null,
    hash: e.hash ?? null,
    at: e.at,
    replayOf: e.replayOf ?? null,
  };
}

/** Synced row → state. @internal */
export function toSynced(r: Row): SyncedState {
  const s: SyncedState = {
    kind: str(r.kind) as WritableKind,
    key: str(r.key),
    hash: str(r.hash),
    runId: str(r.run_id),
    at: num(r.at),
  };
  if (r.marketo_id != null) s.marketoId = num(r.marketo_id);
  if (r.marketo_guid != null) s.marketoGUID = str(r.marketo_guid);
  if (r.name != null) s.name = str(r.name);
  if (r.company_key != null) s.companyKey = str(r.company_key);
  return s;
}

/** State → bulk upsert element. @internal */
export function syncedElement(s: SyncedState): Row {
  return {
    kind: s.kind,
    key: s.key,
    hash: s.hash,
    marketoId: s.marketoId ?? null,
    marketoGUID: s.marketoGUID ?? null,
    name: s.name ?? null,
    companyKey: s.companyKey ?? null,
    runId: s.runId,
    at: s.at,
  };
}

/** Carried row → record. @internal */
export function toCarried(r: Row): CarriedRecord {
  const c: CarriedRecord = {
    kind: str(r.kind) as WritableKind,
    key: str(r.key),
    sourceKey: str(r.source_key),
    payload: r.payload as MarketoPayload,
    hash: str(r.hash),
    cause: str(r.cause) as CarryCause,
    state: str(r.state) as CarryState,
    attempts: num(r.attempts),
    firstAt: num(r.first_at),
    lastAt: num(r.last_at),
    nextAt: num(r.next_at),
    runId: str(r.run_id),
    reasons: (r.reasons ?? []) as Reason[],
  };
  if (r.error != null) c.error = r.error as ErrorInfo;
  return c;
}

/** Record → bulk upsert element. @internal */
export function carriedElement(c: CarriedRecord): Row {
  return {
    kind: c.kind,
    key: c.key,
    sourceKey: c.sourceKey,
    payload: c.payload,
    hash: c.hash,
    cause: c.cause,
    state: c.state,
    attempts: c.attempts,
    firstAt: c.firstAt,
    lastAt: c.lastAt,
    nextAt: c.nextAt,
    runId: c.runId,
    error: c.error ?? null,
    reasons: c.reasons,
  };
}

/** Run row → record. @internal */
export function toRun(r: Row): RunRecord {
  const run: RunRecord = {
    tenant: str(r.tenant),
    runId: str(r.run_id),
    trigger: str(r.trigger) as RunRecord["trigger"],
    status: str(r.status) as RunStatus,
    startedAt: num(r.started_at),
  };
  if (r.finished_at != null) run.finishedAt = num(r.finished_at);
  if (r.summary != null) run.summary = r.summary as JsonValue;
  return run;
}

/** Sealed row → record. @internal */
export function toSealed(r: Row): SealedSecret {
  return {
    tenant: str(r.tenant),
    name: str(r.name),
    keyId: str(r.key_id),
    nonce: str(r.nonce),
    ciphertext: str(r.ciphertext),
    tag: str(r.tag),
    updatedAt: num(r.updated_at),
  };
}

/** The last element per id, at the position of the first (what repeated upserts in one batch amount to). @internal */
export function lastPerId<T>(items: readonly T[], id: (item: T) => string): T[] {
  const m = new Map<string, T>();
  for (const item of items) m.set(id(item), item);
  return [...m.values()];
}
