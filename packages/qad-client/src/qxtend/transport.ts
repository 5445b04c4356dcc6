import {
  QadAbortError,
  QadAuthError,
  QadHttpError,
  QadQxtendError,
  type QadQxtendMessage,
  type QadRequestInfo,
} from "../errors.js";
import { buildQueryEnvelope, type QxtendQueryRequest } from "./envelope.js";
import { type RetryPolicy, withRetry } from "./internal/retry.js";
import { parseQueryResponse, type QxtendFault, type QxtendQueryResponse } from "./response.js";

/** A pino-compatible logger (`debug/info/warn/error(obj, msg?)`). */
export interface QxtendLogger {
  /** Debug-level record. */
  debug(obj: object, msg?: string): void;
  /** Info-level record. */
  info(obj: object, msg?: string): void;
  /** Warn-level record. */
  warn(obj: object, msg?: string): void;
  /** Error-level record. */
  error(obj: object, msg?: string): void;
}

/** Injected environment of the QXtend backend (all required: the client passes its own). */
export interface QxtendDeps {
  /** fetch implementation. */
  fetch: typeof fetch;
  /** Clock, ms since epoch. */
  clock: { now(): number };
  /** Sleep used for retry backoff; must reject when `signal` aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  /** Random number in [0, 1): jitter and wsa:MessageID. */
  random(): number;
  /** Pino-compatible logger. */
  logger?: QxtendLogger | undefined;
}

/** What the transport needs from the settings. @internal */
export interface TransportSettings {
  url: string;
  timeoutMs: number;
  retry: RetryPolicy;
  rowElement: string;
  redact: (text: string) => string;
  isTransientFault: (fault: QxtendFault) => boolean;
  isTransientMessage: (message: QadQxtendMessage) => boolean;
}

/** A page of raw rows with the answer's `result` and its non-error messages. @internal */
export interface QueryOutcome extends QxtendQueryResponse {
  messageId: string;
}

/** RFC 4122 v4 UUID from the injected random source, so message ids are reproducible in tests. @internal */
export function uuidFromRandom(random: () => number): string {
  const b = Array.from({ length: 16 }, () => Math.floor(random() * 256) & 0xff);
  b[6] = (b[6]! & 0x0f) | 0x40;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = b.map((x) => x.toString(16).padStart(2, "0")).join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
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
        const messageId = `urn:uuid:${uuidFromRandom(deps.random)}`;
        const req = build(messageId);
        const envelope = buildQueryEnvelope(req);
        deps.logger?.debug(
          { profile: req.profile, filter: req.filter, maxRows: req.maxRows, messageId },
          "QXtend query",
        );
        const timeout = AbortSignal.timeout(settings.timeoutMs);
        const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;
        let res: Response;
        let body: string;
        try {
          res = await deps.fetch(settings.url, {
            method: "POST",
            headers: { "content-type": "text/xml; charset=utf-8", soapaction: '""', accept: "text/xml" },
            body: envelope,
            signal: combined,
          });
          body = await res.text();
        } catch (cause) {
          if (abortReason(signal)) throw new QadAbortError("QXtend call aborted", { request, cause });
          const timedOut = timeout.aborted;
          throw new QadHttpError(timedOut ? "QXtend call timed out" : "QXtend connection failed", {
            retryable: true,
            request,
            requestId: messageId,
            cause,
          });
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
            bodySnippet: settings.redact(body.slice(0, 500)),
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
      deps,
      signal,
      "query",
    );
  } catch (error) {
    if (abortReason(signal) && !(error instanceof QadAbortError)) {
      throw new QadAbortError("QXtend call aborted", { request, cause: error });
    }
    throw error;
  }
}
