type Row = Record<string, unknown>;

function set(out: Row, k: string, v: unknown): void {
  if (v !== undefined) out[k] = v;
}

/**
 * A canonical customer (possibly corrupt) as QAD's customerV2 document: flat fields, `EMail`, custom fields at
 * top level, lastModifiedDate/Time. Lenient: whatever is missing stays missing. @internal
 */
export function toRestCustomer(c: unknown, withContacts: boolean): Row {
  const r = (typeof c === "object" && c !== null ? c : {}) as Row;
  const a = (typeof r.address === "object" && r.address !== null ? r.address : {}) as Row;
  const out: Row = {};
  set(out, "customerCode", r.customerCode);
  set(out, "sharedSetCode", r.sharedSetCode);
  set(out, "businessRelationCode", r.businessRelationCode);
  set(out, "businessRelationName", r.name);
  set(out, "addressName", r.name);
  for (const k of ["street1", "street2", "street3", "city", "zipCode", "stateCode", "countryCode"]) set(out, k, a[k]);
  set(out, "telephone", r.telephone);
  set(out, "EMail", r.email);
  set(out, "webSite", r.webSite);
  set(out, "languageCode", r.languageCode);
  set(out, "isActive", r.isActive);
  set(out, "isBusinessRelationActive", r.isActive);
  set(out, "customerTypeCode", r.customerTypeCode);
  set(out, "currencyCode", r.currencyCode);
  set(out, "creditTermsCode", r.creditTermsCode);
  set(out, "salespersonCode", r.salespersonCode);
  set(out, "region", r.region);
  set(out, "corporateGroupCode", r.corporateGroupCode);
  if (typeof r.custom === "object" && r.custom !== null) Object.assign(out, r.custom);
  const lm = (typeof r.lastModified === "object" && r.lastModified !== null ? r.lastModified : {}) as Row;
  set(out, "lastModifiedDate", lm.date);
  set(out, "lastModifiedTime", lm.time);
  out.lastModifiedUser = "mfg";
  set(out, "concurrencyHash", r.concurrencyHash);
  if (withContacts) out.contacts = contactRows(r).map(({ sharedSetCode: _s, customerCode: _c, ...rest }) => rest);
  return out;
}

/** The contact rows of a canonical customer, REST names, carrying their customer's key. @internal */
export function contactRows(c: unknown): Row[] {
  const r = (typeof c === "object" && c !== null ? c : {}) as Row;
  if (!Array.isArray(r.contacts)) return [];
  return r.contacts.map((x) => {
    const k = (typeof x === "object" && x !== null ? x : {}) as Row;
    const out: Row = { sharedSetCode: r.sharedSetCode, customerCode: r.customerCode };
    set(out, "contactCode", k.contactCode);
    set(out, "name", k.name);
    set(out, "firstName", k.firstName);
    set(out, "lastName", k.lastName);
    set(out, "EMail", k.email);
    set(out, "telephone", k.telephone);
    set(out, "title", k.title);
    set(out, "isPrimary", k.isPrimary);
    return out;
  });
}

/** Prefixes every column with the browse's table name, as QAD browses do (`customerV2.customerCode`). @internal */
export function dotted(prefix: string, row: Row, names: Map<string, string> = new Map()): Row {
  const out: Row = {};
  for (const k in row) {
    let name = names.get(k);
    if (name === undefined) {
      name = `${prefix}.${k}`;
      names.set(k, name);
    }
    out[name] = row[k];
  }
  return out;
}
