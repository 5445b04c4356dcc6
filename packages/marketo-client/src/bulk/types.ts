/**
 * Public types of the bulk extract API: the transport seam it needs, the parameters of an extract, its options and
 * the JSON-serialisable state from which an interrupted extract resumes.
 *
 * @module
 */

import type { Clock, Logger, Sleep } from "../internal/runtime.js";

/** A request as the bulk layer hands it to the transport (a structural subset of the client's `TransportRequest`). */
export interface BulkTransportRequest {
  /** HTTP method. */
  method: "GET" | "POST";
  /** Always `"bulk"`: the path is resolved against the bulk base URL (`https://{munchkinId}.mktorest.com/bulk`). */
  api: "bulk";
  /** Path under the bulk base, e.g. `/v1/leads/export/create.json`. */
  path: string;
  /** Query parameters (the job list's `status`, `batchSize`, `nextPageToken`). */
  query?: Record<string, string | number | undefined>;
  /** JSON body, for POST. */
  body?: unknown;
  /** `"safe"`: the transport may repeat the call after a transient failure; `"unsafe"`: it must not. */
  retry: "safe" | "unsafe";
  /** Cancels the call. */
  signal?: AbortSignal | undefined;
  /** Extra headers (the download sends `Range`). */
  headers?: Record<string, string>;
}

/** The parts of Marketo's envelope the bulk layer reads. */
export interface BulkEnvelope<T> {
  /** Marketo's request id. */
  requestId?: string | undefined;
  /** Result records. */
  result?: T[] | undefined;
  /** Warnings, as Marketo sent them. */
  warnings?: unknown;
  /** Token of the next page (job lists). */
  nextPageToken?: string | undefined;
}

/**
 * What the bulk API needs from the client's transport: `request()` for the JSON endpoints (limiter → auth → fetch →
 * envelope → retry, throwing typed `MarketoError`s on `success:false`) and `raw()` for the file download (returns the
 * `Response` untouched, 200 or 206). The client's `Transport` satisfies it.
 */
export interface BulkTransport {
  /** Sends a JSON call and returns the parsed envelope; throws a `MarketoError` when Marketo says `success:false`. */
  request<T>(req: BulkTransportRequest): Promise<BulkEnvelope<T>>;
  /** Sends a call and returns the raw response (used for the file download). */
  raw(req: BulkTransportRequest): Promise<Response>;
}

/** One field of the leads describe answer (`GET /rest/v1/leads/describe.json`), as much as the bulk layer reads. */
export interface LeadFieldDescription {
  /** Marketo's field id. */
  id: number;
  /** Name shown in the Marketo UI. */
  displayName: string;
  /** Marketo data type (`string`, `email`, `datetime` ...). */
  dataType: string;
  /** REST usage of the field; fields without it cannot be exported. */
  rest?:
    | {
        /** REST API name: what `fields` takes and what the column header is. */
        name: string;
        /** Whether the API can write the field (irrelevant to exports). */
        readOnly?: boolean | undefined;
      }
    | undefined;
}

/** One activity type (`GET /rest/v1/activities/types.json`), as much as the bulk layer reads. */
export interface ActivityTypeDescription {
  /** Activity type id. */
  id: number;
  /** Activity type name, e.g. `"Visit Webpage"`. */
  name: string;
}

/** Services the client hands to {@link BulkApi}. */
export interface BulkApiDependencies {
  /** Clock for timestamps in logs. @default Date.now */
  clock?: Clock | undefined;
  /** Sleep used between status polls and queue retries; inject a scaled or fake one in tests. */
  sleep?: Sleep | undefined;
  /** Random source for poll jitter, in [0, 1). @default Math.random */
  random?: (() => number) | undefined;
  /** pino-compatible logger. @default silent */
  logger?: Logger | undefined;
  /** Client-wide wait timing of every extract (each extract's options override it). */
  timing?: BulkTimingOptions | undefined;
  /** Returns the leads describe answer; the default field list of a leads extract is built from it. */
  describeLeadFields?: (() => Promise<readonly LeadFieldDescription[]>) | undefined;
  /** Returns the activity types; lets `activityTypes` (names) be used in an activities extract. */
  describeActivityTypes?: (() => Promise<readonly ActivityTypeDescription[]>) | undefined;
}

/** File formats Marketo can export: comma-, tab- and semicolon-separated (`SSV`). */
export type BulkFormat = "CSV" | "TSV" | "SSV";

/**
 * A date range filter. Marketo accepts at most 31 days per job; longer ranges are split into several jobs whose
 * windows tile the range with no gap and no overlap. Both ends are widened to whole seconds (Marketo takes datetimes
 * without milliseconds).
 */
export interface BulkDateRange {
  /** Start of the range (inclusive). */
  startAt: Date | string;
  /** End of the range (inclusive). */
  endAt: Date | string;
}

/** Lead selection: exactly one of these keys, as Marketo allows. */
export type LeadExtractFilter =
  | {
      /** Leads created in this range (split into ≤ 31-day jobs). */
      createdAt: BulkDateRange;
    }
  | {
      /** Leads whose most recent field update falls in this range (split into ≤ 31-day jobs; 1035 → createdAt). */
      updatedAt: BulkDateRange;
    }
  | {
      /** Members of this static list. */
      staticListId: number;
    }
  | {
      /** Members of the static list of this name. */
      staticListName: string;
    }
  | {
      /** Members of this smart list. */
      smartListId: number;
    }
  | {
      /** Members of the smart list of this name. */
      smartListName: string;
    };

/** Parameters of a leads extract. */
export interface LeadExtractParams {
  /** REST field names to export. @default every field of the leads describe that has a REST name */
  fields?: readonly string[] | undefined;
  /** Which leads. A `createdAt`/`updatedAt` range longer than 31 days is split into several jobs. */
  filter: LeadExtractFilter;
  /** File format. @default "CSV" */
  format?: BulkFormat | undefined;
  /** Column header overrides, REST name → header. Row keys are the headers of the file. */
  columnHeaderNames?: Record<string, string> | undefined;
}

/** Activity selection. `createdAt` is required by Marketo. */
export interface ActivityExtractFilter {
  /** Activity creation range; split into ≤ 31-day jobs. */
  createdAt: BulkDateRange;
  /** Only these activity type ids. */
  activityTypeIds?: readonly number[] | undefined;
  /** Only these primary attribute value ids (≤ 50). */
  primaryAttributeValueIds?: readonly number[] | undefined;
  /** Only these primary attribute values (≤ 50). */
  primaryAttributeValues?: readonly string[] | undefined;
}

/** Parameters of an activities extract. */
export interface ActivityExtractParams {
  /** Columns to export (`marketoGUID`, `leadId`, `activityDate` ...). @default Marketo's default column set */
  fields?: readonly string[] | undefined;
  /** Which activities. */
  filter: ActivityExtractFilter;
  /**
   * Activity type names (as `activities/types.json` lists them), resolved to ids and added to
   * `filter.activityTypeIds`. Needs `describeActivityTypes`.
   */
  activityTypes?: readonly string[] | undefined;
  /** File format. @default "CSV" */
  format?: BulkFormat | undefined;
  /** Column header overrides. */
  columnHeaderNames?: Record<string, string> | undefined;
}

/**
 * Status poll timing. Marketo updates a job's status at most once every 60 s and advises never to poll faster; for
 * most jobs every 5 minutes is enough. Each status call counts against the daily API quota.
 */
export interface BulkPollOptions {
  /** Wait after the first status call (made at once) before the next. @default 60_000 */
  initialDelayMs?: number | undefined;
  /** Longest wait between status calls (the interval doubles up to it). @default 300_000 */
  maxDelayMs?: number | undefined;
  /** Give up on one job after this much waiting (summed sleeps). @default 21_600_000 (6 h) */
  timeoutMs?: number | undefined;
}

/**
 * Every wait of a bulk extract: status polls, queue retries, download resumptions. Set client-wide defaults with
 * `new MarketoClient({ bulk: { ... } })` (the simulator's `clientOptions` scales them to its time scale); an extract's
 * own options override them field by field.
 */
export interface BulkTimingOptions {
  /** Status poll timing. */
  poll?: BulkPollOptions | undefined;
  /** Wait between enqueue attempts while Marketo answers 1029 "Too many jobs in queue". @default 60_000 */
  queueRetryDelayMs?: number | undefined;
  /** Give up waiting for a queue slot after this much waiting (summed sleeps). @default 21_600_000 (6 h) */
  queueTimeoutMs?: number | undefined;
  /**
   * First wait before resuming a download that failed without progress; doubles per such failure (with up to 25 %
   * jitter below it), up to `resumeMaxDelayMs`. @default 500
   */
  resumeBaseDelayMs?: number | undefined;
  /** Longest wait before resuming a failed download. @default 30_000 */
  resumeMaxDelayMs?: number | undefined;
}

/** Options of an extract. */
export interface BulkExtractOptions extends BulkTimingOptions {
  /** Cancels the extract (the Marketo jobs keep running; use `extraction.cancel()` to cancel them too). */
  signal?: AbortSignal | undefined;
  /**
   * Resume an extract from the state of an earlier one (`extraction.state()` or `error.state`, possibly through JSON).
   * The state's jobs, fields and format are used; the `params` given to `extract` are then not consulted.
   */
  resumeFrom?: BulkExtractState | undefined;
  /**
   * Jobs prepared ahead of the one being downloaded (created and enqueued so Marketo processes them meanwhile).
   * 1 runs windows strictly one after another. Marketo runs at most 2 jobs at once and queues 10 per instance,
   * shared with every other integration. @default 1
   */
  concurrency?: number | undefined;
  /** Parse the literal unquoted text `null` as `null` (Marketo writes empty values so). @default true */
  nullLiteral?: boolean | undefined;
  /** What to do with NUL bytes inside values: `"strip"` removes them, `"keep"` leaves them. @default "strip" */
  nulBytes?: "strip" | "keep" | undefined;
  /** Consecutive resumptions of a download that bring no new byte before giving up. @default 5 */
  maxResumeAttempts?: number | undefined;
  /**
   * Check the rows parsed against the job's `numberOfRecords` (data rows, header not counted) before releasing the
   * last row. Size and SHA-256 are always checked. @default true
   */
  verifyRecordCount?: boolean | undefined;
  /** Longest window per job in days (Marketo's limit is 31). @default 31 */
  maxWindowDays?: number | undefined;
}

/** One parsed row: column header → value (`null` for Marketo's literal `null`). */
export type BulkRow = Record<string, string | null>;

/** Progress of one job (one window) inside an extract. */
export interface BulkJobState {
  /** The filter sent for this job (the date window, or the list filter). */
  filter: Record<string, unknown>;
  /** Marketo's export id, once the job is created. */
  exportId?: string | undefined;
  /** How far the job got: `pending` (not created), `created`, `enqueued`, `completed` (file ready), `done` (every row delivered). */
  status: "pending" | "created" | "enqueued" | "completed" | "done";
  /**
   * Rows of this job's file already consumed: handed to the consumer, or passed over because they are stamped on the
   * boundary this window shares with the next one (they are delivered by that job). A resume skips them.
   */
  rowsDelivered: number;
  /** Bytes of this job's file received so far in the current download. */
  bytesReceived: number;
  /** `fileSize` Marketo reported, once completed. */
  fileSize?: number | undefined;
  /** `fileChecksum` Marketo reported, once completed. */
  fileChecksum?: string | undefined;
}

/**
 * Where an extract stands: JSON-serialisable; pass it back as `resumeFrom` to continue without repeating delivered
 * rows. Jobs already created are reused (no new export quota is spent on them).
 */
export interface BulkExtractState {
  /** Format version of this object. */
  version: 1;
  /** `leads` or `activities`. */
  object: "leads" | "activities";
  /** Fields sent with every job (`undefined` lets Marketo choose, for activities). */
  fields?: string[] | undefined;
  /** File format. */
  format: BulkFormat;
  /** Column header overrides. */
  columnHeaderNames?: Record<string, string> | undefined;
  /** The jobs, one per window, in delivery order. */
  jobs: BulkJobState[];
  /** Rows delivered over the whole extract. */
  rowsDelivered: number;
  /** Warnings collected so far (e.g. the updatedAt → createdAt fallback). */
  warnings: string[];
}

/** A job's status as Marketo reports it (`status.json`). */
export interface BulkJobStatus {
  /** Export id. */
  exportId: string;
  /** `Created`, `Queued`, `Processing`, `Completed`, `Failed`, `Canceled` (or `Cancelled`). */
  status: string;
  /** File format. */
  format?: string | undefined;
  /** When the job was created. */
  createdAt?: string | undefined;
  /** When it was queued. */
  queuedAt?: string | undefined;
  /** When processing started. */
  startedAt?: string | undefined;
  /** When it finished. */
  finishedAt?: string | undefined;
  /** Records in the file (Completed only). */
  numberOfRecords?: number | undefined;
  /** File size in bytes (Completed only). */
  fileSize?: number | undefined;
  /** SHA-256 of the file, hex (Completed only). */
  fileChecksum?: string | undefined;
  /** Why it failed (Failed only). */
  errorMsg?: string | undefined;
}

/** What {@link BulkApi.exportBytesToday} reports. */
export interface BulkExportUsage {
  /** The US Central day counted, `YYYY-MM-DD`. */
  day: string;
  /** Sum of `fileSize` over this API user's export jobs (leads and activities) completed that day. */
  bytes: number;
  /** How many jobs that is. */
  jobs: number;
}
