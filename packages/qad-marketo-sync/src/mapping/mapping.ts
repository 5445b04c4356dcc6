/**
 * The declarative mapping from a source record to Marketo payloads: field maps whose values are either a dotted path
 * into the record (typed: a typo does not compile) or a transform function. Defaults cover the common customer
 * fields (see `defaults.ts`); {@link extendMapping} adds, replaces or removes fields without restating the rest.
 *
 * @module
 */

import type { MarketoPayload, Reason } from "../ports.js";
import type { SourceContact } from "../source/customer-schema.js";
import { describeChanges, sanitiseText, unsafeTextIn, visibleText } from "../text/sanitise.js";
import { sourceIdentity } from "./defaults.js";

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
  /** Who the source record is, when known (see `sourceIdentity`): tells a record read twice from a key collision. */
  identity?: string | undefined;
  /** Company payload. */
  company: MarketoPayload;
  /** Named-account payload, when mapped. */
  namedAccount?: MarketoPayload | undefined;
  /** Sales person payload, when mapped. */
  salesPerson?: MarketoPayload | undefined;
  /** Lead payloads with a valid email, keyed by lower-case email. */
  leads: { key: string; payload: MarketoPayload; notes?: Reason[] | undefined }[];
  /** `sanitised` notes for the audit rows of the company, named account and sales person (see `text/sanitise.ts`). */
  notes?: { company?: Reason[]; namedAccount?: Reason[]; salesPerson?: Reason[] } | undefined;
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

/** A `sanitised` note for one field, when {@link sanitiseText} changed it. */
function sanitised(field: string, value: string, notes: Reason[]): string {
  const { value: clean, changes } = sanitiseText(value);
  if (changes) notes.push({ code: "sanitised", message: `${visibleText(field)}: removed ${describeChanges(changes)}` });
  return clean;
}

/** Cleans every string of a payload built outside a field map (a sales person), with notes. */
function sanitisePayload(payload: MarketoPayload, notes: Reason[]): MarketoPayload {
  const out: MarketoPayload = {};
  for (const [k, v] of Object.entries(payload)) out[k] = typeof v === "string" ? sanitised(k, v, notes) : v;
  return out;
}

function run<T>(compiled: Compiled<T>, input: T, notes: Reason[] = []): MarketoPayload {
  const out: MarketoPayload = {};
  for (const [field, get] of compiled) {
    let v = get(input);
    if (typeof v === "string") {
      v = sanitised(field, v, notes).trim();
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
        const unsafe = unsafeTextIn(key);
        if (unsafe !== undefined) {
          return {
            key: visibleText(key),
            reason: {
              code: "invalid_key",
              message: `externalCompanyId holds ${unsafe}; keys are never altered, so the record is rejected`,
            },
          };
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
        const notes = { company: [] as Reason[], namedAccount: [] as Reason[], salesPerson: [] as Reason[] };
        const out: MappedRecord = {
          key: k,
          identity: sourceIdentity(record),
          company: run(company, record, notes.company),
          leads: [],
          contactIssues: [],
        };
        out.company.externalCompanyId = k;
        if (mapping.salesPerson) {
          const sp = mapping.salesPerson(record);
          if (sp && typeof sp.externalSalesPersonId === "string" && sp.externalSalesPersonId !== "") {
            const unsafeSp = unsafeTextIn(sp.externalSalesPersonId);
            if (unsafeSp !== undefined) {
              return {
                key,
                reason: { code: "invalid_key", message: `externalSalesPersonId holds ${unsafeSp}` },
              };
            }
            out.salesPerson = sanitisePayload(sp, notes.salesPerson);
            out.company.externalSalesPersonId = sp.externalSalesPersonId;
          }
        }
        if (named) {
          const na = run(named, record, notes.namedAccount);
          if (typeof na.name !== "string" || na.name === "") {
            return { key, reason: { code: "mapping", message: "named account name is blank" } };
          }
          out.namedAccount = na;
        }
        if (notes.company.length + notes.namedAccount.length + notes.salesPerson.length > 0) {
          out.notes = {};
          if (notes.company.length > 0) out.notes.company = notes.company;
          if (notes.namedAccount.length > 0) out.notes.namedAccount = notes.namedAccount;
          if (notes.salesPerson.length > 0) out.notes.salesPerson = notes.salesPerson;
        }
        if (lead) {
          const seen = new Set<string>();
          mapping.contacts(record).forEach((contact, i) => {
            const email = contact.email?.trim().toLowerCase() ?? "";
            const ref = visibleText(contact.contactCode ?? (email || `#${i}`));
            const contactKey = `${k}#${visibleText(contact.contactCode ?? String(i))}`;
            // An email is a lookup key: one with a control or bidi character is invalid, never cleaned.
            if (!EMAIL.test(email) || unsafeTextIn(email) !== undefined) {
              out.contactIssues.push({
                key: contactKey,
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
                key: contactKey,
                outcome: "skipped",
                reason: { code: "duplicate_email", message: `another contact of this customer has email ${email}` },
              });
              return;
            }
            seen.add(email);
            const leadNotes: Reason[] = [];
            const payload = run(lead, { contact, customer: record, externalCompanyId: k }, leadNotes);
            payload.email = email;
            payload.externalCompanyId = k;
            out.leads.push(leadNotes.length > 0 ? { key: email, payload, notes: leadNotes } : { key: email, payload });
          });
        }
        return out;
      } catch (e) {
        return {
          key: key === undefined ? undefined : visibleText(String(key)),
          reason: {
            code: "mapping",
            message: `mapping threw: ${visibleText(e instanceof Error ? e.message : String(e))}`,
          },
        };
      }
    },
  };
}

/** True when a mapping result is a rejection. @internal */
export function isRejection(r: MappedRecord | MappingRejection): r is MappingRejection {
  return "reason" in r;
}
