import type { EntityKind } from "../backend.js";
import type { Customer } from "../records/customer.js";
import { customerCodeOf, generateCustomer, instantOf } from "./generate.js";
import { seededRandom } from "./random.js";

/** How {@link QadSimStore.corrupt} breaks a customer row. */
export type CorruptionKind = "missingName" | "missingCustomerCode" | "badLastModified" | "wrongTypes";

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
  row: unknown;
}

/**
 * The simulator's data: canonical customers (entries typed `unknown`, so corrupt rows are possible) and small
 * generated sets of the other documents. Every change stamps `lastModified` from the simulator clock and a new
 * `concurrencyHash`.
 */
export class QadSimStore {
  readonly #entries = new Map<string, Entry>();
  readonly #docs = new Map<Exclude<EntityKind, "customers">, Record<string, unknown>[]>();
  readonly #now: () => number;
  readonly #random: () => number;
  #sorted: readonly unknown[] | undefined;
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
    }
    this.#generateDocuments(options.documents ?? 25);
  }

  /** The simulator clock. */
  now(): Date {
    return new Date(this.#now());
  }

  /** Current customer rows, canonical shape (possibly corrupt), sorted by sharedSetCode then customerCode. */
  customers(): readonly unknown[] {
    if (!this.#sorted) {
      if (!this.#order) {
        // Sort keys computed once per entry, not per comparison: this runs over 100k rows in benchmarks.
        const keyed = [...this.#entries.values()].map((e) => ({ e, k: sortKey(e.row) }));
        keyed.sort((a, b) => (a.k < b.k ? -1 : a.k > b.k ? 1 : 0));
        this.#order = keyed.map((x) => x.e);
      }
      this.#sorted = Object.freeze(this.#order.map((e) => e.row));
    }
    return this.#sorted;
  }

  /** A bumping counter that changes whenever data changes (for cache invalidation). */
  get version(): number {
    return this.#version;
  }

  /** One customer by code (the code it was created with, even if corrupted since). */
  customer(code: string): unknown {
    return this.#entries.get(code)?.row;
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
    this.#changed(true);
    return structuredClone(row);
  }

  /** Changes fields of a customer (stamps lastModified and concurrencyHash). */
  update(code: string, patch: Partial<Customer>): Customer {
    const e = this.#entry(code);
    const row = {
      ...(e.row as Customer),
      ...patch,
      lastModified: instantOf(this.#now()),
      concurrencyHash: this.#hash(),
    };
    e.row = row;
    this.#changed("customerCode" in patch || "sharedSetCode" in patch);
    return structuredClone(row);
  }

  /** Re-saves a customer without changing data (new lastModified and hash, as QAD does on a no-op save). */
  touch(code: string): void {
    const e = this.#entry(code);
    e.row = { ...(e.row as object), lastModified: instantOf(this.#now()), concurrencyHash: this.#hash() };
    this.#changed();
  }

  /** Deletes a customer. */
  remove(code: string): void {
    this.#entry(code);
    this.#entries.delete(code);
    this.#changed(true);
  }

  /** Makes a customer row invalid (stamped as a change so polls pick it up). */
  corrupt(code: string, kind: CorruptionKind = "missingName"): void {
    const e = this.#entry(code);
    const row = { ...(e.row as Record<string, unknown>), concurrencyHash: this.#hash() } as Record<string, unknown>;
    row.lastModified = instantOf(this.#now());
    if (kind === "missingName") delete row.name;
    else if (kind === "missingCustomerCode") delete row.customerCode;
    else if (kind === "badLastModified") row.lastModified = { date: "31/12/2025", time: -1 };
    else row.isActive = "sometimes";
    e.row = row;
    this.#changed(kind === "missingCustomerCode");
  }

  #entry(code: string): Entry {
    const e = this.#entries.get(code);
    if (!e) throw new Error(`No customer ${code} in the simulator`);
    return e;
  }

  #changed(keysChanged = false): void {
    this.#sorted = undefined;
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
