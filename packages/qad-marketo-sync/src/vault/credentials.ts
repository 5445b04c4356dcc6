/**
 * The two typed credential records of a tenant pair, validated with zod when put and again when opened, and the
 * redaction that keeps their secrets out of `util.inspect` and `JSON.stringify`.
 *
 * @module
 */
import { inspect } from "node:util";
import type { MarketoBaseUrls } from "@ml/marketo-client";
import { MUNCHKIN_ID } from "@ml/marketo-client";
import type { ClientCredentialsAuth, PasswordAuth, QxtendOptions, SessionAuth } from "@ml/qad-client";
import { qxtendOptionsSchema } from "@ml/qad-client";
import { z } from "zod";
import { VaultError } from "../errors.js";
import type { JsonValue } from "../ports.js";

/** Record name of a tenant pair's QAD credentials. */
export const QAD_RECORD = "qad";
/** Record name of a tenant pair's Marketo credentials. */
export const MARKETO_RECORD = "marketo";

/** QXtend settings as stored: `QxtendOptions` of `@ml/qad-client` without `transientPattern` (a RegExp is not JSON). */
export type QxtendCredentials = Omit<QxtendOptions, "transientPattern">;

/** The QAD auth kinds a vault can hold (a `provider` is a function, so it stays in code). */
export type StoredQadAuth = PasswordAuth | ClientCredentialsAuth | SessionAuth;

/**
 * QAD credentials of a tenant pair: the connection part of `QadClientOptions`, ready to spread into it.
 *
 * @example
 * ```ts
 * const qad = await vault.getQad("acme");
 * if (qad) new QadClient({ ...qad, logger });
 * ```
 */
export interface QadCredentials {
  /** The tenant's full URL, e.g. `https://acme.qad.com/clouderp`. */
  tenantUrl: string;
  /** Accept a plain-http tenant URL (on-prem only). */
  allowHttp?: boolean;
  /** Wire protocol. @default "rest" */
  protocol?: "rest" | "qxtend" | "auto";
  /** REST authentication; required unless `protocol` is `"qxtend"`. */
  auth?: StoredQadAuth;
  /** Sent as `x-qad-workspace-id`. */
  workspaceId?: string;
  /** Sent as `domainCode=`. */
  domainCode?: string;
  /** Sent as `domainContext=`. */
  domainContext?: string;
  /** QXtend settings (with their password); required when `protocol` is `"qxtend"`. */
  qxtend?: QxtendCredentials;
}

/**
 * Marketo credentials of a tenant pair: the connection part of `MarketoClientOptions`, ready to spread into it.
 *
 * @example
 * ```ts
 * const mk = await vault.getMarketo("acme");
 * if (mk) new MarketoClient({ ...mk, limiterStore });
 * ```
 */
export interface MarketoCredentials {
  /** Munchkin ID such as `123-ABC-456`; either this or all three `baseUrls`. */
  munchkinId?: string;
  /** Explicit base URLs (simulators, proxies); each overrides the one derived from `munchkinId`. */
  baseUrls?: Partial<MarketoBaseUrls>;
  /** Client ID of the API-only user's LaunchPoint service. */
  clientId: string;
  /** Client secret. */
  clientSecret: string;
}

const nonEmpty = z.string().min(1);
const httpUrl = z.url({ protocol: /^https?$/ });

const authSchema = z.discriminatedUnion("kind", [
  z.strictObject({
    kind: z.literal("password"),
    clientId: nonEmpty,
    clientSecret: z.string().optional(),
    username: nonEmpty,
    password: z.string(),
    tokenPath: z.string().optional(),
    useRefreshToken: z.boolean().optional(),
  }) satisfies z.ZodType<PasswordAuth>,
  z.strictObject({
    kind: z.literal("clientCredentials"),
    clientId: nonEmpty,
    clientSecret: nonEmpty,
    scope: z.string().optional(),
    tokenPath: z.string().optional(),
  }) satisfies z.ZodType<ClientCredentialsAuth>,
  z.strictObject({
    kind: z.literal("session"),
    username: nonEmpty,
    password: z.string(),
    loginPath: z.string().optional(),
  }) satisfies z.ZodType<SessionAuth>,
]);

/** The QAD client's own QXtend schema, so the vault refuses exactly what the client would. */
const qxtendSchema = z.strictObject(qxtendOptionsSchema.omit({ transientPattern: true }).shape);

const qadSchema = z
  .strictObject({
    tenantUrl: httpUrl,
    allowHttp: z.boolean().optional(),
    protocol: z.enum(["rest", "qxtend", "auto"]).optional(),
    auth: authSchema.optional(),
    workspaceId: z.string().optional(),
    domainCode: z.string().optional(),
    domainContext: z.string().optional(),
    qxtend: qxtendSchema.optional(),
  })
  .superRefine((v, ctx) => {
    const protocol = v.protocol ?? "rest";
    if (protocol !== "qxtend" && v.auth === undefined) {
      ctx.addIssue({ code: "custom", path: ["auth"], message: `required for protocol "${protocol}"` });
    }
    if (protocol === "qxtend" && v.qxtend === undefined) {
      ctx.addIssue({ code: "custom", path: ["qxtend"], message: 'required for protocol "qxtend"' });
    }
  });

const marketoSchema = z
  .strictObject({
    munchkinId: z.string().regex(MUNCHKIN_ID, { message: "must look like 123-ABC-456" }).optional(),
    baseUrls: z
      .strictObject({ rest: httpUrl.optional(), identity: httpUrl.optional(), bulk: httpUrl.optional() })
      .optional(),
    clientId: z.string().trim().min(1),
    clientSecret: z.string().min(1),
  })
  .superRefine((v, ctx) => {
    const b = v.baseUrls;
    if (v.munchkinId === undefined && !(b?.rest && b.identity && b.bulk)) {
      ctx.addIssue({
        code: "custom",
        path: ["munchkinId"],
        message: "required unless baseUrls has rest, identity and bulk",
      });
    }
  });

const jsonSchema = z.json();

/** What a record holds, by name. @internal */
export type RecordKind = "qad" | "marketo" | "json";

/**
 * Validates a record's value. Messages name the record and the failing paths, never a value (zod issues carry no
 * input here, and none is attached as a cause). @internal
 */
export function validate(kind: RecordKind, value: unknown, where: string): JsonValue {
  const schema = kind === "qad" ? qadSchema : kind === "marketo" ? marketoSchema : jsonSchema;
  const r = schema.safeParse(value);
  if (!r.success) {
    const issues = r.error.issues.map((i) => `${i.path.map(String).join(".") || "(root)"}: ${i.message}`);
    throw new VaultError("vault_invalid_credentials", `${where}: ${issues.join("; ")}`);
  }
  // Keep what the caller wrote (no defaults filled in), as plain JSON.
  return JSON.parse(JSON.stringify(value)) as JsonValue;
}

/** Keys whose values {@link hideSecrets} redacts. */
const SECRET_KEY = /(password|passphrase|secret|token|api[-_]?key|private[-_]?key)$/i;
const REDACTED = "[redacted]";

function redacted(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redacted);
  if (typeof value !== "object" || value === null) return value;
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [k, SECRET_KEY.test(k) && v !== undefined ? REDACTED : redacted(v)]),
  );
}

/**
 * Gives `value` and every object inside it a non-enumerable `toJSON` and `util.inspect` rendering that show secret
 * fields (password, clientSecret, ...) as `[redacted]`. Spreading the object (`{ ...creds }`) still copies the real
 * values into a plain object, which is how a client receives them. @internal
 */
export function hideSecrets<T>(value: T): T {
  if (typeof value !== "object" || value === null) return value;
  for (const v of Object.values(value)) hideSecrets(v);
  Object.defineProperties(value, {
    toJSON: { value: () => redacted(value), configurable: true },
    [inspect.custom]: {
      value: (_depth: number, options: object, insp: typeof inspect) => insp(redacted(value), options),
      configurable: true,
    },
  });
  return value;
}
