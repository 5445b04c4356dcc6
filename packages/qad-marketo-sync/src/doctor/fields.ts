import { defaultCompanyFields, defaultLeadFields, defaultNamedAccountFields } from "../mapping/defaults.js";
import type { FieldMap, SyncMapping } from "../mapping/mapping.js";
import type { FieldSpec, MarketoPayload } from "../ports.js";
import type { SourceCustomer } from "../source/customer-schema.js";
import type { Outcome } from "./runner.js";

/** The Marketo objects whose fields a mapping writes. @internal */
export type FieldObject = "companies" | "namedAccounts" | "leads" | "salesPersons";

/** One field a mapping writes, and how much it matters. @internal */
export interface NeededField {
  name: string;
  /**
   * `key`: the object cannot be written without it; `mapped`: the mapping sets it (a missing one is silently not
   * written); `optional`: a default of the package documented as "an instance may define it".
   */
  need: "key" | "mapped" | "optional";
}

const OBJECT_NAMES: Record<FieldObject, string> = {
  companies: "Company",
  namedAccounts: "Named Account",
  leads: "Person (lead)",
  salesPersons: "Sales Person",
};

const keysOf = <T>(map: FieldMap<T>): string[] =>
  Object.entries(map)
    .filter(([, rule]) => rule !== undefined)
    .map(([name]) => name);

/** The fields `mapping` writes on `object` (sales persons: from the sample payloads, the mapping being a function). */
export function neededFields(
  object: FieldObject,
  mapping: SyncMapping<SourceCustomer>,
  samplePayloads: MarketoPayload[] = [],
): NeededField[] | undefined {
  const out = new Map<string, NeededField["need"]>();
  const add = (names: string[], need: NeededField["need"]) => {
    for (const n of names) if (!out.has(n)) out.set(n, need);
  };
  const fromMap = <T>(map: FieldMap<T>, defaults: FieldMap<T>) => {
    for (const name of keysOf(map)) {
      // A rule the package's defaults set (same rule, same field) is optional: the engine drops it when absent.
      const isDefault = Object.hasOwn(defaults, name) && defaults[name] === map[name];
      add([name], isDefault ? "optional" : "mapped");
    }
  };
  switch (object) {
    case "companies":
      add(["externalCompanyId"], "key");
      if (mapping.salesPerson) add(["externalSalesPersonId"], "key");
      fromMap(mapping.company, defaultCompanyFields);
      break;
    case "namedAccounts":
      if (mapping.namedAccount === false) return undefined;
      add(["name"], "key");
      fromMap(mapping.namedAccount, defaultNamedAccountFields);
      break;
    case "leads":
      if (mapping.lead === false) return undefined;
      add(["email", "externalCompanyId"], "key");
      fromMap(mapping.lead, defaultLeadFields);
      break;
    case "salesPersons":
      if (mapping.salesPerson === false) return undefined;
      add(["externalSalesPersonId"], "key");
      add([...new Set(samplePayloads.flatMap((p) => Object.keys(p)))], "mapped");
      break;
  }
  return [...out].map(([name, need]) => ({ name, need }));
}

/** Marketo's Field Management type for the values seen in the sample (String when nothing was seen). */
export function fieldTypeOf(values: unknown[]): string {
  const seen = values.filter((v) => v !== null && v !== undefined);
  if (seen.length === 0) return "String";
  if (seen.every((v) => typeof v === "boolean")) return "Boolean";
  if (seen.every((v) => typeof v === "number")) return seen.every((v) => Number.isInteger(v)) ? "Integer" : "Float";
  return seen.some((v) => String(v).length > 255) ? "Text Area" : "String";
}

/** `qadCurrencyCode` → `QAD Currency Code`. */
function displayName(api: string): string {
  const words = api.replace(/([a-z0-9])([A-Z])/g, "$1 $2").split(/[\s_]+/);
  return words.map((w) => (/^qad$/i.test(w) ? "QAD" : w.charAt(0).toUpperCase() + w.slice(1))).join(" ");
}

/** The admin steps that create one custom field. @internal */
export function adminSteps(object: FieldObject, field: string, type: string): string {
  return `Admin → Field Management → New Custom Field: object ${OBJECT_NAMES[object]}, type ${type}, name "${displayName(field)}", API name ${field}`;
}

/**
 * Compares what a mapping writes with what describe reports, into one check outcome: a missing key field or mapped
 * field fails (a sync would not write it), missing optional defaults only get a note and the steps to add them.
 * @internal
 */
export function compareFields(
  object: FieldObject,
  needed: NeededField[],
  described: Map<string, FieldSpec>,
  samplePayloads: MarketoPayload[],
): Outcome {
  const missing = needed.filter((f) => !described.has(f.name));
  const steps = (fs: NeededField[]) =>
    fs.map((f) => adminSteps(object, f.name, fieldTypeOf(samplePayloads.map((p) => p[f.name])))).join("; ");
  const keys = missing.filter((f) => f.need === "key");
  const mapped = missing.filter((f) => f.need === "mapped");
  const optional = missing.filter((f) => f.need === "optional");
  const data = {
    fields: needed.length,
    missingKeys: keys.map((f) => f.name),
    missingMapped: mapped.map((f) => f.name),
    missingOptional: optional.map((f) => f.name),
  };
  const optionalNote =
    optional.length > 0
      ? `; optional defaults this instance lacks (not written): ${optional.map((f) => f.name).join(", ")}`
      : "";
  if (keys.length > 0 || mapped.length > 0) {
    const parts = [
      ...(keys.length
        ? [
            `key field(s) ${keys.map((f) => f.name).join(", ")} missing: the sync cannot write ${object} (the API user may lack access to the object: check its role under Admin → Users & Roles)`,
          ]
        : []),
      ...(mapped.length
        ? [`mapped field(s) not on this instance, a sync would drop them: ${mapped.map((f) => f.name).join(", ")}`]
        : []),
    ];
    return {
      status: "fail",
      detail: `${parts.join("; ")}${optionalNote}`,
      fix: mapped.length > 0 ? steps([...mapped, ...optional]) : "give the API user's role access to the object",
      data,
    };
  }
  return {
    status: "pass",
    detail: `all ${needed.length - optional.length} mapped field(s) exist${optionalNote}`,
    ...(optional.length > 0 ? { fix: `to carry them too: ${steps(optional)}` } : {}),
    data,
  };
}
