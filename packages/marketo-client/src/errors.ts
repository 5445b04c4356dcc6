/**
 * The one error hierarchy of `@ml/marketo-client`. Every error is a {@link MarketoError} with a string `code`, a
 * `retryable` flag and, where Marketo gave one, a `requestId`. Secrets never reach an error: messages and request
 * descriptions are redacted before the error is constructed.
 *
 * @module
 */

import type { MarketoReason, RecordResult } from "./records.js";

const BRAND = Symbol.for("@ml/marketo-client/error");

/** A redacted description of the request that failed: no headers, no body, secrets removed from the URL. */
export interface RedactedRequest {
  /** HTTP method actually sent. */
  method: string;
  /** URL with `client_secret`, `client_id` values and tokens replaced by `[REDACTED]`. */
  url: string;
}

/** Re-exported from the record types (the bottom layer), where it is declared. */
export type { MarketoReason } from "./records.js";

/** Fields every {@link MarketoError} constructor accepts. */
export interface MarketoErrorOptions {
  /** Machine-readable code: a Marketo code such as `"606"`, or one of this package's codes such as `"CONFIG"`. */
  code: string;
  /** Whether repeating the same call later may succeed. */
  retryable?: boolean;
  /** Marketo's `requestId`, when the answer had one. */
  requestId?: string | undefined;
  /** HTTP status of the answer, when there was one. */
  status?: number | undefined;
  /** The redacted request. */
  request?: RedactedRequest | undefined;
  /** The underlying error. */
  cause?: unknown;
}

/**
 * Base class of every error this package throws. Use {@link isMarketoError} rather than `instanceof` when more than one
 * copy of the package may be loaded (ESM and CJS): the guard checks a brand shared by all copies.
 */
export class MarketoError extends Error {
  /** Machine-readable code (Marketo's code as a string, or one of this package's codes). */
  readonly code: string;
  /** Whether repeating the same call later may succeed. */
  readonly retryable: boolean;
  /** Marketo's `requestId`, when the answer had one. */
  readonly requestId: string | undefined;
  /** HTTP status of the answer, when there was one. */
  readonly status: number | undefined;
  /** The redacted request (no headers, no body, no secrets). */
  readonly request: RedactedRequest | undefined;

  constructor(message: string, options: MarketoErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = options.code;
    this.retryable = options.retryable ?? false;
    this.requestId = options.requestId;
    this.status = options.status;
    this.request = options.request;
    Object.defineProperty(this, BRAND, { value: true, enumerable: false });
  }

  /** A JSON form without the cause chain, safe to log. */
  toJSON(): Record<string, unknown> {
    return {
      name: this.name,
      message: this.message,
      code: this.code,
      retryable: this.retryable,
      requestId: this.requestId,
      status: this.status,
      request: this.request,
    };
  }
}

/**
 * True when `value` is an error thrown by any copy of `@ml/marketo-client`.
 *
 * @example
 * ```ts
 * try { await mk.companies.sync({ input }); } catch (e) { if (isMarketoError(e) && e.retryable) requeue(); }
 * ```
 */
export function isMarketoError(value: unknown): value is MarketoError {
  return typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[BRAND] === true;
}

/** Fields of a failed Marketo envelope (`success: false`). */
export interface MarketoApiErrorOptions extends MarketoErrorOptions {
  /** Every `{code, message}` in the envelope's `errors[]`. */
  errors?: MarketoReason[];
}

/**
 * Marketo answered with `success: false`. `code` is the first error's code, `errors` holds all of them. Subclasses
 * name the cases callers handle differently.
 */
export class MarketoApiError extends MarketoError {
  /** Every error in the envelope. */
  readonly errors: MarketoReason[];
  constructor(message: string, options: MarketoApiErrorOptions) {
    super(message, options);
    this.errors = options.errors ?? [];
  }

  override toJSON(): Record<string, unknown> {
    return { ...super.toJSON(), errors: this.errors };
  }
}

/** Authentication failed: identity answered 401, or 600/601/602 persisted after one token renewal. Code: `"AUTH"` or the Marketo code. */
export class MarketoAuthError extends MarketoError {}

/** The API user lacks permission (603). Not retryable: fix the API role. */
export class MarketoPermissionError extends MarketoApiError {}

/** 606 (calls per window) or 615 (concurrent calls) outlived every retry. Retryable later. */
export class MarketoRateLimitError extends MarketoApiError {}

/**
 * The daily quota is used up: Marketo said 607, or this client stopped itself before the configured ceiling
 * (code `"DAILY_BUDGET"`). Not retryable until the quota resets (00:00 US Central).
 */
export class MarketoQuotaExceededError extends MarketoError {
  /** Calls counted against the daily quota when the error was raised. */
  readonly dailyUsed: number | undefined;
  /** The daily quota the client tracks. */
  readonly dailyLimit: number | undefined;
  constructor(message: string, options: MarketoErrorOptions & { dailyUsed?: number; dailyLimit?: number }) {
    super(message, options);
    this.dailyUsed = options.dailyUsed;
    this.dailyLimit = options.dailyLimit;
  }
}

/** 1018 "CRM Enabled" at response level: a native CRM sync owns this object, so the API cannot write it. */
export class MarketoReadOnlyError extends MarketoApiError {
  /** The object that is read-only (`companies`, `opportunities`, `salesPersons`), when known. */
  readonly object: string | undefined;
  constructor(message: string, options: MarketoApiErrorOptions & { object?: string | undefined }) {
    super(message, options);
    this.object = options.object;
  }
}

/** Marketo rejected the request's parameters or content (605, 609, 610, 612, 613, 7xx, response-level 1xxx). */
export class MarketoInvalidRequestError extends MarketoApiError {}

/** A non-2xx HTTP answer without a usable envelope (413, 414, 502 after retries, 404 ...). Code: `"HTTP_<status>"`. */
export class MarketoHttpError extends MarketoError {
  /** The first characters of the body (redacted), to help diagnose a proxy or edge answer. */
  readonly bodySnippet: string | undefined;
  constructor(message: string, options: MarketoErrorOptions & { bodySnippet?: string | undefined }) {
    super(message, options);
    this.bodySnippet = options.bodySnippet;
  }
}

/** The answer was not the JSON envelope expected: HTML from a proxy, an empty body, or a malformed shape. Code: `"PARSE"`. */
export class MarketoResponseParseError extends MarketoError {
  /** The first characters of the body (redacted). */
  readonly bodySnippet: string | undefined;
  constructor(message: string, options: MarketoErrorOptions & { bodySnippet?: string | undefined }) {
    super(message, options);
    this.bodySnippet = options.bodySnippet;
  }
}

/** The connection failed or timed out before an answer arrived. Code: `"NETWORK"` or `"TIMEOUT"`. */
export class MarketoNetworkError extends MarketoError {}

/**
 * The call's one deadline (headers and body together) passed: a server that sends headers and then trickles or
 * stops. Code: `"TIMEOUT"`. Retryable; the call may have been executed.
 */
export class MarketoTimeoutError extends MarketoNetworkError {
  /** The deadline that passed, in ms. */
  readonly timeoutMs: number | undefined;
  constructor(message: string, options: MarketoErrorOptions & { timeoutMs?: number | undefined }) {
    super(message, options);
    this.timeoutMs = options.timeoutMs;
  }
}

/**
 * The server answered with a redirect the client does not follow: to another origin (never: no body and no token
 * leaves for another host), or to any URL for a write (a write is never repeated). Code: `"REDIRECT"`. Not
 * retryable: fix the base URLs.
 */
export class MarketoRedirectError extends MarketoError {
  /** Origin the redirect pointed to (no path, no query). */
  readonly targetOrigin: string | undefined;
  constructor(message: string, options: MarketoErrorOptions & { targetOrigin?: string | undefined }) {
    super(message, options);
    this.targetOrigin = options.targetOrigin;
  }

  override toJSON(): Record<string, unknown> {
    return { ...super.toJSON(), targetOrigin: this.targetOrigin };
  }
}

/**
 * The answer's body was over the client's byte limit (`maxResponseBytes`, counted decoded as it streams, or a declared
 * `Content-Length` over it); reading stopped there. Code: `"RESPONSE_TOO_LARGE"`. Not retryable.
 */
export class MarketoResponseTooLargeError extends MarketoError {
  /** The limit, in bytes. */
  readonly limitBytes: number | undefined;
  constructor(message: string, options: MarketoErrorOptions & { limitBytes?: number | undefined }) {
    super(message, options);
    this.limitBytes = options.limitBytes;
  }
}

/** The client options are invalid (bad Munchkin ID, missing credentials ...). Raised before any request. Code: `"CONFIG"`. */
export class MarketoConfigError extends MarketoError {}

/** Input given to a method failed validation before any request. Code: `"VALIDATION"`. */
export class MarketoValidationError extends MarketoError {
  /** Human-readable issues, one per problem. */
  readonly issues: string[];
  constructor(message: string, options: Omit<MarketoErrorOptions, "code"> & { code?: string; issues?: string[] }) {
    super(message, { ...options, code: options.code ?? "VALIDATION" });
    this.issues = options.issues ?? [];
  }
}

/**
 * A sync split into several requests where some requests failed (after retries) and others succeeded. Nothing is lost:
 * `partial` holds the results of the records that were processed, `failedIndexes` the input indexes to send again.
 * `code` and `retryable` are those of the first failure, which is also the `cause`.
 */
export class MarketoSyncIncompleteError extends MarketoError {
  /** Results of the records Marketo processed, in input order. */
  readonly partial: {
    results: RecordResult[];
    requestIds: string[];
    warnings: string[];
  };
  /** Input indexes whose request failed. */
  readonly failedIndexes: number[];
  constructor(
    message: string,
    options: MarketoErrorOptions & {
      partial: { results: RecordResult[]; requestIds: string[]; warnings: string[] };
      failedIndexes: number[];
    },
  ) {
    super(message, options);
    this.partial = options.partial;
    this.failedIndexes = options.failedIndexes;
  }
}
