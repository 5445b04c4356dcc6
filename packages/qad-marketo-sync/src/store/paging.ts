/**
 * Checks of paging input shared by every store (memory, SQLite, PostgreSQL), so all three refuse the same values the
 * same way instead of each bending them differently (a `pageSize` of 0 read as 1, a negative `limit` read as "no
 * limit" by SQLite and as 0 elsewhere).
 *
 * @module
 */

import { SyncConfigError } from "../errors.js";

const shown = (v: unknown): string => {
  if (typeof v === "number" || typeof v === "bigint" || typeof v === "boolean") return String(v);
  if (typeof v === "string") return `a string (${JSON.stringify(v.length > 20 ? `${v.slice(0, 20)}…` : v)})`;
  return v === null ? "null" : Array.isArray(v) ? "an array" : `a ${typeof v}`;
};

const refuse = (where: string, path: string, what: string, value: unknown): never => {
  const issues = [{ path, message: `expected ${what}, got ${shown(value)}` }];
  throw new SyncConfigError(`${where}: ${path}: ${issues[0]?.message}`, { issues });
};

/**
 * A query's `limit`: absent, or a whole number ≥ 0 (0 answers nothing).
 * @throws {@link SyncConfigError} for anything else (negative, fractional, NaN, infinite, not a number).
 * @internal
 */
export function checkLimit(where: string, limit: unknown): void {
  if (limit === undefined) return;
  if (typeof limit !== "number" || !Number.isSafeInteger(limit) || limit < 0) {
    refuse(where, "limit", "a whole number ≥ 0 (rows at most)", limit);
  }
}

/**
 * A store's `pageSize` option: absent (then `fallback`), or a whole number ≥ 1.
 * @throws {@link SyncConfigError} for anything else (0, negative, fractional, NaN, infinite, not a number).
 * @internal
 */
export function checkPageSize(where: string, pageSize: unknown, fallback: number): number {
  if (pageSize === undefined) return fallback;
  if (typeof pageSize !== "number" || !Number.isSafeInteger(pageSize) || pageSize < 1) {
    refuse(where, "pageSize", "a whole number ≥ 1 (rows per page)", pageSize);
  }
  return pageSize as number;
}

/**
 * A keyset cursor (`after`): absent, or an object whose `fields` are all strings.
 * @throws {@link SyncConfigError} otherwise.
 * @internal
 */
export function checkCursor(where: string, after: unknown, fields: readonly string[]): void {
  if (after === undefined) return;
  const ok =
    typeof after === "object" &&
    after !== null &&
    fields.every((f) => typeof (after as Record<string, unknown>)[f] === "string");
  if (!ok) refuse(where, "after", `a cursor { ${fields.join(", ")} } of strings`, after);
}
