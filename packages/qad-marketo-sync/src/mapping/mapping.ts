/**
 * The declarative mapping from a source record to Marketo payloads: field maps whose values are either a dotted path
 * into the record (typed: a typo does not compile) or a transform function. Defaults cover the common customer
 * fields (see `defaults.ts`); {@link extendMapping} adds, replaces or removes fields without restating the rest.
 *
 * @module
 */

import type { MarketoPayload, Reason } from "../ports.js";
import type { SourceContact } from "../source/customer-schema.js";

/** Dotted paths to primitive values of `T`, two levels deep (`"name"`, `"address.city"`, `"custom.customCombo0"`). */
export type FieldPath<T> = {
  [K in keyof T & string]: NonNullable<T[K]> extends string | number | boolean | null | undefined
    ? K
    : NonNullable<T[K]> extends readonly unknown[]
      ? never
      : NonNullable<T[K]> extends object
        ? `${K}.${{
            [K2 in keyof NonNullable<T[K]> & string]: NonNullable<NonNullable<T[K]>[K2]> extends
              | string
              | number
              | boolean
              | null
              | undefined
              ? K2
              : never;
          }[keyof NonNullable<T[K]> & string]}`
        : never;
}[keyof T & string];

/** A value a mapped field may take. `undefined` leaves the field out of the payload. */
export type FieldValue = string | number | boolean | null | undefined;

/** How one Marketo field gets its value: a path into the input, or a transform. */
export type FieldRule<T> = FieldPath<T> | ((input: T) => FieldValue);

/** Marketo field name → rule. A rule set to `undefined` removes a default field. */
export type FieldMap<T> = Record<string, FieldRule<T> | undefined>;

/** What a lead field rule receives: the contact, its customer, and the customer's externalCompanyId. */
export interface LeadInput<S> {
  /** The contact. */
  contact: SourceContact;
  /** The customer it belongs to. */
  customer: S;
  /** The customer's externalCompanyId. */
  externalCompanyId: string;
}

/** The full mapping for source records of type `S`. */
export interface SyncMapping<S> {
  /**
   * The stable key of a record, sent as `externalCompanyId` (at most 100 characters; Marketo cannot update it, so it
   * must never change for a customer).
   */
  externalCompanyId: (record: S) => string;
  /** Company fields (`externalCompanyId` is added by the engine). */
  company: FieldMap<S>;
  /** Named-account fields; must produce `name`. `false` to not write named accounts. */
  namedAccount: FieldMap<S> | false;
  /** The contacts of a record. */
  contacts: (record: S) => SourceContact[];
  /** Lead fields (`email` is the lookup field; `externalCompanyId` is added). `false` to not write leads. */
  lead: FieldMap<LeadInput<S>> | false;
  /**
   * A sales person to write before the company (must contain `externalSalesPersonId`, which is then set on the
   * company too). `false` when sales persons are not mapped.
   */
  salesPerson: ((record: S) => MarketoPayload | undefined) | false;
  /** What to do with a contact without a valid email: reject it (audited as an error) or skip it. */
  invalidContactEmail: "reject" | "skip";
}

/** Payloads of one source record, ready to plan. */
export interface MappedRecord {
  /** externalCompanyId. */
  key: string;
  /** Company payload. */
  company: MarketoPayload;
  /** Named-account payload, when mapped. */
  namedAccount?: MarketoPayload | undefined;
  /** Sales person payload, when mapped. */
  salesPerson?: MarketoPayload | undefined;
  /** Lead payloads with a valid email, keyed by lower-case email. */
  leads: { key: string; payload: MarketoPayload }[];
  /** Contacts not turned into leads, and why. */
  contactIssues: { key: string; outcome: "rejected" | "skipped"; reason: Reason }[];
}

/** A mapping failure: the record is rejected with this reason. */
export interface MappingRejection {
  /** Best-known key. */
  key: string | undefined;
  /** Why. */
  reason: Reason;
}

const EMAIL = /^[^\s@]+@[^\s@.]+(\.[^\s@.]+)+$/;

/** A field map compiled to getter functions once, so mapping 100k records does not re-split paths. @internal */
type Compiled<T> = [field: string, get: (input: T) => FieldValue][];

function compile<T>(map: FieldMap<T>): Compiled<T> {
  const out: Compiled<T> = [];
  for (const [field, rule] of Object.entries(map)) {
    if (rule === undefined) continue;
    if (typeof rule === "function") {
      out.push([field, rule]);
      continue;
    }
    const parts = (rule as string).split(".");
    out.push([
      field,
      (input: T) => {
        let v: unknown = input;
        for (const p of parts) {
          if (v === null || typeof v !== "object") return undefined;
          v = (v as Record<string, unknown>)[p];
        }
        return typeof v === "string" || typeof v === "number" || typeof v === "boolean" || v === null ? v : undefined;
      },
    ]);
  }
  return out;
}

function run<T>(compiled: Compiled<T>, input: T): MarketoPayload {
  const out: MarketoPayload = {};
  for (const [field, get] of compiled) {
    let v = get(input);
    if (typeof v === "string") {
      v = v.trim();
      // An empty QAD field means "not set": leave it out rather than blanking what Marketo has.
      if (v === "") continue;
    }
    if (v === undefined) continue;
    out[field] = v;
  }
  return out;
}

/** A mapping compiled for repeated use. @internal */
export interface CompiledMapping<S> {
  map(record: S): MappedRecord | MappingRejection;
}

/** Compiles a mapping. @internal */
export function compileMapping<S>(mapping: SyncMapping<S>): CompiledMapping<S> {
  const company = compile(mapping.company);
  const named = mapping.namedAccount === false ? undefined : compile(mapping.namedAccount);
  const lead = mapping.lead === false ? undefined : compile(mapping.lead);
  return {
    map(record) {
      let key: string | undefined;
      try {
        key = mapping.externalCompanyId(record);
        if (typeof key !== "string" || key.trim() === "") {
          return { key: undefined, reason: { code: "invalid_key", message: "externalCompanyId is blank" } };
        }
        if (key.length > 100) {
          return {
            key,
            reason: {
              code: "invalid_key",
              message: `externalCompanyId is ${key.length} characters; Marketo allows 100`,
            },
          };
        }
        const k: string = key;
        const out: MappedRecord = { key: k, company: run(company, record), leads: [], contactIssues: [] };
        out.company.externalCompanyId = k;
        if (mapping.salesPerson) {
          const sp = mapping.salesPerson(record);
          if (sp && typeof sp.externalSalesPersonId === "string" && sp.externalSalesPersonId !== "") {
            out.salesPerson = sp;
            out.company.externalSalesPersonId = sp.externalSalesPersonId;
          }
        }
        if (named) {
          const na = run(named, record);
          if (typeof na.name !== "string" || na.name === "") {
            return { key, reason: { code: "mapping", message: "named account name is blank" } };
          }
          out.namedAccount = na;
        }
        if (lead) {
          const seen = new Set<string>();
          mapping.contacts(record).forEach((contact, i) => {
            const email = contact.email?.trim().toLowerCase() ?? "";
            const ref = contact.contactCode ?? (email || `#${i}`);
            if (!EMAIL.test(email)) {
              out.contactIssues.push({
                key: `${k}#${contact.contactCode ?? i}`,
                outcome: mapping.invalidContactEmail === "reject" ? "rejected" : "skipped",
                reason: {
                  code: "invalid_email",
                  message: email === "" ? `contact ${ref} has no email` : `contact ${ref} has an invalid email`,
                },
              });
              return;
            }
            if (seen.has(email)) {
              out.contactIssues.push({
                key: `${k}#${contact.contactCode ?? i}`,
                outcome: "skipped",
                reason: { code: "duplicate_email", message: `another contact of this customer has email ${email}` },
              });
              return;
            }
            seen.add(email);
            const payload = run(lead, { contact, customer: record, externalCompanyId: k });
            payload.email = email;
            payload.externalCompanyId = k;
            out.leads.push({ key: email, payload });
          });
        }
        return out;
      } catch (e) {
        return {
          key,
          reason: { code: "mapping", message: `mapping threw: ${e instanceof Error ? e.message : String(e)}` },
        };
      }
    },
  };
}

/** True when a mapping result is a rejection. @internal */
export function isRejection(r: MappedRecord | MappingRejection): r is MappingRejection {
  return "reason" in r;
}
