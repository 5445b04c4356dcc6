/**
 * The few parts of a test framework the contract suites use, typed loosely enough that vitest's and jest's own
 * `describe`, `it` and `expect` fit as they are. The published code never imports a test framework: the caller passes
 * its own.
 *
 * @module
 */

/** The matchers the contract suites use (a subset of vitest's and jest's `expect(value)`). */
export interface ContractMatchers {
  /** `Object.is` equality. */
  toBe(expected: unknown): void;
  /** Deep equality. */
  toEqual(expected: unknown): void;
  /** The value has these properties (recursively), possibly more. */
  toMatchObject(expected: object): void;
  /** `.length` equals `n`. */
  toHaveLength(n: number): void;
  /** The value is `undefined`. */
  toBeUndefined(): void;
  /** The value is not `undefined`. */
  toBeDefined(): void;
  /** The number is greater than `n`. */
  toBeGreaterThan(n: number): void;
  /** The promise rejects with a value matching the expectation. */
  rejects: {
    /** The rejection value has these properties. */
    toMatchObject(expected: object): Promise<unknown>;
  };
}

/**
 * The test API a contract suite registers its tests with: pass `{ describe, it, expect }` from vitest or jest.
 *
 * @example
 * import { describe, expect, it } from "vitest";
 * runAuditStoreContract("mine", (clock) => createMyStore({ clock }), { describe, it, expect });
 */
export interface ContractTestApi {
  /** Groups tests. */
  describe(name: string, body: () => void): void;
  /** One test; the suites' tests are all async. */
  it(name: string, body: () => Promise<void>): void;
  /** Starts an assertion. */
  expect(actual: unknown): ContractMatchers;
}
