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

/** Status of a run. */
export type RunStatus = "running" | "completed" | "stopped" | "failed";

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
  /** At most this many rows (in recording order). */
  limit?: number | undefined;
}

/**
 * Storage of everything the engine must remember. Implementations: {@link createMemoryStore} here; SQLite and
 * PostgreSQL later. Every implementation must pass the contract suite in `test/support/audit-store-contract.ts`.
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
  /** Runs of a tenant pair, newest first. */
  listRuns(tenant: string, options?: { limit?: number | undefined }): Promise<RunRecord[]>;

  /** Atomically upserts a batch of audit rows and synced state, and saves the checkpoint it earned. */
  commitBatch(batch: BatchCommit): Promise<void>;
  /** Audit rows matching the filter, in recording order. */
  queryAudit(query: AuditQuery): Promise<AuditEntry[]>;
  /** Synced state of the given keys (missing keys are absent from the map). */
  getSynced(tenant: string, kind: WritableKind, keys: string[]): Promise<Map<string, SyncedState>>;
  /** Every synced state row of a kind. */
  listSynced(tenant: string, kind: WritableKind): AsyncIterable<SyncedState>;

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
