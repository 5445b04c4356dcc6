const BRAND = Symbol.for("@ml/qad-client/QadInvalidRecord");

/**
 * A source row that failed validation, yielded instead of thrown when a list or poll runs with
 * `invalid: "emit"`, so a sync can reject that one row into its audit trail and carry on.
 */
export class QadInvalidRecord {
  /** Best-effort key of the row (for customers `sharedSetCode/customerCode`, else the document's code). */
  readonly key?: string;
  /** The row as read (canonical shape where the mapping got that far), with secret-looking fields redacted. */
  readonly raw: unknown;
  /** The validation issues as readable strings (`path: message`). */
  readonly issues: readonly string[];

  constructor(raw: unknown, issues: readonly string[], key?: string) {
    Object.defineProperty(this, BRAND, { value: true, enumerable: false });
    this.raw = raw;
    this.issues = issues;
    if (key !== undefined) this.key = key;
  }
}

/** True when `v` is a {@link QadInvalidRecord} from any copy (ESM or CJS) of this package. */
export function isQadInvalidRecord(v: unknown): v is QadInvalidRecord {
  return typeof v === "object" && v !== null && (v as Record<symbol, unknown>)[BRAND] === true;
}
