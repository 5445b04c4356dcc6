/**
 * Edge validation of the engine's public inputs: one zod schema per options object (`SyncOptions`, `RunOptions`,
 * `ReplaySelector`, `ReadBackOptions`, `ScheduleOptions`) and the arguments of `Sync` methods. Every problem of an
 * object is reported at once in one {@link SyncConfigError} (its `issues` and its message), before the engine does
 * anything (no lease taken, no call made). Messages name the option and what is expected; they never echo a string
 * value (an option may hold a secret), only the kind of value given (numbers and booleans are shown).
 *
 * New options must be added here too: the schemas refuse unknown options, so a misspelt option is an error rather
 * than silently ignored.
 *
 * @module
 * @internal
 */

import { z } from "zod";
import { type ConfigIssue, SyncConfigError } from "../errors.js";

/** What was given, in words, without echoing a string's content. */
export function describeValue(v: unknown): string {
  if (v === undefined) return "nothing";
  if (v === null) return "null";
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  if (typeof v === "string") return v === "" ? "an empty string" : "a string";
  if (Array.isArray(v)) return "an array";
  if (typeof v === "function") return "a function";
  return `a ${typeof v}`;
}

const expected = (what: string) => ({
  error: (i: { input: unknown }) => `expected ${what}, got ${describeValue(i.input)}`,
});

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** An integer ≥ `min`. */
const int = (min: number, what = min === 1 ? "a positive integer" : `an integer ≥ ${min}`) =>
  z.number(expected(what)).int(expected(what)).min(min, expected(what));

/** A duration in ms (finite, ≥ 0). */
const ms = () =>
  z.number(expected("a duration in ms (a number ≥ 0)")).min(0, expected("a duration in ms (a number ≥ 0)"));

const bool = () => z.boolean(expected("true or false"));

const fn = (what: string) => z.custom<(...args: never[]) => unknown>((v) => typeof v === "function", expected(what));

/** An object with these methods (a port, a store, a logger, a clock). */
const withMethods = <T>(what: string, methods: readonly string[]) =>
  z.custom<T>((v) => isObject(v) && methods.every((m) => typeof v[m] === "function"), {
    error: (i: { input: unknown }) => {
      if (!isObject(i.input)) return `expected ${what}, got ${describeValue(i.input)}`;
      const input = i.input;
      const missing = methods.filter((m) => typeof input[m] !== "function");
      return `expected ${what}: missing method${missing.length > 1 ? "s" : ""} ${missing.map((m) => `${m}()`).join(", ")}`;
    },
  });

const oneOf = <const T extends readonly [string, ...string[]]>(values: T) =>
  z.enum(values, expected(`one of ${values.map((v) => JSON.stringify(v)).join(", ")}`));

const nonEmptyString = (what = "a non-empty string") =>
  z.string(expected(what)).refine((s) => s.trim() !== "", expected(what));

const listOf = <T extends z.ZodType>(item: T, what: string) => z.array(item, expected(what));

/** An `AbortSignal` (checked by shape, so signals of another realm or polyfill pass). */
export const abortSignalSchema = z.custom<AbortSignal>(
  (v) => isObject(v) && typeof v.aborted === "boolean" && typeof v.addEventListener === "function",
  expected("an AbortSignal"),
);

/** `RunOptions`. */
export const runOptionsSchema = z.strictObject({ signal: abortSignalSchema.optional() });

/** `ReadBackOptions` (without the run's `signal`). */
export const readBackOptionsSchema = z.strictObject({
  opportunities: bool().optional(),
  activities: bool().optional(),
  firstPullLookbackMs: ms().optional(),
  bulkFirstPull: z
    .union(
      [z.boolean(), z.strictObject({ minLeads: int(1) })],
      expected("true, false or { minLeads: <positive integer> }"),
    )
    .optional(),
  flushEvery: int(1).optional(),
  progressEveryMs: z.number(expected("a duration in ms (> 0)")).positive(expected("a duration in ms (> 0)")).optional(),
});

/** `refreshAccountContexts`'s options: `ReadBackOptions & RunOptions`. */
export const refreshOptionsSchema = readBackOptionsSchema.extend({ signal: abortSignalSchema.optional() });

/** `ReplaySelector`. */
export const replaySelectorSchema = z.strictObject({
  runId: nonEmptyString().optional(),
  keys: listOf(z.string(expected("a record key (string)")), "an array of record keys (strings)").optional(),
  kinds: listOf(
    oneOf(["salesPerson", "company", "namedAccount", "lead"] as const),
    'an array of kinds ("salesPerson", "company", "namedAccount", "lead")',
  ).optional(),
  outcomes: listOf(oneOf(["failed", "skipped"] as const), 'an array of "failed" / "skipped"').optional(),
  carried: listOf(oneOf(["pending", "dead"] as const), 'an array of "pending" / "dead"').optional(),
});

/** A pino-compatible logger. */
export const loggerSchema = withMethods<unknown>("a logger (pino-compatible: debug, info, warn, error)", [
  "debug",
  "info",
  "warn",
  "error",
]);

/** `ScheduleOptions` (the cron expression is checked by croner itself, in `schedule.ts`). */
export const scheduleOptionsSchema = z.strictObject({
  timezone: nonEmptyString('an IANA time zone name (e.g. "Europe/Berlin")')
    .refine((tz) => {
      try {
        new Intl.DateTimeFormat("en-US", { timeZone: tz });
        return true;
      } catch {
        return false;
      }
    }, 'expected an IANA time zone name (e.g. "Europe/Berlin"): unknown time zone')
    .optional(),
  runImmediately: bool().optional(),
  logger: loggerSchema.optional(),
  onRun: fn("a function (outcome) => void").optional(),
});

const GATEWAY_METHODS = [
  "capability",
  "syncCompanies",
  "syncNamedAccounts",
  "syncLeads",
  "syncSalesPersons",
  "getCompanies",
  "getOpportunities",
  "getSalesPersons",
  "activities",
  "usage",
] as const;

const STORE_METHODS = [
  "startRun",
  "finishRun",
  "getRun",
  "listRuns",
  "commitBatch",
  "queryAudit",
  "prune",
  "listCarried",
  "getCarried",
  "countCarried",
  "getSynced",
  "listSynced",
  "namedAccountKeys",
  "getCheckpoint",
  "saveCheckpoint",
  "acquireLease",
  "renewLease",
  "releaseLease",
  "putAccountContexts",
  "getAccountContext",
] as const;

/**
 * `SyncOptions`, one level (nested `readBack` and the lease rule: {@link validateSyncOptions}). Add new `SyncOptions`
 * members here (unknown options are refused).
 */
export const syncOptionsSchema = z.strictObject(
  {
    source: withMethods<unknown>("a CustomerSource (e.g. qadCustomerSource(qad) or arraySource(rows))", ["read"]),
    marketo: withMethods<unknown>("a MarketoGateway (e.g. marketoGateway(mk))", GATEWAY_METHODS),
    store: withMethods<unknown>("an AuditStore (e.g. createMemoryStore())", STORE_METHODS),
    tenant: nonEmptyString("a non-empty tenant pair name").optional(),
    schema: z
      .custom<unknown>((v) => isObject(v) && typeof v.safeParse === "function", expected("a zod schema"))
      .optional(),
    mapping: z
      .custom<unknown>(
        (v) => isObject(v) && typeof v.externalCompanyId === "function",
        expected("a SyncMapping (e.g. extendMapping({ ... })) with an externalCompanyId function"),
      )
      .optional(),
    keyOf: fn("a function (record) => string").optional(),
    batchSize: int(1).optional(),
    batchConcurrency: int(1).optional(),
    readAhead: int(1).optional(),
    lease: z
      .strictObject(
        { ttlMs: int(1).optional(), renewEveryMs: int(1).optional() },
        expected("{ ttlMs?, renewEveryMs? }"),
      )
      .optional(),
    readBack: z.unknown().optional(),
    namedAccountNameConflicts: oneOf(["suffixKey", "skip"] as const).optional(),
    describeFields: bool().optional(),
    describeTtlMs: ms().optional(),
    isFatal: fn("a function (error) => boolean").optional(),
    carryForward: z
      .strictObject(
        { maxAttempts: int(1).optional(), baseDelayMs: ms().optional(), maxDelayMs: ms().optional() },
        expected("{ maxAttempts?, baseDelayMs?, maxDelayMs? }"),
      )
      .optional(),
    readOnlyRecheckMs: ms().optional(),
    // Checked by the reconcile module (`checkReconcileOptions`), with its own messages.
    reconcile: z.unknown().optional(),
    retention: z
      .strictObject(
        { maxAgeMs: ms().optional(), keepPerRecord: int(1).optional() },
        expected("{ maxAgeMs?, keepPerRecord? }"),
      )
      .optional(),
    logger: loggerSchema.optional(),
    clock: withMethods<unknown>("a clock ({ now(): number })", ["now"]).optional(),
    sleep: fn("a function (ms, signal?) => Promise<void>").optional(),
  },
  expected("an options object ({ source, marketo, store, ... })"),
);

/**
 * Validates `SyncOptions`: the schema above, the nested read-back options (unless `false`) and the lease rule
 * (`lease.renewEveryMs` shorter than `lease.ttlMs`, with their defaults), every problem reported in one
 * {@link SyncConfigError}.
 */
export function validateSyncOptions(options: unknown): void {
  const issues: ConfigIssue[] = [];
  const r = syncOptionsSchema.safeParse(options);
  if (!r.success) issues.push(...toIssues(r.error));
  if (isObject(options)) {
    const rb = options.readBack;
    if (rb !== undefined && rb !== false) {
      const p = readBackOptionsSchema.safeParse(rb);
      if (!p.success) {
        for (const i of toIssues(p.error, "readBack")) {
          issues.push(
            i.path === "readBack" && !isObject(rb)
              ? { path: i.path, message: `expected false or read-back options, got ${describeValue(rb)}` }
              : i,
          );
        }
      }
    }
    const lease = isObject(options.lease) ? options.lease : {};
    const ttl = lease.ttlMs ?? 60_000;
    const renew = lease.renewEveryMs ?? (typeof ttl === "number" ? Math.max(1, Math.floor(ttl / 3)) : undefined);
    if (Number.isInteger(ttl) && Number.isInteger(renew) && (renew as number) >= (ttl as number)) {
      issues.push({ path: "lease.renewEveryMs", message: `expected less than lease.ttlMs (${ttl}), got ${renew}` });
    }
  }
  if (issues.length > 0) throw new SyncConfigError(issuesMessage("createSync", issues), { issues });
}

/** zod issues as {@link ConfigIssue}s (unknown keys become one issue each, named by their path). */
export function toIssues(error: z.ZodError, root?: string): ConfigIssue[] {
  const out: ConfigIssue[] = [];
  for (const i of error.issues) {
    const base = i.path.map(String);
    if (i.code === "unrecognized_keys") {
      for (const k of i.keys) out.push({ path: join(root, [...base, k]), message: "unknown option" });
      continue;
    }
    out.push({ path: join(root, base), message: i.message });
  }
  return out;
}

const join = (root: string | undefined, path: string[]) =>
  [root, ...path].filter((p) => p !== undefined && p !== "").join(".") || "(options)";

/** Formats issues into one message: `where: 2 problems: a: ...; b: ...`. */
export function issuesMessage(where: string, issues: readonly ConfigIssue[]): string {
  const n = issues.length;
  return `${where}: ${n === 1 ? "1 problem" : `${n} problems`}: ${issues.map((i) => `${i.path}: ${i.message}`).join("; ")}`;
}

/**
 * Validates `value` with `schema`; throws one {@link SyncConfigError} listing every problem. `where` names the call
 * (`createSync`, `runOnce`, ...); `root` prefixes the paths (an argument's name).
 */
export function validate(schema: z.ZodType, value: unknown, where: string, root?: string): void {
  const r = schema.safeParse(value);
  if (r.success) return;
  const issues = toIssues(r.error, root);
  throw new SyncConfigError(issuesMessage(where, issues), { issues });
}

/** Throws a {@link SyncConfigError} for an argument that is not what `ok` expects. */
export function checkArgument(ok: boolean, where: string, name: string, what: string, value: unknown): void {
  if (ok) return;
  const issues = [{ path: name, message: `expected ${what}, got ${describeValue(value)}` }];
  throw new SyncConfigError(issuesMessage(where, issues), { issues });
}

/** `QadCustomerSourceOptions` (the adapter over `@ml/qad-client`). */
export const qadCustomerSourceOptionsSchema = z.strictObject(
  {
    overlapSeconds: z
      .number(expected("a number of seconds ≥ 0"))
      .min(0, expected("a number of seconds ≥ 0"))
      .optional(),
    since: z.custom<Date>((v) => v instanceof Date && !Number.isNaN(v.getTime()), expected("a valid Date")).optional(),
    pageSize: int(1, "a positive integer (rows per QAD page)").optional(),
    invalidKey: fn("a function (raw, qadKey) => string | undefined").optional(),
    keyOf: fn("a function (customer) => string").optional(),
    keysPageSize: int(1, "a positive integer (rows per QAD page of the keys listing)").optional(),
  },
  expected("an options object"),
);
