/**
 * `MarketoClient`: the entry point. Wires configuration, token lifecycle, limiter, transport and resources.
 *
 * @module
 */
import { InMemoryTokenCache } from "./auth/token-cache.js";
import { TokenManager } from "./auth/token-manager.js";
import { BulkApi } from "./bulk/index.js";
import { Capabilities } from "./capabilities.js";
import { type MarketoBaseUrls, type MarketoClientOptions, type ResolvedConfig, resolveConfig } from "./config.js";
import { Redactor } from "./internal/redact.js";
import { type Runtime, realSleep, resolveFetch, silentLogger, systemClock } from "./internal/runtime.js";
import { Limiter } from "./limits/limiter.js";
import { InMemoryLimiterStore } from "./limits/limiter-store.js";
import { Activities } from "./resources/activities.js";
import { Companies } from "./resources/companies.js";
import { Leads } from "./resources/leads.js";
import { NamedAccounts } from "./resources/named-accounts.js";
import type { ResourceContext } from "./resources/object-resource.js";
import { Opportunities } from "./resources/opportunities.js";
import { SalesPersons } from "./resources/sales-persons.js";
import { Stats } from "./resources/stats.js";
import { Transport } from "./transport/transport.js";

/** This client's view of the quota (see {@link MarketoClient.quota}). */
export interface QuotaSnapshot {
  /** Calls counted in the current sliding window (across every client sharing the limiter store). */
  windowCalls: number;
  /** Calls allowed per window. */
  windowLimit: number;
  /** Window length in ms. */
  windowMs: number;
  /** Calls in flight. */
  inFlight: number;
  /** Calls counted against today's quota (this client's count, raised to Marketo's own figure when synced). */
  dailyUsed: number;
  /** Today's quota. */
  dailyLimit: number;
  /** Calls left before this client stops itself (`dailyLimit - dailyReserve - dailyUsed`, at least 0). */
  dailyRemaining: number;
  /** Calls held back until this time (ms since epoch), or 0. */
  pausedUntil: number;
  /** Calls this client has made since it was created (retries included). */
  callsMade: number;
  /** Token requests this client has sent to the identity service. */
  tokenRequests: number;
}

/**
 * A Marketo REST client for one instance: quota-aware, retrying what is safe to retry, and typed at the edges.
 *
 * @example
 * ```ts
 * const mk = new MarketoClient({ munchkinId: "123-ABC-456", clientId, clientSecret });
 * const { results } = await mk.companies.sync({ input: [{ externalCompanyId: "C-1", company: "Acme" }] });
 * console.log(mk.quota());
 * ```
 */
export class MarketoClient {
  /** Companies (dedupe `externalCompanyId`). */
  readonly companies: Companies;
  /** Named accounts (dedupe `name`). */
  readonly namedAccounts: NamedAccounts;
  /** Leads. */
  readonly leads: Leads;
  /** Opportunities and their roles. */
  readonly opportunities: Opportunities;
  /** Sales persons (dedupe `externalSalesPersonId`). */
  readonly salesPersons: SalesPersons;
  /** Activities, lead changes, deleted leads, activity types. */
  readonly activities: Activities;
  /** API usage. */
  readonly stats: Stats;
  /** Bulk extract of leads and activities (streamed, resumable). */
  readonly bulk: BulkApi;
  /** Whether CRM-owned objects are writable. */
  readonly capabilities: Capabilities;
  /** The transport every call goes through (for advanced use: endpoints without a resource). */
  readonly transport: Transport;

  readonly #config: ResolvedConfig;
  readonly #limiter: Limiter;
  readonly #auth: TokenManager;
  readonly #runtime: Runtime;
  #usageNext = 1;
  #usageSyncing = false;

  /** @throws {@link MarketoConfigError} when options are invalid (before any request). */
  constructor(options: MarketoClientOptions) {
    this.#config = resolveConfig(options);
    const runtime: Runtime = {
      clock: options.clock ?? systemClock,
      sleep: options.sleep ?? realSleep,
      random: options.random ?? Math.random,
      logger: options.logger ?? silentLogger,
      fetch: resolveFetch(options.fetch),
    };
    this.#runtime = runtime;
    const redactor = new Redactor();
    redactor.add(this.#config.clientSecret);
    this.#auth = new TokenManager({
      identityUrl: this.#config.baseUrls.identity,
      clientId: this.#config.clientId,
      clientSecret: this.#config.clientSecret,
      refreshMarginMs: this.#config.tokenRefreshMarginMs,
      renewal: this.#config.tokenRenewal,
      cache: options.tokenCache ?? new InMemoryTokenCache(),
      clock: runtime.clock,
      sleep: runtime.sleep,
      fetch: runtime.fetch,
      logger: runtime.logger,
      redactor,
      ...(this.#config.timeoutMs !== undefined ? { timeoutMs: this.#config.timeoutMs } : {}),
      maxResponseBytes: this.#config.maxResponseBytes,
    });
    this.#limiter = new Limiter({
      store: options.limiterStore ?? new InMemoryLimiterStore(),
      key: this.#config.baseUrls.rest,
      limits: this.#config.limits,
      clock: runtime.clock,
      sleep: runtime.sleep,
      logger: runtime.logger,
    });
    this.transport = new Transport({
      baseUrls: { rest: this.#config.baseUrls.rest, bulk: this.#config.baseUrls.bulk },
      auth: this.#auth,
      limiter: this.#limiter,
      runtime,
      redactor,
      retry: this.#config.retry,
      maxUriLength: this.#config.maxUriLength,
      maxBodyBytes: this.#config.maxBodyBytes,
      timeoutMs: this.#config.timeoutMs,
      maxResponseBytes: this.#config.maxResponseBytes,
      maxFileBytes: this.#config.maxFileBytes,
      afterCall: () => this.#maybeSyncUsage(),
    });
    this.capabilities = new Capabilities(
      {
        describe: (object) =>
          object === "companies"
            ? this.companies.describe()
            : object === "opportunities"
              ? this.opportunities.describe()
              : this.salesPersons.describe(),
        describeLeads2: () => this.leads.describe2(),
      },
      runtime.logger,
    );
    const ctx: ResourceContext = {
      transport: this.transport,
      capabilities: this.capabilities,
      batchSize: 300,
      maxBodyBytes: this.#config.maxBodyBytes,
    };
    this.companies = new Companies(ctx);
    this.namedAccounts = new NamedAccounts(ctx);
    this.leads = new Leads(ctx);
    this.opportunities = new Opportunities(ctx);
    this.salesPersons = new SalesPersons(ctx);
    this.activities = new Activities(ctx);
    this.stats = new Stats(ctx);
    this.bulk = new BulkApi(this.transport, {
      clock: runtime.clock,
      sleep: runtime.sleep,
      random: runtime.random,
      logger: runtime.logger,
      timing: this.#config.bulk,
      describeLeadFields: () => this.leads.describe(),
      describeActivityTypes: () => this.activities.types(),
    });
  }

  /** Base URLs in use. */
  get baseUrls(): MarketoBaseUrls {
    return { ...this.#config.baseUrls };
  }

  /**
   * This client's view of the quota: window use, calls in flight, daily use and limit, calls made. Synchronous and
   * cheap; use it for run summaries ("Marketo calls used, quota left").
   */
  quota(): QuotaSnapshot {
    const s = this.#limiter.snapshot();
    const l = this.#config.limits;
    return {
      windowCalls: s.windowCalls,
      windowLimit: l.callsPerWindow,
      windowMs: l.windowMs,
      inFlight: s.inFlight,
      dailyUsed: s.dailyUsed,
      dailyLimit: l.dailyQuota,
      dailyRemaining: Math.max(0, l.dailyQuota - l.dailyReserve - s.dailyUsed),
      pausedUntil: s.pausedUntil,
      callsMade: this.#limiter.callsMade,
      tokenRequests: this.#auth.requests,
    };
  }

  /** Raises the daily count to Marketo's figure after the first call and then every `usageSync.everyCalls` calls. */
  #maybeSyncUsage(): void {
    const every = this.#config.usageSyncEvery;
    if (every === undefined || this.#usageSyncing || this.#limiter.callsMade < this.#usageNext) return;
    this.#usageSyncing = true;
    this.#usageNext = this.#limiter.callsMade + every;
    const before = this.#limiter.callsMade;
    this.stats
      .usage()
      // Marketo's total may miss calls granted while the usage call was under way: count those on top (conservative).
      .then((u) => this.#limiter.raiseDailyUsed(u.total + (this.#limiter.callsMade - before)))
      .catch((error: unknown) => this.#runtime.logger.debug({ err: error }, "marketo: usage sync failed"))
      .finally(() => {
        this.#usageSyncing = false;
      });
  }
}
