/**
 * The store interface the engine talks to: audit trail, synced state (content hashes and Marketo ids), checkpoints,
 * leases and account contexts. Every method is async and every write is an idempotent upsert, so an embedded store
 * (SQLite) and a shared one (PostgreSQL, many workers) implement it without changing the engine: a batch of outcomes
 * and the checkpoint it earns are one {@link AuditStore.commitBatch} call (one transaction), and a lease token fences
 * writes from a runner that lost its lease.
 *
 * @module
 */

import type { ErrorInfo } from "../errors.js";
import type { JsonValue, MarketoPayload, Reason } from "../ports.js";
import type { AccountContext } from "../readback/account-context.js";

/** Kinds of records the engine writes to Marketo. */
export type WritableKind = "salesPerson" | "company" | "namedAccount" | "lead";

/** Kinds of audited records: the writable kinds plus `customer`, the source row itself (for rejections). */
export type RecordKind = WritableKind | "customer";

/** What happened to one record in one run. */
export type Outcome = "created" | "updated" | "unchanged" | "rejected" | "skipped" | "failed";

/** One audit row: the outcome of one record of one kind in one run. Never holds a secret. */
export interface AuditEntry {
  /** Tenant pair (one QAD tenant ⇄ one Marketo instance). */
  tenant: string;
  /** The run that produced this outcome. */
  runId: string;
  /** Record key: externalCompanyId (company, named account, customer), email (lead), externalSalesPersonId. */
  key: string;
  /** Record kind. */
  kind: RecordKind;
  /** Outcome. */
  outcome: Outcome;
  /** Key of the source customer this record was mapped from. */
  sourceKey: string;
  /** Why: Marketo's reasons for a skip, the validation problems of a rejection, the read-only explanation. */
  reasons: Reason[];
  /** The error of a failed write (code, redacted message, retryable, request id). */
  error?: ErrorInfo | undefined;
  /** Marketo id or GUID of the record, when known (written, or found by a read). */
  marketoId?: string | undefined;
  /** The mapped payload that was (or would have been) written; replay re-sends it. */
  payload?: MarketoPayload | undefined;
  /** Content hash of `payload`. */
  hash?: string | undefined;
  /** When the outcome was recorded (ms since epoch, engine clock). */
  at: number;
  /** For replay runs: the run whose entry was replayed. */
  replayOf?: string | undefined;
}

/** What the engine remembers about the last successful write of one record. */
export interface SyncedState {
  /** Kind. */
  kind: WritableKind;
  /** Record key (see {@link AuditEntry.key}). */
  key: string;
  /** Content hash of the payload last written successfully. */
  hash: string;
  /** Marketo numeric id (companies, leads, sales persons). */
  marketoId?: number | undefined;
  /** Marketo GUID (named accounts): renames update by it. */
  marketoGUID?: string | undefined;
  /** Named-account name last written: a different new name is a rename. */
  name?: string | undefined;
  /** For leads: the externalCompanyId they belong to (activities are folded into that account's context). */
  companyKey?: string | undefined;
  /** Run that wrote it. */
  runId: string;
  /** When it was written (ms since epoch). */
  at: number;
}

/**
 * Status of a run. `completed`: the source was read to its end and every record was written or accounted for;
 * `degraded`: read to its end, but some writes failed and were carried forward (see {@link CarriedRecord});
 * `stopped`: ended early on request (checkpoint saved up to the last recorded batch); `failed`: a fatal error, or
 * every write failed (Marketo unreachable), with the reason in the summary.
 */
export type RunStatus = "running" | "completed" | "degraded" | "stopped" | "failed";

/** One run as stored. */
export interface RunRecord {
  /** Tenant pair. */
  tenant: string;
  /** Run id. */
  runId: string;
  /** What started it. */
  trigger: "manual" | "schedule" | "replay";
  /** Status. */
  status: RunStatus;
  /** Start time (ms since epoch). */
  startedAt: number;
  /** End time, once finished. */
  finishedAt?: number | undefined;
  /** The run summary (JSON), once finished. */
  summary?: JsonValue | undefined;
}

/** A held lease. `token` increases on every acquisition, so a store can fence writes of a stale holder. */
export interface Lease {
  /** Lease name (the engine uses `sync:<tenant>`). */
  name: string;
  /** Holder id (the run id). */
  owner: string;
  /** Fencing token, strictly increasing per name. */
  token: number;
  /** Expiry (ms since epoch, store clock). */
  expiresAt: number;
}

/** Answer of {@link AuditStore.acquireLease}. */
export type LeaseAcquisition =
  | { acquired: true; lease: Lease }
  | { acquired: false; holder: string; expiresAt: number };

/** One atomic batch write. */
export interface BatchCommit {
  /** Tenant pair. */
  tenant: string;
  /** Audit rows, upserted by (tenant, runId, kind, key). */
  entries: AuditEntry[];
  /** Synced state rows, upserted by (tenant, kind, key). */
  synced: SyncedState[];
  /** Checkpoint earned by this batch, saved in the same transaction. */
  checkpoint?: { name: string; value: JsonValue } | undefined;
  /** Carried-forward records changed by this batch, in the same transaction: `put` upserts, `clear` deletes. */
  carry?: { put?: CarriedRecord[] | undefined; clear?: RecordRef[] | undefined } | undefined;
  /** When set, the store refuses the whole batch (with `LeaseLostError`) unless this lease is still held. */
  fence?: Lease | undefined;
}

/** Filter of {@link AuditStore.queryAudit}. All given conditions must hold. */
export interface AuditQuery {
  /** Tenant pair. */
  tenant: string;
  /** Only this run. */
  runId?: string | undefined;
  /** Only these keys. */
  keys?: string[] | undefined;
  /** Only these kinds. */
  kinds?: RecordKind[] | undefined;
  /** Only these outcomes. */
  outcomes?: Outcome[] | undefined;
  /** Only rows recorded at or after this time (ms since epoch). */
  since?: number | undefined;
  /** At most this many rows (in recording order): a whole number ≥ 0; a store refuses anything else (`SyncConfigError`). */
  limit?: number | undefined;
}

/** Identifies one record of one kind. */
export interface RecordRef {
  /** Kind. */
  kind: WritableKind;
  /** Record key (see {@link AuditEntry.key}). */
  key: string;
}

/** Why a record is carried forward: its write failed, or its object was read-only (CRM sync) when it was due. */
export type CarryCause = "failed" | "read_only";

/** `pending`: retried by later runs; `dead`: gave up after the configured number of attempts (replay by hand). */
export type CarryState = "pending" | "dead";

/**
 * A record that a run could not write, kept until a later run writes it (or it is superseded). One row per
 * (tenant, kind, key): a newer failure of the same record replaces the older row, so a stale payload is never
 * retried. Never holds a secret.
 */
export interface CarriedRecord extends RecordRef {
  /** Key of the source customer it was mapped from. */
  sourceKey: string;
  /** The payload to write (the newest one that failed). */
  payload: MarketoPayload;
  /** Content hash of `payload`. */
  hash: string;
  /** Why it is carried. */
  cause: CarryCause;
  /** Pending or dead-lettered. */
  state: CarryState;
  /** Failed write attempts so far (read-only skips do not count). */
  attempts: number;
  /** When it was first carried forward (ms since epoch). */
  firstAt: number;
  /** When it was last attempted (ms since epoch). */
  lastAt: number;
  /** Not retried before this time (ms since epoch): the growing delay between attempts. */
  nextAt: number;
  /** The run of the last attempt. */
  runId: string;
  /** The last error (failed writes). */
  error?: ErrorInfo | undefined;
  /** The last reasons (read-only explanation, Marketo's reasons). */
  reasons: Reason[];
}

/** Filter of {@link AuditStore.listCarried}, ordered by (kind, key). All given conditions must hold. */
export interface CarryQuery {
  /** Tenant pair. */
  tenant: string;
  /** Only this state. */
  state?: CarryState | undefined;
  /** Only these causes. */
  causes?: CarryCause[] | undefined;
  /** Only records due by this time (`nextAt <= dueBy`). */
  dueBy?: number | undefined;
  /** Only these kinds. */
  kinds?: WritableKind[] | undefined;
  /** Only these keys. */
  keys?: string[] | undefined;
  /** Keyset cursor: only records after this one in (kind, key) order (both strings, else refused). */
  after?: RecordRef | undefined;
  /** At most this many rows: a whole number ≥ 0; a store refuses anything else (`SyncConfigError`). */
  limit?: number | undefined;
}

/** How much audit history {@link AuditStore.prune} keeps. */
export interface RetentionPolicy {
  /** Audit rows and finished runs older than this (ms) may be deleted. */
  maxAgeMs?: number | undefined;
  /** At most this many audit rows per record (kind, key), newest kept. */
  keepPerRecord?: number | undefined;
}

/** What {@link AuditStore.prune} deleted. */
export interface PruneResult {
  /** Audit rows deleted. */
  auditRows: number;
  /** Run records deleted. */
  runs: number;
}

/**
 * Storage of everything the engine must remember. Implementations: `createMemoryStore` (this package),
 * `createSqliteStore` (`@ml/qad-marketo-sync/sqlite`) and `createPostgresStore` (`@ml/qad-marketo-sync/postgres`).
 * Every implementation must pass `runAuditStoreContract` from `@ml/qad-marketo-sync/testing`.
 */
export interface AuditStore {
  /** Records the start of a run (upsert by tenant and run id). */
  startRun(run: RunRecord): Promise<void>;
  /** Records the end of a run. */
  finishRun(
    tenant: string,
    runId: string,
    end: { status: RunStatus; finishedAt: number; summary: JsonValue },
  ): Promise<void>;
  /** One run, if known. */
  getRun(tenant: string, runId: string): Promise<RunRecord | undefined>;
  /** Runs of a tenant pair, newest first; `limit` as in {@link AuditQuery.limit}. */
  listRuns(tenant: string, options?: { limit?: number | undefined }): Promise<RunRecord[]>;

  /** Atomically upserts a batch of audit rows and synced state, and saves the checkpoint it earned. */
  commitBatch(batch: BatchCommit): Promise<void>;
  /** Audit rows matching the filter, in recording order. */
  queryAudit(query: AuditQuery): Promise<AuditEntry[]>;
  /**
   * Deletes audit history beyond the policy. Never deletes a record's newest audit row, any row of a record that is
   * carried forward, or a run still `running`.
   */
  prune(tenant: string, policy: RetentionPolicy, now: number): Promise<PruneResult>;

  /** Carried-forward records matching the filter, ordered by (kind, key). */
  listCarried(query: CarryQuery): Promise<CarriedRecord[]>;
  /** Carried-forward records of the given keys (missing keys are absent from the map). */
  getCarried(tenant: string, kind: WritableKind, keys: string[]): Promise<Map<string, CarriedRecord>>;
  /** How many records are carried forward, per state. */
  countCarried(tenant: string): Promise<Record<CarryState, number>>;

  /** Synced state of the given keys (missing keys are absent from the map). */
  getSynced(tenant: string, kind: WritableKind, keys: string[]): Promise<Map<string, SyncedState>>;
  /** Every synced state row of a kind. */
  listSynced(tenant: string, kind: WritableKind): AsyncIterable<SyncedState>;
  /**
   * The synced named accounts holding the given names: normalised name → record key. Names are passed normalised
   * (trimmed and lower-cased, as Marketo matches them) and matched against the normalised {@link SyncedState.name}
   * of `namedAccount` rows, which the store keeps indexed, so a run asks per batch instead of holding every name.
   * Names nobody holds are absent from the map; when several rows hold one name (written before names were claimed),
   * the smallest key in code-point order is answered.
   */
  namedAccountKeys(tenant: string, normalisedNames: string[]): Promise<Map<string, string>>;

  /** A saved checkpoint (`source`, `activities`, ...). */
  getCheckpoint(tenant: string, name: string): Promise<JsonValue | undefined>;
  /** Saves a checkpoint outside a batch (e.g. the activity token). Refused like a batch when `fence` is stale. */
  saveCheckpoint(tenant: string, name: string, value: JsonValue, fence?: Lease): Promise<void>;

  /** Takes the lease if it is free or expired. */
  acquireLease(name: string, owner: string, ttlMs: number): Promise<LeaseAcquisition>;
  /** Extends a held lease; `undefined` when it was lost (expired and taken, or released). */
  renewLease(lease: Lease, ttlMs: number): Promise<Lease | undefined>;
  /** Releases a held lease (no-op when no longer held). */
  releaseLease(lease: Lease): Promise<void>;

  /** Upserts account contexts by (tenant, externalCompanyId). */
  putAccountContexts(tenant: string, contexts: AccountContext[]): Promise<void>;
  /** One account context. */
  getAccountContext(tenant: string, externalCompanyId: string): Promise<AccountContext | undefined>;
}
