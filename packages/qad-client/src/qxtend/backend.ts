import { Redactor } from "@ml/http-kernel";
import type { EntityKind, PageRequest, QadBackend } from "../backend.js";
import {
  QadAbortError,
  QadConfigError,
  type QadQxtendMessage,
  type QadRequestInfo,
  QadResponseParseError,
} from "../errors.js";
import {
  CONTACT_FIELD_DEFAULTS,
  type ContactFieldMap,
  CUSTOMER_FIELD_DEFAULTS,
  type CustomerFieldMap,
  type CustomerMappingSettings,
  flattenRow,
  mapCustomerRow,
} from "./customer-mapping.js";
import { mapEntityRow, QXTEND_ENTITY_DEFAULTS, type QxtendEntityMapping } from "./entity-mapping.js";
import type { QxtendContextEntry } from "./envelope.js";
import { buildQxtendFilter } from "./filter.js";
import { type QxtendOptions, type ResolvedQxtendOptions, resolveQxtendOptions } from "./options.js";
import type { QxtendFault } from "./response.js";
import { type QxtendDeps, runQuery, type TransportSettings } from "./transport.js";

/**
 * One page read over QXtend: the records, plus the answer's `result` (`success` or `warning`) and its
 * `temp_err_msg` rows, which are kept on the page (and logged) rather than dropped.
 */
export type QxtendPage = unknown[] & {
  /** `success` or `warning`. */
  readonly result: string;
  /** Warning / information rows of the answer. */
  readonly warnings: readonly QadQxtendMessage[];
  /** wsa:MessageID of the request that produced this page. */
  readonly messageId: string;
};

/** The QXtend backend: a {@link QadBackend} with protocol `"qxtend"` whose pages are {@link QxtendPage}s. */
export interface QxtendBackend extends QadBackend {
  /** Always `"qxtend"`. */
  readonly protocol: "qxtend";
  /** Always `"day"`: QXtend dates have no time of day. */
  readonly modifiedSinceGranularity: "day";
  /** Pages of records ordered by key, in the entity's canonical shape (unvalidated). */
  pages(entity: EntityKind, req: PageRequest): AsyncIterable<QxtendPage>;
}

/** Answers that mean "try again later" rather than "you asked for something wrong". */
const TRANSIENT = /time(d)?[\s-]?out|temporar|unavailable|busy|try again|deadlock|in use by|record lock|locked/i;

interface EntityProfile {
  profile: string;
  rowElement: string;
  keyField: string;
  dateField: string;
  /** Undefined for customers (mapped by customerFields). */
  mapping?: QxtendEntityMapping;
}

const CUSTOMER_PROFILE_DEFAULTS = { rowElement: "cm_mstr", keyField: "cm_addr", dateField: "cm_mod_date" };

function entityProfile(o: ResolvedQxtendOptions, entity: EntityKind): EntityProfile {
  const p = o.profiles[entity];
  if (p === undefined) {
    throw new QadConfigError(`No QXtend Query Service profile configured for ${entity} (qxtend.profiles.${entity})`);
  }
  const spec = typeof p === "string" ? { profile: p } : p;
  if (entity === "customers") {
    return {
      profile: spec.profile,
      rowElement: spec.rowElement ?? CUSTOMER_PROFILE_DEFAULTS.rowElement,
      keyField: spec.keyField ?? CUSTOMER_PROFILE_DEFAULTS.keyField,
      dateField: spec.dateField ?? CUSTOMER_PROFILE_DEFAULTS.dateField,
    };
  }
  const d: Partial<QxtendEntityMapping> =
    (QXTEND_ENTITY_DEFAULTS as Partial<Record<EntityKind, QxtendEntityMapping>>)[entity] ?? {};
  const rowElement = spec.rowElement ?? d.rowElement;
  const keyField = spec.keyField ?? d.keyField;
  const dateField = spec.dateField ?? d.dateField;
  const fields = { ...d.fields, ...spec.fields };
  if (!rowElement || !keyField || !dateField || Object.keys(fields).length === 0) {
    throw new QadConfigError(
      `QXtend profile for ${entity} needs rowElement, keyField, dateField and fields (defaults exist only for customers, suppliers, purchaseOrders and items)`,
    );
  }
  const sharedSet = spec.sharedSet ?? d.sharedSet;
  const defaults = { ...d.defaults, ...spec.defaults };
  return {
    profile: spec.profile,
    rowElement,
    keyField,
    dateField,
    mapping: { rowElement, keyField, dateField, fields, defaults, ...(sharedSet === undefined ? {} : { sharedSet }) },
  };
}

function contextEntries(o: ResolvedQxtendOptions): QxtendContextEntry[] {
  const named: [string, unknown][] = [
    ["domain", o.domain],
    ["version", o.version],
    ["scopeTransaction", o.scopeTransaction],
    ["username", o.username],
    ["password", o.password],
    ["mnemonicsRaw", o.mnemonicsRaw],
    ["action", o.action],
    ["entity", o.entity],
    ["email", o.email],
    ["emailLevel", o.emailLevel],
    ["sessionID", o.sessionID],
    ["timeoutLimit", o.timeoutLimit],
    ...Object.entries(o.context ?? {}),
  ];
  return named.filter(([, v]) => v !== undefined).map(([name, v]) => ({ name, value: String(v) }));
}

/**
 * The QXtend redactor: the password (also XML-escaped, URL- and JSON-encoded) and the kernel's pattern rules
 * (`<password>…</password>`, `password=…`, `Bearer …`), applied to everything taken from an answer.
 */
function makeRedactor(secrets: readonly (string | undefined)[]): (text: string) => string {
  const redactor = new Redactor({ marker: "[redacted]" });
  for (const s of secrets) redactor.add(s);
  return (text) => redactor.redact(text);
}

/**
 * Progress compares CHARACTER fields case-insensitively and ignores trailing blanks (default collation); this is
 * the approximation used to check that rows come back in key order.
 */
export function compareProgressKeys(a: string, b: string): number {
  const x = a.replace(/ +$/, "").toUpperCase();
  const y = b.replace(/ +$/, "").toUpperCase();
  return x < y ? -1 : x > y ? 1 : 0;
}

/**
 * Key paging is only safe when the profile returns rows in key order, each after the previous page's last key. A
 * profile that sorts otherwise (or ignores the key filter) would make the reader skip or repeat rows forever, so
 * that is an error, not something to carry on from.
 */
function checkKeyOrder(
  keys: readonly string[],
  afterKey: string | undefined,
  context: { requestId: string; request: QadRequestInfo },
): void {
  let previous = afterKey;
  for (const key of keys) {
    if (previous !== undefined) {
      const c = compareProgressKeys(previous, key);
      if (previous === afterKey ? c >= 0 : c > 0) {
        throw new QadResponseParseError(
          previous === afterKey
            ? `QXtend returned key ${JSON.stringify(key)} although keys after ${JSON.stringify(afterKey)} were asked for; the profile does not apply the key filter`
            : `QXtend rows are not in key order (${JSON.stringify(previous)} before ${JSON.stringify(key)}); key paging would skip rows. Sort the profile by its key, or set keyOrder: "trust"`,
          context,
        );
      }
    }
    previous = key;
  }
}

/**
 * Creates the QXtend Query Service backend (on-prem QAD Enterprise Edition). Options, including every configured
 * profile's mapping, are validated here once ({@link QadConfigError} on any problem, never quoting the password).
 * Reads page by key, never by offset: each next page asks for `<keyField> > "<last key>"` combined with the
 * `modifiedSince` date filter. A read ends at an empty page or at a page shorter than an earlier one (a profile
 * may cap MaxRows below the page size, so one short page alone proves nothing).
 *
 * QXtend dates are day-granular: `modifiedSince.time` cannot be expressed, so the read returns every row modified
 * on/after that day (a superset; the incremental layer above dedupes), and each row's `lastModified.time` is 0.
 *
 * @example
 * const backend = createQxtendBackend(
 *   { url: "https://qad.example.com/qxi/services/QdocWebService", receiver: "qad-qxtend", version: "eB2_1",
 *     domain: "10USA", username: "mfg", password: process.env.QAD_PASSWORD, profiles: { customers: "Customer" } },
 *   { fetch, clock: Date, sleep: (ms) => new Promise((r) => setTimeout(r, ms)), random: Math.random },
 * );
 * for await (const page of backend.pages("customers", { pageSize: 200 })) console.log(page.length);
 */
export function createQxtendBackend(options: QxtendOptions, deps: QxtendDeps): QxtendBackend {
  const o = resolveQxtendOptions(options);
  // Every configured profile is checked now, so a profile without a usable mapping fails up front, not at a read.
  for (const entity of Object.keys(o.profiles) as EntityKind[]) entityProfile(o, entity);
  const redact = makeRedactor([o.password]);
  const context = contextEntries(o);
  const sharedSetCode = o.sharedSetCode ?? o.domain ?? "default";
  const mapping: CustomerMappingSettings = {
    fields: { ...CUSTOMER_FIELD_DEFAULTS, ...(o.customerFields as Partial<CustomerFieldMap> | undefined) },
    contactFields: { ...CONTACT_FIELD_DEFAULTS, ...(o.contactFields as Partial<ContactFieldMap> | undefined) },
    sharedSetCode,
    dateFormat: o.dateFormat,
    centuryPivot: o.centuryPivot,
    activeWhenMissing: o.activeWhenMissing,
  };
  const transient = o.transientPattern ?? TRANSIENT;
  const settingsFor = (p: EntityProfile): TransportSettings => ({
    url: o.url,
    timeoutMs: o.timeoutMs,
    maxResponseBytes: o.maxResponseBytes,
    retry: o.retry,
    rowElement: p.rowElement,
    redact,
    isTransientFault: (f: QxtendFault) => transient.test(f.faultstring) || transient.test(f.detail ?? ""),
    isTransientMessage: (m: QadQxtendMessage) => transient.test(m.description),
  });
  const request = (p: EntityProfile, filter: string, maxRows: number) => (messageId: string) => ({
    receiver: o.receiver,
    messageId,
    replyTo: o.replyTo,
    context,
    profile: p.profile,
    sourceApplication: o.sourceApplication,
    filter,
    maxRows,
    ignoreBOFilter: o.ignoreBOFilter,
    ignoreBOInnerJoin: o.ignoreBOInnerJoin,
  });

  async function* pages(entity: EntityKind, req: PageRequest): AsyncGenerator<QxtendPage> {
    const p = entityProfile(o, entity);
    if (!Number.isInteger(req.pageSize) || req.pageSize < 1) {
      throw new QadConfigError(`pageSize must be a positive integer, got ${String(req.pageSize)}`);
    }
    const settings = settingsFor(p);
    const sinceDate = req.modifiedSince?.date;
    let afterKey: string | undefined;
    // A profile may cap MaxRows below the page size, so a short page alone does not prove the end: only an empty
    // page, or one shorter than an earlier page of this read (the cap is constant), does.
    let largest = 0;
    let capWarned = false;
    for (;;) {
      if (req.signal?.aborted) throw new QadAbortError("QXtend read aborted", { cause: req.signal.reason });
      const filter = buildQxtendFilter({
        dateField: p.dateField,
        keyField: p.keyField,
        dateFormat: o.dateFormat,
        centuryPivot: o.centuryPivot,
        ...(sinceDate === undefined ? {} : { sinceDate }),
        ...(afterKey === undefined ? {} : { afterKey }),
      });
      const started = deps.clock.now();
      const outcome = await runQuery(request(p, filter, req.pageSize), settings, deps, req.signal);
      deps.logger?.debug(
        {
          entity,
          profile: p.profile,
          rows: outcome.rows.length,
          afterKey,
          durationMs: deps.clock.now() - started,
          messageId: outcome.messageId,
        },
        "QXtend page",
      );
      if (outcome.messages.length > 0) {
        deps.logger?.warn(
          { entity, result: outcome.result, messages: outcome.messages, messageId: outcome.messageId },
          "QXtend answered with messages",
        );
      }
      const errorContext = { requestId: outcome.messageId, request: { method: "POST", url: o.url } };
      const keys: string[] = [];
      const records: unknown[] = [];
      for (const row of outcome.rows) {
        const fields = flattenRow(row, mapping.contactFields.row).fields;
        const key = fields.get(p.keyField);
        if (key === undefined) {
          throw new QadResponseParseError(
            `QXtend row without key field ${p.keyField}: cannot page by key (check the profile's field names)`,
            errorContext,
          );
        }
        keys.push(key);
        records.push(p.mapping ? mapEntityRow(entity, row, p.mapping, mapping) : mapCustomerRow(row, mapping));
      }
      if (o.keyOrder === "verify") checkKeyOrder(keys, afterKey, errorContext);
      if (records.length > 0) {
        yield Object.assign(records, {
          result: outcome.result,
          warnings: outcome.messages,
          messageId: outcome.messageId,
        }) as QxtendPage;
      }
      const n = outcome.rows.length;
      if (n === 0 || (n < req.pageSize && n < largest)) return;
      if (n < req.pageSize && largest > 0 && !capWarned) {
        capWarned = true;
        deps.logger?.warn(
          { entity, profile: p.profile, pageSize: req.pageSize, rows: n },
          "QXtend profile returns fewer rows than MaxRows; paging on (set pageSize to the profile's limit to save a request)",
        );
      }
      largest = Math.max(largest, n);
      const next = keys[keys.length - 1];
      // Even with keyOrder "trust", a cursor that does not move would re-read the same page forever.
      if (next === afterKey) {
        throw new QadResponseParseError(
          `QXtend paging did not advance past key ${JSON.stringify(afterKey)}`,
          errorContext,
        );
      }
      afterKey = next;
    }
  }

  async function available(signal?: AbortSignal): Promise<boolean> {
    const entity = o.profiles.customers ? "customers" : (Object.keys(o.profiles) as EntityKind[])[0];
    if (entity === undefined) return false;
    try {
      const p = entityProfile(o, entity);
      await runQuery(request(p, "", 1), settingsFor(p), deps, signal, false);
      return true;
    } catch (error) {
      deps.logger?.debug(
        { err: { name: (error as Error).name, message: (error as Error).message } },
        "QXtend not available",
      );
      return false;
    }
  }

  return { protocol: "qxtend", modifiedSinceGranularity: "day", pages, available };
}
