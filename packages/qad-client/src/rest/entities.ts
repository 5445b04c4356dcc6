import type { EntityKind } from "../backend.js";

/** Where and how one business document lives on a QAD REST instance. Every member is an assumption, so a setting. */
export interface RestEntityConfig {
  /** Business-document path, relative to the tenant URL (e.g. `api/erp/customerV2s`). */
  path: string;
  /** `viewUri` of the business document (e.g. `urn:be:com.qad.base.customer.ICustomerV2`). */
  viewUri: string;
  /** Key of the row array in the answer `{"data":{"<responseKey>":[...]}}`. */
  responseKey: string;
  /** Browse id used for lists and polling. */
  browseId: string;
  /** Fields that identify one record, in sort order; `get()` sends them as query parameters. */
  keyFields: readonly string[];
  /** Day-granular last-modified field (YYYY-MM-DD). @default "lastModifiedDate" */
  lastModifiedDateField: string;
  /** Seconds-since-midnight last-modified field. @default "lastModifiedTime" */
  lastModifiedTimeField: string;
  /**
   * Customers only: browse id of the contacts browse joined onto each page of customers (one extra request per
   * page, not per customer), or `false` to read customers without contacts.
   */
  contactsBrowseId?: string | false;
  /** Site-specific fields to carry in `custom` besides the customComboN and customShortN families. */
  customFields?: readonly string[];
  /** Customers only: key of the contacts array inside a customer business document. @default "contacts" */
  contactsField?: string;
}

/** Per-entity overrides of {@link RestEntityConfig}. */
export type RestEntitiesOptions = { [K in EntityKind]?: Partial<RestEntityConfig> };

const common = { lastModifiedDateField: "lastModifiedDate", lastModifiedTimeField: "lastModifiedTime" } as const;

/**
 * Default paths, view URIs and browse ids. Customers follow what was seen on real instances
 * (`api/erp/customerV2s`, `urn:be:com.qad.base.customer.ICustomerV2`); the rest assume the same pattern.
 */
export const DEFAULT_REST_ENTITIES: { readonly [K in EntityKind]: RestEntityConfig } = {
  customers: {
    ...common,
    path: "api/erp/customerV2s",
    viewUri: "urn:be:com.qad.base.customer.ICustomerV2",
    responseKey: "customerV2s",
    browseId: "urn:browse:com.qad.base.customer.customerV2s",
    keyFields: ["sharedSetCode", "customerCode"],
    contactsBrowseId: "urn:browse:com.qad.base.customer.customerContacts",
    contactsField: "contacts",
  },
  suppliers: {
    ...common,
    path: "api/erp/supplierV2s",
    viewUri: "urn:be:com.qad.base.supplier.ISupplierV2",
    responseKey: "supplierV2s",
    browseId: "urn:browse:com.qad.base.supplier.supplierV2s",
    keyFields: ["sharedSetCode", "supplierCode"],
  },
  purchaseOrders: {
    ...common,
    path: "api/erp/purchaseOrders",
    viewUri: "urn:be:com.qad.purchasing.IPurchaseOrder",
    responseKey: "purchaseOrders",
    browseId: "urn:browse:com.qad.purchasing.purchaseOrders",
    keyFields: ["purchaseOrderNumber"],
  },
  supplierInvoices: {
    ...common,
    path: "api/erp/supplierInvoices",
    viewUri: "urn:be:com.qad.financials.ISupplierInvoice",
    responseKey: "supplierInvoices",
    browseId: "urn:browse:com.qad.financials.supplierInvoices",
    keyFields: ["supplierCode", "invoiceNumber"],
  },
  glAccounts: {
    ...common,
    path: "api/erp/glAccounts",
    viewUri: "urn:be:com.qad.financials.IGLAccount",
    responseKey: "glAccounts",
    browseId: "urn:browse:com.qad.financials.glAccounts",
    keyFields: ["accountCode"],
  },
  costCenters: {
    ...common,
    path: "api/erp/costCenters",
    viewUri: "urn:be:com.qad.financials.ICostCenter",
    responseKey: "costCenters",
    browseId: "urn:browse:com.qad.financials.costCenters",
    keyFields: ["costCenterCode"],
  },
  items: {
    ...common,
    path: "api/erp/items",
    viewUri: "urn:be:com.qad.base.item.IItem",
    responseKey: "items",
    browseId: "urn:browse:com.qad.base.item.items",
    keyFields: ["itemCode"],
  },
  goodsReceipts: {
    ...common,
    path: "api/erp/goodsReceipts",
    viewUri: "urn:be:com.qad.purchasing.IGoodsReceipt",
    responseKey: "goodsReceipts",
    browseId: "urn:browse:com.qad.purchasing.goodsReceipts",
    keyFields: ["receiptNumber"],
  },
};

/** Defaults merged with overrides. @internal */
export function resolveRestEntities(overrides: RestEntitiesOptions = {}): { [K in EntityKind]: RestEntityConfig } {
  const out = {} as { [K in EntityKind]: RestEntityConfig };
  for (const kind of Object.keys(DEFAULT_REST_ENTITIES) as EntityKind[]) {
    out[kind] = { ...DEFAULT_REST_ENTITIES[kind], ...(overrides[kind] ?? {}) } as RestEntityConfig;
  }
  return out;
}
