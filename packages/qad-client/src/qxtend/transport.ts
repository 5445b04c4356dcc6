import { hardenedFetch, isKernelError, redactedSnippet } from "@ml/http-kernel";
import {
  isQadError,
  QadAbortError,
  QadAuthError,
  type QadError,
  QadHttpError,
  QadQxtendError,
  type QadQxtendMessage,
  QadRedirectError,
  type QadRequestInfo,
  QadResponseTooLargeError,
  QadTimeoutError,
} from "../errors.js";
import { type DeadlineTimers, type FetchLike, type Logger, silentLogger } from "../internal/deps.js";
import { type ResolvedRetry, withRetry } from "../internal/retry.js";
import { uuidFrom } from "../internal/uuid.js";
import { findTenantRefusal } from "../network/tenant-policy.js";
import { buildQueryEnvelope, type QxtendQueryRequest } from "./envelope.js";
import { parseQueryResponse, type QxtendFault, type QxtendQueryResponse } from "./response.js";

/** A pino-compatible logger (`debug/info/warn/error(obj, msg?)`); the same shape as the client's {@link Logger}. */
export type QxtendLogger = Logger;

/** Injected environment of the QXtend backend (all required: the client passes its own). */
export interface QxtendDeps {
  /** fetch implementation. */
  fetch: FetchLike;
  /** Clock, ms since epoch. */
  clock: { now(): number };
  /** Sleep used for retry backoff; must reject when `signal` aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  /** Random number in [0, 1): jitter and wsa:MessageID. */
  random(): number;
  /** Pino-compatible logger. */
  logger?: QxtendLogger | undefined;
  /** Timers of the per-request deadline. @default the global ones */
  timers?: DeadlineTimers | undefined;
}

/** What the transport needs from the settings. @internal */
export interface TransportSettings {
  url: string;
  timeoutMs: number;
  /** Largest answer read, in decoded bytes. @default 16 MiB */
  maxResponseBytes?: number;
  retry: ResolvedRetry;
  rowElement: string;
  redact: (text: string) => string;
  isTransientFault: (fault: QxtendFault) => boolean;
  isTransientMessage: (message: QadQxtendMessage) => boolean;
}

/** A page of raw rows with the answer's `result` and its non-error messages. @internal */
export interface QueryOutcome extends QxtendQueryResponse {
  messageId: string;
}

/** A typed error for a failure on the wire, with the kernel's plain summary as cause (never the fetch error). */
function qxtendWireError(e: unknown, request: QadRequestInfo, requestId: string, timeoutMs: number): QadError {
  if (isQadError(e)) return e; // a refusal by the tenant network policy: typed already
  if (!isKernelError(e)) return new QadHttpError("QXtend connection failed", { retryable: true, request, requestId });
  switch (e.kind) {
    case "timeout":
      return new QadTimeoutError("QXtend call timed out", e.limit ?? timeoutMs, { request, requestId, cause: e });
    case "too_large":
      return new QadResponseTooLargeError(
        `QXtend answer is over the limit of ${e.limit} bytes (maxResponseBytes); reading stopped`,
        e.limit ?? 0,
        { request, requestId, cause: e },
      );
    case "redirect":
      return new QadRedirectError(
        `QXtend answered HTTP ${e.status} redirecting to ${e.targetOrigin}; not followed, the envelope was not re-sent (check the url)`,
        e.targetOrigin ?? "unknown",
        { request, requestId, ...(e.status ? { status: e.status } : {}), cause: e },
      );
    default:
      return new QadHttpError(`QXtend connection failed (${e.causeCode ?? "network error"})`, {
        retryable: true,
        request,
        requestId,
        cause: e,
      });
  }
}

function abortReason(signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true;
}

/**
 * One Query Service call with retries: builds the envelope (a fresh wsa:MessageID per attempt), posts it as SOAP 1.1
 * (`text/xml`, `SOAPAction: ""`), parses the answer and turns faults and `result=error` into typed errors. HTTP 5xx,
 * 408, 429, connection errors, timeouts and transient faults/errors are retried; nothing else is.
 * @internal
 */
export async function runQuery(
  build: (messageId: string) => QxtendQueryRequest,
  settings: TransportSettings,
  deps: QxtendDeps,
  signal: AbortSignal | undefined,
  retry = true,
): Promise<QueryOutcome> {
  const request: QadRequestInfo = { method: "POST", url: settings.url };
  const policy = retry ? settings.retry : { ...settings.retry, maxRetries: 0 };
  try {
    return await withRetry(
      async () => {
        const messageId = `urn:uuid:${uuidFrom(deps.random)}`;
        const req = build(messageId);
        const envelope = buildQueryEnvelope(req);
        deps.logger?.debug(
          { profile: req.profile, filter: req.filter, maxRows: req.maxRows, messageId },
          "QXtend query",
        );
        let res: Awaited<ReturnType<typeof hardenedFetch>>;
        let body: string;
        try {
          // The envelope holds the password: the hardened fetch never re-sends it on a redirect (nor follows one to
          // another origin), and one deadline covers the answer's headers and body.
          res = await hardenedFetch({
            url: settings.url,
            method: "POST",
            headers: { "content-type": "text/xml; charset=utf-8", soapaction: '""', accept: "text/xml" },
            body: envelope,
            signal,
            fetch: deps.fetch,
            // Refused by the tenant network policy before connecting: that typed error, as is.
            recognise: findTenantRefusal,
            timeoutMs: settings.timeoutMs,
            maxBodyBytes: settings.maxResponseBytes ?? 16 * 1024 * 1024,
            timers: deps.timers,
          });
          body = await res.text();
        } catch (cause) {
          if (abortReason(signal)) throw new QadAbortError("QXtend call aborted", { request, cause: signal?.reason });
          throw qxtendWireError(cause, request, messageId, settings.timeoutMs);
        }
        const contentType = res.headers.get("content-type") ?? undefined;
        const status = res.status;
        const looksSoap = /<(\w+:)?Envelope[\s>]/.test(body.slice(0, 2000));
        // SOAP 1.1 sends Faults with HTTP 500, so a SOAP body is parsed whatever the status.
        if (!res.ok && !looksSoap) {
          const opts = {
            status,
            request,
            requestId: messageId,
            bodySnippet: redactedSnippet(settings.redact, body, 500),
            retryable: status >= 500 || status === 408 || status === 429,
          };
          if (status === 401) throw new QadAuthError(`QXtend answered HTTP ${status}`, { ...opts, retryable: false });
          throw new QadHttpError(`QXtend answered HTTP ${status}`, opts);
        }
        const parsed = parseQueryResponse(body, {
          rowElement: settings.rowElement,
          redact: settings.redact,
          isTransientFault: settings.isTransientFault,
          status,
          request,
          requestId: messageId,
          ...(contentType === undefined ? {} : { contentType }),
        });
        if (parsed.result === "error") {
          const errors = parsed.messages;
          throw new QadQxtendError(parsed.result, errors, {
            status,
            request,
            requestId: messageId,
            retryable: errors.length > 0 && errors.every(settings.isTransientMessage),
          });
        }
        return { ...parsed, messageId };
      },
      policy,
      { sleep: deps.sleep, random: deps.random, logger: deps.logger ?? silentLogger },
      signal,
      "QXtend query",
    );
  } catch (error) {
    if (abortReason(signal) && !(error instanceof QadAbortError)) {
      throw new QadAbortError("QXtend call aborted", { request, cause: error });
    }
    throw error;
  }
}
