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

/** A `filter=` value the simulator refuses (answered 400, as a strict server would). @internal */
export class SimFilterError extends Error {
  constructor(encoded: string, why: string) {
    super(`bad filter ${JSON.stringify(encoded)}: ${why}`);
    this.name = "SimFilterError";
  }
}

const OPS = new Set(["eq", "cn", "sw", "ew", "gt", "ge", "lt", "le", "rg"]);
const FIELD = /^[A-Za-z_][A-Za-z0-9_.]*$/;

/**
 * The simulator's own reading of QAD's browse filter grammar, written from the wire format (never the client's
 * codec): `field,op,value,literal` and `field,rg,from,literal,to,literal`, parts separated by commas, a comma or a
 * backslash inside a value escaped with a backslash. Strict: a dangling backslash, another escape, a wrong part
 * count, a missing `literal` marker, an unknown operator or field name, or a control character is refused, so a
 * client that escapes a value wrongly gets an error or different rows, never the same answer by luck.
 * @throws {SimFilterError}
 * @internal
 */
export function parseSimFilter(encoded: string): string[] {
  if (/[\u0000-\u001f\u007f]/.test(encoded)) throw new SimFilterError(encoded, "control character");
  const parts: string[] = [];
  let cur = "";
  for (let i = 0; i < encoded.length; i++) {
    const ch = encoded.charAt(i);
    if (ch === "\\") {
      const next = encoded.charAt(i + 1);
      if (next !== "\\" && next !== ",") throw new SimFilterError(encoded, `bad escape at ${i}`);
      cur += next;
      i++;
    } else if (ch === ",") {
      parts.push(cur);
      cur = "";
    } else {
      cur += ch;
    }
  }
  parts.push(cur);
  const [field = "", op = ""] = parts;
  if (!FIELD.test(field)) throw new SimFilterError(encoded, `bad field name ${JSON.stringify(field)}`);
  if (!OPS.has(op)) throw new SimFilterError(encoded, `unknown operator ${JSON.stringify(op)}`);
  const want = op === "rg" ? 6 : 4;
  if (parts.length !== want) throw new SimFilterError(encoded, `${parts.length} parts, ${op} takes ${want}`);
  if (parts[3] !== "literal" || (op === "rg" && parts[5] !== "literal")) {
    throw new SimFilterError(encoded, "value not marked literal");
  }
  return parts;
}

/** Parses `field,op,value,literal` (and `field,rg,from,literal,to,literal`) as the simulator understands it. @internal */
export function compileFilter(encoded: string): SimClause {
  const p = parseSimFilter(encoded);
  const field = p[0] as string;
  const op = p[1] as string;
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
