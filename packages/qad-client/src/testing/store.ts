import type { EntityKind } from "../backend.js";
import type { Customer } from "../records/customer.js";
import { customerCodeOf, generateCustomer, instantOf } from "./generate.js";
import { seededRandom } from "./random.js";

/** How {@link QadSimStore.corrupt} breaks a customer row. */
export type CorruptionKind = "missingName" | "missingCustomerCode" | "badLastModified" | "wrongTypes";

/**
 * A customer row made invalid with {@link QadSimStore.corrupt}: the canonical fields, any of which may be missing or
 * of the wrong type. Read its fields as `unknown` and narrow them, or ask {@link QadSimStore.corruptionOf} what
 * was broken.
 */
export type QadSimCorruptRow = { readonly [K in keyof Customer]?: unknown } & { readonly [field: string]: unknown };

/**
 * A customer row as the simulator serves it over REST and QXtend: the canonical {@link Customer}, or a
 * {@link QadSimCorruptRow} for a customer made invalid with {@link QadSimStore.corrupt}. The row carries no marker
 * field; {@link QadSimStore.isValid} tells the two apart by the store's own bookkeeping.
 */
export type QadSimRow = Customer | QadSimCorruptRow;

/** Options of {@link QadSimStore}. */
export interface QadSimStoreOptions {
  /** Number of generated customers. @default 50 */
  customers?: number;
  /** Seed of the generated data. @default 1 */
  seed?: number;
  /** Number of shared sets the customers spread over (SS1, SS2...). @default 1 */
  sharedSets?: number;
  /** Generated rows per other document kind. @default 25 */
  documents?: number;
  /** The simulator clock, ms since epoch. */
  now(): number;
}

interface Entry {
  /** Stable identity, survives corruption of the code. */
  id: string;
  row: QadSimRow;
  /** What {@link QadSimStore.corrupt} broke and no later edit repaired; empty (or absent) for a valid row. */
  corruption?: Set<CorruptionKind>;
}

/** Stored rows that are valid, across every store (rows are replaced on change, never mutated). */
const validRows = new WeakSet<object>();

function isCorruptEntry(e: Entry): boolean {
  return e.corruption !== undefined && e.corruption.size > 0;
}

/**
 * The simulator's data: customers and small generated sets of the other documents. Customers are canonical
 * {@link Customer} rows unless made invalid with {@link QadSimStore.corrupt}; the store tracks which are, so
 * {@link QadSimStore.customers} / {@link QadSimStore.customer} return only valid rows, typed `Customer`, while
 * {@link QadSimStore.rows} / {@link QadSimStore.row} return every row as served ({@link QadSimRow}). Every change stamps `lastModified` from the simulator clock and a new
 * `concurrencyHash`.
 */
export class QadSimStore {
  readonly #entries = new Map<string, Entry>();
  readonly #docs = new Map<Exclude<EntityKind, "customers">, Record<string, unknown>[]>();
  readonly #now: () => number;
  readonly #random: () => number;
  #sorted: readonly QadSimRow[] | undefined;
  #sortedValid: readonly Customer[] | undefined;
  /** Entries in key order; kept across edits that do not change a key. */
  #order: Entry[] | undefined;
  #version = 0;
  #sharedSets: number;

  constructor(options: QadSimStoreOptions) {
    this.#now = options.now;
    this.#random = seededRandom(options.seed ?? 1);
    this.#sharedSets = options.sharedSets ?? 1;
    const n = options.customers ?? 50;
    const now = this.#now();
    for (let i = 1; i <= n; i++) {
      // Spread initial edits over the 30 days before "now", on whole seconds.
      const modifiedAt = now - Math.floor(this.#random() * 30 * 86_400) * 1000 - 1000;
      const c = generateCustomer(i, this.#random, { sharedSets: this.#sharedSets, modifiedAt, hash: this.#hash() });
      this.#entries.set(c.customerCode, { id: c.customerCode, row: c });
      validRows.add(c);
    }
    this.#generateDocuments(options.documents ?? 25);
  }

  /** The simulator clock. */
  now(): Date {
    return new Date(this.#now());
  }

  /**
   * Every customer row as the REST and QXtend faces serve it, corrupt ones included, sorted by sharedSetCode then
   * customerCode. A new array whenever the data changes. Narrow a row with {@link QadSimStore.isValid}.
   */
  rows(): readonly QadSimRow[] {
    if (!this.#sorted) this.#sorted = Object.freeze(this.#ordered().map((e) => e.row));
    return this.#sorted;
  }

  /**
   * The valid customers (every row not made invalid with {@link QadSimStore.corrupt}, or repaired since), in the
   * order of {@link QadSimStore.rows}: what a client's `customers.list()` yields as records.
   */
  customers(): readonly Customer[] {
    if (!this.#sortedValid) {
      this.#sortedValid = Object.freeze(
        this.#ordered()
          .filter((e) => !isCorruptEntry(e))
          .map((e) => e.row as Customer),
      );
    }
    return this.#sortedValid;
  }

  #ordered(): Entry[] {
    if (!this.#order) {
      // Sort keys computed once per entry, not per comparison: this runs over 100k rows in benchmarks.
      const keyed = [...this.#entries.values()].map((e) => ({ e, k: sortKey(e.row) }));
      keyed.sort((a, b) => (a.k < b.k ? -1 : a.k > b.k ? 1 : 0));
      this.#order = keyed.map((x) => x.e);
    }
    return this.#order;
  }

  /** A bumping counter that changes whenever data changes (for cache invalidation). */
  get version(): number {
    return this.#version;
  }

  /**
   * One valid customer by the code it was created with; `undefined` when there is none or it is corrupt (see
   * {@link QadSimStore.row}).
   */
  customer(code: string): Customer | undefined {
    const e = this.#entries.get(code);
    return e && !isCorruptEntry(e) ? (e.row as Customer) : undefined;
  }

  /** One customer row by the code it was created with (even if corrupted since), as served; `undefined` if none. */
  row(code: string): QadSimRow | undefined {
    return this.#entries.get(code)?.row;
  }

  /**
   * What {@link QadSimStore.corrupt} broke in a customer (by the code it was created with) and no later edit
   * repaired, in the order it was broken: empty for a valid customer. Throws if there is no such customer.
   */
  corruptionOf(code: string): readonly CorruptionKind[] {
    return [...(this.#entry(code).corruption ?? [])];
  }

  /**
   * Whether a row returned by {@link QadSimStore.rows} or {@link QadSimStore.row} is a valid customer: narrows it to
   * {@link Customer}, and to {@link QadSimCorruptRow} when false. It recognises the stored row objects by identity
   * (they carry no marker field), so it is false for a corrupt row and for any other object, a copy of a valid row
   * included: the answer never claims more than is known.
   */
  isValid(row: QadSimRow): row is Customer {
    return typeof row === "object" && row !== null && validRows.has(row);
  }

  /** Rows of another document kind (REST field names), sorted by key. */
  documents(kind: Exclude<EntityKind, "customers">): readonly Record<string, unknown>[] {
    return this.#docs.get(kind) ?? [];
  }

  /** Adds a customer; missing fields are generated. Returns the stored row. */
  add(partial: Partial<Customer> = {}): Customer {
    let n = this.#entries.size + 1;
    while (this.#entries.has(customerCodeOf(n))) n++;
    const generated = generateCustomer(n, this.#random, {
      sharedSets: this.#sharedSets,
      modifiedAt: this.#now(),
      hash: this.#hash(),
    });
    const row: Customer = {
      ...generated,
      ...partial,
      lastModified: instantOf(this.#now()),
      concurrencyHash: this.#hash(),
    };
    if (this.#entries.has(row.customerCode)) throw new Error(`Customer ${row.customerCode} exists`);
    this.#entries.set(row.customerCode, { id: row.customerCode, row });
    validRows.add(row);
    this.#changed(true);
    return structuredClone(row);
  }

  /**
   * Changes fields of a customer (stamps lastModified and concurrencyHash) and returns a copy of the stored row. A
   * patch can repair a corrupt row: a string `name` or `customerCode`, a boolean `isActive`, and the new
   * `lastModified` stamp undo `missingName`, `missingCustomerCode`, `wrongTypes` and `badLastModified`; a row still
   * corrupt after the patch stays so (see {@link QadSimStore.corruptionOf}).
   */
  update(code: string, patch: Partial<Customer>): Customer {
    const e = this.#entry(code);
    const row = {
      ...(e.row as Customer),
      ...patch,
      lastModified: instantOf(this.#now()),
      concurrencyHash: this.#hash(),
    };
    const c = e.corruption;
    if (c) {
      c.delete("badLastModified");
      if (typeof patch.name === "string") c.delete("missingName");
      if (typeof patch.customerCode === "string") c.delete("missingCustomerCode");
      if (typeof patch.isActive === "boolean") c.delete("wrongTypes");
    }
    this.#store(e, row);
    this.#changed("customerCode" in patch || "sharedSetCode" in patch);
    return structuredClone(row);
  }

  /**
   * Re-saves a customer without changing data (new lastModified and hash, as QAD does on a no-op save); the new
   * stamp repairs `badLastModified`.
   */
  touch(code: string): void {
    const e = this.#entry(code);
    e.corruption?.delete("badLastModified");
    this.#store(e, { ...e.row, lastModified: instantOf(this.#now()), concurrencyHash: this.#hash() } as QadSimRow);
    this.#changed();
  }

  /** Deletes a customer. */
  remove(code: string): void {
    this.#entry(code);
    this.#entries.delete(code);
    this.#changed(true);
  }

  /**
   * Makes a customer row invalid (stamped as a change so polls pick it up). From then on the customer is left out of
   * {@link QadSimStore.customers} and {@link QadSimStore.customer}, stays in {@link QadSimStore.rows}, and
   * {@link QadSimStore.corruptionOf} lists the kind, until an {@link QadSimStore.update} repairs it.
   */
  corrupt(code: string, kind: CorruptionKind = "missingName"): void {
    const e = this.#entry(code);
    const row: Record<string, unknown> = { ...e.row, concurrencyHash: this.#hash() };
    row.lastModified = instantOf(this.#now());
    if (kind === "missingName") delete row.name;
    else if (kind === "missingCustomerCode") delete row.customerCode;
    else if (kind === "badLastModified") row.lastModified = { date: "31/12/2025", time: -1 };
    else row.isActive = "sometimes";
    e.corruption ??= new Set();
    // Every kind but badLastModified stamps a valid lastModified, which repairs an earlier badLastModified.
    if (kind !== "badLastModified") e.corruption.delete("badLastModified");
    e.corruption.add(kind);
    this.#store(e, row);
    this.#changed(kind === "missingCustomerCode");
  }

  /** Replaces an entry's row, recording whether the new row object is valid. */
  #store(e: Entry, row: QadSimRow): void {
    e.row = row;
    if (!isCorruptEntry(e)) validRows.add(row);
  }

  #entry(code: string): Entry {
    const e = this.#entries.get(code);
    if (!e) throw new Error(`No customer ${code} in the simulator`);
    return e;
  }

  #changed(keysChanged = false): void {
    this.#sorted = undefined;
    this.#sortedValid = undefined;
    if (keysChanged) this.#order = undefined;
    this.#version++;
  }

  #hash(): string {
    return Math.floor(this.#random() * 2 ** 48)
      .toString(36)
      .padStart(10, "0");
  }

  #generateDocuments(n: number): void {
    const r = this.#random;
    const at = () => instantOf(this.#now() - Math.floor(r() * 10 * 86_400) * 1000);
    const stamp = () => {
      const i = at();
      return { lastModifiedDate: i.date, lastModifiedTime: i.time, concurrencyHash: this.#hash() };
    };
    const seq = (p: string, i: number) => `${p}${String(i).padStart(5, "0")}`;
    const rows = (f: (i: number) => Record<string, unknown>) =>
      Array.from({ length: n }, (_, i) => ({ ...f(i + 1), ...stamp() }));
    this.#docs.set(
      "suppliers",
      rows((i) => ({
        supplierCode: seq("S", i),
        sharedSetCode: "SS1",
        businessRelationName: `Supplier ${i} ${i % 4 === 0 ? "Größe GmbH" : "Ltd"}`,
        city: "Chicago",
        countryCode: "US",
        isActive: i % 9 !== 0,
        currencyCode: "USD",
        customShort0: `s${i}`,
      })),
    );
    this.#docs.set(
      "purchaseOrders",
      rows((i) => ({
        purchaseOrderNumber: seq("PO", i),
        supplierCode: seq("S", 1 + (i % n)),
        orderDate: "2026-01-05",
        status: i % 3 === 0 ? "closed" : "open",
        currencyCode: "USD",
        totalAmount: i * 101.5,
      })),
    );
    this.#docs.set(
      "supplierInvoices",
      rows((i) => ({
        invoiceNumber: seq("SI", i),
        supplierCode: seq("S", 1 + (i % n)),
        invoiceDate: "2026-01-10",
        amount: i * 55.25,
        currencyCode: "USD",
        isPaid: i % 2 === 0,
      })),
    );
    this.#docs.set(
      "glAccounts",
      rows((i) => ({
        accountCode: String(1000 + i * 10),
        description: `GL account ${i}`,
        accountType: "BALANCE",
        isActive: true,
      })),
    );
    this.#docs.set(
      "costCenters",
      rows((i) => ({ costCenterCode: seq("CC", i), description: `Cost center ${i}`, isActive: true })),
    );
    this.#docs.set(
      "items",
      rows((i) => ({
        itemCode: seq("IT", i),
        description: `Item ${i}`,
        unitOfMeasure: "EA",
        productLine: "PL1",
        isActive: true,
      })),
    );
    this.#docs.set(
      "goodsReceipts",
      rows((i) => ({
        receiptNumber: seq("GR", i),
        purchaseOrderNumber: seq("PO", i),
        supplierCode: seq("S", 1 + (i % n)),
        receiptDate: "2026-01-12",
        itemCode: seq("IT", i),
        quantity: i,
      })),
    );
  }
}

function sortKey(row: unknown): string {
  const r = (typeof row === "object" && row !== null ? row : {}) as Record<string, unknown>;
  return `${String(r.sharedSetCode ?? "")}\u0000${String(r.customerCode ?? "")}`;
}
