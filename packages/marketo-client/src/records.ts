/**
 * Record types shared by every layer: the records Marketo stores, per-record results and reasons, sync results and
 * object descriptions. The bottom layer of the package: this file imports nothing, so errors, resources, transport and
 * bulk can all use it without importing each other.
 *
 * @module
 */

/** One `{code, message}` pair as Marketo reports it in `errors[]` or a record's `reasons[]`. */
export interface MarketoReason {
  /** Marketo's code, always as a string (the wire may send a number). */
  code: string;
  /** Marketo's message. */
  message: string;
}

/** What Marketo did with one input record. */
export type RecordStatus = "created" | "updated" | "deleted" | "skipped" | "added" | "removed";

/** The outcome of one input record, in input order. */
export interface RecordResult {
  /** Index of the record in the caller's input array. */
  index: number;
  /** `seq` within the request that carried it (or within the input, for records never sent). */
  seq: number;
  /** What happened. A skipped record says why in `reasons`. */
  status: RecordStatus;
  /** Numeric id (companies, leads, sales persons). */
  id?: number;
  /** GUID (named accounts, opportunities, roles). */
  marketoGUID?: string;
  /** Why a record was skipped (e.g. `1003` invalid value, `1036` duplicate, `1018` CRM-owned). */
  reasons: MarketoReason[];
}

/** Result of a sync or delete: one {@link RecordResult} per input record, in input order. */
export interface SyncResult {
  /** One result per input record, `results[i].index === i`. */
  results: RecordResult[];
  /** Marketo request ids of the calls made. */
  requestIds: string[];
  /** Warnings of those calls. */
  warnings: string[];
}

/** Sync actions. */
export type SyncAction = "createOnly" | "updateOnly" | "createOrUpdate";

/** Metadata of an object type, as describe returns it (fields open to what Marketo adds). */
export interface ObjectDescription {
  name?: string;
  idField?: string;
  dedupeFields?: string[];
  searchableFields?: string[][];
  fields: {
    name: string;
    dataType?: string;
    displayName?: string;
    length?: number;
    updateable?: boolean;
    crmManaged?: boolean;
    [key: string]: unknown;
  }[];
  [key: string]: unknown;
}

/** A record: known fields typed, any custom field allowed. */
export type MarketoRecord = Record<string, unknown>;

/** A company (dedupe field `externalCompanyId`). Custom fields allowed. */
export interface Company extends MarketoRecord {
  externalCompanyId?: string;
  company?: string;
  id?: number;
  externalSalesPersonId?: string;
}

/** A named account (dedupe field `name`, id field `marketoGUID`). Custom fields allowed. */
export interface NamedAccount extends MarketoRecord {
  name?: string;
  marketoGUID?: string;
}

/** A lead. Custom fields allowed. */
export interface Lead extends MarketoRecord {
  id?: number;
  email?: string;
  externalCompanyId?: string;
}

/** An opportunity (dedupe field `externalOpportunityId`, id `marketoGUID`). Custom fields allowed. */
export interface Opportunity extends MarketoRecord {
  externalOpportunityId?: string;
  externalCompanyId?: string;
  externalSalesPersonId?: string;
  marketoGUID?: string;
}

/** An opportunity role linking a lead to an opportunity (dedupe `externalOpportunityId` + `leadId` + `role`). */
export interface OpportunityRole extends MarketoRecord {
  externalOpportunityId?: string;
  leadId?: number;
  role?: string;
  marketoGUID?: string;
}

/** A sales person (dedupe field `externalSalesPersonId`). Custom fields allowed. */
export interface SalesPerson extends MarketoRecord {
  externalSalesPersonId?: string;
  email?: string;
  id?: number;
}
