import { z } from "zod";
import type { ProviderAuth, QadAuth, TokenLifetimeOptions } from "./auth/options.js";
import { QadConfigError } from "./errors.js";
import type { RuntimeDeps } from "./internal/deps.js";
import type { RetryOptions } from "./internal/retry.js";
import type { TenantNetworkOptions } from "./network/tenant-policy.js";
import type { QxtendOptions } from "./qxtend/index.js";
import type { BrowseOptions } from "./rest/browse/browse.js";
import type { RestEntitiesOptions } from "./rest/entities.js";
import type { ApiDescriptionOptions } from "./rest/path-policy.js";

/** Options of {@link QadClient}. Everything QAD leaves to the instance is a setting here. */
export interface QadClientOptions extends RuntimeDeps {
  /** The tenant's full URL, e.g. `https://acme.qad.com/clouderp` (validated; see `parseTenantUrl`). */
  tenantUrl: string;
  /** Accept a plain-http tenant URL (on-prem only). @default false */
  allowHttp?: boolean;
  /**
   * Which hosts the tenant URL and the QXtend URL may point at besides public ones, checked on the URL and on every
   * address a name resolves to at connect time: `{ allowLoopback, allowPrivate, allowLinkLocal, allowIdn }`.
   * Metadata endpoints and unspecified addresses are always refused. @default public hosts only
   */
  network?: TenantNetworkOptions;
  /** Wire protocol; `"auto"` uses REST when it answers, else QXtend. @default "rest" */
  protocol?: "rest" | "qxtend" | "auto";
  /** How to authenticate against the REST face. Required for protocol "rest" and "auto". */
  auth?: QadAuth;
  /** Token renewal settings. */
  token?: TokenLifetimeOptions;
  /** Sent as `x-qad-workspace-id` (e.g. `10USA_10USACO`). */
  workspaceId?: string;
  /** Sent as `domainCode=` on entity calls. */
  domainCode?: string;
  /** Sent as `domainContext=` on entity calls. */
  domainContext?: string;
  /** Entity paths, view URIs and browse ids per document kind, overriding the defaults. */
  entities?: RestEntitiesOptions;
  /**
   * The instance's published OpenAPI/Swagger document; entity paths must appear in it. `false` or omitted: use
   * {@link QadClientOptions.allowedPaths}.
   */
  apiDescription?: ApiDescriptionOptions | false;
  /**
   * Allow-list of API paths (relative to the tenant URL) when there is no API description.
   * @default the configured entity paths plus the browse and count paths
   */
  allowedPaths?: string[];
  /** Browse API settings. */
  browse?: BrowseOptions;
  /**
   * How `modifiedSince` is sent: `"split"` reads (date = D and time ≥ T) then (date > D), moving only the rows of
   * the window; `"day"` sends date ≥ D alone (for instances whose browse cannot filter the time field) and
   * drops earlier times client-side. @default "split"
   */
  sinceFilter?: "split" | "day";
  /** Rows per browse page. @default 200 */
  pageSize?: number;
  /** Rows per page of the contacts browse joined onto customers. @default 1000 */
  contactsPageSize?: number;
  /**
   * Concurrent contact lookups (one per customer) for the sparse pages of a modified-since read whose key range
   * holds too many contacts to read as a range; full reads use one range query per page. @default 8
   */
  contactsConcurrency?: number;
  /** Retry policy for transient failures. */
  retry?: RetryOptions;
  /**
   * One deadline per attempt, in ms, covering the answer's headers AND its whole body (a server trickling a body, or
   * sending headers and then nothing, ends there with a retryable `QadTimeoutError`). @default 60000
   */
  timeoutMs?: number;
  /**
   * Largest REST answer read, in bytes, counted decoded as it streams (a gzip bomb stops at the limit); a declared
   * `Content-Length` over it is refused before reading. A larger answer is a `QadResponseTooLargeError`.
   * @default 16777216 (16 MiB)
   */
  maxResponseBytes?: number;
  /**
   * Path probed (authenticated GET) by protocol "auto" to see whether REST is there. Only "not there" answers
   * (connection refused, unknown host, 404/405/501, a non-JSON page) fall back to QXtend; auth and permission
   * failures surface as their typed errors. `false` skips the probe and uses REST.
   * @default "api/qracore/securityControl"
   */
  restProbePath?: string | false;
  /** QXtend (on-prem SOAP) settings, for protocol "qxtend" or "auto"; validated by the constructor. */
  qxtend?: QxtendOptions;
  /** Extra headers on every REST request (never put secrets you would not want logged by a proxy). */
  headers?: Record<string, string>;
}

const nonEmpty = z.string().min(1);
const authSchema = z.discriminatedUnion("kind", [
  z.object({
    kind: z.literal("password"),
    clientId: nonEmpty,
    clientSecret: z.string().optional(),
    username: nonEmpty,
    password: z.string(),
    tokenPath: z.string().optional(),
    useRefreshToken: z.boolean().optional(),
  }),
  z.object({
    kind: z.literal("clientCredentials"),
    clientId: nonEmpty,
    clientSecret: nonEmpty,
    scope: z.string().optional(),
    tokenPath: z.string().optional(),
  }),
  z.object({ kind: z.literal("session"), username: nonEmpty, password: z.string(), loginPath: z.string().optional() }),
  z.object({
    kind: z.literal("provider"),
    getToken: z.custom<ProviderAuth["getToken"]>((v) => typeof v === "function"),
  }),
]);

const optionsSchema = z.object({
  tenantUrl: z.string(),
  allowHttp: z.boolean().optional(),
  network: z
    .object({
      allowLoopback: z.boolean().optional(),
      allowPrivate: z.boolean().optional(),
      allowLinkLocal: z.boolean().optional(),
      allowIdn: z.boolean().optional(),
      checkResolvedAddress: z.boolean().optional(),
      lookup: z.custom<TenantNetworkOptions["lookup"]>((v) => typeof v === "function").optional(),
    })
    .strict()
    .optional(),
  protocol: z.enum(["rest", "qxtend", "auto"]).optional(),
  auth: authSchema.optional(),
  workspaceId: z.string().optional(),
  domainCode: z.string().optional(),
  domainContext: z.string().optional(),
  apiDescription: z
    .union([z.literal(false), z.object({ path: nonEmpty, fallbackToAllowList: z.boolean().optional() })])
    .optional(),
  allowedPaths: z.array(z.string()).optional(),
  pageSize: z.number().int().min(1).max(100_000).optional(),
  sinceFilter: z.enum(["split", "day"]).optional(),
  contactsPageSize: z.number().int().min(1).max(100_000).optional(),
  contactsConcurrency: z.number().int().min(1).max(64).optional(),
  timeoutMs: z.number().int().min(1).optional(),
  maxResponseBytes: z.number().int().min(1).optional(),
  retry: z
    .object({
      maxRetries: z.number().int().min(0).max(20).optional(),
      baseDelayMs: z.number().min(0).optional(),
      maxDelayMs: z.number().min(0).optional(),
    })
    .optional(),
  browse: z
    .object({
      path: z.string().optional(),
      countPath: z.string().optional(),
      firstPageAction: z.string().min(1).optional(),
      nextPageAction: z.string().min(1).optional(),
      maxPages: z.number().int().min(1).optional(),
      verifyEmptyFirstPage: z.boolean().optional(),
    })
    .optional(),
  headers: z.record(z.string(), z.string()).optional(),
});

/**
 * Validates the plain-data parts of the options at the edge. Messages name the option, never its value (which
 * may be a password).
 * @internal
 */
export function checkOptions(options: QadClientOptions): void {
  if (typeof options !== "object" || options === null) throw new QadConfigError("QadClient needs an options object");
  const r = optionsSchema.safeParse(options);
  if (!r.success) {
    const msgs = r.error.issues.map((i) => `${i.path.map(String).join(".") || "options"}: ${i.message}`);
    throw new QadConfigError(`Invalid QadClient options: ${msgs.join("; ")}`);
  }
}
