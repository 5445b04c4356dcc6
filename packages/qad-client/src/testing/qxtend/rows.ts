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
