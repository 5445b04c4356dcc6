export { arraySource } from "./adapters/array-source.js";
export type { MarketoGatewayOptions } from "./adapters/marketo-gateway.js";
export { marketoGateway } from "./adapters/marketo-gateway.js";
export type { QadCustomerSourceOptions } from "./adapters/qad-customer-source.js";
export { qadCustomerSource } from "./adapters/qad-customer-source.js";
export type { CarryForwardOptions } from "./engine/carry-forward.js";
export type {
  DryRunAction,
  DryRunCalls,
  DryRunItem,
  DryRunOptions,
  DryRunReport,
  DryRunTotals,
  FieldChange,
} from "./engine/dry-run.js";
export type { NameConflictPolicy } from "./engine/plan.js";
export type {
  ReconcileFinding,
  ReconcileOptions,
  ReconcileOutcome,
  ReconcilePolicy,
  ReconcileReport,
  ReconcileSchedule,
  ReconcileTotals,
} from "./engine/reconcile.js";
export { RECONCILE_CHECKPOINT } from "./engine/reconcile.js";
export type { ConfigIssue, ErrorInfo, SyncErrorCode, SyncErrorOptions, VaultErrorCode } from "./errors.js";
export { isSyncError, LeaseLostError, SchemaVersionError, SyncConfigError, SyncError, VaultError } from "./errors.js";
export type { StageCounts, SyncEventName, SyncEvents, SyncListener } from "./events.js";
export { payloadHash, stableStringify } from "./hashing.js";
export type { Clock, Logger, Sleep } from "./internal/runtime.js";
export type { MappingExtension } from "./mapping/defaults.js";
export {
  defaultCompanyFields,
  defaultExternalCompanyId,
  defaultLeadFields,
  defaultMapping,
  defaultNamedAccountFields,
  escapeKeyPart,
  extendMapping,
} from "./mapping/defaults.js";
export type { FieldMap, FieldPath, FieldRule, FieldValue, LeadInput, SyncMapping } from "./mapping/mapping.js";
export type {
  ActivityInfo,
  ActivityRead,
  CapabilityOptions,
  CrmObject,
  CustomerSource,
  FieldSpec,
  GatewayCallOptions,
  GatewayCapability,
  GatewayRecordResult,
  GatewayUsage,
  InvalidSourceItem,
  JsonValue,
  MarketoGateway,
  MarketoPayload,
  NamedAccountRef,
  NamedAccountWriteMode,
  OpportunityInfo,
  Reason,
  SalesPersonInfo,
  SourceItem,
  SourceKey,
  SourceRead,
  SourceRecordItem,
} from "./ports.js";
export type { AccountContext, OpportunitySummary } from "./readback/account-context.js";
export { emptyAccountContext, foldActivity, foldOpportunities } from "./readback/account-context.js";
export type { ReadBackOptions, ReadBackPhase, ReadBackProgress, ReadBackResult } from "./readback/readback.js";
export type {
  ReasonGroup,
  ReportData,
  ReportOptions,
  ReportRun,
  ReportStore,
  WrittenReport,
} from "./report/index.js";
export {
  escapeHtml,
  MAX_TEXT,
  REPORT_CSP,
  REPORT_KINDS,
  REPORT_OUTCOMES,
  renderReport,
  renderReportHtml,
  reportData,
  writeReport,
} from "./report/index.js";
export type { Schedule, ScheduleOptions } from "./schedule.js";
export type { SourceContact, SourceCustomer } from "./source/customer-schema.js";
export { sourceContactSchema, sourceCustomerSchema } from "./source/customer-schema.js";
export type {
  AuditEntry,
  AuditQuery,
  AuditStore,
  BatchCommit,
  CarriedRecord,
  CarryCause,
  CarryQuery,
  CarryState,
  Lease,
  LeaseAcquisition,
  Outcome,
  PruneResult,
  RecordKind,
  RecordRef,
  RetentionPolicy,
  RunRecord,
  RunStatus,
  SyncedState,
  WritableKind,
} from "./store/audit-store.js";
export type { MemoryStore, MemoryStoreOptions } from "./store/memory-store.js";
export { createMemoryStore } from "./store/memory-store.js";
export type { SealedQuery, SealedSecret, SecretStore } from "./store/secret-store.js";
export type { CarriedSummary, OutcomeCounts, RunSummary } from "./summary.js";
export type { ReplaySelector, RunOptions, RunOutcome, Sync, SyncOptions } from "./sync.js";
export { createSync, defaultIsFatal, SOURCE_CHECKPOINT } from "./sync.js";
export type { AuditCsvOptions } from "./text/csv.js";
export { AUDIT_CSV_COLUMNS, auditToCsv, neutraliseCell, writeAuditCsv } from "./text/csv.js";
export type { SanitisedText, TextChanges } from "./text/sanitise.js";
export { sanitiseText, visibleText } from "./text/sanitise.js";
export type {
  KeyProvider,
  KeyRing,
  MarketoCredentials,
  QadCredentials,
  QxtendCredentials,
  RotateOptions,
  RotationFailure,
  RotationResult,
  StoredQadAuth,
  Vault,
  VaultCallOptions,
  VaultKey,
  VaultOptions,
} from "./vault/index.js";
export {
  createVault,
  isKeyRing,
  KEY_BYTES,
  keyRing,
  keysFromEnv,
  MARKETO_RECORD,
  QAD_RECORD,
  VAULT_KEYS_VARIABLE,
} from "./vault/index.js";
