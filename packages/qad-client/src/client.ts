import { Redactor } from "@ml/http-kernel";
import { createTokenManager } from "./auth/strategies.js";
import type { TokenManager } from "./auth/token-manager.js";
import type { EntityKind, QadBackend } from "./backend.js";
import { isQadError, QadConfigError, QadUnsafePathError } from "./errors.js";
import { type ResolvedDeps, resolveDeps } from "./internal/deps.js";
import { resolveRetry } from "./internal/retry.js";
import { createTenantDispatcher, fetchThrough } from "./network/tenant-dispatcher.js";
import { checkUrlHost } from "./network/tenant-policy.js";
import { checkOptions, type QadClientOptions } from "./options.js";
import { createQxtendBackend } from "./qxtend/index.js";
import { EntityResource } from "./resources/entity-resource.js";
import { resolveBrowseOptions } from "./rest/browse/browse.js";
import { resolveRestEntities } from "./rest/entities.js";
import { PathPolicy } from "./rest/path-policy.js";
import { checkPathSyntax } from "./rest/paths.js";
import { RestBackend } from "./rest/rest-backend.js";
import { parseTenantUrl } from "./rest/tenant.js";
import { type Query, Transport } from "./rest/transport.js";

/** One REST path checked by {@link QadClient.checkPaths}. */
export interface QadPathCheck {
  /** The path, relative to the tenant URL. */
  path: string;
  /** What the client reads through it. */
  use: "browse" | "count" | "entity";
  /** Whether a request to it would be sent. */
  allowed: boolean;
  /** What it was checked against. */
  against: "apiDescription" | "allowedPaths";
  /** Why it is refused, when it is. */
  reason?: string;
}

/**
 * Client of one QAD instance: business documents as typed, validated async iterators, incremental polls with
 * checkpoints, over REST (QAD Adaptive ERP) or QXtend SOAP (on-prem).
 *
 * @example
 * const qad = new QadClient({
 *   tenantUrl: "https://acme.qad.com/clouderp",
 *   auth: { kind: "password", clientId: "connector", username: "svc", password: process.env.QAD_PASSWORD! },
 *   workspaceId: "10USA_10USACO",
 * });
 * for await (const c of qad.customers.list()) console.log(c.customerCode, c.name);
 */
export class QadClient {
  /** Customers with their addresses and contacts. */
  readonly customers: EntityResource<"customers">;
  /** Suppliers. */
  readonly suppliers: EntityResource<"suppliers">;
  /** Purchase orders. */
  readonly purchaseOrders: EntityResource<"purchaseOrders">;
  /** Supplier invoices. */
  readonly supplierInvoices: EntityResource<"supplierInvoices">;
  /** General-ledger accounts. */
  readonly glAccounts: EntityResource<"glAccounts">;
  /** Cost centers. */
  readonly costCenters: EntityResource<"costCenters">;
  /** Items. */
  readonly items: EntityResource<"items">;
  /** Goods receipts. */
  readonly goodsReceipts: EntityResource<"goodsReceipts">;
  /** The validated tenant base URL (always ending with `/`). */
  readonly tenantUrl: string;

  readonly #deps: ResolvedDeps;
  readonly #transport: Transport | undefined;
  readonly #policy: PathPolicy | undefined;
  readonly #rest: RestBackend | undefined;
  readonly #tokens: TokenManager | undefined;
  readonly #options: QadClientOptions;
  readonly #qxtend: QadBackend | undefined;
  readonly #restPaths: { entities: Record<EntityKind, { path: string }>; browse: string; count: string } | undefined;
  #backend: Promise<QadBackend> | undefined;

  /**
   * @throws {QadConfigError} / {@link QadUnsafePathError} for unusable options, before any request: the tenant URL,
   * entity paths, and with protocol `"qxtend"` or `"auto"` the `qxtend` options (schema `qxtendOptionsSchema`,
   * plus every configured profile's mapping).
   */
  constructor(options: QadClientOptions) {
    checkOptions(options);
    this.#options = options;
    this.#deps = resolveDeps(options);
    const protocol = options.protocol ?? "rest";
    const network = options.network ?? {};
    const base = parseTenantUrl(options.tenantUrl, { allowHttp: options.allowHttp === true, network });
    // The same policy on every connection (REST and QXtend): resolved addresses are checked when connecting.
    const dispatcher = network.checkResolvedAddress === false ? undefined : createTenantDispatcher(network);
    this.tenantUrl = base.href;
    if (protocol !== "qxtend" && !options.auth)
      throw new QadConfigError(`protocol "${protocol}" needs the auth option`);
    if (protocol !== "rest" && !options.qxtend)
      throw new QadConfigError(`protocol "${protocol}" needs the qxtend option`);
    const entities = resolveRestEntities(options.entities);
    const browse = resolveBrowseOptions(options.browse);
    // Every configured path is checked now, so a bad one fails here, before any request.
    for (const cfg of Object.values(entities)) checkPathSyntax(cfg.path);
    checkPathSyntax(browse.path);
    checkPathSyntax(browse.countPath);
    const probe = options.restProbePath === undefined ? "api/qracore/securityControl" : options.restProbePath;
    if (probe !== false) checkPathSyntax(probe);
    if (protocol !== "qxtend") {
      // Knows every secret of this client (and, as they are issued, its tokens): applied to anything taken from an
      // answer (snippets, messages), so a server echoing a credential back cannot put it in an error or a log.
      const redactor = new Redactor({ marker: "[redacted]" });
      const auth = options.auth;
      if (auth && auth.kind !== "provider") {
        redactor.add("password" in auth ? auth.password : undefined);
        redactor.add("clientSecret" in auth ? auth.clientSecret : undefined);
      }
      // The token manager is the transport's token provider; it reaches the token endpoints through the same
      // transport (unauthenticated calls), looked up when it first asks, after the transport below exists.
      const tokens = createTokenManager(
        options.auth!,
        options.token ?? {},
        (req) => transport.request(req),
        redactor,
        this.#deps,
      );
      this.#tokens = tokens;
      const transport = new Transport({
        base,
        deps: this.#deps,
        retry: resolveRetry(options.retry),
        timeoutMs: options.timeoutMs ?? 60_000,
        maxResponseBytes: options.maxResponseBytes ?? 16 * 1024 * 1024,
        redactor,
        tokens,
        ...(options.workspaceId !== undefined ? { workspaceId: options.workspaceId } : {}),
        ...(options.domainCode !== undefined ? { domainCode: options.domainCode } : {}),
        ...(options.domainContext !== undefined ? { domainContext: options.domainContext } : {}),
        ...(options.headers ? { headers: options.headers } : {}),
        ...(dispatcher ? { dispatcher } : {}),
      });
      const allowed = options.allowedPaths ?? [
        ...Object.values(entities).map((e) => e.path),
        browse.path,
        browse.countPath,
      ];
      this.#policy = new PathPolicy(base, transport, options.apiDescription, allowed, this.#deps.logger);
      this.#restPaths = { entities, browse: browse.path, count: browse.countPath };
      this.#transport = transport;
      this.#rest = new RestBackend({
        transport,
        policy: this.#policy,
        entities,
        browse,
        deps: this.#deps,
        contactsPageSize: options.contactsPageSize ?? 1000,
        contactsConcurrency: options.contactsConcurrency ?? 8,
        probePath: probe,
        sinceFilter: options.sinceFilter ?? "split",
      });
    }
    if (protocol !== "rest") {
      // Validated now (QadConfigError, password never quoted), not at the first read.
      const qxUrl = URL.canParse(options.qxtend!.url) ? new URL(options.qxtend!.url) : undefined;
      if (qxUrl) checkUrlHost(qxUrl, network, "qxtend.url");
      this.#qxtend = createQxtendBackend(options.qxtend!, {
        fetch: fetchThrough(this.#deps.fetch, dispatcher) as typeof fetch,
        clock: this.#deps.clock,
        sleep: this.#deps.sleep,
        random: this.#deps.random,
        logger: this.#deps.logger,
        timers: this.#deps.timers,
      });
    }
    const ctx = {
      backend: () => this.backend(),
      rest: () => this.#rest,
      pageSize: options.pageSize ?? 200,
      now: () => this.#deps.clock.now(),
    };
    this.customers = new EntityResource("customers", ctx);
    this.suppliers = new EntityResource("suppliers", ctx);
    this.purchaseOrders = new EntityResource("purchaseOrders", ctx);
    this.supplierInvoices = new EntityResource("supplierInvoices", ctx);
    this.glAccounts = new EntityResource("glAccounts", ctx);
    this.costCenters = new EntityResource("costCenters", ctx);
    this.items = new EntityResource("items", ctx);
    this.goodsReceipts = new EntityResource("goodsReceipts", ctx);
  }

  /**
   * The backend in use. With protocol `"auto"` the first call probes REST (`restProbePath`, authenticated) and
   * falls back to QXtend only when REST is not there: connection refused or unknown host, HTTP 404/405/501, or a
   * non-JSON (HTML/XML) answer, from the token endpoint or the probe. When REST is there but fails, the typed
   * error surfaces instead ({@link QadAuthError} for refused credentials or a 401 after renewal,
   * {@link QadPermissionError} for 403, {@link QadHttpError} for 5xx/timeouts after retries) and the next call
   * probes again. The decision, with its reason, is logged at info and kept for the client's lifetime.
   */
  backend(): Promise<QadBackend> {
    this.#backend ??= this.#pickBackend().catch((e: unknown) => {
      this.#backend = undefined;
      throw e;
    });
    return this.#backend;
  }

  /** The protocol actually used (probing first with `"auto"`). */
  async protocol(): Promise<"rest" | "qxtend"> {
    return (await this.backend()).protocol;
  }

  /**
   * A GET to any API path of the instance, checked like entity paths (syntax, then API description or
   * allow-list) before any request, with auth, workspace and retries. Returns the parsed JSON.
   * @example
   * await qad.get("api/erp/customerV2s", { sharedSetCode: "SS1", customerCode: "C1", viewUri: "urn:be:com.qad.base.customer.ICustomerV2" });
   */
  async get(
    path: string,
    query: Record<string, string | number | boolean> = {},
    options: { signal?: AbortSignal } = {},
  ): Promise<unknown> {
    if (!this.#transport || !this.#policy) throw new QadConfigError("get() needs the REST protocol");
    const checked = await this.#policy.check(path, options.signal);
    const q: Query = Object.entries(query).map(([k, v]) => [k, String(v)] as const);
    const res = await this.#transport.request({
      method: "GET",
      path: checked,
      query: q,
      ...(options.signal ? { signal: options.signal } : {}),
    });
    return res.body;
  }

  /**
   * Checks, without calling them, the REST paths that reads of `kind` use, the same way every request is checked:
   * against the instance's published API description, or `allowedPaths` when it publishes none. `browse` serves
   * lists and polls, `count` the contact joins of sparse pages, `entity` reads by key (`get()`). For setup checks.
   * @throws {QadConfigError} on the QXtend protocol (no REST paths); the typed error when the API description
   * cannot be fetched for a transient reason.
   */
  async checkPaths(kind: EntityKind, options: { signal?: AbortSignal } = {}): Promise<QadPathCheck[]> {
    if (!this.#policy || !this.#restPaths) throw new QadConfigError("checkPaths() needs the REST protocol");
    const against = await this.#policy.source(options.signal);
    const uses = [
      ["browse", this.#restPaths.browse],
      ["count", this.#restPaths.count],
      ["entity", this.#restPaths.entities[kind].path],
    ] as const;
    const out: QadPathCheck[] = [];
    for (const [use, path] of uses) {
      try {
        await this.#policy.check(path, options.signal);
        out.push({ path, use, allowed: true, against });
      } catch (e) {
        if (!(e instanceof QadUnsafePathError)) throw e;
        out.push({ path, use, allowed: false, against, reason: e.reason });
      }
    }
    return out;
  }

  /**
   * Probes the REST API once, authenticated (`restProbePath`; the token endpoint is exercised on the way), as
   * protocol `"auto"` does: `{ available: false, reason }` when REST is not there (connection refused, unknown
   * host, HTTP 404/405/501, a non-JSON page); the typed error when it is there but fails (refused credentials,
   * 403, 5xx or timeouts after retries). For setup checks.
   * @throws {QadConfigError} on the QXtend protocol.
   */
  async probeRest(options: { signal?: AbortSignal } = {}): Promise<{ available: boolean; reason: string }> {
    if (!this.#rest) throw new QadConfigError("probeRest() needs the REST or auto protocol");
    return this.#rest.probe(options.signal);
  }

  /** Request and token counters of this client (REST): useful in tests and metrics. */
  stats(): { requests: number; tokenRenewals: number } {
    return { requests: this.#transport?.requestCount ?? 0, tokenRenewals: this.#tokens?.renewals ?? 0 };
  }

  /** The resource for a document kind, by name. */
  resource<K extends EntityKind>(kind: K): EntityResource<K> {
    return this[kind] as unknown as EntityResource<K>;
  }

  async #pickBackend(): Promise<QadBackend> {
    const protocol = this.#options.protocol ?? "rest";
    if (protocol === "rest") return this.#rest!;
    const qxtend = () => this.#qxtend!;
    if (protocol === "qxtend") return qxtend();
    const log = this.#deps.logger;
    let probe: Awaited<ReturnType<RestBackend["probe"]>>;
    try {
      probe = await this.#rest!.probe();
    } catch (e) {
      // REST is there but refused or failed: a misconfiguration (or outage) to surface, not a reason to switch.
      const err = isQadError(e) ? { code: e.code, status: e.status, message: e.message } : { message: String(e) };
      log.info(
        {
          protocol: "auto",
          chosen: "none",
          reason: `REST answered but failed (${err.code ?? "error"}${err.status ? ` ${err.status}` : ""}); not falling back to QXtend`,
          err,
        },
        "qad protocol auto: REST probe failed",
      );
      throw e;
    }
    if (probe.available) {
      log.info({ protocol: "auto", chosen: "rest", reason: probe.reason }, "qad protocol auto: using REST");
      return this.#rest!;
    }
    log.info(
      { protocol: "auto", chosen: "qxtend", reason: `REST not there: ${probe.reason}` },
      "qad protocol auto: using QXtend",
    );
    return qxtend();
  }
}
