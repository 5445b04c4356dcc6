/**
 * Canonical Customer (as the simulator store holds it) → cm_mstr row with its joined ad_mstr row and contact rows,
 * the shape a customer Query Service profile returns. Written independently of the client's mapping.
 */

type Obj = Record<string, unknown>;

const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);
const obj = (v: unknown): Obj => (typeof v === "object" && v !== null ? (v as Obj) : {});

/** A simulated cm_mstr row: primary key, sort key for paging, date for filtering, and the XML fields. */
export interface SimCustomerRow {
  /** cm_addr. */
  key: string;
  /** cm_mod_date as YYYY-MM-DD. */
  modDate: string;
  /** Shared set of the canonical record (QXtend itself has none). */
  sharedSetCode: string;
  /** The row as an XML object for the builder. */
  xml: Obj;
}

/** How the simulator lays rows out. */
export interface SimRowLayout {
  /** Nest ad_mstr fields under an `ad_mstr` element (true) or put them on the cm_mstr row (false). */
  nestAddress: boolean;
  /** Writes a YYYY-MM-DD date the way the profile serialises dates. */
  formatDate: (iso: string) => string;
}

function put(target: Obj, name: string, value: unknown): void {
  if (typeof value === "string") target[name] = value;
  else if (typeof value === "boolean") target[name] = value ? "true" : "false";
}

/** Maps one canonical customer; undefined when the record lacks a code (a corrupt row the store may hold). */
export function toCustomerRow(record: unknown, layout: SimRowLayout): SimCustomerRow | undefined {
  const c = obj(record);
  const key = str(c.customerCode);
  const lm = obj(c.lastModified);
  const modDate = str(lm.date) ?? "";
  if (key === undefined) return undefined;
  const a = obj(c.address);
  const ad: Obj = {};
  put(ad, "ad_addr", key);
  put(ad, "ad_name", c.name);
  put(ad, "ad_line1", a.street1);
  put(ad, "ad_line2", a.street2);
  put(ad, "ad_line3", a.street3);
  put(ad, "ad_city", a.city);
  put(ad, "ad_state", a.stateCode);
  put(ad, "ad_zip", a.zipCode);
  put(ad, "ad_ctry", a.countryCode);
  put(ad, "ad_phone", c.telephone);
  put(ad, "ad_email", c.email);
  const cm: Obj = {};
  put(cm, "cm_addr", key);
  put(cm, "cm_type", c.customerTypeCode);
  put(cm, "cm_region", c.region);
  put(cm, "cm_curr", c.currencyCode);
  put(cm, "cm_lang", c.languageCode);
  put(cm, "cm_slspsn", c.salespersonCode);
  put(cm, "cm_cr_terms", c.creditTermsCode);
  put(cm, "cm_active", c.isActive);
  // A corrupt date is passed through as-is: the client must report it, not the simulator hide it.
  cm.cm_mod_date = /^\d{4}-\d{2}-\d{2}$/.test(modDate) ? layout.formatDate(modDate) : modDate;
  if (layout.nestAddress) cm.ad_mstr = ad;
  else Object.assign(cm, ad);
  const contacts = Array.isArray(c.contacts) ? c.contacts : [];
  if (contacts.length > 0) {
    cm.contact = contacts.map((raw) => {
      const ct = obj(raw);
      const row: Obj = {};
      put(row, "ct_code", ct.contactCode);
      put(row, "ct_name", ct.name);
      put(row, "ct_first_name", ct.firstName);
      put(row, "ct_last_name", ct.lastName);
      put(row, "ct_email", ct.email);
      put(row, "ct_phone", ct.telephone);
      put(row, "ct_title", ct.title);
      put(row, "ct_primary", ct.isPrimary);
      return row;
    });
  }
  return { key, modDate, sharedSetCode: str(c.sharedSetCode) ?? "", xml: cm };
}

/** The simulated tables of the other documents the QXtend face serves. */
export type SimDocumentKind = "suppliers" | "purchaseOrders" | "items";

/** Row element, key field and date field of each simulated table. */
export const SIM_TABLES: { readonly [K in SimDocumentKind | "customers"]: { row: string; key: string; date: string } } =
  {
    customers: { row: "cm_mstr", key: "cm_addr", date: "cm_mod_date" },
    suppliers: { row: "vd_mstr", key: "vd_addr", date: "vd_mod_date" },
    purchaseOrders: { row: "po_mstr", key: "po_nbr", date: "po_mod_date" },
    items: { row: "pt_mstr", key: "pt_part", date: "pt_mod_date" },
  };

/**
 * A document row of the store (REST field names, `lastModifiedDate`) → vd_mstr (+ ad_mstr) / po_mstr / pt_mstr.
 * Fields the assumed tables do not have (PO totals, item active flags, custom fields) are not carried.
 */
export function toDocumentRow(
  kind: SimDocumentKind,
  record: unknown,
  layout: SimRowLayout,
): SimCustomerRow | undefined {
  const r = obj(record);
  const modDate = str(r.lastModifiedDate) ?? "";
  const date = (v: unknown) => {
    const s = str(v);
    return s !== undefined && /^\d{4}-\d{2}-\d{2}$/.test(s) ? layout.formatDate(s) : s;
  };
  const xml: Obj = {};
  let key: string | undefined;
  if (kind === "suppliers") {
    key = str(r.supplierCode);
    put(xml, "vd_addr", key);
    put(xml, "vd_curr", r.currencyCode);
    put(xml, "vd_cr_terms", r.creditTermsCode);
    put(xml, "vd_active", r.isActive);
    const ad: Obj = {};
    put(ad, "ad_addr", key);
    put(ad, "ad_name", r.businessRelationName ?? r.name);
    put(ad, "ad_line1", r.street1);
    put(ad, "ad_line2", r.street2);
    put(ad, "ad_line3", r.street3);
    put(ad, "ad_city", r.city);
    put(ad, "ad_state", r.stateCode);
    put(ad, "ad_zip", r.zipCode);
    put(ad, "ad_ctry", r.countryCode);
    put(ad, "ad_phone", r.telephone);
    put(ad, "ad_email", r.EMail ?? r.email);
    if (layout.nestAddress) xml.ad_mstr = ad;
    else Object.assign(xml, ad);
  } else if (kind === "purchaseOrders") {
    key = str(r.purchaseOrderNumber);
    put(xml, "po_nbr", key);
    put(xml, "po_vend", r.supplierCode);
    put(xml, "po_ord_date", date(r.orderDate));
    put(xml, "po_due_date", date(r.dueDate));
    put(xml, "po_stat", r.status);
    put(xml, "po_curr", r.currencyCode);
  } else {
    key = str(r.itemCode);
    put(xml, "pt_part", key);
    put(xml, "pt_desc1", r.description);
    put(xml, "pt_um", r.unitOfMeasure);
    put(xml, "pt_prod_line", r.productLine);
    put(xml, "pt_part_type", r.itemType);
  }
  if (key === undefined) return undefined;
  xml[SIM_TABLES[kind].date] = /^\d{4}-\d{2}-\d{2}$/.test(modDate) ? layout.formatDate(modDate) : modDate;
  return { key, modDate, sharedSetCode: str(r.sharedSetCode) ?? "", xml };
}
