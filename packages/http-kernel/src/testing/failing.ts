/** Failure helpers for tests: get the error a call or an iteration ends with, or fail the test if it does not fail. */

/** Thrown by the helpers here when the code under test did not fail. */
export class ExpectedFailureError extends Error {
  constructor(what: string) {
    super(`expected ${what} to fail, but it succeeded`);
    this.name = "ExpectedFailureError";
  }
}

/**
 * The error a promise rejects with, or a function throws (sync or async). Throws `ExpectedFailureError` when it
 * succeeds, so a test that should see an error can never pass without one.
 */
export async function failure(p: Promise<unknown> | (() => unknown)): Promise<unknown> {
  try {
    await (typeof p === "function" ? p() : p);
  } catch (e) {
    return e;
  }
  throw new ExpectedFailureError(typeof p === "function" ? "the call" : "the promise");
}

/** The error iterating `it` ends with; throws `ExpectedFailureError` when the iteration completes. */
export async function iterationFailure(it: AsyncIterable<unknown>): Promise<unknown> {
  try {
    for await (const _ of it) {
      // drain
    }
  } catch (e) {
    return e;
  }
  throw new ExpectedFailureError("the iteration");
}
