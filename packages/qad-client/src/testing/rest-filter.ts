import { decodeFilter } from "../rest/browse/filter.js";

type Row = Record<string, unknown>;

/** A compiled browse filter clause. @internal */
export interface SimClause {
  field: string;
  op: string;
  /** The (first) value. */
  value: string;
  /** Upper bound of a range. */
  to?: string;
  test(row: Row): boolean;
}

function cmp(a: unknown, b: string): number {
  if (typeof a === "number" && b.trim() !== "" && Number.isFinite(Number(b))) return a - Number(b);
  const s = a === undefined || a === null ? "" : String(a);
  return s < b ? -1 : s > b ? 1 : 0;
}

/** Parses `field,op,value,literal` (and `field,rg,from,literal,to,literal`) as the simulator understands it. @internal */
export function compileFilter(encoded: string): SimClause {
  const p = decodeFilter(encoded);
  const [field, op] = p;
  if (!field || !op) throw new Error(`bad filter ${encoded}`);
  const v = p[2] ?? "";
  const c = (test: (r: Row) => boolean, to?: string): SimClause => ({
    field,
    op,
    value: v,
    ...(to !== undefined ? { to } : {}),
    test,
  });
  const lower = v.toLowerCase();
  const str = (x: unknown) => (x === undefined || x === null ? "" : String(x)).toLowerCase();
  switch (op) {
    case "eq":
      return c((r) => cmp(r[field], v) === 0);
    case "cn":
      return c((r) => str(r[field]).includes(lower));
    case "sw":
      return c((r) => str(r[field]).startsWith(lower));
    case "ew":
      return c((r) => str(r[field]).endsWith(lower));
    case "gt":
      return c((r) => r[field] !== undefined && cmp(r[field], v) > 0);
    case "ge":
      return c((r) => r[field] !== undefined && cmp(r[field], v) >= 0);
    case "lt":
      return c((r) => r[field] !== undefined && cmp(r[field], v) < 0);
    case "le":
      return c((r) => r[field] !== undefined && cmp(r[field], v) <= 0);
    case "rg": {
      const to = p[4] ?? "";
      return c((r) => r[field] !== undefined && cmp(r[field], v) >= 0 && cmp(r[field], to) <= 0);
    }
    default:
      throw new Error(`unknown filter operator ${op}`);
  }
}
