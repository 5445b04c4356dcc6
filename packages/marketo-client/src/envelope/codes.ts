/**
 * The written retry policy: how each Marketo code is handled. One table, used by the transport and documented in the
 * README ("Errors" and "Retries and rate limits").
 *
 * @module
 */

/** How the transport reacts to an error code. */
export type CodeAction =
  /** 600/601/602: renew the token and repeat the call once. */
  | "renew"
  /** 606/615: set the shared pause gate, then retry. */
  | "rate-limit"
  /** 607: daily quota reached; stop. */
  | "quota"
  /** Transient server trouble: retry with backoff. */
  | "transient"
  /** 1018: read-only (CRM sync). */
  | "read-only"
  /** 603: access denied. */
  | "permission"
  /** Anything else: fail fast. */
  | "fatal";

const TABLE: Record<string, CodeAction> = {
  "600": "renew",
  "601": "renew",
  "602": "renew",
  "603": "permission",
  "604": "transient",
  "606": "rate-limit",
  "607": "quota",
  "608": "transient",
  "611": "transient",
  "614": "transient",
  "615": "rate-limit",
  "713": "transient",
  "719": "transient",
  "1016": "transient",
  "1019": "transient",
  "1018": "read-only",
};

/** The action for a Marketo error code (string or number on the wire). */
export function actionFor(code: string | number): CodeAction {
  return TABLE[String(code)] ?? "fatal";
}
