import { MarketoValidationError } from "../errors.js";

/** Checks that `input` is a non-empty array of plain objects; throws {@link MarketoValidationError} otherwise. */
export function assertRecords(input: unknown, what: string): asserts input is Record<string, unknown>[] {
  if (!Array.isArray(input)) {
    throw new MarketoValidationError(`${what}: input must be an array of records`, { issues: ["input: not an array"] });
  }
  const bad = input.findIndex((r) => typeof r !== "object" || r === null || Array.isArray(r));
  if (bad >= 0) {
    throw new MarketoValidationError(`${what}: input[${bad}] is not a record object`, { issues: [`input.${bad}`] });
  }
}

/** Checks a value is one of `allowed`. */
export function assertOneOf<T extends string>(value: unknown, allowed: readonly T[], what: string): asserts value is T {
  if (!allowed.includes(value as T)) {
    throw new MarketoValidationError(`${what} must be one of ${allowed.join(", ")}; got ${JSON.stringify(value)}`, {
      issues: [what],
    });
  }
}
