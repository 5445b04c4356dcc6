import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { EntityKind } from "../backend.js";
import type { QadClientOptions } from "../options.js";
import type { QxtendOptions } from "../qxtend/index.js";
import type { Customer } from "../records/customer.js";
import { RestSimFaults } from "./faults.js";
import {
  createQxtendHandler,
  type QxtendSimFaults,
  type QxtendSimOptions,
  type QxtendSimStore,
} from "./qxtend/index.js";
import { seededRandom } from "./random.js";
import { SIM_CONTACTS_BROWSE, SIM_REST_ENTITIES } from "./rest-entities.js";
import { compileFilter, type SimClause } from "./rest-filter.js";
import { contactRows, dotted, toRestCustomer } from "./rest-rows.js";
import { type CorruptionKind, type QadSimRow, QadSimStore } from "./store.js";

type Row = Record<string, unknown>;

/** Credentials the simulator accepts. */
export interface QadSimCredentials {
  /** OAuth2 client id. */
  clientId: string;
  /** OAuth2 client secret (client credentials grant). */
  clientSecret: string;
  /** User name (password grant, session login, QXtend). */
  username: string;
  /** Password. */
  password: string;
}

/** Options of {@link startQadSimulator}. */
export interface QadSimulatorOptions {
  /** Number of generated customers. @default 50 */
  customers?: number;
  /** Seed of generated data and fault probabilities. @default 1 */
  seed?: number;
  /** Shared sets the customers spread over. @default 1 */
  sharedSets?: number;
  /** Generated rows per other document kind. @default 25 */
  documents?: number;
  /** Base path of the tenant. @default "/clouderp" */
  basePath?: string;
  /** Simulator clock (ms); `advanceTime()` adds to it. @default Date.now */
  clock?: { now(): number };
  /** Token lifetime in simulator milliseconds. @default 1800000 */
  tokenTtlMs?: number;
  /** Put `expires_in` in OAuth2 answers (else the client must use the JWT `exp` or securityControl). @default true */
  sendExpiresIn?: boolean;
  /** Issue JWTs (with `exp`) or opaque tokens (the client must learn the lifetime elsewhere). @default "jwt" */
  tokenFormat?: "jwt" | "opaque";
  /**
   * Put this in every access and refresh token issued (a JWT's signature part starts with it), so a test can plant a
   * recognisable value and look for it afterwards.
   * @default ""
   */
  tokenPrefix?: string;
  /** Accepted credentials. @default generated test credentials */
  credentials?: Partial<QadSimCredentials>;
  /** Required `x-qad-workspace-id` (others get 403). @default "10USA_10USACO" */
  workspaceId?: string;
  /** Where the OpenAPI document is served, below the base path; `false` serves none. @default "api/openapi.json" */
  apiDescriptionPath?: string | false;
  /** Largest page size served. @default 5000 */
  maxPageSize?: number;
  /** QXtend face settings, passed to the QXtend handler. */
  qxtend?: QxtendSimOptions;
}

/** What the simulator has seen, for assertions. */
export interface QadSimInspection {
  /** Requests received (all faces). */
  requests: number;
  /** Requests by path below the base path (`api/qracore/browses`, `oauth/token`...). */
  requestsByPath: Record<string, number>;
  /** Calls to the token and login endpoints. */
  authCalls: number;
  /** OAuth2 token requests by grant_type (`password`, `client_credentials`, `refresh_token`). */
  tokenGrants: Record<string, number>;
  /** Requests answered 401. */
  unauthorized: number;
  /** Headers of the last request (lower-case names). */
  lastHeaders: Record<string, string>;
  /** The last request to each path: query parameters (repeated names as arrays) and headers. */
  lastRequestByPath: Record<string, { query: Record<string, string | string[]>; headers: Record<string, string> }>;
  /** Every `filter=` value received by the browse endpoints, in order. */
  filters: string[];
}

/** The data API of the simulator: change records between polls. */
export interface QadSimData {
  /** The underlying store (shared with the QXtend face). */
  readonly store: QadSimStore;
  /**
   * The valid customers, sorted by key: every customer not made invalid with {@link QadSimData.corrupt} (or repaired
   * since by an update), typed `Customer`. Corrupt rows are in {@link QadSimData.rows}.
   */
  customers(): readonly Customer[];
  /** One valid customer by the code it was created with; `undefined` when there is none or it is corrupt. */
  customer(code: string): Customer | undefined;
  /**
   * Every customer row as the REST and QXtend faces serve it, corrupt ones included, sorted by key. Narrow a row
   * with {@link QadSimData.isValid}: `Customer` when true, {@link QadSimCorruptRow} (fields `unknown`) when false.
   */
  rows(): readonly QadSimRow[];
  /** One customer row by the code it was created with (even if corrupted since), as served; `undefined` if none. */
  row(code: string): QadSimRow | undefined;
  /**
   * Whether a row from {@link QadSimData.rows} / {@link QadSimData.row} is a valid customer (a type guard; false for
   * a corrupt row and for any object that is not one of the stored rows, such as a copy).
   */
  isValid(row: QadSimRow): row is Customer;
  /**
   * What {@link QadSimData.corrupt} broke in a customer and no later update repaired: empty when it is valid.
   * Throws if there is no such customer.
   */
  corruptionOf(code: string): readonly CorruptionKind[];
  /** Adds a customer (generated fields for what is not given). */
  add(partial?: Parameters<QadSimStore["add"]>[0]): ReturnType<QadSimStore["add"]>;
  /** Updates a customer. */
  update(code: string, patch: Parameters<QadSimStore["update"]>[1]): ReturnType<QadSimStore["update"]>;
  /** Re-saves a customer unchanged (new lastModified and concurrencyHash). */
  touch(code: string): void;
  /** Deletes a customer. */
  remove(code: string): void;
  /**
   * Makes a customer row invalid (left out of `customers()`, kept in `rows()`, listed by `corruptionOf`).
   * @default kind "missingName"
   */
  corrupt(code: string, kind?: CorruptionKind): void;
}

/** A running QAD simulator. */
export interface QadSimulator {
  /** Tenant URL of the REST face, e.g. `http://127.0.0.1:43210/clouderp`. */
  readonly tenantUrl: string;
  /** QXtend endpoint URL (`…/qxi/services/QdocWebService`). */
  readonly qxtendUrl: string;
  /** Whether the QXtend face is mounted. */
  readonly qxtendMounted: boolean;
  /** Accepted credentials. */
  readonly credentials: QadSimCredentials;
  /** Options for `new QadClient({ ...sim.clientOptions })`. */
  readonly clientOptions: QadClientOptions;
  /** Change data between polls. */
  readonly data: QadSimData;
  /** REST fault injection. */
  readonly faults: RestSimFaults;
  /** QXtend fault queue. */
  readonly qxtendFaults: QxtendSimFaults;
  /** The simulator clock, ms. */
  now(): number;
  /** Moves the simulator clock forward (token expiry, lastModified stamps). */
  advanceTime(ms: number): void;
  /** Revokes every issued access token (a server-side session purge); refresh tokens too when asked. */
  expireSessions(options?: { refreshTokens?: boolean }): void;
  /** What the simulator has seen. */
  inspect(): QadSimInspection;
  /** Clears the inspection counters. */
  resetInspection(): void;
  /** Stops the server. */
  close(): Promise<void>;
}

const KIND_PREFIX: { [K in EntityKind]: string } = {
  customers: "customerV2",
  suppliers: "supplierV2",
  purchaseOrders: "purchaseOrder",
  supplierInvoices: "supplierInvoice",
  glAccounts: "glAccount",
  costCenters: "costCenter",
  items: "item",
  goodsReceipts: "goodsReceipt",
};
const CONTACTS_BROWSE = SIM_CONTACTS_BROWSE;

function b64url(v: unknown): string {
  return Buffer.from(JSON.stringify(v)).toString("base64url");
}

/**
 * Starts a loopback QAD simulator: REST face under a tenant base path (OAuth2 token and session login with
 * expiring JWTs, securityControl, OpenAPI document, business documents, browses with paging, filters and
 * totalCount) and the QXtend SOAP face at `/qxi/services/QdocWebService`, over one deterministic data store.
 *
 * @example
 * const sim = await startQadSimulator({ customers: 200, seed: 7 });
 * const qad = new QadClient({ ...sim.clientOptions });
 * sim.data.update("C000001", { name: "Renamed" });
 * await sim.close();
 */
export async function startQadSimulator(options: QadSimulatorOptions = {}): Promise<QadSimulator> {
  const clock = options.clock ?? { now: () => Date.now() };
  let offset = 0;
  const now = () => clock.now() + offset;
  const store = new QadSimStore({
    now,
    ...(options.customers !== undefined ? { customers: options.customers } : {}),
    ...(options.seed !== undefined ? { seed: options.seed } : {}),
    ...(options.sharedSets !== undefined ? { sharedSets: options.sharedSets } : {}),
    ...(options.documents !== undefined ? { documents: options.documents } : {}),
  });
  const credentials: QadSimCredentials = {
    clientId: "ml-connector",
    clientSecret: "sim-client-secret",
    username: "mfg",
    password: "sim-password",
    ...options.credentials,
  };
  const basePath = `/${(options.basePath ?? "/clouderp").replace(/^\/+|\/+$/g, "")}`;
  const workspaceId = options.workspaceId ?? "10USA_10USACO";
  const ttl = options.tokenTtlMs ?? 30 * 60_000;
  const maxPageSize = options.maxPageSize ?? 5000;
  const apiDescriptionPath = options.apiDescriptionPath === undefined ? "api/openapi.json" : options.apiDescriptionPath;
  const faults = new RestSimFaults(options.seed ?? 1);
  const tokenRandom = seededRandom((options.seed ?? 1) ^ 0x70c3);
  const tokens = new Map<string, number>(); // token → expiresAt (sim ms)
  const refreshTokens = new Map<string, string>(); // refresh token → subject
  const snapshots = new Map<string, Row[]>(); // browse callId → rows at pageAction=first
  const qxtendOptions = {
    receiver: "qad-qxtend",
    credentials: { username: credentials.username, password: credentials.password },
    domain: "10USA",
    profiles: { customers: "Customer" },
    ...(options.qxtend ?? {}),
  } satisfies QxtendSimOptions;
  // The QXtend face serves every row, corrupt ones included, as the REST face does.
  const qxtendStore: QxtendSimStore = {
    customers: () => store.rows(),
    documents: (kind) => store.documents(kind),
    now: () => store.now(),
  };
  const qxtend = createQxtendHandler(qxtendStore, qxtendOptions);

  let inspection: QadSimInspection;
  const resetInspection = () => {
    inspection = {
      requests: 0,
      requestsByPath: {},
      authCalls: 0,
      tokenGrants: {},
      unauthorized: 0,
      lastHeaders: {},
      lastRequestByPath: {},
      filters: [],
    };
  };
  resetInspection();

  const issueToken = (sub: string): { token: string; expiresAt: number } => {
    const expiresAt = now() + ttl;
    const jti = Math.floor(tokenRandom() * 2 ** 52).toString(36);
    const prefix = options.tokenPrefix ?? "";
    const token =
      options.tokenFormat === "opaque"
        ? `${prefix}opaque-${jti}`
        : `${b64url({ alg: "none", typ: "JWT" })}.${b64url({ sub, exp: Math.floor(expiresAt / 1000), jti })}.${prefix}sim`;
    tokens.set(token, expiresAt);
    return { token, expiresAt };
  };

  const entityByPath = new Map<string, EntityKind>();
  const entityByBrowse = new Map<string, EntityKind>();
  for (const [kind, cfg] of Object.entries(SIM_REST_ENTITIES) as [
    EntityKind,
    (typeof SIM_REST_ENTITIES)[EntityKind],
  ][]) {
    entityByPath.set(cfg.path, kind);
    entityByBrowse.set(cfg.browseId, kind);
  }

  // REST views of the customers, rebuilt only when the store changed.
  // Rows are replaced (never mutated) on change, so a row's REST view can be cached by identity.
  let restCache: { version: number; rows: Row[] } | undefined;
  const restByRow = new WeakMap<object, Row>();
  const restRows = (kind: EntityKind): readonly Row[] => {
    if (kind !== "customers") return store.documents(kind);
    if (restCache?.version !== store.version) {
      const rows = store.rows().map((c) => {
        const key = c as object;
        let r = restByRow.get(key);
        if (!r) {
          r = toRestCustomer(c, false);
          restByRow.set(key, r);
        }
        return r;
      });
      restCache = { version: store.version, rows };
    }
    return restCache.rows;
  };

  const openApi = () => ({
    openapi: "3.0.3",
    info: { title: "QAD simulator", version: "1" },
    servers: [{ url: basePath }],
    paths: Object.fromEntries(
      [
        ...Object.values(SIM_REST_ENTITIES).map((e) => e.path),
        "api/qracore/browses",
        "api/qracore/browses/totalCount",
        "api/qracore/securityControl",
      ].map((p) => [`/${p}`, { get: { responses: { 200: { description: "ok" } } } }]),
    ),
  });

  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (!res.headersSent)
        send(res, 500, { errors: [{ severity: 1, code: "500", message: String((e as Error).message) }] });
    });
  });

  async function readBody(req: IncomingMessage): Promise<string> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    return Buffer.concat(chunks).toString("utf8");
  }

  /** Answers a `drop` fault hit: served, then cut after the headers and part of the body. */
  const dropping = new WeakSet<ServerResponse>();

  function send(res: ServerResponse, status: number, body: unknown, contentType = "application/json"): void {
    const text = typeof body === "string" ? body : JSON.stringify(body);
    if (dropping.has(res)) {
      res.writeHead(status, { "content-type": contentType, "content-length": String(Buffer.byteLength(text)) });
      res.write(text.slice(0, Math.max(1, Math.floor(text.length / 2))), () => res.destroy());
      return;
    }
    res.writeHead(status, { "content-type": contentType, "x-request-id": `sim-${inspection.requests}` });
    res.end(text);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) if (typeof v === "string") headers[k] = v;
    inspection.requests++;
    inspection.lastHeaders = headers;

    if (url.pathname === "/qxi/services/QdocWebService") {
      inspection.requestsByPath["qxi/services/QdocWebService"] =
        (inspection.requestsByPath["qxi/services/QdocWebService"] ?? 0) + 1;
      if (req.method !== "POST") {
        send(res, 404, "QXtend not available", "text/plain");
        return;
      }
      const out = await qxtend({ headers, body: await readBody(req) });
      res.writeHead(out.status, out.headers);
      res.end(out.body);
      return;
    }
    if (!url.pathname.startsWith(`${basePath}/`)) {
      send(res, 404, { errors: [{ severity: 1, code: "404", message: "Not found" }] });
      return;
    }
    const path = url.pathname.slice(basePath.length + 1).replace(/\/+$/, "");
    inspection.requestsByPath[path] = (inspection.requestsByPath[path] ?? 0) + 1;
    const query: Record<string, string | string[]> = {};
    for (const [k, v] of url.searchParams) {
      const prev = query[k];
      query[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
    }
    inspection.lastRequestByPath[path] = { query, headers };
    const body = req.method === "POST" ? await readBody(req) : "";

    // Authentication endpoints.
    if (path === "oauth/token" && req.method === "POST") {
      inspection.authCalls++;
      const f = new URLSearchParams(body);
      const grant = f.get("grant_type") ?? "";
      inspection.tokenGrants[grant] = (inspection.tokenGrants[grant] ?? 0) + 1;
      const presented = f.get("refresh_token") ?? "";
      const refreshSub = grant === "refresh_token" ? refreshTokens.get(presented) : undefined;
      const ok =
        f.get("client_id") === credentials.clientId &&
        ((grant === "password" &&
          f.get("username") === credentials.username &&
          f.get("password") === credentials.password) ||
          (grant === "client_credentials" && f.get("client_secret") === credentials.clientSecret) ||
          refreshSub !== undefined);
      if (!ok) {
        send(res, grant === "refresh_token" ? 400 : 401, {
          error: "invalid_grant",
          error_description: "Bad credentials",
        });
        return;
      }
      refreshTokens.delete(presented); // rotated: a refresh token is good once
      const sub = refreshSub ?? f.get("username") ?? credentials.clientId;
      const t = issueToken(sub);
      const refresh = `${options.tokenPrefix ?? ""}r-${Math.floor(tokenRandom() * 2 ** 52).toString(36)}`;
      refreshTokens.set(refresh, sub);
      send(res, 200, {
        access_token: t.token,
        token_type: "Bearer",
        ...(options.sendExpiresIn === false ? {} : { expires_in: Math.floor(ttl / 1000) }),
        refresh_token: refresh,
      });
      return;
    }
    if (path === "api/qracore/login" && req.method === "POST") {
      inspection.authCalls++;
      let creds: { username?: unknown; password?: unknown } = {};
      try {
        creds = JSON.parse(body) as typeof creds;
      } catch {
        // falls through to 401
      }
      if (creds.username !== credentials.username || creds.password !== credentials.password) {
        send(res, 401, { errors: [{ severity: 1, code: "401", message: "Invalid user name or password" }] });
        return;
      }
      send(res, 200, { token: issueToken(credentials.username).token });
      return;
    }

    // Everything else needs a valid bearer token (checked against the simulator clock).
    const auth = headers.authorization ?? "";
    const token = auth.startsWith("Bearer ") ? auth.slice(7) : "";
    const exp = tokens.get(token);
    if (exp === undefined || exp <= now()) {
      inspection.unauthorized++;
      send(res, 401, { errors: [{ severity: 1, code: "401", message: "Session expired" }] });
      return;
    }
    const fault = faults.take(path, [
      "sessionExpired",
      "serverError",
      "html",
      "submitFailure",
      "forbidden",
      "connectionReset",
      "slow",
      "drop",
    ]);
    if (fault?.kind === "slow") await new Promise((r) => setTimeout(r, fault.delayMs ?? 1000));
    if (fault?.kind === "drop") dropping.add(res);
    if (fault && fault.kind !== "slow" && fault.kind !== "drop") {
      switch (fault.kind) {
        case "sessionExpired":
          tokens.clear();
          inspection.unauthorized++;
          send(res, 401, { errors: [{ severity: 1, code: "401", message: "Session expired" }] });
          return;
        case "serverError":
          send(res, fault.status ?? 503, "<html><body>Service Unavailable</body></html>", "text/html");
          return;
        case "html":
          send(
            res,
            200,
            "<!DOCTYPE html><html><head><title>QAD Login</title></head><body>Sign in</body></html>",
            "text/html",
          );
          return;
        case "submitFailure":
          send(res, 200, {
            submitResult: {
              success: false,
              errors: [{ fieldName: "customerCode", message: "Customer code is mandatory" }],
            },
          });
          return;
        case "forbidden":
          send(res, fault.status ?? 403, { errors: [{ severity: 1, code: "403", message: "Access is denied" }] });
          return;
        case "connectionReset":
          req.socket.destroy();
          return;
      }
    }
    if (path === "api/qracore/securityControl") {
      send(res, 200, {
        clientId: credentials.clientId,
        sessionLength: Math.max(1, Math.round(ttl / 60_000)),
        timeoutMinutes: Math.max(1, Math.round(ttl / 60_000)),
      });
      return;
    }
    if (apiDescriptionPath !== false && path === apiDescriptionPath) {
      send(res, 200, openApi());
      return;
    }
    // Data endpoints are scoped to the workspace.
    if (headers["x-qad-workspace-id"] !== workspaceId) {
      send(res, 403, { errors: [{ severity: 1, code: "403", message: "Access is denied: unknown workspace" }] });
      return;
    }
    if (path === "api/qracore/browses" || path === "api/qracore/browses/totalCount") {
      browse(res, path.endsWith("totalCount"), url.searchParams);
      return;
    }
    const kind = entityByPath.get(path);
    if (kind) {
      const cfg = SIM_REST_ENTITIES[kind];
      if (url.searchParams.get("viewUri") !== cfg.viewUri) {
        send(res, 400, { errors: [{ severity: 1, code: "400", message: "Unknown or missing viewUri" }] });
        return;
      }
      const rows = kind === "customers" ? store.rows().map((c) => toRestCustomer(c, true)) : [...store.documents(kind)];
      const keys = [...url.searchParams].filter(([k]) => !["viewUri", "domainCode", "domainContext"].includes(k));
      const hits = rows.filter((r) => keys.every(([k, v]) => String(r[k]) === v));
      send(res, 200, { data: { [cfg.responseKey]: hits } });
      return;
    }
    send(res, 404, { errors: [{ severity: 1, code: "404", message: `No resource ${path}` }] });
  }

  function browse(res: ServerResponse, countOnly: boolean, params: URLSearchParams): void {
    const browseId = params.get("browseId") ?? "";
    let clauses: SimClause[];
    try {
      clauses = params.getAll("filter").map(compileFilter);
    } catch (e) {
      send(res, 400, { errors: [{ severity: 1, code: "400", message: (e as Error).message }] });
      return;
    }
    for (const f of params.getAll("filter")) inspection.filters.push(f);
    const isContacts = browseId === CONTACTS_BROWSE;
    const kind = entityByBrowse.get(browseId);
    if (!isContacts && !kind) {
      send(res, 400, { errors: [{ severity: 1, code: "400", message: `Unknown browseId ${browseId}` }] });
      return;
    }
    const compute = (): Row[] => {
      if (isContacts) {
        const keyClauses = clauses.filter((c) => c.field === "sharedSetCode" || c.field === "customerCode");
        const out: Row[] = [];
        const all = store.rows();
        const keyOf = (r: Row) => `${String(r.sharedSetCode ?? "")}\u0000${String(r.customerCode ?? "")}`;
        // Fast path for the client's join (sharedSetCode eq + customerCode rg): the store is sorted by that key,
        // so only the slice between the two bounds is visited.
        const set = clauses.find((c) => c.field === "sharedSetCode" && c.op === "eq")?.value;
        const code = clauses.find((c) => c.field === "customerCode" && (c.op === "rg" || c.op === "eq"));
        const bounds = code ? { from: code.value, to: code.op === "eq" ? code.value : code.to } : undefined;
        let lo = 0;
        let end: string | undefined;
        if (set !== undefined && bounds?.to !== undefined) {
          const start = `${set}\u0000${bounds.from}`;
          end = `${set}\u0000${bounds.to}`;
          let hi = all.length;
          while (lo < hi) {
            const mid = (lo + hi) >>> 1;
            if (keyOf(all[mid] as Row) < start) lo = mid + 1;
            else hi = mid;
          }
        }
        for (let i = lo; i < all.length; i++) {
          const c = all[i] as Row;
          if (end !== undefined && keyOf(c) > end) break;
          const parent = { sharedSetCode: c.sharedSetCode, customerCode: c.customerCode };
          if (!keyClauses.every((k) => k.test(parent))) continue;
          for (const row of contactRows(c)) if (clauses.every((k) => k.test(row))) out.push(row);
        }
        return out;
      }
      const rows = restRows(kind as EntityKind);
      return clauses.length === 0 ? [...rows] : rows.filter((r) => clauses.every((c) => c.test(r)));
    };
    const prefix = isContacts ? "contact" : KIND_PREFIX[kind as EntityKind];
    const names = new Map<string, string>();
    if (countOnly) {
      send(res, 200, { data: { totalCount: compute().length } });
      return;
    }
    const page = Number(params.get("page"));
    const pageSize = Math.min(Number(params.get("pageSize") ?? 25), maxPageSize);
    const action = params.get("pageAction");
    const callId = params.get("callId") ?? "";
    // QAD's behaviour: without paging parameters the browse answers 200 with no rows.
    const unpaged = !Number.isInteger(page) || page < 1 || !action || !Number.isInteger(pageSize) || pageSize < 1;
    if (unpaged || (page === 1 && action !== "first")) {
      send(res, 200, { data: [], auxillaryData: { HasMoreParams: "false" } });
      return;
    }
    const fault = faults.take("api/qracore/browses", ["emptyPage", "endlessPaging"]);
    if (fault?.kind === "emptyPage") {
      send(res, 200, { data: [], auxillaryData: { HasMoreParams: "false" } });
      return;
    }
    let rows = action === "first" ? undefined : snapshots.get(callId);
    if (!rows) {
      // A browse session is a server-side cursor: later pages come from the rows as of the first page.
      rows = compute();
      snapshots.set(callId, rows);
      if (snapshots.size > 200) snapshots.delete(snapshots.keys().next().value as string);
    }
    if (fault?.kind === "endlessPaging") {
      send(res, 200, {
        data: rows.slice(0, pageSize).map((r) => dotted(prefix, r, names)),
        auxillaryData: { HasMoreParams: "true" },
      });
      return;
    }
    const start = (page - 1) * pageSize;
    const slice = rows.slice(start, start + pageSize);
    const more = start + pageSize < rows.length;
    if (!more) snapshots.delete(callId);
    send(res, 200, {
      data: slice.map((r) => dotted(prefix, r, names)),
      auxillaryData: { HasMoreParams: more ? "true" : "false" },
    });
  }

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const origin = `http://127.0.0.1:${port}`;
  const tenantUrl = `${origin}${basePath}`;
  const qxtendUrl = `${origin}/qxi/services/QdocWebService`;

  const clientQxtend: QxtendOptions = {
    url: qxtendUrl,
    allowHttp: true,
    receiver: qxtendOptions.receiver,
    version: "eB2_1",
    domain: qxtendOptions.domain,
    username: credentials.username,
    password: credentials.password,
    profiles: { customers: qxtendOptions.profiles.customers ?? "Customer" },
    sharedSetCode: "SS1",
  };

  const clientOptions: QadClientOptions = {
    tenantUrl,
    allowHttp: true,
    // The simulator listens on 127.0.0.1: loopback is opted into here, never by default.
    network: { allowLoopback: true },
    auth: {
      kind: "password",
      clientId: credentials.clientId,
      username: credentials.username,
      password: credentials.password,
    },
    workspaceId,
    ...(apiDescriptionPath !== false ? { apiDescription: { path: apiDescriptionPath } } : {}),
    qxtend: clientQxtend,
  };

  const data: QadSimData = {
    store,
    customers: () => store.customers(),
    customer: (code) => store.customer(code),
    rows: () => store.rows(),
    row: (code) => store.row(code),
    isValid: (row): row is Customer => store.isValid(row),
    corruptionOf: (code) => store.corruptionOf(code),
    add: (partial) => store.add(partial),
    update: (code, patch) => store.update(code, patch),
    touch: (code) => store.touch(code),
    remove: (code) => store.remove(code),
    corrupt: (code, kind) => store.corrupt(code, kind),
  };

  return {
    tenantUrl,
    qxtendUrl,
    qxtendMounted: true,
    credentials,
    clientOptions,
    data,
    faults,
    qxtendFaults: qxtend.faults,
    now,
    advanceTime: (ms) => {
      offset += ms;
    },
    expireSessions: (o) => {
      tokens.clear();
      if (o?.refreshTokens) refreshTokens.clear();
    },
    inspect: () => structuredClone(inspection),
    resetInspection,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}
