/**
 * What to do about an error, by its code: one table for the three packages. Codes do not collide across them:
 * `@ml/marketo-client` uses Marketo's numeric codes and upper-case names (`AUTH`, `NETWORK`), `@ml/qad-client` and
 * `@ml/qad-marketo-sync` lower-case names (`auth`, `source`); the two lower-case `config` and `aborted` codes mean
 * the same thing in both.
 */

/** One row of the table. */
export interface Hint {
  /** Which side the code comes from. */
  system: "Marketo" | "QAD" | "sync" | "service";
  /** What to do. */
  todo: string;
}

const MK_AUTH =
  "check MARKETO_CLIENT_ID and MARKETO_CLIENT_SECRET (Admin → LaunchPoint → the API-only user's service → View Details) and that the Munchkin ID or base URL is this instance's";

/** Code → hint. */
export const HINTS: Readonly<Record<string, Hint>> = {
  // @ml/marketo-client
  AUTH: { system: "Marketo", todo: MK_AUTH },
  "600": { system: "Marketo", todo: MK_AUTH },
  "601": { system: "Marketo", todo: MK_AUTH },
  "602": {
    system: "Marketo",
    todo: "the access token expired and could not be renewed: check the credentials and the machine's clock",
  },
  "603": {
    system: "Marketo",
    todo: "the API user's role lacks a permission: give its role the Read-Write permissions on the objects the sync writes (Admin → Users & Roles)",
  },
  "606": {
    system: "Marketo",
    todo: "Marketo's rate limit held for longer than the client waits: run later, or lower batchConcurrency; another integration may share the quota",
  },
  "607": {
    system: "Marketo",
    todo: "today's API quota is used up: the run resumes from its checkpoint after the quota resets (00:00 US Central); ask Marketo support for a larger quota if this repeats",
  },
  "615": {
    system: "Marketo",
    todo: "too many concurrent calls on this instance: another integration shares it; run later or lower its concurrency",
  },
  "1018": {
    system: "Marketo",
    todo: "the object is managed by a CRM sync (read-only through the API): the sync reads instead of writing it; nothing to fix unless the CRM sync is meant to be off",
  },
  DAILY_BUDGET: {
    system: "Marketo",
    todo: "the daily budget set in limits.dailyQuota/dailyReserve is used up: raise it, or let the next day's run continue",
  },
  NETWORK: {
    system: "Marketo",
    todo: "Marketo could not be reached: check the network, proxy and firewall, and the Munchkin ID or base URL",
  },
  TIMEOUT: {
    system: "Marketo",
    todo: "Marketo did not answer in time: try again later; raise timeoutMs if the network is slow",
  },
  CONFIG: {
    system: "Marketo",
    todo: "the Marketo settings are rejected by the client: fix the setting its message names",
  },
  REDIRECT: {
    system: "Marketo",
    todo: "Marketo answered with a redirect the client refuses to follow: check the Munchkin ID or base URL (and any proxy)",
  },
  RESPONSE_TOO_LARGE: {
    system: "Marketo",
    todo: "an answer exceeded the byte limit: check a proxy is not injecting pages; raise maxResponseBytes only if the instance is known to answer that large",
  },
  PARSE: {
    system: "Marketo",
    todo: "Marketo's answer was not the JSON expected: a proxy or captive portal may be answering; check the base URL",
  },
  // @ml/qad-client
  auth: {
    system: "QAD",
    todo: "QAD refused the login: check QAD_USERNAME, QAD_PASSWORD and QAD_CLIENT_ID (and QAD_CLIENT_SECRET for clientCredentials), and QAD_AUTH",
  },
  permission: {
    system: "QAD",
    todo: "the QAD user may not read customers here: check its roles and QAD_WORKSPACE_ID / QAD_DOMAIN_CODE",
  },
  http: {
    system: "QAD",
    todo: "QAD answered with an HTTP error or could not be reached: check QAD_TENANT_URL, the network, and that the instance is up",
  },
  unsafe_path: {
    system: "QAD",
    todo: "an entity path was refused by the client's path policy: check the entities settings",
  },
  redirect: {
    system: "QAD",
    todo: "QAD answered with a redirect the client refuses to follow (another origin): use the final tenant URL in QAD_TENANT_URL",
  },
  too_large: {
    system: "QAD",
    todo: "a QAD answer exceeded the byte limit: lower the page size, or raise maxResponseBytes if that size is expected",
  },
  response_parse: {
    system: "QAD",
    todo: "QAD's answer was not the JSON expected: check QAD_TENANT_URL points at the tenant (…/clouderp), not a login page",
  },
  paging: { system: "QAD", todo: "QAD's paging broke off: run again (the sync resumes from its checkpoint)" },
  soap_fault: {
    system: "QAD",
    todo: "QXtend answered with a SOAP fault: check the QXtend receiver, profiles and domain settings",
  },
  qxtend: { system: "QAD", todo: "the QXtend call failed: check the QXtend URL and profile settings" },
  submit: { system: "QAD", todo: "QAD refused a submitted document: see the message" },
  validation: { system: "QAD", todo: "a QAD record failed validation: see the audit trail for the record" },
  // @ml/qad-marketo-sync (config and aborted are shared with @ml/qad-client)
  config: { system: "sync", todo: "a setting is invalid: fix what the message names" },
  aborted: { system: "sync", todo: "the run was stopped on request; the next run continues from the checkpoint" },
  already_running: {
    system: "sync",
    todo: "another runner holds this tenant pair's lease: wait for it to finish (a killed run's lease expires within a minute)",
  },
  lease_lost: {
    system: "sync",
    todo: "another runner took over the lease (this one stalled longer than the lease's time to live): check for a second service on the same state",
  },
  store: {
    system: "sync",
    todo: "the state store failed: check the state folder is writable and has space (SYNC_STATE_DIR), or that the database is reachable",
  },
  source: {
    system: "sync",
    todo: "reading QAD failed: check QAD_TENANT_URL, the QAD credentials and that the instance is up",
  },
  gateway: { system: "sync", todo: "the Marketo calls failed: check the Marketo settings and the network" },
  vault_tampered: { system: "sync", todo: "a credential record does not authenticate: re-store the credentials" },
  vault_wrong_key: {
    system: "sync",
    todo: "the vault key under this key id is not the one that sealed the record: check ML_VAULT_KEYS",
  },
  vault_missing_key: {
    system: "sync",
    todo: "no vault key has the record's key id: put the old key back into ML_VAULT_KEYS",
  },
  vault_malformed_key: { system: "sync", todo: "a vault key is unusable: each key is 32 bytes, base64" },
  vault_malformed_record: {
    system: "sync",
    todo: "a stored credential record is not in the vault's format: re-store it",
  },
  vault_invalid_credentials: { system: "sync", todo: "stored credentials fail their schema: re-store them" },
  vault_key_unavailable: { system: "sync", todo: "the key provider failed: try again" },
  // this service
  usage: { system: "service", todo: "fix the command line (see the usage above)" },
  settings: { system: "service", todo: "fix the settings listed above" },
  snapshot: { system: "service", todo: "start over with --fresh" },
};

/** Hint for a code; a generic one for codes not in the table. */
export function hintFor(code: string | undefined): Hint {
  return (
    (code !== undefined ? HINTS[code] : undefined) ?? {
      system: "service",
      todo: "see the message; the audit trail (`audit --run ID`) has the records involved",
    }
  );
}
