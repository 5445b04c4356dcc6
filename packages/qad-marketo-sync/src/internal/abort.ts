/**
 * What a cancelled call ends with, whichever layer threw it.
 *
 * @module
 */

/**
 * An error a cancelled call ends with: the platform's `AbortError`, or a client's typed one (`QadAbortError`, code
 * `aborted`; any `*AbortError`), so a graceful stop is a stop, not a failure.
 */
export const isAbort = (e: unknown): boolean => {
  if (typeof e !== "object" || e === null) return false;
  const { name, code } = e as { name?: unknown; code?: unknown };
  return (typeof name === "string" && /AbortError$/.test(name)) || code === "aborted" || code === "ABORT_ERR";
};
