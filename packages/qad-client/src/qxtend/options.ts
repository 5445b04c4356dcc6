import { z } from "zod";
import { ENTITY_KINDS, type EntityKind } from "../backend.js";
import { QadConfigError } from "../errors.js";
import { CONTACT_FIELD_DEFAULTS, CUSTOMER_FIELD_DEFAULTS } from "./customer-mapping.js";
import type { QXTEND_ENTITY_DEFAULTS } from "./entity-mapping.js";
import { QAD_DATE_FORMATS } from "./filter.js";

/** An XML element name we are willing to put on the wire: the profile ends up in `query<Profile>`. */
const xmlName = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_.-]*$/, "must be a plain XML name (letters, digits, _ . -; no spaces or prefixes)");

/** A Progress field name as used in a Filter expression (cm_addr, cm_mod_date...). */
const fieldName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_#$%&-]*$/, "must be a plain Progress field name");

const scalar = z.union([z.string(), z.number(), z.boolean()]);

/** Per-entity Query Service settings. */
export const qxtendProfileSchema = z.object({
  /** Query Service profile name set up by the QAD admin; the request element is `query<profile>`. */
  profile: xmlName,
  /** Element name of one result row in the profile dataset. For customers, default `cm_mstr`. */
  rowElement: xmlName.optional(),
  /** Primary-table key field used for key-based paging. For customers, default `cm_addr`. */
  keyField: fieldName.optional(),
  /** Primary-table last-modified date field used for `modifiedSince`. For customers, default `cm_mod_date`. */
  dateField: fieldName.optional(),
  /**
   * Non-customer entities: canonical field (dotted for nested, e.g. `address.city`) → row field, or
   * `{ field, type }` with type `string` (default), `number`, `boolean` or `date`. Merged over the entity's
   * defaults ({@link QXTEND_ENTITY_DEFAULTS}) field by field. Customers use `customerFields` instead.
   */
  fields: z
    .record(
      z.string().regex(/^[A-Za-z_]\w*(\.[A-Za-z_]\w*)?$/, "must be a canonical field name or parent.child"),
      z.union([
        fieldName,
        z.object({ field: fieldName, type: z.enum(["string", "number", "boolean", "date"]).optional() }),
      ]),
    )
    .optional(),
  /** Non-customer entities: put the configured `sharedSetCode` on every record. */
  sharedSet: z.boolean().optional(),
  /** Non-customer entities: values for canonical fields the profile does not deliver. */
  defaults: z.record(z.string(), scalar).optional(),
});

/** Retry policy of QXtend calls (HTTP 5xx, connection errors, transient faults). */
export const qxtendRetrySchema = z.object({
  /** Retries after the first attempt. @default 3 */
  maxRetries: z.number().int().min(0).max(20).default(3),
  /** First backoff delay in ms; doubles each retry. @default 500 */
  baseDelayMs: z.number().min(0).default(500),
  /** Backoff cap in ms. @default 8000 */
  maxDelayMs: z.number().min(0).default(8_000),
});

/**
 * Options of the QXtend (on-prem QAD Enterprise Edition) backend, validated with zod when the backend is created.
 * Everything QAD leaves to the site (profile names, result field names, date format) is a setting.
 */
export const qxtendOptionsSchema = z.object({
  /** QXtend endpoint, e.g. `https://qad.example.com:8443/qxi/services/QdocWebService`. */
  url: z.url({ protocol: /^https?$/ }),
  /** Allow plain http to a non-loopback host (the password travels in the envelope). @default false */
  allowHttp: z.boolean().default(false),
  /** QXtend receiver; sent as `wsa:To = urn:services-qad-com:<receiver>`. */
  receiver: z.string().min(1),
  /** QAD application version (mandatory for QXtend), e.g. `eB2_1` or `ERP3_1`. */
  version: z.string().min(1),
  /** QAD domain (session context `domain`). */
  domain: z.string().min(1).optional(),
  /** QAD user (session context `username`). */
  username: z.string().optional(),
  /** QAD password (session context `password`); never logged or put into errors. */
  password: z.string().optional(),
  /** Session context `scopeTransaction`. */
  scopeTransaction: scalar.optional(),
  /** Session context `mnemonicsRaw`. */
  mnemonicsRaw: scalar.optional(),
  /** Session context `action`. */
  action: scalar.optional(),
  /** Session context `entity`. */
  entity: scalar.optional(),
  /** Session context `email`. */
  email: scalar.optional(),
  /** Session context `emailLevel`. */
  emailLevel: scalar.optional(),
  /** Session context `sessionID`. */
  sessionID: scalar.optional(),
  /** Session context `timeoutLimit`. */
  timeoutLimit: scalar.optional(),
  /** Further session context properties (propertyQualifier QAD), sent after the named ones. */
  context: z.record(z.string().min(1), scalar).optional(),
  /** `wsa:ReplyTo/wsa:Address`. @default "http://www.w3.org/2005/08/addressing/anonymous" */
  replyTo: z.string().min(1).default("http://www.w3.org/2005/08/addressing/anonymous"),
  /** Query Service `SourceApplication` (the QXO source application name). @default "ERP" */
  sourceApplication: z.string().min(1).default("ERP"),
  /**
   * Query Service profile per entity: a profile name, or the profile with its row element, key/date fields and
   * field mapping. Customers, suppliers, purchase orders and items have defaults (see
   * {@link QXTEND_ENTITY_DEFAULTS}); other entities need `rowElement`, `keyField`, `dateField` and `fields`.
   */
  profiles: z.partialRecord(
    z.enum(ENTITY_KINDS as readonly [EntityKind, ...EntityKind[]]),
    z.union([xmlName, qxtendProfileSchema]),
  ),
  /** Date format of Filter literals, which follows the QAD session's locale. @default "mm/dd/yy" */
  dateFormat: z.enum(QAD_DATE_FORMATS).default("mm/dd/yy"),
  /**
   * How two-digit years in answers are read: `yy` is 20yy when `yy < centuryPivot`, else 19yy (the Progress `-yy`
   * default of 1950 gives 50). @default 50
   */
  centuryPivot: z.number().int().min(0).max(100).default(50),
  /** QXtend has no shared set; this is put on every customer. @default the domain, else "default" */
  sharedSetCode: z.string().min(1).optional(),
  /** Query Service `IgnoreBOFilter`. @default false */
  ignoreBOFilter: z.boolean().default(false),
  /** Query Service `IgnoreBOInnerJoin`. @default false */
  ignoreBOInnerJoin: z.boolean().default(false),
  /** Result-row field names of the customer profile, overriding {@link CUSTOMER_FIELD_DEFAULTS} one by one. */
  customerFields: z
    .object(Object.fromEntries(Object.keys(CUSTOMER_FIELD_DEFAULTS).map((k) => [k, fieldName.optional()])))
    .partial()
    .optional(),
  /** Contact-row element and field names, overriding {@link CONTACT_FIELD_DEFAULTS} one by one. */
  contactFields: z
    .object(Object.fromEntries(Object.keys(CONTACT_FIELD_DEFAULTS).map((k) => [k, fieldName.optional()])))
    .partial()
    .optional(),
  /** Customers whose active field is absent count as active. @default true */
  activeWhenMissing: z.boolean().default(true),
  /**
   * Fault strings / message descriptions matching this are transient and retried (record locks, timeouts).
   * @default /time(d)?[\s-]?out|temporar|unavailable|busy|try again|deadlock|in use by|record lock|locked/i
   */
  transientPattern: z.instanceof(RegExp).optional(),
  /**
   * `verify`: fail with QadResponseParseError when rows are not in key order (case-insensitive, trailing blanks
   * ignored, as Progress compares) or repeat the previous page's last key, since key paging would then skip or
   * loop. `trust`: skip the check (a site collation that orders differently). @default "verify"
   */
  keyOrder: z.enum(["verify", "trust"]).default("verify"),
  /** Per-request timeout in ms (one deadline over connect, headers and the whole body). @default 60000 */
  timeoutMs: z.number().int().positive().default(60_000),
  /**
   * Largest answer read, in bytes, counted decoded as it streams (a gzip bomb stops at the limit); a larger one is a
   * `QadResponseTooLargeError`. @default 16777216 (16 MiB)
   */
  maxResponseBytes: z
    .number()
    .int()
    .positive()
    .default(16 * 1024 * 1024),
  /** Retry policy. */
  retry: qxtendRetrySchema.default({ maxRetries: 3, baseDelayMs: 500, maxDelayMs: 8_000 }),
});

/** QXtend backend options as the caller writes them (defaults optional). See {@link qxtendOptionsSchema}. */
export type QxtendOptions = z.input<typeof qxtendOptionsSchema>;
/** QXtend backend options after validation, defaults applied. */
export type ResolvedQxtendOptions = z.output<typeof qxtendOptionsSchema>;

const LOOPBACK = new Set(["127.0.0.1", "localhost", "[::1]", "::1"]);

/**
 * Validates options once at the edge. Throws {@link QadConfigError} listing every problem; the password never
 * appears in the message (zod issues name paths, and we drop received values).
 * @internal
 */
export function resolveQxtendOptions(options: QxtendOptions): ResolvedQxtendOptions {
  const parsed = qxtendOptionsSchema.safeParse(options);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`);
    throw new QadConfigError(`Invalid QXtend options: ${issues.join("; ")}`);
  }
  const o = parsed.data;
  const u = new URL(o.url);
  if (u.username || u.password)
    throw new QadConfigError("QXtend url must not carry credentials; use username/password");
  if (u.protocol === "http:" && !o.allowHttp && !LOOPBACK.has(u.hostname)) {
    throw new QadConfigError(
      "QXtend url is plain http to a non-loopback host; the password would travel unencrypted (set allowHttp: true to accept)",
    );
  }
  return o;
}
