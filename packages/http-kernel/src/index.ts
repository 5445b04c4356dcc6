/**
 * `@ml/http-kernel`: the private HTTP layer shared by `@ml/marketo-client` and `@ml/qad-client`, bundled into each
 * client's build (never published, never a runtime dependency).
 *
 * @module
 */
export { causeCodeOf, HttpKernelError, isKernelError, type KernelErrorKind, NOT_SENT_CODES } from "./errors.js";
export {
  type DeadlineTimers,
  type HardenedRequest,
  type HardenedResponse,
  hardenedFetch,
  realTimers,
} from "./fetch.js";
export {
  REDACTION_RULES,
  Redactor,
  type RedactorOptions,
  redactedSnippet,
  redactUrl,
  SNIPPET_WINDOW,
} from "./redact.js";
export {
  type BackoffBounds,
  backoffDelay,
  type Clock,
  type FetchLike,
  type Logger,
  parseRetryAfter,
  realSleep,
  resolveFetch,
  type Sleep,
  seededRandom,
  silentLogger,
  systemClock,
} from "./runtime.js";
