import type { SourceCustomer } from "../source/customer-schema.js";
import type { FieldMap, LeadInput, SyncMapping } from "./mapping.js";

const street = (c: SourceCustomer) =>
  [c.address.street1, c.address.street2, c.address.street3].filter((s) => s && s.trim() !== "").join("\n") || undefined;

const domainOf = (url: string | undefined): string | undefined => {
  if (!url || url.trim() === "") return undefined;
  try {
    return new URL(/^[a-z]+:\/\//i.test(url) ? url : `https://${url.trim()}`).hostname.replace(/^www\./, "");
  } catch {
    return undefined;
  }
};

/**
 * Default company fields: standard Marketo company fields for name, address, phone, website and industry (from the
 * QAD customer type), plus `qadCurrencyCode`, `qadRegion` and `qadActive`, custom fields an instance may define.
 * When the gateway can describe the instance, fields it does not have are dropped (and logged once).
 */
export const defaultCompanyFields: FieldMap<SourceCustomer> = {
  company: "name",
  billingStreet: street,
  billingCity: "address.city",
  billingState: "address.stateCode",
  billingPostalCode: "address.zipCode",
  billingCountry: "address.countryCode",
  mainPhone: "telephone",
  website: "webSite",
  industry: "customerTypeCode",
  qadCurrencyCode: "currencyCode",
  qadRegion: "region",
  qadActive: "isActive",
};

/** Default named-account fields: name (the dedupe field), location, industry and web domain. */
export const defaultNamedAccountFields: FieldMap<SourceCustomer> = {
  name: "name",
  city: "address.city",
  state: "address.stateCode",
  country: "address.countryCode",
  industry: "customerTypeCode",
  domainName: (c) => domainOf(c.webSite),
};

const splitName = (name: string | undefined): [string | undefined, string | undefined] => {
  const parts = (name ?? "").trim().split(/\s+/).filter(Boolean);
  if (parts.length === 0) return [undefined, undefined];
  if (parts.length === 1) return [undefined, parts[0]];
  return [parts.slice(0, -1).join(" "), parts[parts.length - 1]];
};

/** Default lead fields: names (split from `name` when first/last are missing), phone, title and company name. */
export const defaultLeadFields: FieldMap<LeadInput<SourceCustomer>> = {
  firstName: ({ contact }) => contact.firstName ?? splitName(contact.name)[0],
  lastName: ({ contact }) => contact.lastName ?? splitName(contact.name)[1],
  phone: "contact.telephone",
  title: "contact.title",
  company: "customer.name",
};

/**
 * Escapes one part of a dotted key so the joined key stays injective: `%` becomes `%25` and `.` becomes `%2E`
 * (percent-encoding, as in URLs). A part holding neither is unchanged, so keys of codes without `.` or `%` are exactly
 * what they always were.
 *
 * @example
 * escapeKeyPart("X.Y") // "X%2EY"
 */
export const escapeKeyPart = (part: string): string =>
  part.includes("%") || part.includes(".") ? part.replaceAll("%", "%25").replaceAll(".", "%2E") : part;

/**
 * The default key: `sharedSetCode.customerCode`, QAD's own record-URI suffix for a customer, with `.` and `%` inside
 * either code percent-encoded ({@link escapeKeyPart}), so two customers never share a key: `SS1`/`X.Y` is
 * `SS1.X%2EY` and `SS1.X`/`Y` is `SS1%2EX.Y`. Codes without `.` or `%` (the usual case) keep the plain
 * `sharedSetCode.customerCode` they had before escaping was introduced.
 */
export const defaultExternalCompanyId = (c: SourceCustomer): string =>
  `${escapeKeyPart(c.sharedSetCode)}.${escapeKeyPart(c.customerCode)}`;

/**
 * Who a customer record is, independent of the key function: the escaped `sharedSetCode.customerCode` of a record
 * holding both codes as strings (trimmed, as the schema trims them), else undefined. The engine compares identities
 * of records sharing a key: the same identity twice is the same customer read twice (the later row wins); two
 * identities on one key are a collision of a user-supplied key function, and both are rejected.
 * @internal
 */
export const sourceIdentity = (record: unknown): string | undefined => {
  if (typeof record !== "object" || record === null) return undefined;
  const r = record as Record<string, unknown>;
  if (typeof r.sharedSetCode !== "string" || typeof r.customerCode !== "string") return undefined;
  return `${escapeKeyPart(r.sharedSetCode.trim())}.${escapeKeyPart(r.customerCode.trim())}`;
};

/** The default mapping for QAD customers. */
export const defaultMapping: SyncMapping<SourceCustomer> = {
  externalCompanyId: defaultExternalCompanyId,
  company: defaultCompanyFields,
  namedAccount: defaultNamedAccountFields,
  contacts: (c) => c.contacts,
  lead: defaultLeadFields,
  salesPerson: false,
  invalidContactEmail: "skip",
};

/** Changes to a mapping: field maps are merged field by field (a field set to `undefined` is removed). */
export interface MappingExtension<S> {
  /** Replaces the key function. */
  externalCompanyId?: (record: S) => string;
  /** Company fields to add or replace. */
  company?: FieldMap<S>;
  /** Named-account fields to add or replace, or `false` to stop writing named accounts. */
  namedAccount?: FieldMap<S> | false;
  /** Replaces the contacts extractor. */
  contacts?: SyncMapping<S>["contacts"];
  /** Lead fields to add or replace, or `false` to stop writing leads. */
  lead?: FieldMap<LeadInput<S>> | false;
  /** Sales person mapping, or `false`. */
  salesPerson?: SyncMapping<S>["salesPerson"];
  /** Contacts without a valid email. */
  invalidContactEmail?: "reject" | "skip";
}

/**
 * Extends a mapping (the default QAD customer mapping unless `base` is given).
 *
 * @example
 * const mapping = extendMapping({
 *   company: { industry: (c) => String(c.custom.customCombo3 ?? "") || undefined, qadRegion: undefined },
 *   salesPerson: (c) => (c.salespersonCode ? { externalSalesPersonId: c.salespersonCode } : undefined),
 *   invalidContactEmail: "reject",
 * });
 */
export function extendMapping<S = SourceCustomer>(
  ext: MappingExtension<NoInfer<S>>,
  base: SyncMapping<S> = defaultMapping as unknown as SyncMapping<S>,
): SyncMapping<S> {
  const merge = <T>(b: FieldMap<T> | false, e: FieldMap<T> | false | undefined): FieldMap<T> | false => {
    if (e === undefined) return b;
    if (e === false) return false;
    return { ...(b === false ? {} : b), ...e };
  };
  return {
    externalCompanyId: ext.externalCompanyId ?? base.externalCompanyId,
    company: merge(base.company, ext.company) || {},
    namedAccount: merge(base.namedAccount, ext.namedAccount),
    contacts: ext.contacts ?? base.contacts,
    lead: merge(base.lead, ext.lead),
    salesPerson: ext.salesPerson ?? base.salesPerson,
    invalidContactEmail: ext.invalidContactEmail ?? base.invalidContactEmail,
  };
}
