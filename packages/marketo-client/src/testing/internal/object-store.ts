/** The simulator's storage of one object type (companies, named accounts, leads, ...), with Marketo's write rules. */

/** Data types a simulated field can have (as describe reports them). */
export type SimFieldType =
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

/** One field of a simulated object type. */
export interface SimField {
  name: string;
  dataType: SimFieldType;
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

/** Bucket key of records lacking a value in one of an index's fields (`normKey` is `undefined` for them). */
const NO_KEY = "\u0000none";

/**
 * Records grouped by their normalised value of one field tuple, kept in step with every insert, update and delete, so
 * a lookup costs O(1) plus the matches instead of a scan of every record. `dupes` counts records sharing a (defined)
 * key with an earlier one, which is what inspection reports as duplicates.
 */
class FieldIndex {
  readonly fields: string[];
  readonly buckets = new Map<string, Set<Record<string, unknown>>>();
  dupes = 0;

  constructor(fields: string[]) {
    this.fields = fields;
  }

  keyOf(rec: Record<string, unknown>): string {
    return normKey(this.fields.map((f) => rec[f])) ?? NO_KEY;
  }

  add(rec: Record<string, unknown>, key = this.keyOf(rec)): void {
    let bucket = this.buckets.get(key);
    if (!bucket) {
      bucket = new Set();
      this.buckets.set(key, bucket);
    }
    if (bucket.size > 0 && key !== NO_KEY) this.dupes++;
    bucket.add(rec);
  }

  delete(rec: Record<string, unknown>, key = this.keyOf(rec)): void {
    const bucket = this.buckets.get(key);
    if (!bucket?.delete(rec)) return;
    if (bucket.size > 0 && key !== NO_KEY) this.dupes--;
    if (bucket.size === 0) this.buckets.delete(key);
  }
}

/**
 * One object type's records. Records are plain objects; the id field is always present. Lookups go through indexes
 * (one per field tuple asked for, built on first use, the dedupe fields always), maintained on every write, so a sync
 * or read by filter costs O(1) per record whatever the number of records stored.
 */
export class ObjectStore {
  readonly spec: SimObjectSpec;
  readonly #records = new Map<string, Record<string, unknown>>();
  /** Insertion order of each record: several matches come back in it, as a scan of `#records` returned them. */
  readonly #order = new WeakMap<Record<string, unknown>, number>();
  #inserted = 0;
  readonly #indexes = new Map<string, FieldIndex>();
  readonly #dedupe: FieldIndex;
  #nextId = 1;
  #guidSeq = 1;
  readonly #guidPrefix: string;
  /** Accept fields not in the schema (added as strings) instead of answering 1006. */
  strictFields = false;

  constructor(spec: SimObjectSpec, guidPrefix: string) {
    this.spec = spec;
    this.#guidPrefix = guidPrefix;
    this.#dedupe = this.#index(spec.dedupeFields);
  }

  /** Stored records by id (read-only: writes go through `insert`, `apply`, `remove` and `clear`, which keep the indexes). */
  get records(): ReadonlyMap<string, Record<string, unknown>> {
    return this.#records;
  }

  /** The index of a field tuple, built from the stored records on first use. */
  #index(fields: string[]): FieldIndex {
    const name = JSON.stringify(fields);
    let index = this.#indexes.get(name);
    if (!index) {
      index = new FieldIndex(fields);
      for (const r of this.#records.values()) index.add(r);
      this.#indexes.set(name, index);
    }
    return index;
  }

  #sorted(recs: Iterable<Record<string, unknown>>): Record<string, unknown>[] {
    const out = [...recs];
    if (out.length > 1) out.sort((a, b) => this.#order.get(a)! - this.#order.get(b)!);
    return out;
  }

  /** Removes every record. */
  clear(): void {
    this.#records.clear();
    for (const index of this.#indexes.values()) {
      index.buckets.clear();
      index.dupes = 0;
    }
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

  /** Records whose `fields` match `values` (normalised), in insertion order. */
  findBy(fields: string[], values: unknown[]): Record<string, unknown>[] {
    const want = normKey(values);
    if (want === undefined) return [];
    return this.#sorted(this.#index(fields).buckets.get(want) ?? []);
  }

  /**
   * Records whose `fields` have any of the normalised `keys` (as `normKey` gives them; `undefined` matches records
   * lacking one of the fields), in insertion order.
   */
  findByKeys(fields: string[], keys: Iterable<string | undefined>): Record<string, unknown>[] {
    const index = this.#index(fields);
    const hits = new Set<Record<string, unknown>>();
    for (const k of new Set(keys)) for (const r of index.buckets.get(k ?? NO_KEY) ?? []) hits.add(r);
    return this.#sorted(hits);
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

  /**
   * The id of a record being seeded: the one given (kept, and the id counter moved past it, so later creates never
   * reuse it) or a new one when none is given.
   */
  #seedId(given: unknown): { key: string; id: number | string } {
    if (given === undefined || given === null || given === "") return this.#newId();
    const what = `${this.spec.displayName} ${this.spec.idField}`;
    let key: string;
    let id: number | string;
    if (this.spec.idField === "id") {
      const n = typeof given === "string" && /^\d+$/.test(given.trim()) ? Number(given) : given;
      if (typeof n !== "number" || !Number.isSafeInteger(n) || n < 1) {
        throw new RangeError(`${what} must be a positive integer, got ${JSON.stringify(given)}`);
      }
      key = String(n);
      id = n;
      if (this.#records.has(key)) throw new RangeError(`${what} ${key} is already stored`);
      if (n >= this.#nextId) this.#nextId = n + 1;
    } else {
      if (typeof given !== "string") throw new RangeError(`${what} must be a string, got ${JSON.stringify(given)}`);
      key = given;
      id = given;
      if (this.#records.has(key)) throw new RangeError(`${what} ${key} is already stored`);
      // A GUID of the shape this store generates carries its sequence number: continue after it.
      const m = /^(.+)-[0-9a-f]{8}-0000-4000-8000-([0-9a-f]{12})$/.exec(given);
      if (m && m[1] === this.#guidPrefix) {
        const n = Number.parseInt(m[2]!, 16);
        if (n >= this.#guidSeq) this.#guidSeq = n + 1;
      }
    }
    return { key, id };
  }

  /**
   * Inserts a record as-is (seeding, or restoring a snapshot of `all()`); returns the stored record. An id (or
   * `marketoGUID`) given in `fields` is kept and later creates are numbered after it; a missing one is assigned.
   * `createdAt` and `updatedAt` are kept when given.
   *
   * @throws RangeError when the given id is malformed or already stored.
   */
  insert(fields: Record<string, unknown>, now: string): Record<string, unknown> {
    const { key, id } = this.#seedId(fields[this.spec.idField]);
    const rec = {
      ...fields,
      [this.spec.idField]: id,
      createdAt: fields.createdAt ?? now,
      updatedAt: fields.updatedAt ?? now,
    };
    this.#records.set(key, rec);
    this.#order.set(rec, this.#inserted++);
    for (const index of this.#indexes.values()) index.add(rec);
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
      // An update can change an indexed field (a lead's email when looked up by id): re-file the record under its new keys.
      const before = [...this.#indexes.values()].map((index) => index.keyOf(existing));
      for (const [name, value] of Object.entries(input)) {
        if (name === this.spec.idField) continue;
        if (this.field(name)?.key && existing[name] !== undefined) continue;
        existing[name] = value;
      }
      existing.updatedAt = now;
      let i = 0;
      for (const index of this.#indexes.values()) {
        const was = before[i++]!;
        const is = index.keyOf(existing);
        if (was !== is) {
          index.delete(existing, was);
          index.add(existing, is);
        }
      }
      return { seq, status: "updated", ...idOut(existing) };
    }
    if (action === "updateOnly") return skip(this.spec.notFoundCode, `${this.spec.displayName} not found`);
    if (lookup.includes(this.spec.idField)) return skip(this.spec.notFoundCode, `${this.spec.displayName} not found`);
    // A create never takes its id from the caller (Marketo assigns it); only seeding keeps a given one.
    const { [this.spec.idField]: _callerId, ...fields } = input;
    const rec = this.insert(fields, now);
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
    this.#records.delete(this.keyOf(rec));
    for (const index of this.#indexes.values()) index.delete(rec);
    return this.spec.idField === "id"
      ? { seq, status: "deleted", id: rec.id as number }
      : { seq, status: "deleted", marketoGUID: rec.marketoGUID as string };
  }

  /** Records sharing a dedupe key with another record (must stay 0); a counter kept by the dedupe index. */
  duplicates(): number {
    return this.#dedupe.dupes;
  }
}
