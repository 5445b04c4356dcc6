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

const describeValue = (v: unknown): string =>
  v === undefined ? "undefined" : v === null ? "null" : Array.isArray(v) ? "an array" : `a ${typeof v}`;

/**
 * Checks that a method's parameters are a plain object; throws {@link MarketoValidationError} naming the method and
 * the expected shape otherwise (never a `TypeError` from reading a field of `undefined`).
 */
export function assertParams(params: unknown, what: string, shape: string): asserts params is Record<string, unknown> {
  if (typeof params !== "object" || params === null || Array.isArray(params)) {
    throw new MarketoValidationError(
      `${what}: parameters must be an object like ${shape}; got ${describeValue(params)}`,
      {
        issues: ["params: not an object"],
      },
    );
  }
}

/** Checks that per-call options are absent or a plain object. */
export function assertOptions(options: unknown, what: string): void {
  if (options !== undefined && (typeof options !== "object" || options === null || Array.isArray(options))) {
    throw new MarketoValidationError(`${what}: options must be an object when given; got ${describeValue(options)}`, {
      issues: ["options: not an object"],
    });
  }
}

/** Checks that `value` is a non-empty string. */
export function assertNonEmptyString(value: unknown, what: string): asserts value is string {
  if (typeof value !== "string" || value.trim() === "") {
    throw new MarketoValidationError(`${what} must be a non-empty string; got ${describeValue(value)}`, {
      issues: [what],
    });
  }
}
