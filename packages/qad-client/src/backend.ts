/**
 * The seam between a wire protocol (REST or QXtend SOAP) and everything protocol-independent above it: validation,
 * incremental polling, de-duplication, invalid-row handling and the resource API.
 */

/** The business documents the client reads. */
export type EntityKind =
  | "customers"
  | "suppliers"
  | "purchaseOrders"
  | "supplierInvoices"
  | "glAccounts"
  | "costCenters"
  | "items"
  | "goodsReceipts";

/** Every {@link EntityKind}, in a stable order. */
export const ENTITY_KINDS: readonly EntityKind[] = [
  "customers",
  "suppliers",
  "purchaseOrders",
  "supplierInvoices",
  "glAccounts",
  "costCenters",
  "items",
  "goodsReceipts",
];

/** One read request handed to a backend. */
export interface PageRequest {
  /** Only records modified at/after this day (YYYY-MM-DD) and time of day (seconds since midnight). */
  modifiedSince?: { date: string; time: number };
  /** Rows per page. */
  pageSize: number;
  /** Cancels the read. */
  signal?: AbortSignal;
}

/** A wire protocol that can read pages of business documents. */
export interface QadBackend {
  /** Which protocol this backend speaks. */
  readonly protocol: "rest" | "qxtend";
  /**
   * Pages of canonical-shaped but unvalidated records (for customers: the Customer shape of records/customer.ts),
   * ordered by key, each modified at/after modifiedSince when given.
   */
  pages(entity: EntityKind, req: PageRequest): AsyncIterable<unknown[]>;
  /**
   * The precision `modifiedSince` is applied with. `"day"` means a read with `modifiedSince: { date, time }`
   * returns every row of `date` whatever its time (QXtend: dates have no time of day), so the incremental layer
   * keeps its "seen" set for whole days. @default "second"
   */
  readonly modifiedSinceGranularity?: "day" | "second";
  /** Whether this protocol answers on the instance (used by protocol "auto"). */
  available(signal?: AbortSignal): Promise<boolean>;
}
