/**
 * A loopback Marketo: a real `node:http` server on 127.0.0.1 reproducing identity, the envelope, Marketo's limits
 * (time-scaled), partial batch results, CRM read-only mode, URI/body limits, faults, and an inspection API.
 *
 * @module
 */
import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Readable } from "node:stream";
import type { MarketoClientOptions } from "../config.js";
import type { Company, Lead, NamedAccount, Opportunity, OpportunityRole, SalesPerson } from "../records.js";
import {
  type BulkSimInspection,
  type BulkSimulator,
  type BulkSimulatorOptions,
  createBulkSimulator,
} from "./bulk/index.js";
import type { SimActivity, SimContext, SimRequest, SimResponse } from "./context.js";
import { type FaultSpec, FaultTable, type InjectedFault } from "./faults.js";
import { ActivityLog, type StoredActivity } from "./internal/activity-log.js";
import { ObjectStore, type SimFieldType } from "./internal/object-store.js";
import { envelopeError, handleRest, type RestState } from "./internal/rest-api.js";
import { seededRandom } from "./internal/rng.js";
import { objectSpecs } from "./internal/schemas.js";

export type { SimFieldType };

/** A custom field of the simulated instance, as a Marketo admin creates it under Field Management. */
export interface SimFieldSpec {
  /** API name, e.g. `qadCreditTerms`. */
  name: string;
  /** Data type: values written are checked against it as for standard fields. @default "string" */
  dataType?: SimFieldType;
  /** Longest value accepted (string types). @default 255 for `"string"`, none otherwise */
  length?: number;
}

/** The simulated objects that can be given custom fields. */
export type SimCustomFieldObject = "companies" | "namedAccounts" | "leads" | "opportunities" | "salesPersons";

/** Options of {@link startMarketoSimulator}. */
export interface MarketoSimulatorOptions {
  /**
   * Time scale: every Marketo duration (20 s window, token life, pauses) is multiplied by it. `0.05` makes the 20 s
   * window last 1 s. The simulated clock (`sim.now()`) runs `1 / timeScale` times faster than real time.
   * @default 1
   */
  timeScale?: number;
  /**
   * The real clock the simulator runs on (ms since epoch): token expiry, the sliding window, the call log and, through
   * `timeScale`, the simulated clock. Share one manual clock with the client (`clock`) to test time-dependent behaviour
   * without waiting. Answer latency (`latencyMs`) and `"slow"` faults still wait in real time.
   * @default Date.now
   */
  clock?: { now(): number };
  /**
   * Seed of the generator used for probabilistic faults.
   * @default 1
   */
  seed?: number;
  /**
   * Native CRM sync on: companies, opportunities (and roles) and sales persons refuse writes with 1018, describe marks
   * their fields `updateable: false`, leads describe2 marks company fields `crmManaged: true`.
   * @default false
   */
  crmSync?: boolean;
  /**
   * Where 1018 is reported: per record (`skipped` with reason 1018) or for the whole request (`success:false`).
   * @default "record"
   */
  crmReadOnlyLevel?: "record" | "response";
  /**
   * Daily call quota; calls beyond answer 607.
   * @default 50000
   */
  dailyQuota?: number;
  /** Marketo's limits in real Marketo units (the window is scaled by `timeScale`). */
  limits?: {
    /** @default 100 */
    callsPerWindow?: number;
    /** @default 20000 */
    windowMs?: number;
    /** @default 10 */
    maxConcurrent?: number;
  };
  /**
   * Token life in Marketo seconds (scaled by `timeScale`).
   * @default 3600
   */
  tokenLifeSeconds?: number;
  /**
   * Real milliseconds each REST call takes to answer (so concurrency is visible).
   * @default 2
   */
  latencyMs?: number;
  /**
   * Answer 1006 for fields not in the schema (`false`: accept them as custom string fields).
   * @default false
   */
  strictFields?: boolean;
  /**
   * Custom fields the simulated instance has, per object, beside the standard ones: describe answers list them
   * (updateable, as custom fields of a fresh instance are) and writes accept them. Fields in neither are still
   * refused with 1006 under `strictFields` (and added on first write without it).
   * @example
   * startMarketoSimulator({ customFields: { companies: [{ name: "qadCreditTerms" }, { name: "qadActive", dataType: "boolean" }] } })
   */
  customFields?: Partial<Record<SimCustomFieldObject, SimFieldSpec[]>>;
  /** API credentials the identity endpoint accepts. @default generated */
  clientId?: string;
  /** @default generated */
  clientSecret?: string;
  /**
   * Prefix of every access token issued (`<prefix><random hex>:sim`), so a test can plant a recognisable value and
   * look for it (or a piece of it) afterwards.
   * @default ""
   */
  tokenPrefix?: string;
  /** Port to listen on (127.0.0.1 only). @default 0 (any free port) */
  port?: number;
  /** Activities scanned per activities page (pages can be short and still have more). @default 300 */
  activityPageScan?: number;
  /** Options of the bulk extract simulator. */
  bulk?: BulkSimulatorOptions;
  /** Faults to inject from the start. */
  faults?: FaultSpec[];
}

/** One call as the simulator logged it. */
export interface SimCallRecord {
  /** Real time of arrival (ms since epoch). */
  at: number;
  method: string;
  path: string;
  /** HTTP status answered. */
  status: number;
  /** Envelope error code answered, if any. */
  code?: string;
}

/** Counters of one simulator. */
export interface SimInspection {
  /** Calls per `"METHOD /path"` (REST and bulk; identity not included). */
  callsByEndpoint: Record<string, number>;
  /** REST and bulk calls received. */
  totalCalls: number;
  /** Identity token requests (successful or not). */
  tokenRequests: number;
  /** Distinct tokens issued. */
  tokensIssued: number;
  /** Calls that carried the token in the query string instead of the Authorization header. */
  tokenInQuery: number;
  /** Calls refused by the limits (not injected faults): 606 window, 615 concurrency, 607 daily quota. */
  violations: { total: number; "606": number; "615": number; "607": number };
  /** Auth failures answered (600/601/602), not counting injected faults. */
  authFailures: { "600": number; "601": number; "602": number };
  /** Injected faults fired. */
  faultsFired: number;
  /** Most calls in flight at once. */
  peakConcurrent: number;
  /** Most calls accepted within one sliding window. */
  peakWindowCalls: number;
  /** Calls counted against today's quota. */
  dailyUsed: number;
  /** Records sharing a dedupe key with another record, per object (must stay 0). */
  duplicates: Record<
    "companies" | "namedAccounts" | "leads" | "opportunities" | "opportunityRoles" | "salesPersons",
    number
  >;
  /** Records stored, per object. */
  records: Record<
    "companies" | "namedAccounts" | "leads" | "opportunities" | "opportunityRoles" | "salesPersons" | "activities",
    number
  >;
  /** 413 and 414 answers. */
  tooLarge: { "413": number; "414": number };
  /** Calls answered through `_method=GET`. */
  methodOverrides: number;
  /** The bulk simulator's own inspection. */
  bulk?: BulkSimInspection;
}

/**
 * The timestamps the simulator stores on every record: ISO instants on the simulated clock, set when the record is
 * created (or kept from a seeded record that has them) and, for `updatedAt`, on each update.
 */
export interface SimStoredTimestamps {
  createdAt: string;
  updatedAt: string;
}

/** A stored company: the client's {@link Company} with the numeric `id` the simulator assigns, and its timestamps. */
export type SimCompany = Company & { id: number } & SimStoredTimestamps;
/** A stored named account: {@link NamedAccount} with its assigned `marketoGUID` and timestamps. */
export type SimNamedAccount = NamedAccount & { marketoGUID: string } & SimStoredTimestamps;
/** A stored lead: {@link Lead} with its assigned numeric `id` and timestamps. */
export type SimLead = Lead & { id: number } & SimStoredTimestamps;
/** A stored opportunity: {@link Opportunity} with its assigned `marketoGUID` and timestamps. */
export type SimOpportunity = Opportunity & { marketoGUID: string } & SimStoredTimestamps;
/** A stored opportunity role: {@link OpportunityRole} with its assigned `marketoGUID` and timestamps. */
export type SimOpportunityRole = OpportunityRole & { marketoGUID: string } & SimStoredTimestamps;
/** A stored sales person: {@link SalesPerson} with its assigned numeric `id` and timestamps. */
export type SimSalesPerson = SalesPerson & { id: number } & SimStoredTimestamps;

/**
 * Read and seed access to one simulated object type, typed by its stored record `T` (e.g. {@link SimCompany}): the
 * client's record type, whose known fields are typed and custom fields `unknown`, plus the id field and timestamps
 * the simulator always stores.
 */
export interface SimObjectData<T extends Record<string, unknown> = Record<string, unknown>> {
  /** Copies of every stored record. */
  all(): T[];
  /** Number of stored records. */
  count(): number;
  /**
   * Records whose `field` equals `value` (compared trimmed, case-insensitive, as strings). The records allow custom
   * fields, so any field name is accepted.
   */
  find(field: keyof T & string, value: unknown): T[];
  /**
   * Stores records as given; an id or marketoGUID in a record is kept (restoring a snapshot of `all()`), otherwise
   * one is assigned, and so are missing timestamps. Returns copies of the stored records.
   */
  seed(records: Partial<T>[]): T[];
  /** Removes every record. */
  clear(): void;
}

/** A simulated activity to seed; ids and dates are filled in when missing. */
export interface SimActivitySeed {
  leadId: number;
  activityTypeId: number;
  /** ISO date; default: now on the simulated clock. */
  activityDate?: string;
  primaryAttributeValueId?: number;
  primaryAttributeValue?: string;
  attributes?: { name: string; value: unknown }[];
  /** For Change Data Value (13) records: the changed fields. */
  fields?: {
    id?: number;
    name: string;
    newValue: string | number | boolean | null;
    oldValue: string | number | boolean | null;
  }[];
}

/** A running simulator. */
export interface MarketoSimulator {
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;
  /** Base URLs to give the client. */
  readonly baseUrls: { rest: string; identity: string; bulk: string };
  readonly clientId: string;
  readonly clientSecret: string;
  /**
   * Options for `new MarketoClient({ ...sim.clientOptions })`: base URLs, credentials, and every wait of the client
   * scaled to the simulator's time scale: the limits' window (and the 606/615 pauses derived from it), the token margin
   * and renewal backoff, retry delays, and the bulk extract's status polls, queue retries and download resumptions.
   * Deadlines (`timeoutMs`) are not waits and stay real.
   */
  readonly clientOptions: Pick<
    MarketoClientOptions,
    | "baseUrls"
    | "clientId"
    | "clientSecret"
    | "limits"
    | "tokenRefreshMarginMs"
    | "tokenRenewal"
    | "retry"
    | "bulk"
    | "allowHttp"
    | "network"
  > & { baseUrls: { rest: string; identity: string; bulk: string }; clientId: string; clientSecret: string };
  /** The time scale in force. */
  readonly timeScale: number;
  /** Fault injection. */
  readonly faults: {
    inject(spec: FaultSpec): InjectedFault;
    clear(): void;
    list(): InjectedFault[];
  };
  /** Seed and read simulated data. */
  readonly data: {
    companies: SimObjectData<SimCompany>;
    namedAccounts: SimObjectData<SimNamedAccount>;
    leads: SimObjectData<SimLead>;
    opportunities: SimObjectData<SimOpportunity>;
    opportunityRoles: SimObjectData<SimOpportunityRole>;
    salesPersons: SimObjectData<SimSalesPerson>;
    activities: {
      all(): SimActivity[];
      count(): number;
      seed(activities: SimActivitySeed[]): SimActivity[];
      clear(): void;
    };
  };
  /** Token control. */
  readonly tokens: {
    /** Makes every issued token expire now (later calls with them get 602). */
    expireAll(): void;
    /** Forgets every issued token (later calls with them get 601). */
    revokeAll(): void;
  };
  /** The bulk extract simulator. */
  readonly bulk: BulkSimulator;
  /** Counters (calls, violations, duplicates ...). */
  inspect(): SimInspection;
  /** Every call logged since start or the last reset, in arrival order. */
  callLog(): SimCallRecord[];
  /** Zeroes counters and the call log (data, tokens and quota use stay). */
  resetInspection(): void;
  /** Turns native CRM sync on or off. */
  setCrmSync(enabled: boolean, level?: "record" | "response"): void;
  /** Sets today's used calls (e.g. close to the quota to test the daily stop). */
  setDailyUsed(used: number): void;
  /** The simulated clock (ms since epoch). */
  now(): number;
  /** Stops the server and closes every connection. */
  close(): Promise<void>;
}

const central = new Intl.DateTimeFormat("en-CA", { timeZone: "America/Chicago" });
const NOT_COUNTED = new Set(["600", "601", "602", "604", "605", "608", "611"]);
const HTML_502 =
  "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center></body></html>";
const HTML_PROXY =
  "<!DOCTYPE html><html><head><title>Sign in</title></head><body><form>Proxy authentication required</form></body></html>";

/**
 * Starts a simulated Marketo on 127.0.0.1.
 *
 * @example
 * ```ts
 * const sim = await startMarketoSimulator({ timeScale: 0.05 });
 * const mk = new MarketoClient({ ...sim.clientOptions });
 * await mk.companies.sync({ input: [{ externalCompanyId: "C-1", company: "Acme" }] });
 * expect(sim.inspect().violations.total).toBe(0);
 * await sim.close();
 * ```
 */
export async function startMarketoSimulator(options: MarketoSimulatorOptions = {}): Promise<MarketoSimulator> {
  const timeScale = options.timeScale ?? 1;
  if (!(timeScale > 0)) throw new RangeError("timeScale must be > 0");
  const random = seededRandom(options.seed ?? 1);
  const clientId = options.clientId ?? `sim-client-${randomBytes(4).toString("hex")}`;
  const clientSecret = options.clientSecret ?? `sim-secret-${randomBytes(12).toString("hex")}`;
  const callsPerWindow = options.limits?.callsPerWindow ?? 100;
  const windowRealMs = (options.limits?.windowMs ?? 20_000) * timeScale;
  const maxConcurrent = options.limits?.maxConcurrent ?? 10;
  const dailyQuota = options.dailyQuota ?? 50_000;
  const tokenLifeRealMs = (options.tokenLifeSeconds ?? 3600) * 1000 * timeScale;
  const latencyMs = options.latencyMs ?? 2;
  const realClock = options.clock ?? { now: () => Date.now() };
  const realNow = () => realClock.now();
  const realStart = realNow();
  const now = () => realStart + (realNow() - realStart) / timeScale;

  const specs = objectSpecs();
  for (const [object, extra] of Object.entries(options.customFields ?? {}) as [
    SimCustomFieldObject,
    SimFieldSpec[],
  ][]) {
    const spec = specs[object];
    if (!spec) throw new RangeError(`customFields: unknown object ${JSON.stringify(object)}`);
    for (const f of extra ?? []) {
      if (typeof f?.name !== "string" || !/^[A-Za-z][A-Za-z0-9_]*$/.test(f.name)) {
        throw new RangeError(`customFields.${object}: a field needs an API name (letters, digits, _)`);
      }
      if (spec.idField === f.name || spec.fields.some((g) => g.name === f.name)) {
        throw new RangeError(`customFields.${object}: ${f.name} is already a field of ${spec.displayName}`);
      }
      const dataType = f.dataType ?? "string";
      const length = f.length ?? (dataType === "string" ? 255 : undefined);
      spec.fields.push({ name: f.name, dataType, ...(length !== undefined ? { length } : {}) });
    }
  }
  const stores = {
    companies: new ObjectStore(specs.companies, "c0"),
    namedAccounts: new ObjectStore(specs.namedAccounts, "a0"),
    leads: new ObjectStore(specs.leads, "l0"),
    opportunities: new ObjectStore(specs.opportunities, "0f"),
    opportunityRoles: new ObjectStore(specs.opportunityRoles, "0r"),
    salesPersons: new ObjectStore(specs.salesPersons, "s0"),
  };
  for (const s of Object.values(stores)) s.strictFields = options.strictFields ?? false;
  const activities = new ActivityLog();
  const crm = {
    enabled: options.crmSync ?? false,
    level: options.crmReadOnlyLevel ?? ("record" as "record" | "response"),
  };
  const faults = new FaultTable(random);
  for (const f of options.faults ?? []) faults.inject(f);

  let requestSeq = 0;
  const requestId = () => `${(++requestSeq).toString(16)}#${randomBytes(5).toString("hex")}`;
  const daily = { day: central.format(new Date(now())), used: 0 };
  const dailyUsed = () => {
    const day = central.format(new Date(now()));
    if (day !== daily.day) {
      daily.day = day;
      daily.used = 0;
    }
    return daily.used;
  };

  // Tokens: the same token is handed out until it expires (expires_in is the remaining life).
  const tokens = new Map<string, { expiresAt: number; clientId: string }>();
  let current: { token: string; expiresAt: number } | undefined;

  // Limits, on the real clock with the scaled window.
  const accepted: number[] = [];
  let acceptedHead = 0;
  let inFlight = 0;

  const stats = {
    callsByEndpoint: {} as Record<string, number>,
    totalCalls: 0,
    tokenRequests: 0,
    tokensIssued: 0,
    tokenInQuery: 0,
    violations: { total: 0, "606": 0, "615": 0, "607": 0 },
    authFailures: { "600": 0, "601": 0, "602": 0 },
    peakConcurrent: 0,
    peakWindowCalls: 0,
    tooLarge: { "413": 0, "414": 0 },
    methodOverrides: 0,
    faultsFiredBase: 0,
  };
  let log: SimCallRecord[] = [];

  const restState: RestState = {
    stores,
    activities,
    crm,
    now,
    requestId,
    dailyUsed,
    quotaDay: () => central.format(new Date(now())),
    clientId,
    activityPageScan: options.activityPageScan ?? 300,
  };

  const ctx: SimContext = {
    now,
    timeScale,
    random,
    leads: () => stores.leads.records.values(),
    leadFields: () => [
      { name: "id", dataType: "integer" },
      { name: "createdAt", dataType: "datetime" },
      { name: "updatedAt", dataType: "datetime" },
      ...stores.leads.spec.fields.map((f) => ({ name: f.name, dataType: f.dataType })),
    ],
    activities: () => activities.items,
    envelopeError: (code, message) => envelopeError(requestId(), code, message),
  };
  const bulk = createBulkSimulator(ctx, options.bulk ?? {});

  function windowCount(at: number): number {
    while (acceptedHead < accepted.length && accepted[acceptedHead]! <= at - windowRealMs) acceptedHead++;
    if (acceptedHead > 10_000) {
      accepted.splice(0, acceptedHead);
      acceptedHead = 0;
    }
    return accepted.length - acceptedHead;
  }

  async function readBody(req: IncomingMessage, limit: number): Promise<Buffer | "too-large"> {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    for await (const chunk of req) {
      size += (chunk as Buffer).length;
      if (size > limit) tooLarge = true;
      if (!tooLarge) chunks.push(chunk as Buffer);
    }
    return tooLarge ? "too-large" : Buffer.concat(chunks);
  }

  function send(res: ServerResponse, r: SimResponse): void {
    const headers: Record<string, string> = { ...(r.headers ?? {}) };
    const body = r.body;
    if (
      body instanceof Readable ||
      (typeof body === "object" &&
        body !== null &&
        typeof (body as NodeJS.ReadableStream).pipe === "function" &&
        !Buffer.isBuffer(body))
    ) {
      res.writeHead(r.status, headers);
      (body as NodeJS.ReadableStream).pipe(res);
      return;
    }
    let payload: string | Buffer;
    if (Buffer.isBuffer(body) || typeof body === "string") {
      payload = body;
      headers["content-type"] ??= "text/plain; charset=utf-8";
    } else if (body === undefined) {
      payload = "";
    } else {
      payload = JSON.stringify(body);
      headers["content-type"] ??= "application/json;charset=UTF-8";
    }
    headers["content-length"] = String(Buffer.byteLength(payload));
    res.writeHead(r.status, headers);
    res.end(payload);
  }

  function parseBody(raw: Buffer, type: string | undefined): unknown {
    if (raw.length === 0) return undefined;
    const text = raw.toString("utf8");
    if (type?.includes("application/x-www-form-urlencoded")) return Object.fromEntries(new URLSearchParams(text));
    try {
      return JSON.parse(text);
    } catch {
      return Symbol.for("invalid-json");
    }
  }

  function identity(method: string, query: URLSearchParams, body: unknown): SimResponse {
    stats.tokenRequests++;
    const form = typeof body === "object" && body !== null ? (body as Record<string, string>) : {};
    const get = (k: string) => query.get(k) ?? form[k];
    if (method !== "GET" && method !== "POST") return { status: 405, body: { error: "method_not_allowed" } };
    if (get("grant_type") !== "client_credentials") {
      return {
        status: 400,
        body: { error: "unsupported_grant_type", error_description: "grant_type must be client_credentials" },
      };
    }
    if (get("client_id") !== clientId || get("client_secret") !== clientSecret) {
      return { status: 401, body: { error: "unauthorized", error_description: "Bad client credentials" } };
    }
    const t = realNow();
    if (!current || current.expiresAt <= t) {
      const token = `${options.tokenPrefix ?? ""}${randomBytes(16).toString("hex")}:sim`;
      current = { token, expiresAt: t + tokenLifeRealMs };
      tokens.set(token, { expiresAt: current.expiresAt, clientId });
      stats.tokensIssued++;
    }
    // Remaining life in whole seconds of the client's (real) clock; 0 near the end, as Marketo does.
    const expiresIn = Math.max(0, Math.floor((current.expiresAt - t) / 1000));
    return {
      status: 200,
      body: {
        access_token: current.token,
        token_type: "bearer",
        expires_in: expiresIn,
        scope: `${clientId}@sim.marketo`,
      },
    };
  }

  function faultResponse(spec: FaultSpec): SimResponse | "reset" | "drop" | "slow" {
    const code = spec.code;
    if (code === "reset" || code === "drop" || code === "slow") return code;
    if (code === "html") return { status: 200, headers: { "content-type": "text/html" }, body: HTML_PROXY };
    if (code === "empty") return { status: 200, headers: { "content-type": "application/json" }, body: "" };
    if (code >= 500 && code < 600) {
      return {
        status: code,
        headers: { "content-type": "text/html" },
        body: code === 502 ? HTML_502 : `<html><body>${code}</body></html>`,
      };
    }
    return envelopeError(requestId(), String(code), spec.message ?? defaultMessage(String(code)));
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const arrival = realNow();
    const rawUrl = req.url ?? "/";
    const url = new URL(rawUrl, "http://127.0.0.1");
    let method = (req.method ?? "GET").toUpperCase();
    const path = url.pathname;
    const record = (status: number, code?: string) => {
      if (path.startsWith("/rest/") || path.startsWith("/bulk/")) {
        log.push({ at: arrival, method, path, status, ...(code ? { code } : {}) });
      }
    };
    if (Buffer.byteLength(rawUrl) > 8192) {
      stats.tooLarge["414"]++;
      for await (const _ of req) {
        // drain
      }
      record(414);
      send(res, {
        status: 414,
        headers: { "content-type": "text/html" },
        body: "<html><body><h1>414 Request-URI Too Large</h1></body></html>",
      });
      return;
    }
    const raw = await readBody(req, 1_048_576);
    if (raw === "too-large") {
      stats.tooLarge["413"]++;
      record(413);
      send(res, {
        status: 413,
        headers: { "content-type": "text/html" },
        body: "<html><body><h1>413 Request Entity Too Large</h1></body></html>",
      });
      return;
    }
    let body = parseBody(raw, req.headers["content-type"]);
    const query = url.searchParams;
    if (method === "POST" && query.get("_method") === "GET") {
      stats.methodOverrides++;
      method = "GET";
      query.delete("_method");
      if (typeof body === "object" && body !== null) {
        for (const [k, v] of Object.entries(body as Record<string, string>)) query.append(k, v);
      }
      body = undefined;
    }

    if (path === "/identity/oauth/token") {
      send(res, identity(method, query, body));
      return;
    }
    if (!path.startsWith("/rest/") && !path.startsWith("/bulk/")) {
      send(res, { status: 404, body: "Not Found" });
      return;
    }
    stats.totalCalls++;
    const endpoint = `${method} ${path}`;
    stats.callsByEndpoint[endpoint] = (stats.callsByEndpoint[endpoint] ?? 0) + 1;
    const answer = (r: SimResponse) => {
      const code =
        typeof r.body === "object" && r.body !== null && (r.body as { success?: boolean }).success === false
          ? String((r.body as { errors?: { code: unknown }[] }).errors?.[0]?.code)
          : undefined;
      if (code === undefined || !NOT_COUNTED.has(code)) {
        if (!(code === "606" || code === "615" || code === "607")) daily.used++;
      }
      record(r.status, code);
      send(res, r);
    };

    // Authentication: bearer header (the access_token query parameter still works but is being removed).
    const header = req.headers.authorization;
    let token = header?.startsWith("Bearer ") ? header.slice(7).trim() : undefined;
    if (!token && query.get("access_token")) {
      token = query.get("access_token") ?? undefined;
      stats.tokenInQuery++;
    }
    if (!token) {
      stats.authFailures["600"]++;
      answer(envelopeError(requestId(), "600", "Access token missing"));
      return;
    }
    const known = tokens.get(token);
    if (!known) {
      stats.authFailures["601"]++;
      answer(envelopeError(requestId(), "601", "Access token invalid"));
      return;
    }
    if (known.expiresAt <= realNow()) {
      stats.authFailures["602"]++;
      answer(envelopeError(requestId(), "602", "Access token expired"));
      return;
    }

    // Limits: daily quota, sliding window, concurrency.
    if (dailyUsed() >= dailyQuota) {
      stats.violations.total++;
      stats.violations["607"]++;
      answer(envelopeError(requestId(), "607", "Daily quota reached"));
      return;
    }
    if (windowCount(arrival) >= callsPerWindow) {
      stats.violations.total++;
      stats.violations["606"]++;
      answer(
        envelopeError(
          requestId(),
          "606",
          `Max rate limit '${callsPerWindow}' exceeded with in '${Math.round(windowRealMs / timeScale / 1000)}' secs`,
        ),
      );
      return;
    }
    if (inFlight >= maxConcurrent) {
      stats.violations.total++;
      stats.violations["615"]++;
      answer(envelopeError(requestId(), "615", `Concurrent access limit '${maxConcurrent}' reached`));
      return;
    }
    accepted.push(arrival);
    stats.peakWindowCalls = Math.max(stats.peakWindowCalls, windowCount(arrival));
    inFlight++;
    stats.peakConcurrent = Math.max(stats.peakConcurrent, inFlight);
    try {
      if (latencyMs > 0) await new Promise((r) => setTimeout(r, latencyMs));
      const fault = faults.take(method, path);
      const faulted = fault ? faultResponse(fault) : undefined;
      if (faulted === "slow") await new Promise((r) => setTimeout(r, fault?.delayMs ?? 1000));
      else if (faulted === "reset") {
        record(0, "reset");
        req.socket.destroy();
        return;
      } else if (faulted !== undefined && faulted !== "drop") {
        answer(faulted);
        return;
      }
      if (body === Symbol.for("invalid-json")) {
        answer(envelopeError(requestId(), "609", "Invalid JSON"));
        return;
      }
      const simReq: SimRequest = {
        method,
        path,
        query,
        headers: req.headers as Record<string, string | undefined>,
        body,
      };
      let r: SimResponse | undefined;
      if (path.startsWith("/bulk/")) r = await bulk.handle(simReq);
      else r = handleRest(restState, simReq);
      if (faulted === "drop") {
        // Executed, then the answer is cut mid-body: the client sees a broken connection after the headers.
        const text = JSON.stringify(r?.body ?? {});
        record(0, "drop");
        daily.used++;
        res.writeHead(200, {
          "content-type": "application/json;charset=UTF-8",
          "content-length": String(Buffer.byteLength(text)),
        });
        res.write(text.slice(0, Math.max(1, Math.floor(text.length / 2))), () => res.destroy());
        return;
      }
      answer(r ?? envelopeError(requestId(), "610", "Requested resource not found"));
    } finally {
      inFlight--;
    }
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) {
        res.writeHead(500, { "content-type": "text/plain" });
        res.end(`simulator error: ${(error as Error)?.message ?? error}`);
      } else {
        res.destroy();
      }
    });
  });
  // Long keep-alive, as an edge proxy has: a connection closed under a client reusing it resets that call.
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const base = `http://127.0.0.1:${port}`;
  const baseUrls = { rest: `${base}/rest`, identity: `${base}/identity`, bulk: `${base}/bulk` };

  // The store always sets the id field and both timestamps (ObjectStore.insert), which is what each T adds to the
  // client's record type; the casts only restate that.
  const objectData = <T extends Record<string, unknown>>(store: ObjectStore): SimObjectData<T> => ({
    all: () => [...store.records.values()].map((r) => ({ ...r }) as T),
    count: () => store.records.size,
    find: (field, value) => store.findBy([field], [value]).map((r) => ({ ...r }) as T),
    seed: (records) => records.map((r) => ({ ...store.insert(r, new Date(now()).toISOString()) }) as T),
    clear: () => store.clear(),
  });

  const inspect = (): SimInspection => {
    const dup = {} as SimInspection["duplicates"];
    const records = {} as SimInspection["records"];
    for (const [k, s] of Object.entries(stores) as [keyof typeof stores, ObjectStore][]) {
      dup[k] = s.duplicates();
      records[k] = s.records.size;
    }
    records.activities = activities.items.length;
    return {
      callsByEndpoint: { ...stats.callsByEndpoint },
      totalCalls: stats.totalCalls,
      tokenRequests: stats.tokenRequests,
      tokensIssued: stats.tokensIssued,
      tokenInQuery: stats.tokenInQuery,
      violations: { ...stats.violations },
      authFailures: { ...stats.authFailures },
      faultsFired: faults.fired - stats.faultsFiredBase,
      peakConcurrent: stats.peakConcurrent,
      peakWindowCalls: stats.peakWindowCalls,
      dailyUsed: dailyUsed(),
      duplicates: dup,
      records,
      tooLarge: { ...stats.tooLarge },
      methodOverrides: stats.methodOverrides,
      bulk: bulk.inspect(),
    };
  };

  return {
    url: base,
    baseUrls,
    clientId,
    clientSecret,
    timeScale,
    clientOptions: {
      baseUrls,
      // The simulator listens on http://127.0.0.1: both are opted into here, never by default.
      allowHttp: true,
      network: { allowLoopback: true },
      clientId,
      clientSecret,
      limits: {
        callsPerWindow,
        windowMs: windowRealMs,
        maxConcurrent: 5,
        dailyQuota,
      },
      tokenRefreshMarginMs: 60_000 * timeScale,
      tokenRenewal: {
        retryBaseDelayMs: 1_000 * timeScale,
        retryMaxDelayMs: 30_000 * timeScale,
        // Steps while a lapsed token is replaced: scaled, but never a busy loop against identity.
        successorStepMs: Math.max(10, 200 * timeScale),
        successorMaxStepMs: Math.max(10, 1_000 * timeScale),
        successorMaxWaitMs: 5_000 * timeScale,
      },
      retry: { baseDelayMs: 500 * timeScale, maxDelayMs: 30_000 * timeScale },
      bulk: {
        poll: {
          initialDelayMs: 60_000 * timeScale,
          maxDelayMs: 300_000 * timeScale,
          timeoutMs: 6 * 3_600_000 * timeScale,
        },
        queueRetryDelayMs: 60_000 * timeScale,
        queueTimeoutMs: 6 * 3_600_000 * timeScale,
        resumeBaseDelayMs: 500 * timeScale,
        resumeMaxDelayMs: 30_000 * timeScale,
      },
    },
    faults: {
      inject: (spec) => faults.inject(spec),
      clear: () => faults.clear(),
      list: () => faults.list(),
    },
    data: {
      companies: objectData(stores.companies),
      namedAccounts: objectData(stores.namedAccounts),
      leads: objectData(stores.leads),
      opportunities: objectData(stores.opportunities),
      opportunityRoles: objectData(stores.opportunityRoles),
      salesPersons: objectData(stores.salesPersons),
      activities: {
        all: () => activities.items.map((a) => ({ ...a })),
        count: () => activities.items.length,
        seed: (seeds) =>
          seeds.map((s) => {
            const stored: StoredActivity = activities.add({
              leadId: s.leadId,
              activityTypeId: s.activityTypeId,
              activityDate: s.activityDate ?? new Date(now()).toISOString(),
              attributes: s.attributes ?? [],
              ...(s.primaryAttributeValueId !== undefined
                ? { primaryAttributeValueId: s.primaryAttributeValueId }
                : {}),
              ...(s.primaryAttributeValue !== undefined ? { primaryAttributeValue: s.primaryAttributeValue } : {}),
              ...(s.fields
                ? {
                    fields: s.fields.map((f, i) => ({
                      id: f.id ?? i + 1,
                      name: f.name,
                      newValue: f.newValue,
                      oldValue: f.oldValue,
                    })),
                  }
                : {}),
            });
            return { ...stored };
          }),
        clear: () => activities.clear(),
      },
    },
    tokens: {
      expireAll: () => {
        const t = realNow();
        for (const v of tokens.values()) v.expiresAt = Math.min(v.expiresAt, t);
        if (current) current.expiresAt = Math.min(current.expiresAt, t);
      },
      revokeAll: () => {
        tokens.clear();
        current = undefined;
      },
    },
    bulk,
    inspect,
    callLog: () => log.slice(),
    resetInspection: () => {
      stats.callsByEndpoint = {};
      stats.totalCalls = 0;
      stats.tokenRequests = 0;
      stats.tokensIssued = 0;
      stats.tokenInQuery = 0;
      stats.violations = { total: 0, "606": 0, "615": 0, "607": 0 };
      stats.authFailures = { "600": 0, "601": 0, "602": 0 };
      stats.peakConcurrent = 0;
      stats.peakWindowCalls = 0;
      stats.tooLarge = { "413": 0, "414": 0 };
      stats.methodOverrides = 0;
      stats.faultsFiredBase = faults.fired;
      log = [];
    },
    setCrmSync: (enabled, level) => {
      crm.enabled = enabled;
      if (level) crm.level = level;
    },
    setDailyUsed: (used) => {
      dailyUsed();
      daily.used = used;
    },
    now,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((e) => (e ? reject(e) : resolve()));
        server.closeAllConnections();
      }),
  };
}

function defaultMessage(code: string): string {
  switch (code) {
    case "601":
      return "Access token invalid";
    case "602":
      return "Access token expired";
    case "604":
      return "Request timed out";
    case "606":
      return "Max rate limit '100' exceeded with in '20' secs";
    case "607":
      return "Daily quota reached";
    case "608":
      return "API Temporarily Unavailable";
    case "611":
      return "System error";
    case "614":
      return "Invalid Subscription";
    case "615":
      return "Concurrent access limit '10' reached";
    case "713":
      return "Transient Error";
    case "1018":
      return "CRM Enabled";
    default:
      return `Simulated error ${code}`;
  }
}
