import { parseQadDate, type QadDateFormat } from "./filter.js";
import { childElements, readText, type XmlNode } from "./internal/xml.js";

/**
 * Default result-row field names of a customer Query Service profile (cm_mstr joined to ad_mstr). Each one can be
 * overridden with `customerFields`. `addressRow` is the element of the joined ad_mstr row when the profile nests it
 * (a flat profile puts the ad_ fields on the cm_mstr row; both are read).
 */
export const CUSTOMER_FIELD_DEFAULTS = {
  customerCode: "cm_addr",
  name: "ad_name",
  street1: "ad_line1",
  street2: "ad_line2",
  street3: "ad_line3",
  city: "ad_city",
  stateCode: "ad_state",
  zipCode: "ad_zip",
  countryCode: "ad_ctry",
  telephone: "ad_phone",
  email: "ad_email",
  customerTypeCode: "cm_type",
  region: "cm_region",
  currencyCode: "cm_curr",
  languageCode: "cm_lang",
  salespersonCode: "cm_slspsn",
  creditTermsCode: "cm_cr_terms",
  isActive: "cm_active",
  lastModified: "cm_mod_date",
  addressRow: "ad_mstr",
} as const;

/** Customer result-row field names; see {@link CUSTOMER_FIELD_DEFAULTS}. */
export type CustomerFieldMap = { [K in keyof typeof CUSTOMER_FIELD_DEFAULTS]: string };

/**
 * Default contact rows of a customer profile: the element name of one contact row (`row`) and its fields. QAD
 * profiles differ by site; these are assumptions, each overridable with `contactFields`.
 */
export const CONTACT_FIELD_DEFAULTS = {
  row: "contact",
  contactCode: "ct_code",
  name: "ct_name",
  firstName: "ct_first_name",
  lastName: "ct_last_name",
  email: "ct_email",
  telephone: "ct_phone",
  title: "ct_title",
  isPrimary: "ct_primary",
} as const;

/** Contact row element and field names; see {@link CONTACT_FIELD_DEFAULTS}. */
export type ContactFieldMap = { [K in keyof typeof CONTACT_FIELD_DEFAULTS]: string };

/** Settings the mapping needs. @internal */
export interface CustomerMappingSettings {
  fields: CustomerFieldMap;
  contactFields: ContactFieldMap;
  sharedSetCode: string;
  dateFormat: QadDateFormat;
  centuryPivot: number;
  activeWhenMissing: boolean;
}

/** Progress LOGICAL values as they appear in XML (and the usual yes/no display formats). */
export function parseQadLogical(text: string | undefined): boolean | string | undefined {
  if (text === undefined) return undefined;
  const t = text.trim().toLowerCase();
  if (["yes", "true", "y", "1"].includes(t)) return true;
  if (["no", "false", "n", "0"].includes(t)) return false;
  // Not a logical: keep it so validation above reports it instead of a silent guess.
  return t === "" ? undefined : text;
}

/**
 * Flattens one result row: its own scalar fields, then the scalar fields of nested non-contact rows (the joined
 * ad_mstr) where the row has none of that name. Returns the fields and the contact rows.
 * @internal
 */
export function flattenRow(row: XmlNode, contactRow: string): { fields: Map<string, string>; contacts: XmlNode[] } {
  const fields = new Map<string, string>();
  const contacts: XmlNode[] = [];
  const nested: XmlNode[] = [];
  for (const [name, value] of childElements(row)) {
    if (name === contactRow) {
      if (typeof value === "object" && value !== null) contacts.push(value as XmlNode);
      continue;
    }
    const text = readText(value);
    if (text !== undefined) fields.set(name, text);
    else if (typeof value === "object" && value !== null && !isNil(value)) nested.push(value as XmlNode);
    // xsi:nil fields are left out: absent, not empty.
  }
  for (const child of nested) {
    const inner = flattenRow(child, contactRow);
    for (const [k, v] of inner.fields) if (!fields.has(k)) fields.set(k, v);
    contacts.push(...inner.contacts);
  }
  return { fields, contacts };
}

function isNil(value: unknown): boolean {
  return typeof value === "object" && value !== null && (value as Record<string, unknown>)["@_nil"] === "true";
}

const optional = (v: string | undefined): string | undefined => (v === undefined || v.trim() === "" ? undefined : v);

function setIfDefined<T extends object>(target: T, key: string, value: unknown): void {
  if (value !== undefined) (target as Record<string, unknown>)[key] = value;
}

/**
 * Maps one customer profile row onto the canonical Customer shape (unvalidated: validation happens above the
 * backend, shared with REST). Empty optional fields become absent; a date-only cm_mod_date gets time 0; fields the
 * map does not name are kept in `custom` under their QXtend names so nothing is lost.
 * @internal
 */
export function mapCustomerRow(row: XmlNode, s: CustomerMappingSettings): Record<string, unknown> {
  const f = s.fields;
  const { fields, contacts } = flattenRow(row, s.contactFields.row);
  const used = new Set<string>();
  const get = (name: string): string | undefined => {
    used.add(name);
    return fields.get(name);
  };

  const address: Record<string, unknown> = {};
  setIfDefined(address, "street1", optional(get(f.street1)));
  setIfDefined(address, "street2", optional(get(f.street2)));
  setIfDefined(address, "street3", optional(get(f.street3)));
  setIfDefined(address, "city", optional(get(f.city)));
  setIfDefined(address, "zipCode", optional(get(f.zipCode)));
  setIfDefined(address, "stateCode", optional(get(f.stateCode)));
  setIfDefined(address, "countryCode", optional(get(f.countryCode)));

  const rawDate = get(f.lastModified);
  const date = rawDate === undefined ? undefined : (parseQadDate(rawDate, s.dateFormat, s.centuryPivot) ?? rawDate);
  const active = parseQadLogical(get(f.isActive));

  const customer: Record<string, unknown> = {
    customerCode: get(f.customerCode),
    sharedSetCode: s.sharedSetCode,
    name: get(f.name) ?? "",
    address,
    isActive: active ?? s.activeWhenMissing,
    contacts: contacts.map((c) => mapContactRow(c, s.contactFields)),
    // QXtend dates carry no time of day: time 0 (start of the day), so an incremental read re-reads that day.
    lastModified: date === undefined ? undefined : { date, time: 0 },
  };
  setIfDefined(customer, "telephone", optional(get(f.telephone)));
  setIfDefined(customer, "email", optional(get(f.email)));
  setIfDefined(customer, "languageCode", optional(get(f.languageCode)));
  setIfDefined(customer, "customerTypeCode", optional(get(f.customerTypeCode)));
  setIfDefined(customer, "currencyCode", optional(get(f.currencyCode)));
  setIfDefined(customer, "creditTermsCode", optional(get(f.creditTermsCode)));
  setIfDefined(customer, "salespersonCode", optional(get(f.salespersonCode)));
  setIfDefined(customer, "region", optional(get(f.region)));

  const custom: Record<string, string> = {};
  for (const [k, v] of fields) if (!used.has(k)) custom[k] = v;
  customer.custom = custom;
  return customer;
}

function mapContactRow(row: XmlNode, f: ContactFieldMap): Record<string, unknown> {
  const { fields } = flattenRow(row, "\u0000");
  const contact: Record<string, unknown> = {};
  for (const key of ["contactCode", "name", "firstName", "lastName", "email", "telephone", "title"] as const) {
    setIfDefined(contact, key, optional(fields.get(f[key])));
  }
  setIfDefined(contact, "isPrimary", parseQadLogical(fields.get(f.isPrimary)));
  return contact;
}
