export { BulkApi, type BulkCallOptions, BulkExportApi } from "./bulk-api.js";
export {
  MarketoBulkDownloadError,
  MarketoBulkError,
  type MarketoBulkErrorOptions,
  MarketoBulkJobFailedError,
  MarketoBulkQuotaError,
  MarketoBulkTimeoutError,
  MarketoChecksumError,
  MarketoCsvError,
} from "./errors.js";
export { BulkExtraction } from "./extraction.js";
export type { BulkJobListStatus } from "./job.js";
export type {
  ActivityExtractFilter,
  ActivityExtractParams,
  ActivityTypeDescription,
  BulkApiDependencies,
  BulkDateRange,
  BulkEnvelope,
  BulkExportUsage,
  BulkExtractOptions,
  BulkExtractState,
  BulkFormat,
  BulkJobState,
  BulkJobStatus,
  BulkPollOptions,
  BulkRow,
  BulkTimingOptions,
  BulkTransport,
  BulkTransportRequest,
  LeadExtractFilter,
  LeadExtractParams,
  LeadFieldDescription,
} from "./types.js";
