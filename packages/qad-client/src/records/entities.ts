import type { z } from "zod";
import type { EntityKind } from "../backend.js";
import { type Customer, customerSchema } from "./customer.js";
import {
  type CostCenter,
  costCenterSchema,
  type GlAccount,
  type GoodsReceipt,
  glAccountSchema,
  goodsReceiptSchema,
  type Item,
  itemSchema,
  type PurchaseOrder,
  purchaseOrderSchema,
  type Supplier,
  type SupplierInvoice,
  supplierInvoiceSchema,
  supplierSchema,
} from "./documents.js";

/** The canonical record type of each {@link EntityKind}. */
export interface EntityRecordMap {
  customers: Customer;
  suppliers: Supplier;
  purchaseOrders: PurchaseOrder;
  supplierInvoices: SupplierInvoice;
  glAccounts: GlAccount;
  costCenters: CostCenter;
  items: Item;
  goodsReceipts: GoodsReceipt;
}

/** Validation schema and key of one document kind. @internal */
export interface EntityDef<K extends EntityKind> {
  kind: K;
  schema: z.ZodType<EntityRecordMap[K]>;
  /** Fields forming the record key, in order. */
  keyFields: readonly string[];
}

/** @internal */
export const ENTITY_DEFS: { [K in EntityKind]: EntityDef<K> } = {
  customers: { kind: "customers", schema: customerSchema, keyFields: ["sharedSetCode", "customerCode"] },
  suppliers: { kind: "suppliers", schema: supplierSchema, keyFields: ["sharedSetCode", "supplierCode"] },
  purchaseOrders: { kind: "purchaseOrders", schema: purchaseOrderSchema, keyFields: ["purchaseOrderNumber"] },
  supplierInvoices: {
    kind: "supplierInvoices",
    schema: supplierInvoiceSchema,
    keyFields: ["supplierCode", "invoiceNumber"],
  },
  glAccounts: { kind: "glAccounts", schema: glAccountSchema, keyFields: ["accountCode"] },
  costCenters: { kind: "costCenters", schema: costCenterSchema, keyFields: ["costCenterCode"] },
  items: { kind: "items", schema: itemSchema, keyFields: ["itemCode"] },
  goodsReceipts: { kind: "goodsReceipts", schema: goodsReceiptSchema, keyFields: ["receiptNumber"] },
};

/**
 * The key of a record: its key fields joined by `/` (customers: `sharedSetCode/customerCode`). Undefined when a
 * key field is missing or not a string, as in a corrupt row.
 */
export function recordKey(kind: EntityKind, record: unknown): string | undefined {
  if (typeof record !== "object" || record === null) return undefined;
  const parts: string[] = [];
  for (const f of ENTITY_DEFS[kind].keyFields) {
    const v = (record as Record<string, unknown>)[f];
    if (typeof v !== "string" || v === "") return undefined;
    parts.push(v);
  }
  return parts.join("/");
}

/** The key of a customer: `sharedSetCode/customerCode`. */
export function customerKey(c: Pick<Customer, "sharedSetCode" | "customerCode">): string {
  return `${c.sharedSetCode}/${c.customerCode}`;
}
