/**
 * The service's settings: environment variables, or a JSON config file (`--config file.json`) whose keys are the
 * same names; a variable set in the environment wins over the file. No QAD or Marketo setting at all means the
 * bundled simulators. Every problem is collected and reported at once, each with what to fix; values are never
 * echoed (they may be secrets).
 */
import { readFileSync } from "node:fs";
import { z } from "zod";

/** Marketo settings: a Munchkin ID, or a base URL (simulators, labs, proxies), plus the API user's credentials. */
export const MARKETO_KEYS = [
  "MARKETO_MUNCHKIN_ID",
  "MARKETO_BASE_URL",
  "MARKETO_CLIENT_ID",
  "MARKETO_CLIENT_SECRET",
  "MARKETO_ALLOW_HTTP",
  "MARKETO_ALLOW_LOOPBACK",
] as const;

/** QAD settings. */
export const QAD_KEYS = [
  "QAD_TENANT_URL",
  "QAD_AUTH",
  "QAD_CLIENT_ID",
  "QAD_CLIENT_SECRET",
  "QAD_USERNAME",
  "QAD_PASSWORD",
  "QAD_WORKSPACE_ID",
  "QAD_DOMAIN_CODE",
  "QAD_ALLOW_HTTP",
  "QAD_ALLOW_LOOPBACK",
] as const;

/** Settings of the service itself (any mode). */
export const SERVICE_KEYS = [
  "SYNC_TENANT",
  "SYNC_STATE_DIR",
  "SYNC_FRESH",
  "SYNC_CRON",
  "SIM_CRM",
  "SIM_CUSTOMERS",
] as const;

/** Every name the service reads, from the environment or the config file. */
export const ALL_KEYS: readonly string[] = [...MARKETO_KEYS, ...QAD_KEYS, ...SERVICE_KEYS];

/** Marketo settings in real mode. */
export interface MarketoSettings {
  /** Munchkin ID (any case, as the client accepts it), or `undefined` when `baseUrl` is given. */
  munchkinId?: string | undefined;
  /** Origin serving `/rest`, `/identity` and `/bulk` (simulators, labs). */
  baseUrl?: string | undefined;
  clientId: string;
  clientSecret: string;
  /** Plain http base URL allowed (labs). */
  allowHttp: boolean;
  /** Loopback base URL allowed (a simulator on this machine). */
  allowLoopback: boolean;
}

/** QAD settings in real mode. */
export interface QadSettings {
  tenantUrl: string;
  auth: "password" | "clientCredentials" | "session";
  clientId?: string | undefined;
  clientSecret?: string | undefined;
  username?: string | undefined;
  password?: string | undefined;
  workspaceId?: string | undefined;
  domainCode?: string | undefined;
  /** Plain http tenant URL allowed (on-prem labs, simulators). */
  allowHttp: boolean;
  /** Loopback tenant URL allowed (a simulator on this machine). */
  allowLoopback: boolean;
}

/** Settings of the service in any mode. */
export interface ServiceSettings {
  /** Tenant pair name. @default "default" ("demo" with the simulators) */
  tenant?: string | undefined;
  /** State folder (see state-dir.ts). */
  stateDir?: string | undefined;
  /** Start over. */
  fresh: boolean;
  /** Cron expression of `schedule`. */
  cron?: string | undefined;
  /** Simulators: the CRM-synced variant (companies and sales persons read-only). */
  crm: boolean;
  /** Simulators: number of customers. */
  customers?: number | undefined;
}

/** Where the service gets its systems from, and its own settings. */
export type Settings =
  | { mode: "simulators"; service: ServiceSettings }
  | { mode: "real"; marketo: MarketoSettings; qad: QadSettings; service: ServiceSettings };

/** Missing or malformed settings: `problems` lists every one, each with what to fix; never a value. */
export class SettingsError extends Error {
  override name = "SettingsError";
  /** One line per problem. */
  readonly problems: readonly string[];

  constructor(problems: readonly string[], preface = "Settings are incomplete or malformed") {
    super(`${preface}:\n  - ${problems.join("\n  - ")}`);
    this.problems = problems;
  }
}

const flag = z
  .string()
  .trim()
  .toLowerCase()
  .refine((v) => ["", "0", "1", "true", "false"].includes(v), "expected 1 or 0 (true or false)")
  .transform((v) => v === "1" || v === "true");

const text = z.string().trim().min(1, "is empty");

const MUNCHKIN = /^\d{3}-[a-z]{3}-\d{3}$/i;
const httpUrl = (what: string) =>
  z
    .string()
    .trim()
    .refine((v) => {
      try {
        const u = new URL(v);
        return u.protocol === "https:" || u.protocol === "http:";
      } catch {
        return false;
      }
    }, `expected an http(s) URL such as ${what}`);

/** Reads a config file: a JSON object of string, number or boolean values keyed by the names in {@link ALL_KEYS}. */
export function readConfigFile(file: string): Record<string, string> {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, "utf8"));
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : "not readable JSON";
    throw new SettingsError([`--config ${file}: ${why}; give a JSON object such as {"QAD_TENANT_URL": "https://…"}`]);
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw new SettingsError([`--config ${file}: expected a JSON object keyed by setting names`]);
  }
  const problems: string[] = [];
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(json)) {
    if (!ALL_KEYS.includes(k)) problems.push(`${k} (in ${file}): unknown setting; known: ${ALL_KEYS.join(", ")}`);
    else if (typeof v === "string" || typeof v === "number" || typeof v === "boolean") out[k] = String(v);
    else problems.push(`${k} (in ${file}): expected a string, number or boolean`);
  }
  if (problems.length) throw new SettingsError(problems);
  return out;
}

/**
 * Reads and validates the settings from `env` over `file` (the config file's values). No QAD or Marketo setting
 * means the simulators; some but not all is an error listing everything missing or malformed.
 *
 * @throws {@link SettingsError}
 */
export function readSettings(env: Record<string, string | undefined>, file: Record<string, string> = {}): Settings {
  const get = (k: string): string | undefined => {
    const v = env[k] ?? file[k];
    return v === undefined || v.trim() === "" ? undefined : v;
  };
  const problems: string[] = [];
  const check = <T>(key: string, schema: z.ZodType<T>, hint?: string): T | undefined => {
    const v = get(key);
    if (v === undefined) return undefined;
    const r = schema.safeParse(v);
    if (r.success) return r.data;
    problems.push(`${key}: ${r.error.issues[0]?.message ?? "malformed"}${hint ? ` (${hint})` : ""}`);
    return undefined;
  };
  const need = (key: string, why: string): string | undefined => {
    const v = get(key);
    if (v === undefined) problems.push(`${key}: missing; ${why}`);
    return v?.trim();
  };

  const service: ServiceSettings = {
    tenant: check("SYNC_TENANT", text.regex(/^[\w.-]+$/, "letters, digits, '.', '_' and '-' only")),
    stateDir: check("SYNC_STATE_DIR", text),
    fresh: check("SYNC_FRESH", flag) ?? false,
    cron: check("SYNC_CRON", text),
    crm: check("SIM_CRM", flag) ?? false,
    customers: check("SIM_CUSTOMERS", z.coerce.number().int().min(1).max(100_000)),
  };

  const given = [...MARKETO_KEYS, ...QAD_KEYS].filter((k) => get(k) !== undefined);
  if (given.length === 0) {
    if (problems.length) throw new SettingsError(problems);
    return { mode: "simulators", service };
  }

  // Marketo
  const munchkinId = check(
    "MARKETO_MUNCHKIN_ID",
    text.regex(MUNCHKIN, "expected a Munchkin ID like 123-ABC-456"),
    "Admin → Integration → Munchkin",
  );
  const baseUrl = check("MARKETO_BASE_URL", httpUrl("http://127.0.0.1:8080 (serving /rest, /identity, /bulk)"));
  if (get("MARKETO_MUNCHKIN_ID") === undefined && get("MARKETO_BASE_URL") === undefined) {
    problems.push(
      "MARKETO_MUNCHKIN_ID: missing; set it (Admin → Integration → Munchkin), or MARKETO_BASE_URL for a lab",
    );
  } else if (get("MARKETO_MUNCHKIN_ID") !== undefined && get("MARKETO_BASE_URL") !== undefined) {
    problems.push("MARKETO_BASE_URL: set either it or MARKETO_MUNCHKIN_ID, not both");
  }
  const mkClientId = need("MARKETO_CLIENT_ID", "the API-only user's client id (Admin → LaunchPoint → View Details)");
  const mkSecret = need("MARKETO_CLIENT_SECRET", "that user's client secret (Admin → LaunchPoint → View Details)");
  const mkAllowHttp = check("MARKETO_ALLOW_HTTP", flag) ?? false;
  const mkAllowLoopback = check("MARKETO_ALLOW_LOOPBACK", flag) ?? false;

  // QAD
  const tenantUrl = check("QAD_TENANT_URL", httpUrl("https://acme.qad.com/clouderp"));
  if (get("QAD_TENANT_URL") === undefined) problems.push("QAD_TENANT_URL: missing; e.g. https://acme.qad.com/clouderp");
  const auth =
    check(
      "QAD_AUTH",
      z.enum(["password", "clientCredentials", "session"], "expected password, clientCredentials or session"),
    ) ?? "password";
  const required: Record<string, string[]> = {
    password: ["QAD_CLIENT_ID", "QAD_USERNAME", "QAD_PASSWORD"],
    clientCredentials: ["QAD_CLIENT_ID", "QAD_CLIENT_SECRET"],
    session: ["QAD_USERNAME", "QAD_PASSWORD"],
  };
  for (const k of required[auth] ?? []) need(k, `required with QAD_AUTH=${auth}`);
  const qadAllowHttp = check("QAD_ALLOW_HTTP", flag) ?? false;
  const qadAllowLoopback = check("QAD_ALLOW_LOOPBACK", flag) ?? false;
  if (tenantUrl?.startsWith("http:") && !qadAllowHttp && get("QAD_ALLOW_HTTP") === undefined) {
    problems.push("QAD_TENANT_URL: plain http; use https, or set QAD_ALLOW_HTTP=1 for a lab or simulator");
  }
  if (baseUrl?.startsWith("http:") && !mkAllowHttp && get("MARKETO_ALLOW_HTTP") === undefined) {
    problems.push("MARKETO_BASE_URL: plain http; use https, or set MARKETO_ALLOW_HTTP=1 for a lab or simulator");
  }

  if (problems.length) {
    throw new SettingsError(
      problems,
      `Settings for real systems are incomplete or malformed (${given.join(", ")} given; set all that are needed, or none to use the simulators)`,
    );
  }
  return {
    mode: "real",
    service,
    marketo: {
      munchkinId,
      baseUrl,
      clientId: mkClientId!,
      clientSecret: mkSecret!,
      allowHttp: mkAllowHttp,
      allowLoopback: mkAllowLoopback,
    },
    qad: {
      tenantUrl: tenantUrl!,
      auth,
      clientId: get("QAD_CLIENT_ID")?.trim(),
      clientSecret: get("QAD_CLIENT_SECRET")?.trim(),
      username: get("QAD_USERNAME")?.trim(),
      password: get("QAD_PASSWORD"),
      workspaceId: get("QAD_WORKSPACE_ID")?.trim(),
      domainCode: get("QAD_DOMAIN_CODE")?.trim(),
      allowHttp: qadAllowHttp,
      allowLoopback: qadAllowLoopback,
    },
  };
}
