import { QadConfigError } from "../../errors.js";

/** Comparison operators of QAD's browse filter grammar. */
export type FilterOp = "eq" | "cn" | "sw" | "ew" | "gt" | "ge" | "lt" | "le";

/** A filter value: strings are escaped, dates become `YYYY-MM-DD`. */
export type FilterValue = string | number | boolean | Date;

/** One browse filter clause; build with {@link where}. */
export type BrowseFilter =
  | { readonly field: string; readonly op: FilterOp; readonly value: FilterValue }
  | { readonly field: string; readonly op: "rg"; readonly from: FilterValue; readonly to: FilterValue };

const FIELD = /^[A-Za-z_][A-Za-z0-9_.]*$/;

function checkField(field: string): string {
  if (!FIELD.test(field)) throw new QadConfigError(`Invalid browse filter field name ${JSON.stringify(field)}`);
  return field;
}

/**
 * Escapes a value for the `field,op,value,literal` grammar: backslash and comma are backslash-escaped so a value
 * can never add a clause or change the operator; control characters are refused.
 * @internal
 */
export function escapeFilterValue(value: FilterValue): string {
  let s: string;
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) throw new QadConfigError("Invalid Date in browse filter");
    s = value.toISOString().slice(0, 10);
  } else if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new QadConfigError("Non-finite number in browse filter");
    s = String(value);
  } else if (typeof value === "boolean") {
    s = value ? "true" : "false";
  } else if (typeof value === "string") {
    s = value;
  } else {
    throw new QadConfigError("Browse filter values must be strings, numbers, booleans or Dates");
  }
  if (/[\u0000-\u001f\u007f]/.test(s)) throw new QadConfigError("Control characters are not allowed in filter values");
  return s.replace(/\\/g, "\\\\").replace(/,/g, "\\,");
}

/**
 * Builds typed browse filter clauses.
 * @example
 * where("lastModifiedDate").ge("2026-01-05")      // lastModifiedDate,ge,2026-01-05,literal
 * where("customerCode").range("C000", "C999")      // customerCode,rg,C000,literal,C999,literal
 * where("name").cn("Smith, Jones")                 // name,cn,Smith\, Jones,literal
 */
export function where(field: string) {
  const f = checkField(field);
  const op =
    (o: FilterOp) =>
    (value: FilterValue): BrowseFilter => {
      escapeFilterValue(value);
      return { field: f, op: o, value };
    };
  return {
    /** equals */ eq: op("eq"),
    /** contains */ cn: op("cn"),
    /** starts with */ sw: op("sw"),
    /** ends with */ ew: op("ew"),
    /** greater than */ gt: op("gt"),
    /** greater or equal */ ge: op("ge"),
    /** less than */ lt: op("lt"),
    /** less or equal */ le: op("le"),
    /** inclusive range */
    range: (from: FilterValue, to: FilterValue): BrowseFilter => {
      escapeFilterValue(from);
      escapeFilterValue(to);
      return { field: f, op: "rg", from, to };
    },
  };
}

/** Encodes one clause as the `filter=` parameter value. */
export function encodeFilter(clause: BrowseFilter): string {
  const field = checkField(clause.field);
  if (clause.op === "rg") {
    return `${field},rg,${escapeFilterValue(clause.from)},literal,${escapeFilterValue(clause.to)},literal`;
  }
  return `${field},${clause.op},${escapeFilterValue(clause.value)},literal`;
}

/**
 * Splits an encoded clause back into its parts, honouring the escapes (used by the simulator).
 * @internal
 */
export function decodeFilter(encoded: string): string[] {
  const parts: string[] = [];
  let cur = "";
  for (let i = 0; i < encoded.length; i++) {
    const ch = encoded[i]!;
    if (ch === "\\" && i + 1 < encoded.length) {
      cur += encoded[++i];
    } else if (ch === ",") {
      parts.push(cur);
      cur = "";
    } else {
      cur += ch;
    }
  }
  parts.push(cur);
  return parts;
}
