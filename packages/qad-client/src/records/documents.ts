import { z } from "zod";
import { addressSchema, customValueSchema, lastModifiedSchema } from "./customer.js";

const custom = z.record(z.string(), customValueSchema);
const money = z.number();

/** A supplier (QAD `supplierV2s`). */
export const supplierSchema = z.object({
  supplierCode: z.string().min(1),
  sharedSetCode: z.string().min(1),
  businessRelationCode: z.string().optional(),
  name: z.string(),
  address: addressSchema,
  telephone: z.string().optional(),
  email: z.string().optional(),
  isActive: z.boolean(),
  currencyCode: z.string().optional(),
  creditTermsCode: z.string().optional(),
  lastModified: lastModifiedSchema,
  concurrencyHash: z.string().optional(),
  /** customCombo*, customShort* and other site-specific fields. */
  custom,
});
/** A supplier; see {@link supplierSchema}. */
export type Supplier = z.infer<typeof supplierSchema>;

/** A purchase order header. */
export const purchaseOrderSchema = z.object({
  purchaseOrderNumber: z.string().min(1),
  supplierCode: z.string().min(1),
  orderDate: z.string(),
  dueDate: z.string().optional(),
  status: z.string().optional(),
  currencyCode: z.string().optional(),
  totalAmount: money.optional(),
  lastModified: lastModifiedSchema,
  concurrencyHash: z.string().optional(),
  /** Site-specific fields. */
  custom,
});
/** A purchase order; see {@link purchaseOrderSchema}. */
export type PurchaseOrder = z.infer<typeof purchaseOrderSchema>;

/** A supplier invoice. */
export const supplierInvoiceSchema = z.object({
  invoiceNumber: z.string().min(1),
  supplierCode: z.string().min(1),
  invoiceDate: z.string(),
  dueDate: z.string().optional(),
  amount: money,
  currencyCode: z.string().optional(),
  isPaid: z.boolean().optional(),
  lastModified: lastModifiedSchema,
  concurrencyHash: z.string().optional(),
  /** Site-specific fields. */
  custom,
});
/** A supplier invoice; see {@link supplierInvoiceSchema}. */
export type SupplierInvoice = z.infer<typeof supplierInvoiceSchema>;

/** A general-ledger account. */
export const glAccountSchema = z.object({
  accountCode: z.string().min(1),
  description: z.string(),
  accountType: z.string().optional(),
  currencyCode: z.string().optional(),
  isActive: z.boolean(),
  lastModified: lastModifiedSchema,
  concurrencyHash: z.string().optional(),
  /** Site-specific fields. */
  custom,
});
/** A GL account; see {@link glAccountSchema}. */
export type GlAccount = z.infer<typeof glAccountSchema>;

/** A cost center. */
export const costCenterSchema = z.object({
  costCenterCode: z.string().min(1),
  description: z.string(),
  isActive: z.boolean(),
  lastModified: lastModifiedSchema,
  concurrencyHash: z.string().optional(),
  /** Site-specific fields. */
  custom,
});
/** A cost center; see {@link costCenterSchema}. */
export type CostCenter = z.infer<typeof costCenterSchema>;

/** An item (part). */
export const itemSchema = z.object({
  itemCode: z.string().min(1),
  description: z.string(),
  unitOfMeasure: z.string().optional(),
  productLine: z.string().optional(),
  itemType: z.string().optional(),
  isActive: z.boolean().optional(),
  lastModified: lastModifiedSchema,
  concurrencyHash: z.string().optional(),
  /** Site-specific fields. */
  custom,
});
/** An item; see {@link itemSchema}. */
export type Item = z.infer<typeof itemSchema>;

/** A goods receipt (PO receipt). */
export const goodsReceiptSchema = z.object({
  receiptNumber: z.string().min(1),
  purchaseOrderNumber: z.string().min(1),
  supplierCode: z.string().optional(),
  receiptDate: z.string(),
  itemCode: z.string().optional(),
  quantity: z.number().optional(),
  lastModified: lastModifiedSchema,
  concurrencyHash: z.string().optional(),
  /** Site-specific fields. */
  custom,
});
/** A goods receipt; see {@link goodsReceiptSchema}. */
export type GoodsReceipt = z.infer<typeof goodsReceiptSchema>;
