/**
 * The two ports the engine is built on. The engine never imports a client: it reads records through a
 * {@link CustomerSource} and writes/reads Marketo through a {@link MarketoGateway}. `src/adapters/` implements both
 * over `@ml/qad-client` and `@ml/marketo-client`; a user can feed the engine from a file export or another ERP by
 * implementing {@link CustomerSource}, and tests use in-memory fakes.
 *
 * @module
 */

/** A JSON-serialisable value (checkpoints, payloads and audit rows are stored as JSON). */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** A field-value object sent to or read from Marketo. */
export type MarketoPayload = Record<string, string | number | boolean | null>;

// ---------------------------------------------------------------- source

/** One source row that could not be read as a record; the engine rejects it into the audit trail. */
export interface InvalidSourceItem {
  /** Discriminator. */
  type: "invalid";
  /** The record's key when the source could tell it (e.g. `sharedSet.customerCode`). */
  key?: string | undefined;
  /** Why the row is invalid, in words a person can act on. */
  reason: string;
  /** Field-level problems, when known. */
  issues?: { path: string; message: string }[] | undefined;
}

/** One record read from the source, not yet validated by the engine. */
export interface SourceRecordItem {
  /** Discriminator. */
  type: "record";
  /** The record as the source delivered it; the engine validates it with its schema before using it. */
  record: unknown;
}

/** What a source yields: records, and invalid rows as values (never thrown). */
export type SourceItem = SourceRecordItem | InvalidSourceItem;

/** One incremental read of a source, started from a checkpoint. */
export interface SourceRead extends AsyncIterable<SourceItem> {
  /**
   * A JSON-serialisable checkpoint covering every item yielded so far. The engine calls it only after the items it
   * covers have been read, and saves it only once all of them are durably recorded.
   */
  checkpoint(): JsonValue | undefined;
}

/** Where customer records come from (QAD REST or QXtend via `@ml/qad-client`, a file, another ERP...). */
export interface CustomerSource {
  /**
   * Starts reading records changed since `from` (everything when `from` is undefined).
   * @param from the checkpoint saved by a previous run
   */
  read(from: JsonValue | undefined, options?: { signal?: AbortSignal | undefined }): SourceRead;
  /**
   * Lists the key of every record the source holds now (not only the changed ones), as cheaply as the source
   * allows, for `Sync.reconcile`: a key the store knows as synced but the source no longer lists is gone from the
   * source. Keys must be the sync's `externalCompanyId` of each record. Optional: without it, reconcile reads the
   * whole source with `read(undefined)` and takes each record's key from the mapping. It must throw (never end
   * early) when the listing fails, so a partial listing is never taken for deletions.
   */
  keys?(options?: { signal?: AbortSignal | undefined }): AsyncIterable<SourceKey>;
}

/** One current record of the source, as {@link CustomerSource.keys} lists it. */
export interface SourceKey {
  /** The record's key (the sync's `externalCompanyId`). */
  key: string;
  /** `false` when the source marks the record inactive (QAD `isActive`); `undefined` when it has no such flag. */
  active?: boolean | undefined;
}

// ---------------------------------------------------------------- marketo

/** Marketo objects that a native CRM sync (Salesforce, Dynamics) can make read-only. */
export type CrmObject = "companies" | "opportunities" | "salesPersons";

/** Whether the engine may write an object on this Marketo instance, and how that was learned. */
export interface GatewayCapability {
  /** The object. */
  object: CrmObject;
  /** `false` when a CRM sync owns the object. */
  writable: boolean;
  /** `probe` (asked in advance), `1018` (learned from a refusal) or `default` (assumed). */
  source: "probe" | "1018" | "default";
  /** Why it is read-only, when it is. */
  reason?: string | undefined;
}

/** Marketo's `{code, message}` pair. */
export interface Reason {
  /** Marketo's code (as a string) or one of the engine's codes. */
  code: string;
  /** Human-readable explanation. */
  message: string;
}

/** Marketo's answer for one record of a write, in input order. */
export interface GatewayRecordResult {
  /** Marketo's per-record status. */
  status: "created" | "updated" | "skipped" | "deleted" | "added" | "removed";
  /** Numeric id (companies, leads, sales persons). */
  id?: number | undefined;
  /** GUID (named accounts, opportunities). */
  marketoGUID?: string | undefined;
  /** Reasons given for a skipped record. */
  reasons: Reason[];
}

/** How a named-account write identifies existing records. */
export type NamedAccountWriteMode =
  /** `createOrUpdate`, deduplicated on `name`. */
  | "createOrUpdate"
  /** `updateOnly` by `marketoGUID` (renames: the name is the dedupe field, so it cannot find the old record). */
  | "updateById";

/** An opportunity as the read-back needs it. */
export interface OpportunityInfo {
  /** Marketo GUID or external id. */
  id: string;
  /** The company it belongs to. */
  externalCompanyId: string;
  /** Owner, when set. */
  externalSalesPersonId?: string | undefined;
  /** Opportunity name. */
  name?: string | undefined;
  /** Stage name. */
  stage?: string | undefined;
  /** Amount in the instance currency. */
  amount?: number | undefined;
  /** Closed (won or lost). */
  isClosed: boolean;
  /** Won. */
  isWon?: boolean | undefined;
  /** Expected close date (ISO). */
  closeDate?: string | undefined;
}

/** A sales person as the read-back needs it. */
export interface SalesPersonInfo {
  /** External sales person id. */
  externalSalesPersonId: string;
  /** Email. */
  email?: string | undefined;
  /** First name. */
  firstName?: string | undefined;
  /** Last name. */
  lastName?: string | undefined;
}

/** A lead activity as the read-back needs it. */
export interface ActivityInfo {
  /** Activity id. */
  id: string;
  /** The lead it belongs to. */
  leadId: number;
  /** When it happened (ISO). */
  activityDate: string;
  /** Activity type id. */
  activityTypeId: number;
}

/** A resumable read of lead activities. */
export interface ActivityRead extends AsyncIterable<ActivityInfo> {
  /** Paging token to resume after the last activity yielded (save it as the activity checkpoint). */
  token(): string | undefined;
}

/** One field of a Marketo object, as describe reports it. */
export interface FieldSpec {
  /** Longest string value accepted, when limited. */
  length?: number | undefined;
}

/** The Marketo quota as the gateway's client sees it. */
export interface GatewayUsage {
  /** Calls this client made (every attempt that reached Marketo). */
  callsMade: number;
  /** Calls counted against today's quota. */
  dailyUsed: number;
  /** Today's quota. */
  dailyLimit: number;
}

/** Per-call options. */
export interface GatewayCallOptions {
  /** Cancels the call. */
  signal?: AbortSignal | undefined;
}

/** Options of {@link MarketoGateway.capability}. */
export interface CapabilityOptions extends GatewayCallOptions {
  /** Probe again rather than answer from the client's cache. */
  refresh?: boolean | undefined;
}

/**
 * What the engine needs from Marketo. Writes take at most 300 records and return one result per input, in order; a
 * whole-request failure (after the client's own retries) throws an error carrying `code` and `retryable`.
 */
export interface MarketoGateway {
  /**
   * Whether an object is writable on this instance (probed in advance; cached by the client). `refresh: true` probes
   * again instead of answering from the cache (the engine re-probes read-only objects after `readOnlyRecheckMs`).
   */
  capability(object: CrmObject, options?: CapabilityOptions): Promise<GatewayCapability>;
  /** `createOrUpdate` companies deduplicated on `externalCompanyId`. */
  syncCompanies(input: MarketoPayload[], options?: GatewayCallOptions): Promise<GatewayRecordResult[]>;
  /** Writes named accounts (see {@link NamedAccountWriteMode}). */
  syncNamedAccounts(
    input: MarketoPayload[],
    mode: NamedAccountWriteMode,
    options?: GatewayCallOptions,
  ): Promise<GatewayRecordResult[]>;
  /** `createOrUpdate` leads with lookup field `email`. */
  syncLeads(input: MarketoPayload[], options?: GatewayCallOptions): Promise<GatewayRecordResult[]>;
  /** `createOrUpdate` sales persons deduplicated on `externalSalesPersonId`. */
  syncSalesPersons(input: MarketoPayload[], options?: GatewayCallOptions): Promise<GatewayRecordResult[]>;
  /** Reads companies by `externalCompanyId` (at most 300 ids per call). */
  getCompanies(externalCompanyIds: string[], options?: GatewayCallOptions): Promise<MarketoPayload[]>;
  /** Reads opportunities of the given companies. */
  getOpportunities(externalCompanyIds: string[], options?: GatewayCallOptions): Promise<OpportunityInfo[]>;
  /** Reads sales persons by `externalSalesPersonId`. */
  getSalesPersons(externalSalesPersonIds: string[], options?: GatewayCallOptions): Promise<SalesPersonInfo[]>;
  /** Lead activities after `token`, or since `since` when there is no token yet. */
  activities(from: { token?: string | undefined; since: Date }, options?: GatewayCallOptions): ActivityRead;
  /**
   * Bulk extract of activities created in `[since, until)`, for large first pulls. Optional: when absent the engine
   * pages with tokens.
   */
  extractActivities?(since: Date, until: Date, options?: GatewayCallOptions): AsyncIterable<ActivityInfo>;
  /** Activity type names by id. Optional: counts are keyed by id when absent. */
  activityTypes?(options?: GatewayCallOptions): Promise<Map<number, string>>;
  /**
   * Fields of an object on this instance, from describe. Optional: when present the engine drops mapped fields the
   * instance does not have and shortens strings longer than a field's length (noting it in the audit row), instead
   * of Marketo refusing the whole record (1006 field not found, 1003 value too long).
   */
  fields?(
    object: "companies" | "namedAccounts" | "leads" | "salesPersons",
    options?: GatewayCallOptions,
  ): Promise<Map<string, FieldSpec> | undefined>;
  /**
   * Deletes named accounts, by `marketoGUID` when given, else by `name` (Marketo's dedupe field); at most 300 per
   * call, one result per input in order. Optional: reconcile's `removeNamedAccount` policy needs it.
   */
  deleteNamedAccounts?(refs: NamedAccountRef[], options?: GatewayCallOptions): Promise<GatewayRecordResult[]>;
  /** This client's view of the quota. */
  usage(): GatewayUsage;
}

/** Identifies one named account to delete. */
export interface NamedAccountRef {
  /** Marketo GUID (preferred). */
  marketoGUID?: string | undefined;
  /** Name, used when the GUID is unknown. */
  name?: string | undefined;
}
