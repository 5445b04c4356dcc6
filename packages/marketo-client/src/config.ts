/**
 * Client options: validated once, before any request, into a resolved configuration.
 *
 * @module
 */
import { z } from "zod";
import type { TokenCache } from "./auth/token-cache.js";
import type { TokenRenewalTiming } from "./auth/token-manager.js";
import type { BulkTimingOptions } from "./bulk/types.js";
import { MarketoConfigError } from "./errors.js";
import { checkBaseUrl } from "./internal/base-url-policy.js";
import type { Clock, FetchLike, Logger, Sleep } from "./internal/runtime.js";
import type { ResolvedLimits } from "./limits/limiter.js";
import type { LimiterStore } from "./limits/limiter-store.js";
import type { RetryOptions } from "./transport/retry-policy.js";

/** Base URLs of one Marketo instance. */
export interface MarketoBaseUrls {
  /** REST API root, e.g. `https://123-ABC-456.mktorest.com/rest`. Paths such as `/v1/leads.json` are appended. */
  rest: string;
  /** Identity root, e.g. `https://123-ABC-456.mktorest.com/identity`. `/oauth/token` is appended. */
  identity: string;
  /** Bulk API root, e.g. `https://123-ABC-456.mktorest.com/bulk`. Paths such as `/v1/leads/export/create.json` are appended. */
  bulk: string;
}

/** Which non-public hosts the base URLs may point at. Link-local, metadata and unspecified hosts are always refused. */
export interface MarketoNetworkOptions {
  /** Accept loopback hosts: 127.0.0.0/8, ::1, `localhost` (simulators, local proxies). @default false */
  allowLoopback?: boolean;
}

/** Quota settings. Defaults are Marketo's documented limits, with concurrency at Marketo's advised 5. */
export interface MarketoLimitsOptions {
  /**
   * Calls allowed per sliding window (shared by every integration of the instance).
   * @default 100
   */
  callsPerWindow?: number;
  /**
   * Sliding window length in ms.
   * @default 20000
   */
  windowMs?: number;
  /**
   * Calls in flight at once (Marketo refuses an 11th with 615 and advises at most 5).
   * @default 5
   */
  maxConcurrent?: number;
  /**
   * Daily call quota of the instance (see `stats/usage.json`).
   * @default 50000
   */
  dailyQuota?: number;
  /**
   * Calls left untouched at the end of the day: this client stops at `dailyQuota - dailyReserve` with a
   * `MarketoQuotaExceededError` (code `DAILY_BUDGET`), leaving room for other integrations and people.
   * @default 1% of dailyQuota, at most 500
   */
  dailyReserve?: number;
  /**
   * Shortest pause of every call after a 606 (window limit), in ms. Refusals in a row grow the pause with decorrelated
   * jitter (each drawn from `[rateLimitPauseMs, 3 × previous]`) up to `rateLimitMaxPauseMs`; a call answered without
   * 606/615 starts the sequence again.
   * @default windowMs / 10
   */
  rateLimitPauseMs?: number;
  /**
   * Shortest pause of every call after a 615 (concurrency limit), in ms; grows like `rateLimitPauseMs`, up to
   * `windowMs` (or `rateLimitMaxPauseMs` if smaller).
   * @default windowMs / 20
   */
  concurrencyPauseMs?: number;
  /**
   * Longest pause after a 606, in ms.
   * @default 3 × windowMs
   */
  rateLimitMaxPauseMs?: number;
  /**
   * A slot not released within this time is considered finished (protects shared stores from crashed workers).
   * @default 360000
   */
  leaseMs?: number;
  /**
   * How often a waiting call re-checks a shared store when no local event can wake it, in ms.
   * @default windowMs / 200
   */
  pollMs?: number;
}

/** Waits of token renewal, in ms (see {@link MarketoClientOptions.tokenRenewal}). */
export type MarketoTokenRenewalOptions = TokenRenewalTiming;

/** Options of `new MarketoClient(options)`. */
export interface MarketoClientOptions {
  /** Munchkin ID such as `123-ABC-456`; derives every base URL. Either this or `baseUrls` is required. */
  munchkinId?: string;
  /**
   * Explicit base URLs (simulators, proxies); each overrides the one derived from `munchkinId`. Each must be https
   * (http only with `allowHttp`), without userinfo, query or fragment, and not a link-local, cloud metadata or
   * unspecified host; loopback hosts need `network.allowLoopback`.
   */
  baseUrls?: Partial<MarketoBaseUrls>;
  /** Accept plain-http `baseUrls` (local proxies and simulators only: the client secret travels there). @default false */
  allowHttp?: boolean;
  /** Which non-public hosts `baseUrls` may name. */
  network?: MarketoNetworkOptions;
  /** Client ID of the API-only user's LaunchPoint service. */
  clientId: string;
  /** Client secret. Never appears in errors or logs. */
  clientSecret: string;
  /** Quota settings. */
  limits?: MarketoLimitsOptions;
  /** Where the limiter keeps its counters; share one store to share one instance's quota. Default: in memory, per client. */
  limiterStore?: LimiterStore;
  /** Where tokens are cached (keyed by identity URL + client ID). Default: in memory, per client. */
  tokenCache?: TokenCache;
  /**
   * Renew the token this long before it expires, in ms.
   * @default 60000
   */
  tokenRefreshMarginMs?: number;
  /** Waits of token renewal (backoff after a failed background renewal, steps while a lapsed token is replaced). */
  tokenRenewal?: MarketoTokenRenewalOptions;
  /** Retry settings for transient failures. */
  retry?: Partial<RetryOptions>;
  /**
   * Client-wide wait timing of bulk extracts (status polls, queue retries, download resumptions); each extract's own
   * options override it. Defaults are Marketo's (first poll interval 60 s, doubling to 5 min).
   */
  bulk?: BulkTimingOptions;
  /**
   * Raise the daily count to Marketo's own figure from `stats/usage.json` after the first call and then every
   * `everyCalls` calls (other integrations use the same quota). `false` counts only this client's calls.
   * @default { everyCalls: 500 }
   */
  usageSync?: false | { everyCalls?: number };
  /**
   * Longest URL sent as a GET; longer reads are sent as POST with `_method=GET`.
   * @default 8000
   */
  maxUriLength?: number;
  /**
   * Largest JSON body, in bytes (Marketo refuses bodies over 1 MB with 413).
   * @default 1000000
   */
  maxBodyBytes?: number;
  /**
   * One deadline per attempt covering the answer's headers and its whole body, in ms. By default the ones Marketo
   * documents: 35 s for most calls, 65 s for company and sales person writes, 305 s for paging tokens. Bulk file
   * downloads use it for the headers, then as the longest gap between two chunks of the file.
   */
  timeoutMs?: number;
  /**
   * Largest JSON answer read, in bytes, counted decoded as it streams (a declared `Content-Length` over it is
   * refused before reading). A larger answer is a `MarketoResponseTooLargeError`.
   * @default 16777216 (16 MiB)
   */
  maxResponseBytes?: number;
  /**
   * Largest bulk export file downloaded, in bytes.
   * @default 2147483648 (2 GiB)
   */
  maxFileBytes?: number;
  /** `fetch` implementation. @default globalThis.fetch */
  fetch?: FetchLike;
  /** Clock. @default Date.now */
  clock?: Clock;
  /** Sleep used for backoff and limiter waits. @default setTimeout-based */
  sleep?: Sleep;
  /** Random numbers in [0, 1) for jitter. @default Math.random */
  random?: () => number;
  /** pino-compatible logger. @default silent */
  logger?: Logger;
}

/** Options after validation and defaults. */
export interface ResolvedConfig {
  baseUrls: MarketoBaseUrls;
  clientId: string;
  clientSecret: string;
  limits: ResolvedLimits;
  tokenRefreshMarginMs: number;
  tokenRenewal: TokenRenewalTiming;
  retry: RetryOptions;
  bulk: BulkTimingOptions;
  usageSyncEvery: number | undefined;
  maxUriLength: number;
  maxBodyBytes: number;
  timeoutMs: number | undefined;
  maxResponseBytes: number;
  maxFileBytes: number;
}

/** Munchkin IDs look like `123-ABC-456`. */
export const MUNCHKIN_ID = /^\d{3}-[A-Z]{3}-\d{3}$/i;

const url = z.url({ protocol: /^https?$/ });
const positiveInt = z.number().int().positive();
const nonNegative = z.number().nonnegative();

const optionsSchema = z.object({
  munchkinId: z
    .string()
    .regex(MUNCHKIN_ID, { message: "munchkinId must look like 123-ABC-456 (Admin → Integration → Munchkin)" })
    .optional(),
  baseUrls: z.object({ rest: url.optional(), identity: url.optional(), bulk: url.optional() }).optional(),
  allowHttp: z.boolean().optional(),
  network: z.object({ allowLoopback: z.boolean().optional() }).strict().optional(),
  clientId: z.string({ message: "clientId is required" }).trim().min(1, { message: "clientId is required" }),
  clientSecret: z.string({ message: "clientSecret is required" }).min(1, { message: "clientSecret is required" }),
  limits: z
    .object({
      callsPerWindow: positiveInt.optional(),
      windowMs: positiveInt.optional(),
      maxConcurrent: positiveInt.optional(),
      dailyQuota: positiveInt.optional(),
      dailyReserve: z.number().int().nonnegative().optional(),
      rateLimitPauseMs: nonNegative.optional(),
      concurrencyPauseMs: nonNegative.optional(),
      rateLimitMaxPauseMs: nonNegative.optional(),
      leaseMs: positiveInt.optional(),
      pollMs: z.number().positive().optional(),
    })
    .optional(),
  tokenRefreshMarginMs: nonNegative.optional(),
  tokenRenewal: z
    .object({
      retryBaseDelayMs: nonNegative.optional(),
      retryMaxDelayMs: nonNegative.optional(),
      successorStepMs: z.number().positive().optional(),
      successorMaxStepMs: z.number().positive().optional(),
      successorMaxWaitMs: nonNegative.optional(),
    })
    .strict()
    .optional(),
  bulk: z
    .object({
      poll: z
        .object({
          initialDelayMs: nonNegative.optional(),
          maxDelayMs: nonNegative.optional(),
          timeoutMs: nonNegative.optional(),
        })
        .strict()
        .optional(),
      queueRetryDelayMs: nonNegative.optional(),
      queueTimeoutMs: nonNegative.optional(),
      resumeBaseDelayMs: nonNegative.optional(),
      resumeMaxDelayMs: nonNegative.optional(),
    })
    .strict()
    .optional(),
  retry: z
    .object({
      maxRetries: z.number().int().nonnegative().optional(),
      baseDelayMs: nonNegative.optional(),
      maxDelayMs: nonNegative.optional(),
      rateLimitMaxWaitMs: nonNegative.optional(),
    })
    .optional(),
  usageSync: z.union([z.literal(false), z.object({ everyCalls: positiveInt.optional() })]).optional(),
  maxUriLength: positiveInt.optional(),
  maxBodyBytes: positiveInt.optional(),
  timeoutMs: positiveInt.optional(),
  maxResponseBytes: positiveInt.optional(),
  maxFileBytes: positiveInt.optional(),
});

/** Drops keys whose value is undefined (zod keeps them; the resolved config has only set values). */
function stripUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

/**
 * Validates options and derives URLs. Throws {@link MarketoConfigError} (never containing the secret) when invalid.
 */
export function resolveConfig(options: MarketoClientOptions): ResolvedConfig {
  if (typeof options !== "object" || options === null) {
    throw new MarketoConfigError("MarketoClient options must be an object", { code: "CONFIG" });
  }
  const parsed = optionsSchema.safeParse(options);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join(".") || "options"}: ${i.message}`);
    throw new MarketoConfigError(`Invalid MarketoClient options: ${issues.join("; ")}`, { code: "CONFIG" });
  }
  const o = parsed.data;
  const derived = o.munchkinId
    ? {
        rest: `https://${o.munchkinId.toUpperCase()}.mktorest.com/rest`,
        identity: `https://${o.munchkinId.toUpperCase()}.mktorest.com/identity`,
        bulk: `https://${o.munchkinId.toUpperCase()}.mktorest.com/bulk`,
      }
    : undefined;
  const rest = o.baseUrls?.rest ?? derived?.rest;
  const identity = o.baseUrls?.identity ?? derived?.identity;
  const bulk = o.baseUrls?.bulk ?? derived?.bulk;
  if (!rest || !identity || !bulk) {
    throw new MarketoConfigError(
      "MarketoClient needs a munchkinId (e.g. 123-ABC-456) or all three baseUrls (rest, identity, bulk)",
      { code: "CONFIG" },
    );
  }
  const policy = { allowHttp: o.allowHttp === true, allowLoopback: o.network?.allowLoopback === true };
  for (const [name, value] of Object.entries(o.baseUrls ?? {})) {
    if (typeof value === "string") checkBaseUrl(name, value, policy);
  }
  const windowMs = o.limits?.windowMs ?? 20_000;
  const limits: ResolvedLimits = {
    callsPerWindow: o.limits?.callsPerWindow ?? 100,
    windowMs,
    maxConcurrent: o.limits?.maxConcurrent ?? 5,
    dailyQuota: o.limits?.dailyQuota ?? 50_000,
    dailyReserve: o.limits?.dailyReserve ?? Math.min(500, Math.floor((o.limits?.dailyQuota ?? 50_000) / 100)),
    rateLimitPauseMs: o.limits?.rateLimitPauseMs ?? windowMs / 10,
    concurrencyPauseMs: o.limits?.concurrencyPauseMs ?? windowMs / 20,
    rateLimitMaxPauseMs: o.limits?.rateLimitMaxPauseMs ?? windowMs * 3,
    leaseMs: o.limits?.leaseMs ?? 360_000,
    pollMs: o.limits?.pollMs ?? Math.max(1, windowMs / 200),
  };
  if (limits.dailyReserve >= limits.dailyQuota) {
    throw new MarketoConfigError("limits.dailyReserve must be smaller than limits.dailyQuota", { code: "CONFIG" });
  }
  return {
    baseUrls: {
      rest: rest.replace(/\/+$/, ""),
      identity: identity.replace(/\/+$/, ""),
      bulk: bulk.replace(/\/+$/, ""),
    },
    clientId: o.clientId,
    clientSecret: o.clientSecret,
    limits,
    tokenRefreshMarginMs: o.tokenRefreshMarginMs ?? 60_000,
    tokenRenewal: stripUndefined(o.tokenRenewal ?? {}),
    bulk: { ...stripUndefined(o.bulk ?? {}), ...(o.bulk?.poll ? { poll: stripUndefined(o.bulk.poll) } : {}) },
    retry: {
      maxRetries: o.retry?.maxRetries ?? 5,
      baseDelayMs: o.retry?.baseDelayMs ?? 500,
      maxDelayMs: o.retry?.maxDelayMs ?? 30_000,
      rateLimitMaxWaitMs: o.retry?.rateLimitMaxWaitMs ?? 30 * windowMs,
    },
    usageSyncEvery: o.usageSync === false ? undefined : (o.usageSync?.everyCalls ?? 500),
    maxUriLength: o.maxUriLength ?? 8_000,
    maxBodyBytes: o.maxBodyBytes ?? 1_000_000,
    timeoutMs: o.timeoutMs,
    maxResponseBytes: o.maxResponseBytes ?? 16 * 1024 * 1024,
    maxFileBytes: o.maxFileBytes ?? 2 * 1024 * 1024 * 1024,
  };
}
