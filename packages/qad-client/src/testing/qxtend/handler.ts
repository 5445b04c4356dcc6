import { XMLBuilder, XMLParser, XMLValidator } from "fast-xml-parser";
import type { QadDateFormat } from "../../qxtend/filter.js";
import { QxtendSimFaults, type SimQxtendMessage } from "./faults.js";
import { parseSimFilter } from "./filter-eval.js";
import { SIM_TABLES, type SimCustomerRow, type SimDocumentKind, toCustomerRow, toDocumentRow } from "./rows.js";

/**
 * What the QXtend face needs from the simulator's data store. `startQadSimulator` adapts its `QadSimStore` as
 * `{ customers: () => store.rows(), documents, now }`, so corrupt rows are served too (`QadSimStore.customers()`
 * holds only the valid ones).
 */
export interface QxtendSimStore {
  /**
   * Current canonical customer records to serve, invalid ones included. Must return a new array whenever the data changes (QadSimStore does): the
   * handler maps and sorts each array once and reuses the result while the same array comes back.
   */
  customers(): readonly unknown[];
  /**
   * Rows of another document kind with REST field names (`supplierCode`, `lastModifiedDate`...), when the store
   * has them; suppliers, purchase orders and items are served from these.
   */
  documents?(kind: SimDocumentKind): readonly Record<string, unknown>[];
  /** The simulator's notion of now. */
  now(): Date;
}

/** Settings of the simulated QXtend endpoint. */
export interface QxtendSimOptions {
  /** Accepted receiver: requests must carry `wsa:To = urn:services-qad-com:<receiver>`. @default "qad-qxtend" */
  receiver?: string;
  /** Accepted `version` session values; the version itself is always mandatory. @default any non-empty value */
  versions?: readonly string[];
  /** Required username/password; when absent any credentials (or none) pass. */
  credentials?: { username: string; password: string };
  /** Required `domain`, when set. */
  domain?: string;
  /**
   * Profile name per entity (suppliers, purchase orders and items need a store with `documents()`).
   * @default { customers: "Customer", suppliers: "Supplier", purchaseOrders: "PurchaseOrder", items: "Item" }
   */
  profiles?: { customers?: string; suppliers?: string; purchaseOrders?: string; items?: string };
  /** Date format of Filter literals (the session locale). @default "mm/dd/yy" */
  dateFormat?: QadDateFormat;
  /** Two-digit year pivot: yy < pivot is 20yy. @default 50 */
  centuryPivot?: number;
  /** How cm_mod_date is written in rows: ISO like Progress XML serialisation, or the session format. @default "iso" */
  dateStyle?: "iso" | "session";
  /** Serve only customers of this shared set (QXtend has no shared set; a domain maps to one). @default all */
  sharedSetCode?: string;
  /** Nest ad_mstr under cm_mstr (true) or flatten its fields onto cm_mstr (false). @default true */
  nestAddress?: boolean;
  /** Upper bound on MaxRows, as a profile's own limit. @default 1000 */
  maxRowsCap?: number;
  /** Fault queue to use (share one to inject from outside). @default a new one */
  faults?: QxtendSimFaults;
}

/** One HTTP request as the simulator server hands it over. */
export interface QxtendSimRequest {
  /** Lower-cased header names. */
  headers: Record<string, string | undefined>;
  /** Raw body. */
  body: string;
}

/** The answer the server writes back. */
export interface QxtendSimResponse {
  /** HTTP status. */
  status: number;
  /** Response headers. */
  headers: Record<string, string>;
  /** Body. */
  body: string;
}

/** What the simulated endpoint has seen, for assertions. Passwords are never recorded. */
export interface QxtendSimInspection {
  /** Requests received. */
  requests: number;
  /** Filter of every Query Service request, in order. */
  filters: string[];
  /** MaxRows of every Query Service request, in order. */
  maxRows: number[];
  /** wsa:MessageID of every request, in order. */
  messageIds: string[];
  /** Session context of the last request, password replaced by `[redacted]`. */
  lastContext: Record<string, string>;
  /** Faults served (injected or validation faults). */
  faults: number;
}

/** The request handler, with its fault queue and inspection. */
export type QxtendHandler = ((req: QxtendSimRequest) => Promise<QxtendSimResponse>) & {
  /** Inject failures into coming requests. */
  readonly faults: QxtendSimFaults;
  /** What was received so far. */
  inspect(): QxtendSimInspection;
};

type Obj = Record<string, unknown>;

const SOAP = "http://schemas.xmlsoap.org/soap/envelope/";
const QDOC = "urn:schemas-qad-com:xml-services";
const QCOM = "urn:schemas-qad-com:xml-services:common";

const asObj = (v: unknown): Obj | undefined =>
  typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Obj) : undefined;
const asArray = (v: unknown): unknown[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
const text = (v: unknown): string | undefined => {
  if (typeof v === "string") return v;
  const o = asObj(v);
  return o && typeof o["#text"] === "string" ? o["#text"] : o && Object.keys(o).length === 0 ? "" : undefined;
};

/** Progress's default CHARACTER collation, roughly: case-insensitive, trailing blanks ignored. */
function collate(a: string, b: string): number {
  const x = a.toUpperCase().replace(/ +$/, "");
  const y = b.toUpperCase().replace(/ +$/, "");
  return x < y ? -1 : x > y ? 1 : 0;
}

function simParseDate(literal: string, format: QadDateFormat, pivot: number): string | undefined {
  const sep = format.includes("/") ? "/" : format.includes(".") ? "." : "-";
  const names = format.split(sep);
  const bits = literal.split(sep);
  if (bits.length !== 3) return undefined;
  let y = Number.NaN;
  let m = Number.NaN;
  let d = Number.NaN;
  names.forEach((n, i) => {
    const v = Number(bits[i]);
    if (n === "yyyy") y = v;
    else if (n === "yy") y = v < pivot ? 2000 + v : 1900 + v;
    else if (n === "mm") m = v;
    else d = v;
  });
  const dt = new Date(Date.UTC(y, m - 1, d));
  if (Number.isNaN(dt.getTime()) || dt.getUTCDate() !== d || dt.getUTCMonth() !== m - 1) return undefined;
  return dt.toISOString().slice(0, 10);
}

function simFormatDate(iso: string, format: QadDateFormat): string {
  const [y, m, d] = iso.split("-") as [string, string, string];
  const sep = format.includes("/") ? "/" : format.includes(".") ? "." : "-";
  const v: Record<string, string> = { yyyy: y, yy: y.slice(2), mm: m, dd: d };
  return format
    .split(sep)
    .map((n) => v[n])
    .join(sep);
}

/**
 * Creates the QXtend face of the QAD simulator: a handler for `POST /qxi/services/QdocWebService` that speaks the
 * Query Service over SOAP 1.1. It parses the envelope with fast-xml-parser, checks `wsa:To`, the mandatory
 * `version`, credentials, domain and profile (SOAP Faults, as QXtend does for problems found before processing),
 * evaluates the Filter subset the client generates (date `>=` and key `>`; anything else is a `result=error`
 * with a `temp_err_msg` row), applies MaxRows and returns cm_mstr/ad_mstr rows from the store ordered by cm_addr.
 *
 * @example
 * const handler = createQxtendHandler(store, { receiver: "qad-qxtend", credentials: { username: "u", password: "p" } });
 * handler.faults.inject({ kind: "http500" }, { times: 2 });
 */
export function createQxtendHandler(store: QxtendSimStore, options: QxtendSimOptions = {}): QxtendHandler {
  const receiver = options.receiver ?? "qad-qxtend";
  const profileKinds = new Map<string, SimDocumentKind | "customers">([
    [options.profiles?.customers ?? "Customer", "customers"],
    [options.profiles?.suppliers ?? "Supplier", "suppliers"],
    [options.profiles?.purchaseOrders ?? "PurchaseOrder", "purchaseOrders"],
    [options.profiles?.items ?? "Item", "items"],
  ]);
  const dateFormat = options.dateFormat ?? "mm/dd/yy";
  const pivot = options.centuryPivot ?? 50;
  const cap = options.maxRowsCap ?? 1000;
  const faults = options.faults ?? new QxtendSimFaults();
  const inspection: QxtendSimInspection = {
    requests: 0,
    filters: [],
    maxRows: [],
    messageIds: [],
    lastContext: {},
    faults: 0,
  };
  const parser = new XMLParser({
    ignoreAttributes: false,
    attributeNamePrefix: "@_",
    removeNSPrefix: true,
    parseTagValue: false,
    trimValues: false,
    htmlEntities: true,
  });
  const builder = new XMLBuilder({ ignoreAttributes: false, attributeNamePrefix: "@_", suppressEmptyNode: false });

  const xml = (status: number, body: Obj): QxtendSimResponse => ({
    status,
    headers: { "content-type": "text/xml; charset=utf-8" },
    body: `<?xml version="1.0" encoding="UTF-8"?>${builder.build({
      "soapenv:Envelope": { "@_xmlns:soapenv": SOAP, "@_xmlns:qcom": QCOM, "soapenv:Body": body },
    })}`,
  });
  const fault = (faultcode: string, faultstring: string, detail?: string): QxtendSimResponse => {
    inspection.faults++;
    return xml(500, {
      "soapenv:Fault": { faultcode, faultstring, ...(detail === undefined ? {} : { detail: { message: detail } }) },
    });
  };
  const msgRows = (messages: SimQxtendMessage[], defaultSev: string) =>
    messages.map((m) => ({
      tt_msg_nbr: m.number === undefined ? "" : String(m.number),
      tt_msg_desc: m.description,
      tt_msg_sev: m.severity ?? defaultSev,
      tt_msg_field: m.field ?? "",
      tt_msg_data: m.data ?? "",
      tt_msg_keys: m.keys ?? "",
    }));
  const answer = (
    op: string,
    result: "success" | "warning" | "error",
    context: Obj[],
    messages: SimQxtendMessage[],
    rows: SimCustomerRow[],
    rowElement = "cm_mstr",
  ): QxtendSimResponse =>
    xml(200, {
      [`${op}Response`]: {
        "@_xmlns": QDOC,
        result,
        "qcom:dsSessionContext": { "qcom:ttContext": context },
        ...(messages.length > 0
          ? { dsExceptions: { temp_err_msg: msgRows(messages, result === "warning" ? "warning" : "error") } }
          : {}),
        [`ds${op.slice("query".length)}`]: { [rowElement]: rows.map((r) => r.xml) },
      },
    });

  const formatDate = (iso: string) => (options.dateStyle === "session" ? simFormatDate(iso, dateFormat) : iso);
  // The store hands out the same frozen array until its data changes; map and sort each version once.
  const cache = new WeakMap<object, SimCustomerRow[]>();
  const sortedRows = (kind: SimDocumentKind | "customers", records: readonly unknown[]): SimCustomerRow[] => {
    let rows = cache.get(records);
    if (!rows) {
      rows = [];
      const layout = { nestAddress: options.nestAddress ?? true, formatDate };
      for (const record of records) {
        const row = kind === "customers" ? toCustomerRow(record, layout) : toDocumentRow(kind, record, layout);
        if (!row) continue;
        const scoped = kind === "customers" || kind === "suppliers";
        if (scoped && options.sharedSetCode !== undefined && row.sharedSetCode !== options.sharedSetCode) continue;
        rows.push(row);
      }
      rows.sort((a, b) => collate(a.key, b.key));
      cache.set(records, rows);
    }
    return rows;
  };

  async function handle(req: QxtendSimRequest): Promise<QxtendSimResponse> {
    inspection.requests++;
    const header = (name: string) =>
      Object.entries(req.headers).find(([k]) => k.toLowerCase() === name)?.[1] ?? undefined;
    if (!/^text\/xml\b/i.test(header("content-type") ?? "")) {
      return { status: 415, headers: { "content-type": "text/plain" }, body: "Unsupported Media Type" };
    }
    if (header("soapaction") === undefined) return fault("soapenv:Client", "Missing SOAPAction header");
    if (XMLValidator.validate(req.body) !== true) return fault("soapenv:Client", "Malformed XML request");
    const doc = parser.parse(req.body) as Obj;
    const env = asObj(doc.Envelope);
    const head = asObj(env?.Header) ?? {};
    const body = asObj(env?.Body);
    if (!body) return fault("soapenv:Client", "Not a SOAP envelope");
    const messageId = text(head.MessageID);
    if (messageId) inspection.messageIds.push(messageId);
    if (text(head.To) !== `urn:services-qad-com:${receiver}`) {
      return fault("soapenv:Client", "wsa:To is missing or names an unknown receiver");
    }
    if (!messageId) return fault("soapenv:Client", "wsa:MessageID is missing");
    const opName = Object.keys(body).find((k) => !k.startsWith("@_") && k !== "#text");
    const op = opName ? asObj(body[opName]) : undefined;
    if (!opName || !op || !opName.startsWith("query")) return fault("soapenv:Client", "Unsupported operation");

    const context: Record<string, string> = {};
    const echo: Obj[] = [];
    for (const entry of asArray(asObj(op.dsSessionContext)?.ttContext)) {
      const e = asObj(entry) ?? {};
      const name = text(e.propertyName) ?? "";
      const value = text(e.propertyValue) ?? "";
      context[name] = value;
      if (name !== "password") {
        echo.push({ "qcom:propertyQualifier": "QAD", "qcom:propertyName": name, "qcom:propertyValue": value });
      }
    }
    inspection.lastContext = { ...context, ...(context.password === undefined ? {} : { password: "[redacted]" }) };

    const injected = faults.take();
    if (injected?.kind === "http500") {
      inspection.faults++;
      return { status: 500, headers: { "content-type": "text/plain" }, body: "Internal Server Error" };
    }
    if (injected?.kind === "html") {
      inspection.faults++;
      return {
        status: 200,
        headers: { "content-type": "text/html" },
        body: "<!DOCTYPE html><html><head><title>Login</title></head><body><p>Please log in</p></body></html>",
      };
    }
    if (injected?.kind === "soapFault") {
      return fault(injected.faultcode ?? "soapenv:Server", injected.faultstring ?? "Simulated fault", injected.detail);
    }

    if (!context.version) return fault("soapenv:Client", "Mandatory session context property 'version' is missing");
    if (options.versions && !options.versions.includes(context.version)) {
      return fault("soapenv:Client", `Unsupported version ${context.version}`);
    }
    if (
      options.credentials &&
      (context.username !== options.credentials.username || context.password !== options.credentials.password)
    ) {
      return fault("soapenv:Client", "User ID or password is incorrect");
    }
    if (options.domain !== undefined && context.domain !== options.domain) {
      return fault("soapenv:Client", `Domain ${context.domain ?? "(none)"} is not valid for this receiver`);
    }

    const qsr = asObj(asObj(op.dsQueryServiceRequest)?.QueryServiceRequest);
    const profile = text(qsr?.Profile);
    if (!qsr || !profile) return fault("soapenv:Client", "dsQueryServiceRequest/QueryServiceRequest/Profile missing");
    const kind = profileKinds.get(profile);
    if (kind === undefined || opName !== `query${profile}` || (kind !== "customers" && !store.documents)) {
      return fault("soapenv:Server", `Profile ${profile} is not defined for source application`);
    }
    const filter = text(qsr.Filter) ?? "";
    const maxRowsText = text(qsr.MaxRows) ?? "";
    const maxRows = maxRowsText === "" ? cap : Number(maxRowsText);
    inspection.filters.push(filter);
    inspection.maxRows.push(maxRows);
    if (injected?.kind === "resultError") {
      inspection.faults++;
      const messages = injected.messages ?? [{ number: 1, description: "Simulated error", severity: "error" }];
      return answer(opName, "error", echo, messages, []);
    }
    if (!Number.isInteger(maxRows) || maxRows < 1) {
      return answer(opName, "error", echo, [{ number: 2, description: `Invalid MaxRows ${maxRowsText}` }], []);
    }

    const table = SIM_TABLES[kind];
    let clauses: ReturnType<typeof parseSimFilter>;
    try {
      clauses = parseSimFilter(filter, { date: table.date, key: table.key }, (l) => simParseDate(l, dateFormat, pivot));
    } catch (e) {
      const description = `** Unable to understand filter: ${(e as Error).message}`;
      return answer(opName, "error", echo, [{ number: 3, description, field: "Filter", data: filter }], []);
    }

    const all = sortedRows(kind, kind === "customers" ? store.customers() : (store.documents?.(kind) ?? []));
    const keyClause = clauses.find((c) => c.kind === "key");
    // Rows are sorted by key, so a key clause is a binary search, not a scan from the start.
    let lo = 0;
    if (keyClause) {
      let hi = all.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        const c = collate(all[mid]!.key, keyClause.value);
        if (keyClause.op === ">" ? c <= 0 : c < 0) lo = mid + 1;
        else hi = mid;
      }
    }
    const limit = Math.min(maxRows, cap);
    const page: SimCustomerRow[] = [];
    for (let i = lo; i < all.length && page.length < limit; i++) {
      const row = all[i]!;
      const keep = clauses.every((c) => {
        if (c.kind === "date") return c.op === ">=" ? row.modDate >= c.date : row.modDate > c.date;
        const k = collate(row.key, c.value);
        return c.op === ">" ? k > 0 : k >= 0;
      });
      if (keep) page.push(row);
    }
    if (injected?.kind === "warning") {
      inspection.faults++;
      const messages = injected.messages ?? [{ number: 4, description: "Simulated warning", severity: "warning" }];
      return answer(opName, "warning", echo, messages, page, table.row);
    }
    return answer(opName, "success", echo, [], page, table.row);
  }

  return Object.assign(handle, { faults, inspect: () => structuredClone(inspection) });
}
