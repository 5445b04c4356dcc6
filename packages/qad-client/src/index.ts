export type {
  ClientCredentialsAuth,
  PasswordAuth,
  ProvidedToken,
  ProviderAuth,
  QadAuth,
  SessionAuth,
  TokenLifetimeOptions,
} from "./auth/options.js";
export { ENTITY_KINDS, type EntityKind, type PageRequest, type QadBackend } from "./backend.js";
export { QadClient, type QadPathCheck } from "./client.js";
export {
  isQadError,
  QadAbortError,
  QadAuthError,
  QadConfigError,
  type QadEnvelopeError,
  QadError,
  type QadErrorCode,
  type QadErrorOptions,
  QadHttpError,
  QadPagingError,
  QadPermissionError,
  QadQxtendError,
  type QadQxtendMessage,
  QadRedirectError,
  type QadRequestInfo,
  QadResponseParseError,
  QadResponseTooLargeError,
  QadSoapFaultError,
  QadSubmitError,
  type QadSubmitFieldError,
  QadTimeoutError,
  QadUnsafePathError,
  QadValidationError,
} from "./errors.js";
export type { Clock, FetchLike, Logger, RuntimeDeps, Sleep } from "./internal/deps.js";
export type { RetryOptions } from "./internal/retry.js";
export type { InvalidRowMode } from "./internal/validate.js";
export {
  QadTenantUrlError,
  type TenantAddressClass,
  type TenantNetworkOptions,
  type TenantUrlRefusal,
} from "./network/tenant-policy.js";
export type { QadClientOptions } from "./options.js";
export type { ChangesOptions, QadPoll } from "./polling/changes.js";
export type { QadCheckpoint, QadInstant } from "./polling/checkpoint.js";
// QXtend: only what a user configures with. The SOAP envelope builders, namespaces, filter and date codecs and the
// backend factory are internals of the client (src/qxtend/), not part of the public surface.
export {
  CONTACT_FIELD_DEFAULTS,
  type ContactFieldMap,
  CUSTOMER_FIELD_DEFAULTS,
  type CustomerFieldMap,
} from "./qxtend/customer-mapping.js";
export {
  QXTEND_ENTITY_DEFAULTS,
  type QxtendEntityMapping,
  type QxtendFieldSpec,
  type QxtendFieldType,
} from "./qxtend/entity-mapping.js";
export { QAD_DATE_FORMATS, type QadDateFormat } from "./qxtend/filter.js";
export { type QxtendOptions, qxtendOptionsSchema } from "./qxtend/options.js";
export {
  type Address,
  addressSchema,
  type Contact,
  type Customer,
  contactSchema,
  customerSchema,
  customValueSchema,
  type LastModified,
  lastModifiedSchema,
} from "./records/customer.js";
export {
  type CostCenter,
  costCenterSchema,
  type GlAccount,
  type GoodsReceipt,
  glAccountSchema,
  goodsReceiptSchema,
  type Item,
  itemSchema,
  type PurchaseOrder,
  purchaseOrderSchema,
  type Supplier,
  type SupplierInvoice,
  supplierInvoiceSchema,
  supplierSchema,
} from "./records/documents.js";
export { customerKey, type EntityRecordMap, recordKey } from "./records/entities.js";
export { isQadInvalidRecord, QadInvalidRecord } from "./records/invalid-record.js";
export { EntityResource, type ListOptions, type QadList, type QadPage } from "./resources/entity-resource.js";
export type { BrowseOptions } from "./rest/browse/browse.js";
export { type BrowseFilter, encodeFilter, type FilterOp, type FilterValue, where } from "./rest/browse/filter.js";
export { DEFAULT_REST_ENTITIES, type RestEntitiesOptions, type RestEntityConfig } from "./rest/entities.js";
export type { ApiDescriptionOptions } from "./rest/path-policy.js";
export { checkPathSyntax } from "./rest/paths.js";
export { parseTenantUrl, type TenantUrlOptions } from "./rest/tenant.js";

/** The package name, for logs and user agents. */
export const PACKAGE_NAME = "@ml/qad-client";
