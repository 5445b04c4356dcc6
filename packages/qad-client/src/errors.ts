/**
 * One error hierarchy for `@ml/qad-client`. Every error carries a stable `code`, a `retryable` flag, the HTTP
 * `status` when there was one, and a redacted request description; none ever carries a secret.
 */

const BRAND = Symbol.for("@ml/qad-client/QadError");

/** Stable machine-readable error codes of `@ml/qad-client`. */
export type QadErrorCode =
  | "config"
  | "unsafe_path"
  | "auth"
  | "permission"
  | "http"
  | "submit"
  | "response_parse"
  | "validation"
  | "paging"
  | "soap_fault"
  | "qxtend"
  | "aborted"
  | "redirect"
  | "too_large";

/** Redacted description of the request that failed: method and URL without credentials or tokens. */
export interface QadRequestInfo {
  /** HTTP method. */
  method: string;
  /** URL with secret-looking query parameters replaced by `[redacted]`. */
  url: string;
}

/** Common constructor options of every {@link QadError}. */
export interface QadErrorOptions {
  /** HTTP status, when the error came from an HTTP answer. */
  status?: number;
  /** Whether retrying the same call may succeed. */
  retryable?: boolean;
  /** Request id from the server (`x-request-id` / `x-qad-request-id`), when any. */
  requestId?: string;
  /** Redacted request description. */
  request?: QadRequestInfo;
  /** The underlying cause. */
  cause?: unknown;
}

const SECRET_KEYS =
  /^(password|pass|pwd|client_secret|clientsecret|secret|access_token|refresh_token|token|authorization|apikey|api_key)$/i;

/**
 * Replaces secret-looking query parameters and userinfo in a URL. Used before a URL goes into an error or a log.
 * @internal
 */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.username || u.password) {
      u.username = "";
      u.password = "";
    }
    for (const key of [...u.searchParams.keys()]) {
      if (SECRET_KEYS.test(key)) u.searchParams.set(key, "[redacted]");
    }
    return u.toString();
  } catch {
    return "[unparseable url]";
  }
}

/**
 * Replaces values under secret-looking keys (password, token, secret...) in a JSON-like value, deeply.
 * @internal
 */
export function redactValue(value: unknown, depth = 0): unknown {
  if (depth > 8) return "[truncated]";
  if (Array.isArray(value)) return value.map((v) => redactValue(v, depth + 1));
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      out[k] = SECRET_KEYS.test(k) || /password|secret|token/i.test(k) ? "[redacted]" : redactValue(v, depth + 1);
    }
    return out;
  }
  return value;
}

/** Base class of every error thrown by `@ml/qad-client`. Check with {@link isQadError}. */
export class QadError extends Error {
  /** Stable machine-readable code. */
  readonly code: QadErrorCode;
  /** Whether retrying the same call may succeed. */
  readonly retryable: boolean;
  /** HTTP status, when any. */
  readonly status?: number;
  /** Server request id, when any. */
  readonly requestId?: string;
  /** Redacted request description, when any. */
  readonly request?: QadRequestInfo;
  constructor(code: QadErrorCode, message: string, options: QadErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "QadError";
    // A brand (not instanceof) so the guard works across the ESM and CJS copies of the package.
    Object.defineProperty(this, BRAND, { value: true, enumerable: false });
    this.code = code;
    this.retryable = options.retryable ?? false;
    if (options.status !== undefined) this.status = options.status;
    if (options.requestId !== undefined) this.requestId = options.requestId;
    if (options.request !== undefined)
      this.request = { method: options.request.method, url: redactUrl(options.request.url) };
  }
}

/** True when `e` is a {@link QadError} from any copy (ESM or CJS) of this package. */
export function isQadError(e: unknown): e is QadError {
  return typeof e === "object" && e !== null && (e as Record<symbol, unknown>)[BRAND] === true;
}

/** Invalid client options: a bad tenant URL, a missing setting, an unsupported protocol. Never retryable. */
export class QadConfigError extends QadError {
  constructor(message: string, options: QadErrorOptions = {}) {
    super("config", message, { ...options, retryable: false });
    this.name = "QadConfigError";
  }
}

/**
 * An entity path (or URL) was refused before any request: traversal, absolute or scheme-relative URL, host switch,
 * or not published by the instance's API description / allow-list.
 */
export class QadUnsafePathError extends QadError {
  /** The refused path, as given. */
  readonly path: string;
  /** Why it was refused. */
  readonly reason: string;
  constructor(path: string, reason: string) {
    super("unsafe_path", `Refused entity path ${JSON.stringify(path.slice(0, 200))}: ${reason}`, { retryable: false });
    this.name = "QadUnsafePathError";
    this.path = path.slice(0, 200);
    this.reason = reason;
  }
}

/** Login or token refresh failed, or a 401 persisted after one renewal. */
export class QadAuthError extends QadError {
  constructor(message: string, options: QadErrorOptions = {}) {
    super("auth", message, { ...options, retryable: options.retryable ?? false });
    this.name = "QadAuthError";
  }
}

/** HTTP 403 or a QAD `errors[]` envelope with code 403 ("Access is denied"). */
export class QadPermissionError extends QadError {
  /** The `errors[]` entries QAD returned, when any. */
  readonly errors: readonly QadEnvelopeError[];
  constructor(message: string, errors: readonly QadEnvelopeError[] = [], options: QadErrorOptions = {}) {
    super("permission", message, { ...options, retryable: false });
    this.name = "QadPermissionError";
    this.errors = errors;
  }
}

/** One entry of QAD's bare `errors[]` envelope. */
export interface QadEnvelopeError {
  /** Severity as QAD sends it (1 = error). */
  severity?: number;
  /** QAD's code, often an HTTP status as a string ("403"). */
  code?: string;
  /** Human-readable message. */
  message: string;
}

/** An HTTP failure other than 401/403 (5xx, 404, 429...), or a bare `errors[]` envelope. 5xx/408/429 are retryable. */
export class QadHttpError extends QadError {
  /** Beginning of the response body (redacted, at most 500 characters). */
  readonly bodySnippet?: string;
  /** The `errors[]` entries QAD returned, when any. */
  readonly errors: readonly QadEnvelopeError[];
  constructor(
    message: string,
    options: QadErrorOptions & { bodySnippet?: string; errors?: readonly QadEnvelopeError[] } = {},
  ) {
    super("http", message, options);
    this.name = "QadHttpError";
    if (options.bodySnippet !== undefined) this.bodySnippet = options.bodySnippet.slice(0, 500);
    this.errors = options.errors ?? [];
  }
}

/**
 * The attempt's one deadline (`timeoutMs`, covering the answer's headers and its whole body) passed: a server that
 * sends headers and then trickles or stops. Retryable, like every timeout.
 */
export class QadTimeoutError extends QadHttpError {
  /** The deadline that passed, in ms. */
  readonly timeoutMs: number;
  constructor(message: string, timeoutMs: number, options: QadErrorOptions = {}) {
    super(message, { ...options, retryable: options.retryable ?? true });
    this.name = "QadTimeoutError";
    this.timeoutMs = timeoutMs;
  }
}

/**
 * The server answered with a redirect the client does not follow: to another origin (never: no body, password or
 * token leaves for another host), or to any URL for a POST (never repeated). Not retryable: fix the tenant URL.
 */
export class QadRedirectError extends QadError {
  /** Origin the redirect pointed to (no path, no query). */
  readonly targetOrigin: string;
  constructor(message: string, targetOrigin: string, options: QadErrorOptions = {}) {
    super("redirect", message, { ...options, retryable: false });
    this.name = "QadRedirectError";
    this.targetOrigin = targetOrigin;
  }
}

/**
 * The answer's body was over the byte limit (`maxResponseBytes`, counted decoded as it streams, so a gzip bomb stops
 * there; or a declared `Content-Length` over it). Reading stopped at the limit. Not retryable.
 */
export class QadResponseTooLargeError extends QadError {
  /** The limit, in bytes. */
  readonly limitBytes: number;
  constructor(message: string, limitBytes: number, options: QadErrorOptions = {}) {
    super("too_large", message, { ...options, retryable: false });
    this.name = "QadResponseTooLargeError";
    this.limitBytes = limitBytes;
  }
}

/** One field error of a `submitResult`. */
export interface QadSubmitFieldError {
  /** The offending field, when QAD names one. */
  fieldName?: string;
  /** Human-readable message. */
  message: string;
}

/** QAD answered HTTP 200 with `submitResult.success: false`. */
export class QadSubmitError extends QadError {
  /** The field errors QAD reported. */
  readonly errors: readonly QadSubmitFieldError[];
  constructor(errors: readonly QadSubmitFieldError[], options: QadErrorOptions = {}) {
    const first = errors[0];
    const summary = first ? `${first.fieldName ? `${first.fieldName}: ` : ""}${first.message}` : "no details";
    super("submit", `QAD rejected the request (submitResult.success=false): ${summary}`, {
      ...options,
      retryable: false,
    });
    this.name = "QadSubmitError";
    this.errors = errors;
  }
}

/** The body was not what was expected: not JSON (an HTML login page, a proxy error) or the wrong shape. */
export class QadResponseParseError extends QadError {
  /** Beginning of the body (at most 500 characters). */
  readonly bodySnippet?: string;
  /** Content-Type of the answer, when any. */
  readonly contentType?: string;
  constructor(message: string, options: QadErrorOptions & { bodySnippet?: string; contentType?: string } = {}) {
    super("response_parse", message, { ...options, retryable: options.retryable ?? false });
    this.name = "QadResponseParseError";
    if (options.bodySnippet !== undefined) this.bodySnippet = options.bodySnippet.slice(0, 500);
    if (options.contentType !== undefined) this.contentType = options.contentType;
  }
}

/** A record failed schema validation (the default of `invalid: "throw"`). */
export class QadValidationError extends QadError {
  /** The issues, as readable strings (`path: message`). */
  readonly issues: readonly string[];
  /** Best-effort key of the record (for customers `sharedSetCode/customerCode`), when readable. */
  readonly key?: string;
  constructor(message: string, issues: readonly string[], key?: string) {
    super("validation", message, { retryable: false });
    this.name = "QadValidationError";
    this.issues = issues;
    if (key !== undefined) this.key = key;
  }
}

/** Paging went wrong: an empty first page contradicted by the total count, or the page cap was hit. */
export class QadPagingError extends QadError {
  /** `empty_first_page` or `page_cap`. */
  readonly reason: "empty_first_page" | "page_cap";
  constructor(reason: "empty_first_page" | "page_cap", message: string, options: QadErrorOptions = {}) {
    super("paging", message, { ...options, retryable: options.retryable ?? reason === "empty_first_page" });
    this.name = "QadPagingError";
    this.reason = reason;
  }
}

/** A SOAP 1.1 Fault from QXtend (a problem found before processing). */
export class QadSoapFaultError extends QadError {
  /** SOAP faultcode (e.g. `soapenv:Server`). */
  readonly faultcode: string;
  /** SOAP faultstring. */
  readonly faultstring: string;
  /**
   * The Fault's `detail` element as text (redacted, at most 1,000 characters), when the server sent one. Absent
   * (not an own property) otherwise.
   */
  declare readonly detail?: string;
  constructor(faultcode: string, faultstring: string, options: QadErrorOptions & { detail?: string } = {}) {
    const { detail, ...rest } = options;
    super("soap_fault", `QXtend SOAP fault ${faultcode}: ${faultstring}`, {
      ...rest,
      retryable: rest.retryable ?? /server/i.test(faultcode),
    });
    this.name = "QadSoapFaultError";
    this.faultcode = faultcode;
    this.faultstring = faultstring;
    if (detail !== undefined) (this as { detail?: string }).detail = detail.slice(0, 1000);
  }
}

/** One `dsExceptions/temp_err_msg` row of a QXtend answer. */
export interface QadQxtendMessage {
  /** tt_msg_nbr. */
  number?: number;
  /** tt_msg_desc. */
  description: string;
  /** tt_msg_sev (e.g. "error", "warning"). */
  severity?: string;
  /** tt_msg_field. */
  field?: string;
  /** tt_msg_data. */
  data?: string;
  /** tt_msg_keys. */
  keys?: string;
}

/** QXtend answered with `result` error (or a warning treated as error) and its exception rows. */
export class QadQxtendError extends QadError {
  /** QXtend `result`: `success`, `warning` or `error`. */
  readonly result: string;
  /** The exception rows. */
  readonly messages: readonly QadQxtendMessage[];
  constructor(result: string, messages: readonly QadQxtendMessage[], options: QadErrorOptions = {}) {
    const first = messages[0];
    super("qxtend", `QXtend returned result=${result}${first ? `: ${first.description}` : ""}`, {
      ...options,
      retryable: options.retryable ?? false,
    });
    this.name = "QadQxtendError";
    this.result = result;
    this.messages = messages;
  }
}

/** The caller's `AbortSignal` cancelled the call. */
export class QadAbortError extends QadError {
  constructor(message = "The operation was aborted", options: QadErrorOptions = {}) {
    super("aborted", message, { ...options, retryable: false });
    this.name = "QadAbortError";
  }
}
