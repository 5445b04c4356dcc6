import type { EntityKind } from "../backend.js";
import type { RestEntityConfig } from "./entities.js";

type Row = Record<string, unknown>;

/** QAD's numbered custom field families: customCombo0..14, customShort0..19, customLong*, customDate*... */
const CUSTOM = /^custom(?:Combo|Short|Long|Date|Decimal|Integer|Note|Char|Logical|Text)\d+$/;

/** Collects customCombo*, customShort* and the entity's configured extra custom fields. @internal */
export function customFields(row: Row, extra: readonly string[] = []): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k in row) {
    const v = row[k];
    if (v !== undefined && ((k.startsWith("custom") && CUSTOM.test(k)) || extra.includes(k))) out[k] = v;
  }
  return out;
}

function put(out: Row, key: string, v: unknown): void {
  if (v !== undefined && v !== null && v !== "") out[key] = v;
}

/** Normalises QAD's date/time to `{ date: YYYY-MM-DD, time: int }`, leaving malformed values for validation. @internal */
export function lastModifiedOf(
  row: Row,
  cfg: Pick<RestEntityConfig, "lastModifiedDateField" | "lastModifiedTimeField">,
): unknown {
  const d = row[cfg.lastModifiedDateField];
  const t = row[cfg.lastModifiedTimeField];
  if (d === undefined && t === undefined) return undefined;
  const date = typeof d === "string" && /^\d{4}-\d{2}-\d{2}/.test(d) ? d.slice(0, 10) : d;
  const time = typeof t === "string" && /^\d+$/.test(t) ? Number(t) : (t ?? 0);
  return { date, time };
}

/** Maps one contact row (REST names) onto the canonical Contact shape. @internal */
export function mapContact(row: Row): Row {
  const out: Row = {};
  put(out, "contactCode", row.contactCode);
  put(out, "name", row.name ?? row.contactName);
  put(out, "firstName", row.firstName);
  put(out, "lastName", row.lastName);
  put(out, "email", row.email ?? row.EMail);
  put(out, "telephone", row.telephone);
  put(out, "title", row.title ?? row.function);
  if (typeof row.isPrimary === "boolean") out.isPrimary = row.isPrimary;
  return out;
}

function address(row: Row): Row {
  const a: Row = {};
  for (const k of ["street1", "street2", "street3", "city", "zipCode", "stateCode", "countryCode"]) put(a, k, row[k]);
  return a;
}

/**
 * Maps a customerV2 row (browse columns or business document) onto the canonical Customer shape, without
 * validating: a missing name stays missing so validation can report it.
 * @internal
 */
export function mapCustomer(row: Row, cfg: RestEntityConfig, contacts?: unknown[]): Row {
  const out: Row = {};
  put(out, "customerCode", row.customerCode);
  put(out, "sharedSetCode", row.sharedSetCode);
  put(out, "businessRelationCode", row.businessRelationCode);
  const name = row.businessRelationName ?? row.addressName ?? row.name;
  if (name !== undefined && name !== null) out.name = name;
  out.address = address(row);
  put(out, "telephone", row.telephone);
  put(out, "email", row.EMail ?? row.email);
  put(out, "webSite", row.webSite);
  put(out, "languageCode", row.languageCode);
  out.isActive = row.isActive ?? true;
  put(out, "customerTypeCode", row.customerTypeCode);
  put(out, "currencyCode", row.currencyCode);
  put(out, "creditTermsCode", row.creditTermsCode);
  put(out, "salespersonCode", row.salespersonCode ?? row.salesPersonCode);
  put(out, "region", row.region ?? row.regionCode);
  put(out, "corporateGroupCode", row.corporateGroupCode);
  const docContacts = row[cfg.contactsField ?? "contacts"];
  const list = contacts ?? (Array.isArray(docContacts) ? docContacts : []);
  out.contacts = list.map((c) => (typeof c === "object" && c !== null ? mapContact(c as Row) : c));
  const lm = lastModifiedOf(row, cfg);
  if (lm !== undefined) out.lastModified = lm;
  put(out, "concurrencyHash", row.concurrencyHash);
  out.custom = customFields(row, cfg.customFields);
  return out;
}

const FIELDS: { [K in Exclude<EntityKind, "customers">]: readonly string[] } = {
  suppliers: [
    "supplierCode",
    "sharedSetCode",
    "businessRelationCode",
    "telephone",
    "isActive",
    "currencyCode",
    "creditTermsCode",
  ],
  purchaseOrders: [
    "purchaseOrderNumber",
    "supplierCode",
    "orderDate",
    "dueDate",
    "status",
    "currencyCode",
    "totalAmount",
  ],
  supplierInvoices: ["invoiceNumber", "supplierCode", "invoiceDate", "dueDate", "amount", "currencyCode", "isPaid"],
  glAccounts: ["accountCode", "description", "accountType", "currencyCode", "isActive"],
  costCenters: ["costCenterCode", "description", "isActive"],
  items: ["itemCode", "description", "unitOfMeasure", "productLine", "itemType", "isActive"],
  goodsReceipts: ["receiptNumber", "purchaseOrderNumber", "supplierCode", "receiptDate", "itemCode", "quantity"],
};

/** Maps a REST row of any document kind onto its canonical shape (unvalidated). @internal */
export function mapRestRow(kind: EntityKind, row: Row, cfg: RestEntityConfig, contacts?: unknown[]): Row {
  if (kind === "customers") return mapCustomer(row, cfg, contacts);
  const out: Row = {};
  for (const f of FIELDS[kind]) put(out, f, row[f]);
  if (kind === "suppliers") {
    const name = row.businessRelationName ?? row.name;
    if (name !== undefined && name !== null) out.name = name;
    out.address = address(row);
    put(out, "email", row.EMail ?? row.email);
  }
  const lm = lastModifiedOf(row, cfg);
  if (lm !== undefined) out.lastModified = lm;
  put(out, "concurrencyHash", row.concurrencyHash);
  out.custom = customFields(row, cfg.customFields);
  return out;
}
