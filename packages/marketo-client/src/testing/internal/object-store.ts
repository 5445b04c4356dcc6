/** The simulator's storage of one object type (companies, named accounts, leads, ...), with Marketo's write rules. */

/** One field of a simulated object type. */
export interface SimField {
  name: string;
  dataType:
    | "string"
    | "email"
    | "integer"
    | "float"
    | "currency"
    | "boolean"
    | "date"
    | "datetime"
    | "text"
    | "phone"
    | "url"
    | "reference";
  length?: number;
  /** Part of the key: never updateable through the API. */
  key?: boolean;
  /** Owned by the CRM when CRM sync is on (leads: company fields). */
  crm?: boolean;
}

/** Static description of a simulated object type. */
export interface SimObjectSpec {
  /** Inspection name, e.g. `companies`. */
  name: string;
  /** Display name in describe. */
  displayName: string;
  idField: "id" | "marketoGUID";
  dedupeFields: string[];
  searchableFields: string[][];
  fields: SimField[];
  /** Reason codes for "already exists" (createOnly) and "not found" (updateOnly/delete). */
  existsCode: string;
  notFoundCode: string;
  /** Fields returned by a read without `fields`. */
  defaultReadFields?: string[];
}

/** A per-record outcome as Marketo reports it. */
export interface SimRecordResult {
  seq: number;
  status: "created" | "updated" | "deleted" | "skipped";
  id?: number;
  marketoGUID?: string;
  reasons?: { code: string; message: string }[];
}

/** Keys are compared trimmed and case-insensitively (inferred from Marketo's behaviour for emails and external ids). */
export function normKey(values: unknown[]): string | undefined {
  if (values.some((v) => v === undefined || v === null || v === "")) return undefined;
  return JSON.stringify(values.map((v) => String(v).trim().toLowerCase()));
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** One object type's records. Records are plain objects; the id field is always present. */
export class ObjectStore {
  readonly spec: SimObjectSpec;
  readonly records = new Map<string, Record<string, unknown>>();
  #nextId = 1;
  #guidSeq = 1;
  readonly #guidPrefix: string;
  /** Accept fields not in the schema (added as strings) instead of answering 1006. */
  strictFields = false;

  constructor(spec: SimObjectSpec, guidPrefix: string) {
    this.spec = spec;
    this.#guidPrefix = guidPrefix;
  }

  #newId(): { key: string; id: number | string } {
    if (this.spec.idField === "id") {
      const id = this.#nextId++;
      return { key: String(id), id };
    }
    const n = this.#guidSeq++;
    const guid = `${this.#guidPrefix}-${n.toString(16).padStart(8, "0")}-0000-4000-8000-${n.toString(16).padStart(12, "0")}`;
    return { key: guid, id: guid };
  }

  field(name: string): SimField | undefined {
    return this.spec.fields.find((f) => f.name === name);
  }

  /** Records whose `fields` match `values` (normalised). */
  findBy(fields: string[], values: unknown[]): Record<string, unknown>[] {
    const want = normKey(values);
    if (want === undefined) return [];
    const out: Record<string, unknown>[] = [];
    for (const r of this.records.values()) {
      if (normKey(fields.map((f) => r[f])) === want) out.push(r);
    }
    return out;
  }

  /** Validates one value; returns a reason for an invalid one. */
  check(name: string, value: unknown): { code: string; message: string } | undefined {
    let f = this.field(name);
    if (!f) {
      if (this.strictFields) return { code: "1006", message: `Field '${name}' not found` };
      f = { name, dataType: "text" };
      this.spec.fields.push(f);
    }
    if (value === null) return undefined;
    switch (f.dataType) {
      case "integer":
        if (!Number.isInteger(typeof value === "string" ? Number(value) : value))
          return { code: "1003", message: `Invalid value for field '${name}'` };
        return undefined;
      case "float":
      case "currency":
        if (typeof value === "boolean" || Number.isNaN(Number(value)))
          return { code: "1003", message: `Invalid value for field '${name}'` };
        return undefined;
      case "boolean":
        if (!(typeof value === "boolean" || value === "true" || value === "false"))
          return { code: "1003", message: `Invalid value for field '${name}'` };
        return undefined;
      case "date":
      case "datetime":
        if (typeof value !== "string" || Number.isNaN(Date.parse(value)))
          return { code: "1003", message: `Invalid date value for field '${name}'` };
        return undefined;
      case "email":
        if (typeof value !== "string" || (value !== "" && !EMAIL.test(value)))
          return { code: "1003", message: `Invalid email address for field '${name}'` };
        return undefined;
      default:
        if (typeof value === "object") return { code: "1003", message: `Invalid value for field '${name}'` };
        if (f.length !== undefined && String(value).length > f.length)
          return { code: "1003", message: `Value for field '${name}' exceeds ${f.length} characters` };
        return undefined;
    }
  }

  /** Inserts a record as-is (seeding); returns the stored record. */
  insert(fields: Record<string, unknown>, now: string): Record<string, unknown> {
    const { key, id } = this.#newId();
    const rec = {
      ...fields,
      [this.spec.idField]: id,
      createdAt: fields.createdAt ?? now,
      updatedAt: fields.updatedAt ?? now,
    };
    this.records.set(key, rec);
    return rec;
  }

  keyOf(rec: Record<string, unknown>): string {
    return String(rec[this.spec.idField]);
  }

  /**
   * Applies one sync record. `lookup` are the fields to match on (dedupe fields, the id field, or a lead lookupField).
   */
  apply(action: string, lookup: string[], input: Record<string, unknown>, seq: number, now: string): SimRecordResult {
    const skip = (code: string, message: string): SimRecordResult => ({
      seq,
      status: "skipped",
      reasons: [{ code, message }],
    });
    const values = lookup.map((f) => input[f]);
    if (normKey(values) === undefined) {
      return skip("1003", `Value for required field '${lookup.join(", ")}' not specified`);
    }
    for (const [name, value] of Object.entries(input)) {
      if (name === this.spec.idField && lookup.includes(name)) continue;
      const bad = this.check(name, value);
      if (bad) return skip(bad.code, bad.message);
    }
    const matches = this.findBy(lookup, values);
    if (matches.length > 1) return skip("1007", "Multiple records match the lookup criteria");
    const existing = matches[0];
    const idOut = (rec: Record<string, unknown>) =>
      this.spec.idField === "id" ? { id: rec.id as number } : { marketoGUID: rec.marketoGUID as string };
    if (existing) {
      if (action === "createOnly") return skip(this.spec.existsCode, `${this.spec.displayName} already exists`);
      for (const [name, value] of Object.entries(input)) {
        if (name === this.spec.idField) continue;
        if (this.field(name)?.key && existing[name] !== undefined) continue;
        existing[name] = value;
      }
      existing.updatedAt = now;
      return { seq, status: "updated", ...idOut(existing) };
    }
    if (action === "updateOnly") return skip(this.spec.notFoundCode, `${this.spec.displayName} not found`);
    if (lookup.includes(this.spec.idField)) return skip(this.spec.notFoundCode, `${this.spec.displayName} not found`);
    const rec = this.insert(input, now);
    return { seq, status: "created", ...idOut(rec) };
  }

  /** Deletes by dedupe fields or id; returns the outcome. */
  remove(by: string[], input: Record<string, unknown>, seq: number): SimRecordResult {
    const matches = this.findBy(
      by,
      by.map((f) => input[f]),
    );
    const rec = matches[0];
    if (!rec)
      return {
        seq,
        status: "skipped",
        reasons: [{ code: this.spec.notFoundCode, message: `${this.spec.displayName} not found` }],
      };
    this.records.delete(this.keyOf(rec));
    return this.spec.idField === "id"
      ? { seq, status: "deleted", id: rec.id as number }
      : { seq, status: "deleted", marketoGUID: rec.marketoGUID as string };
  }

  /** Records sharing a dedupe key with another record (must stay 0). */
  duplicates(): number {
    const seen = new Map<string, number>();
    for (const r of this.records.values()) {
      const k = normKey(this.spec.dedupeFields.map((f) => r[f]));
      if (k !== undefined) seen.set(k, (seen.get(k) ?? 0) + 1);
    }
    let dup = 0;
    for (const n of seen.values()) if (n > 1) dup += n - 1;
    return dup;
  }
}
