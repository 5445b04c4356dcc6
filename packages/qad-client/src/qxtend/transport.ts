import { type Logger, silentLogger } from "../deps.js";
import {
  QadAbortError,
  QadAuthError,
  QadHttpError,
  QadQxtendError,
  type QadQxtendMessage,
  type QadRequestInfo,
} from "../errors.js";
import { uuidFrom } from "../internal/uuid.js";
import { type ResolvedRetry, withRetry } from "../retry.js";
import { buildQueryEnvelope, type QxtendQueryRequest } from "./envelope.js";
import { parseQueryResponse, type QxtendFault, type QxtendQueryResponse } from "./response.js";

/** A pino-compatible logger (`debug/info/warn/error(obj, msg?)`); the same shape as the client's {@link Logger}. */
export type QxtendLogger = Logger;

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
