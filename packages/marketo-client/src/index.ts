export type { CachedToken, TokenCache } from "./auth/token-cache.js";
export { InMemoryTokenCache } from "./auth/token-cache.js";
export type { TokenRenewalTiming } from "./auth/token-manager.js";
export * from "./bulk/index.js";
export type { Capability, CapabilityObject } from "./capabilities.js";
export { Capabilities } from "./capabilities.js";
export type { QuotaSnapshot } from "./client.js";
export { MarketoClient } from "./client.js";
export type {
  MarketoBaseUrls,
  MarketoClientOptions,
  MarketoLimitsOptions,
  MarketoNetworkOptions,
  MarketoTokenRenewalOptions,
} from "./config.js";
export { MUNCHKIN_ID } from "./config.js";
export type { CodeAction } from "./envelope/codes.js";
export { actionFor } from "./envelope/codes.js";
export type { MarketoApiErrorOptions, MarketoErrorOptions, RedactedRequest } from "./errors.js";
export {
  isMarketoError,
  MarketoApiError,
  MarketoAuthError,
  MarketoConfigError,
  MarketoError,
  MarketoHttpError,
  MarketoInvalidRequestError,
  MarketoNetworkError,
  MarketoPermissionError,
  MarketoQuotaExceededError,
  MarketoRateLimitError,
  MarketoReadOnlyError,
  MarketoRedirectError,
  MarketoResponseParseError,
  MarketoResponseTooLargeError,
  MarketoSyncIncompleteError,
  MarketoTimeoutError,
  MarketoValidationError,
} from "./errors.js";
export type { FilterReadParams } from "./internal/filter-read.js";
export type { Clock, FetchLike, Logger, Sleep } from "./internal/runtime.js";
export type { LimiterState, LimiterStore, Reservation, ReserveLimits } from "./limits/limiter-store.js";
export { InMemoryLimiterStore } from "./limits/limiter-store.js";
export type { ContinuePredicate, Page, PageFetcher } from "./paging.js";
export { Paged } from "./paging.js";
export type {
  Company,
  Lead,
  MarketoReason,
  MarketoRecord,
  NamedAccount,
  ObjectDescription,
  Opportunity,
  OpportunityRole,
  RecordResult,
  RecordStatus,
  SalesPerson,
  SyncAction,
  SyncResult,
} from "./records.js";
export type { Activity, ActivityListParams, ActivityType, DeletedLead, LeadChange } from "./resources/activities.js";
export { Activities } from "./resources/activities.js";
export { Companies } from "./resources/companies.js";
export type { LeadField, LeadSyncParams } from "./resources/leads.js";
export { Leads } from "./resources/leads.js";
export { NamedAccounts } from "./resources/named-accounts.js";
export type { DeleteParams, SyncParams, WriteOptions } from "./resources/object-resource.js";
export { ObjectResource } from "./resources/object-resource.js";
export { Opportunities, OpportunityRoles } from "./resources/opportunities.js";
export { SalesPersons } from "./resources/sales-persons.js";
export type { Usage } from "./resources/stats.js";
export { Stats } from "./resources/stats.js";
export type { CallOptions } from "./resources/types.js";
export type { RetryOptions } from "./transport/retry-policy.js";
export type { Envelope, TransportRequest } from "./transport/transport.js";
export { Transport } from "./transport/transport.js";
