/**
 * The simulator's own table of where each business document lives on its REST face. Written out here from the
 * shapes in the QAD API notes (`api/erp/<entityPlural>?viewUri=urn:be:com.qad.<module>.I<Entity>` answering
 * `{"data":{"<entityPlural>":[...]}}`, browses by `browseId` URN), never imported from the client: a wrong default
 * path, view URI or browse id in the client then fails against the simulator instead of agreeing with itself.
 *
 * Customers, suppliers and items follow what was seen on real instances; the rest assume the same pattern, as the
 * client does, but are spelled out again here on purpose.
 *
 * @module
 */

/** The document kinds the simulator serves (the client's `EntityKind`, spelled out). @internal */
export type SimRestKind =
  | "customers"
  | "suppliers"
  | "purchaseOrders"
  | "supplierInvoices"
  | "glAccounts"
  | "costCenters"
  | "items"
  | "goodsReceipts";

/** One business document on the simulated REST face. @internal */
export interface SimRestEntity {
  /** Path below the tenant base path. */
  readonly path: string;
  /** The `viewUri` the document endpoint requires. */
  readonly viewUri: string;
  /** Key of the row array in `{"data":{...}}`. */
  readonly responseKey: string;
  /** Browse id answering lists and polls. */
  readonly browseId: string;
}

/** Every document the simulated REST face serves. @internal */
export const SIM_REST_ENTITIES: { readonly [K in SimRestKind]: SimRestEntity } = {
  customers: {
    path: "api/erp/customerV2s",
    viewUri: "urn:be:com.qad.base.customer.ICustomerV2",
    responseKey: "customerV2s",
    browseId: "urn:browse:com.qad.base.customer.customerV2s",
  },
  suppliers: {
    path: "api/erp/supplierV2s",
    viewUri: "urn:be:com.qad.base.supplier.ISupplierV2",
    responseKey: "supplierV2s",
    browseId: "urn:browse:com.qad.base.supplier.supplierV2s",
  },
  purchaseOrders: {
    path: "api/erp/purchaseOrders",
    viewUri: "urn:be:com.qad.purchasing.IPurchaseOrder",
    responseKey: "purchaseOrders",
    browseId: "urn:browse:com.qad.purchasing.purchaseOrders",
  },
  supplierInvoices: {
    path: "api/erp/supplierInvoices",
    viewUri: "urn:be:com.qad.financials.ISupplierInvoice",
    responseKey: "supplierInvoices",
    browseId: "urn:browse:com.qad.financials.supplierInvoices",
  },
  glAccounts: {
    path: "api/erp/glAccounts",
    viewUri: "urn:be:com.qad.financials.IGLAccount",
    responseKey: "glAccounts",
    browseId: "urn:browse:com.qad.financials.glAccounts",
  },
  costCenters: {
    path: "api/erp/costCenters",
    viewUri: "urn:be:com.qad.financials.ICostCenter",
    responseKey: "costCenters",
    browseId: "urn:browse:com.qad.financials.costCenters",
  },
  items: {
    path: "api/erp/items",
    viewUri: "urn:be:com.qad.base.item.IItem",
    responseKey: "items",
    browseId: "urn:browse:com.qad.base.item.items",
  },
  goodsReceipts: {
    path: "api/erp/goodsReceipts",
    viewUri: "urn:be:com.qad.purchasing.IGoodsReceipt",
    responseKey: "goodsReceipts",
    browseId: "urn:browse:com.qad.purchasing.goodsReceipts",
  },
};

/** The browse of customer contacts, joined by the client onto each page of customers. @internal */
export const SIM_CONTACTS_BROWSE = "urn:browse:com.qad.base.customer.customerContacts";
