import type { EntityKind } from "../backend.js";
import { ENTITY_DEFS } from "../records/entities.js";
import { flattenRow, parseQadLogical } from "./customer-mapping.js";
import { parseQadDate, type QadDateFormat } from "./filter.js";
import type { XmlNode } from "./internal/xml.js";

/** How a result-row value is read: as text, a number, a Progress LOGICAL, or a DATE (→ `YYYY-MM-DD`). */
export type QxtendFieldType = "string" | "number" | "boolean" | "date";

/** One canonical field's source: a row field name, or the name with its type. */
export type QxtendFieldSpec = string | { field: string; type?: QxtendFieldType };

/**
 * How a non-customer profile's rows map onto a canonical record: canonical field (dotted for nested, e.g.
 * `address.city`) → row field. `lastModified` always comes from the profile's `dateField` (time 0).
 */
export interface QxtendEntityMapping {
  /** Element of one result row. */
  rowElement: string;
  /** Primary-table key field (key paging). */
  keyField: string;
  /** Primary-table last-modified date field (`modifiedSince`). */
  dateField: string;
  /** Canonical field → row field. */
  fields: Record<string, QxtendFieldSpec>;
  /** Put the configured `sharedSetCode` on every record (QXtend has no shared set). */
  sharedSet?: boolean;
  /** Values for canonical fields the profile does not deliver (e.g. `isActive: true`). */
  defaults?: Record<string, string | number | boolean>;
}

const addressFields = {
  "address.street1": "ad_line1",
  "address.street2": "ad_line2",
  "address.street3": "ad_line3",
  "address.city": "ad_city",
  "address.stateCode": "ad_state",
  "address.zipCode": "ad_zip",
  "address.countryCode": "ad_ctry",
} as const;

/**
 * Assumed QAD EE tables behind the other documents, as profile defaults: vd_mstr (+ ad_mstr) for suppliers,
 * po_mstr for purchase orders, pt_mstr for items. Each is a guess at a site's profile, overridable per field.
 * Supplier invoices, GL accounts, cost centers and goods receipts have no defaults: in QAD EE the financial ones
 * are DDP business objects the Query Service cannot read, and receipts have no single-field key; configure a
 * full mapping for a site profile that serves them.
 */
export const QXTEND_ENTITY_DEFAULTS: { readonly [K in "suppliers" | "purchaseOrders" | "items"]: QxtendEntityMapping } =
  {
    suppliers: {
      rowElement: "vd_mstr",
      keyField: "vd_addr",
      dateField: "vd_mod_date",
      sharedSet: true,
      fields: {
        supplierCode: "vd_addr",
        name: "ad_name",
        ...addressFields,
        telephone: "ad_phone",
        email: "ad_email",
        isActive: { field: "vd_active", type: "boolean" },
        currencyCode: "vd_curr",
        creditTermsCode: "vd_cr_terms",
      },
      defaults: { isActive: true },
    },
    purchaseOrders: {
      rowElement: "po_mstr",
      keyField: "po_nbr",
      dateField: "po_mod_date",
      fields: {
        purchaseOrderNumber: "po_nbr",
        supplierCode: "po_vend",
        orderDate: { field: "po_ord_date", type: "date" },
        dueDate: { field: "po_due_date", type: "date" },
        status: "po_stat",
        currencyCode: "po_curr",
      },
    },
    items: {
      rowElement: "pt_mstr",
      keyField: "pt_part",
      dateField: "pt_mod_date",
      fields: {
        itemCode: "pt_part",
        description: "pt_desc1",
        unitOfMeasure: "pt_um",
        productLine: "pt_prod_line",
        itemType: "pt_part_type",
      },
    },
  };

/** Settings the generic mapping needs. @internal */
export interface EntityMappingSettings {
  sharedSetCode: string;
  dateFormat: QadDateFormat;
  centuryPivot: number;
}

function convert(raw: string, type: QxtendFieldType, s: EntityMappingSettings): unknown {
  switch (type) {
    case "number": {
      const n = Number(raw.trim());
      // Not a number: pass the text on so validation reports it instead of a silent NaN.
      return raw.trim() !== "" && Number.isFinite(n) ? n : raw;
    }
    case "boolean":
      return parseQadLogical(raw);
    case "date":
      return parseQadDate(raw, s.dateFormat, s.centuryPivot) ?? raw;
    default:
      return raw;
  }
}

function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split(".");
  let node = target;
  for (const p of parts.slice(0, -1)) {
    const next = node[p];
    if (typeof next !== "object" || next === null) node[p] = {};
    node = node[p] as Record<string, unknown>;
  }
  node[parts[parts.length - 1]!] = value;
}

function hasPath(target: Record<string, unknown>, path: string): boolean {
  let node: unknown = target;
  for (const p of path.split(".")) {
    if (typeof node !== "object" || node === null || !(p in node)) return false;
    node = (node as Record<string, unknown>)[p];
  }
  return true;
}

/** Whether a top-level canonical field may be absent (per the entity's zod schema). */
function isOptional(kind: EntityKind, field: string): boolean {
  const shape = (
    ENTITY_DEFS[kind].schema as unknown as { shape?: Record<string, { safeParse(v: unknown): { success: boolean } }> }
  ).shape;
  const f = shape?.[field];
  return f ? f.safeParse(undefined).success : true;
}

/**
 * Maps one row of a non-customer profile onto the entity's canonical shape (unvalidated). Blank text becomes
 * absent for optional fields and stays "" for required ones; unmapped row fields go to `custom`.
 * @internal
 */
export function mapEntityRow(
  kind: EntityKind,
  row: XmlNode,
  m: QxtendEntityMapping,
  s: EntityMappingSettings,
): Record<string, unknown> {
  const { fields } = flattenRow(row, "\u0000");
  const used = new Set<string>([m.dateField]);
  const out: Record<string, unknown> = {};
  if (m.sharedSet) out.sharedSetCode = s.sharedSetCode;
  for (const [path, spec] of Object.entries(m.fields)) {
    const { field, type = "string" } = typeof spec === "string" ? { field: spec } : spec;
    used.add(field);
    const raw = fields.get(field);
    if (raw === undefined) continue;
    const top = path.split(".")[0]!;
    if (raw.trim() === "" && (path.includes(".") || isOptional(kind, top))) continue;
    const value = convert(raw, type, s);
    if (value !== undefined) setPath(out, path, value);
  }
  for (const [path, value] of Object.entries(m.defaults ?? {})) if (!hasPath(out, path)) setPath(out, path, value);
  // A required nested object (suppliers' address) exists even when every part of it is blank.
  for (const path of Object.keys(m.fields)) {
    const top = path.split(".")[0]!;
    if (path.includes(".") && !(top in out) && !isOptional(kind, top)) out[top] = {};
  }
  const rawDate = fields.get(m.dateField);
  if (rawDate !== undefined) {
    out.lastModified = { date: parseQadDate(rawDate, s.dateFormat, s.centuryPivot) ?? rawDate, time: 0 };
  }
  const custom: Record<string, string> = {};
  for (const [k, v] of fields) if (!used.has(k)) custom[k] = v;
  out.custom = custom;
  return out;
}
