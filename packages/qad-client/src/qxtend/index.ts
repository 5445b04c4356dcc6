export { createQxtendBackend, type QxtendBackend, type QxtendPage } from "./backend.js";
export {
  CONTACT_FIELD_DEFAULTS,
  type ContactFieldMap,
  CUSTOMER_FIELD_DEFAULTS,
  type CustomerFieldMap,
  parseQadLogical,
} from "./customer-mapping.js";
export {
  QXTEND_ENTITY_DEFAULTS,
  type QxtendEntityMapping,
  type QxtendFieldSpec,
  type QxtendFieldType,
} from "./entity-mapping.js";
export {
  buildQueryEnvelope,
  QCOM_NS,
  QDOC_NS,
  type QxtendContextEntry,
  type QxtendQueryRequest,
  SOAP_ENV_NS,
  WSA_NS,
} from "./envelope.js";
export {
  buildQxtendFilter,
  formatQadDate,
  parseQadDate,
  QAD_DATE_FORMATS,
  type QadDateFormat,
  type QxtendFilterParts,
  quoteProgressString,
} from "./filter.js";
export {
  type QxtendOptions,
  qxtendOptionsSchema,
  qxtendProfileSchema,
  qxtendRetrySchema,
  type ResolvedQxtendOptions,
} from "./options.js";
export type { QxtendFault } from "./response.js";
export type { QxtendDeps, QxtendLogger } from "./transport.js";
