/** `YYYY-MM-DD`, the shape of a QAD day (not yet a check that the day exists). @internal */
export const DAY_SHAPE = /^\d{4}-\d{2}-\d{2}$/;

/**
 * True when `date` is a real calendar day written YYYY-MM-DD (not `2026-11-45`, not `2026-02-30`).
 * @internal
 */
export function isCalendarDate(date: unknown): date is string {
  if (typeof date !== "string") return false;
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  if (!m) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const t = new Date(Date.UTC(y, mo - 1, d));
  return t.getUTCFullYear() === y && t.getUTCMonth() === mo - 1 && t.getUTCDate() === d;
}
