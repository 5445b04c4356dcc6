import type { z } from "zod";
import type { EntityKind } from "../backend.js";
import { QadValidationError, redactValue } from "../errors.js";
import { ENTITY_DEFS, type EntityRecordMap, recordKey } from "../records/entities.js";
import { QadInvalidRecord } from "../records/invalid-record.js";

/** What to do with a row that fails validation. `"throw"` (default) or `"emit"` a {@link QadInvalidRecord}. */
export type InvalidRowMode = "throw" | "emit";

/** Readable issue strings: `address.city: Invalid input: expected string, received number`. @internal */
export function formatIssues(issues: readonly z.core.$ZodIssue[]): string[] {
  return issues.map((i) => `${i.path.length ? i.path.map(String).join(".") : "(record)"}: ${i.message}`);
}

/** Validates one row; returns the typed record or a {@link QadInvalidRecord}. @internal */
export function validateRow<K extends EntityKind>(kind: K, raw: unknown): EntityRecordMap[K] | QadInvalidRecord {
  const parsed = ENTITY_DEFS[kind].schema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const key = recordKey(kind, raw);
  return new QadInvalidRecord(redactValue(raw), formatIssues(parsed.error.issues), key);
}

/** Turns an invalid record into the error thrown under `invalid: "throw"`. @internal */
export function toValidationError(kind: EntityKind, bad: QadInvalidRecord): QadValidationError {
  return new QadValidationError(
    `Invalid ${kind} record${bad.key ? ` ${bad.key}` : ""}: ${bad.issues.slice(0, 3).join("; ")}`,
    bad.issues,
    bad.key,
  );
}
