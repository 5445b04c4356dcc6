/**
 * Row builders shared by the contract suites: small, valid records with every field overridable.
 *
 * @module
 */

import type { AuditEntry, CarriedRecord, RunRecord, SyncedState } from "../store/audit-store.js";
import type { SealedSecret } from "../store/secret-store.js";

/** An audit row of tenant `t1`, run `r1`, company `S.C1`, created at time 1. @internal */
export const auditEntry = (over: Partial<AuditEntry> = {}): AuditEntry => ({
  tenant: "t1",
  runId: "r1",
  key: "S.C1",
  kind: "company",
  outcome: "created",
  sourceKey: "S.C1",
  reasons: [],
  payload: { externalCompanyId: "S.C1", company: "Acme" },
  hash: "h1",
  at: 1,
  ...over,
});

/** A synced state row of company `S.C1`. @internal */
export const syncedState = (over: Partial<SyncedState> = {}): SyncedState => ({
  kind: "company",
  key: "S.C1",
  hash: "h1",
  marketoId: 7,
  runId: "r1",
  at: 1,
  ...over,
});

/** A pending carried-forward failure of company `S.C1`. @internal */
export const carriedRecord = (over: Partial<CarriedRecord> = {}): CarriedRecord => ({
  kind: "company",
  key: "S.C1",
  sourceKey: "S.C1",
  payload: { externalCompanyId: "S.C1", company: "Acme" },
  hash: "h1",
  cause: "failed",
  state: "pending",
  attempts: 1,
  firstAt: 100,
  lastAt: 100,
  nextAt: 200,
  runId: "r1",
  reasons: [],
  ...over,
});

/** A run record of tenant `t1`, still running. @internal */
export const runRecord = (over: Partial<RunRecord> = {}): RunRecord => ({
  tenant: "t1",
  runId: "r1",
  trigger: "manual",
  status: "running",
  startedAt: 1,
  ...over,
});

/** A sealed record of tenant `t1` named `marketo` under key `k1`. @internal */
export const sealedSecret = (over: Partial<SealedSecret> = {}): SealedSecret => ({
  tenant: "t1",
  name: "marketo",
  keyId: "k1",
  nonce: "bm9uY2UtMDAwMDAx",
  ciphertext: "Y2lwaGVydGV4dA==",
  tag: "dGFnLXRhZy10YWctdGFnLQ==",
  updatedAt: 1,
  ...over,
});
