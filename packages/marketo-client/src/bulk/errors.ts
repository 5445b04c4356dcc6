/**
 * Errors of the bulk extract. Each carries, where an extract was running, the {@link BulkExtractState} to resume
 * from: rows already yielded stay yielded, and a resume skips them.
 *
 * @module
 */

import { MarketoError, type MarketoErrorOptions } from "../errors.js";
import type { BulkExtractState } from "./types.js";

/** Options shared by every bulk error. */
export interface MarketoBulkErrorOptions extends MarketoErrorOptions {
  /** Where the extract stood when the error was raised. */
  state?: BulkExtractState | undefined;
  /** The export job concerned, when there is one. */
  exportId?: string | undefined;
}

/** Base of the bulk extract errors. `state`, when present, resumes the extract (`resumeFrom`). */
export class MarketoBulkError extends MarketoError {
  /** Where the extract stood: pass it as `resumeFrom` to continue without repeating delivered rows. */
  readonly state: BulkExtractState | undefined;
  /** The export job concerned, when there is one. */
  readonly exportId: string | undefined;
  constructor(message: string, options: MarketoBulkErrorOptions) {
    super(message, options);
    this.state = options.state;
    this.exportId = options.exportId;
  }

  override toJSON(): Record<string, unknown> {
    return { ...super.toJSON(), exportId: this.exportId };
  }
}

/**
 * Marketo answered 1029 "Export daily quota exceeded" (500 MB of export files a day per instance). Code `"1029"`.
 * Not retryable until the quota resets (00:00 US Central, `resetsAt`): keep `state` and resume then.
 */
export class MarketoBulkQuotaError extends MarketoBulkError {
  /** When the quota resets: the next 00:00 in America/Chicago after the error, by the client's clock. */
  readonly resetsAt: Date | undefined;
  constructor(message: string, options: MarketoBulkErrorOptions & { resetsAt?: Date | undefined }) {
    super(message, options);
    this.resetsAt = options.resetsAt;
  }

  override toJSON(): Record<string, unknown> {
    return { ...super.toJSON(), resetsAt: this.resetsAt?.toISOString() };
  }
}

/** The export job ended `Failed` (code `"BULK_JOB_FAILED"`, `errorMsg` in the message) or `Canceled` (code `"BULK_JOB_CANCELED"`). */
export class MarketoBulkJobFailedError extends MarketoBulkError {
  /** The status Marketo reported (`Failed`, `Canceled`, `Cancelled`). */
  readonly jobStatus: string;
  constructor(message: string, options: MarketoBulkErrorOptions & { jobStatus: string }) {
    super(message, options);
    this.jobStatus = options.jobStatus;
  }
}

/** A job did not complete (or a queue slot did not free) within the configured time. Code `"BULK_TIMEOUT"`, retryable. */
export class MarketoBulkTimeoutError extends MarketoBulkError {}

/**
 * The downloaded file does not match what Marketo announced: SHA-256 differs from `fileChecksum` (code
 * `"BULK_CHECKSUM"`) or the byte count differs from `fileSize` (code `"BULK_SIZE"`). Rows yielded before the end of the
 * file stay yielded: the whole file can only be verified once it has been read.
 */
export class MarketoChecksumError extends MarketoBulkError {
  /** What Marketo announced (hex SHA-256, or byte count as text). */
  readonly expected: string;
  /** What was received. */
  readonly actual: string;
  constructor(message: string, options: MarketoBulkErrorOptions & { expected: string; actual: string }) {
    super(message, options);
    this.expected = options.expected;
    this.actual = options.actual;
  }
}

/**
 * The file is truncated or is not valid CSV/TSV/SSV: an unclosed quote, a row with the wrong column count, fewer rows
 * than `numberOfRecords`, or the server had no more bytes to give (code `"BULK_TRUNCATED"`) / csv-parse's code, e.g.
 * `"CSV_QUOTE_NOT_CLOSED"`. The incomplete last row is never yielded.
 */
export class MarketoCsvError extends MarketoBulkError {
  /** 1-based line of the file where parsing stopped, when known. */
  readonly line: number | undefined;
  constructor(message: string, options: MarketoBulkErrorOptions & { line?: number | undefined }) {
    super(message, options);
    this.line = options.line;
  }
}

/**
 * The download broke off and could not be resumed within `maxResumeAttempts` (code `"BULK_DOWNLOAD"`, retryable), or
 * the file of a completed job keeps answering 404 because Marketo's 7-day retention is over (code
 * `"BULK_FILE_GONE"`, not retryable; a resume from `state` creates a new job for the window when none of its rows
 * were delivered).
 */
export class MarketoBulkDownloadError extends MarketoBulkError {}

/** Records where the extract stood on an error raised below the extract loop (internal). */
export function attachState(err: MarketoBulkError, state: BulkExtractState): void {
  (err as { state: BulkExtractState | undefined }).state = state;
}
