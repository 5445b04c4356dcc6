/**
 * The one error hierarchy of `@ml/qad-marketo-sync`. Every error carries a stable `code` and a `retryable` flag;
 * none carries a secret. Use {@link isSyncError} rather than `instanceof` when more than one copy of the package may be
 * loaded (ESM and CJS): the guard checks a brand shared by all copies.
 *
 * @module
 */

const BRAND = Symbol.for("@ml/qad-marketo-sync/error");

/** Stable machine-readable codes of this package's errors. */
export type SyncErrorCode =
  | "config"
  | "already_running"
  | "lease_lost"
  | "store"
  | "source"
  | "gateway"
  | "aborted"
  | VaultErrorCode;

/**
 * Codes of {@link VaultError}, one per way a credential record can fail to seal or open:
 * - `vault_tampered`: the record does not authenticate under its key (a changed byte of ciphertext, tag or nonce, or
 *   a record moved to another tenant pair or name).
 * - `vault_wrong_key`: the key under the record's key id is not the key that sealed it.
 * - `vault_missing_key`: no key has the record's key id (it was removed from the ring too early).
 * - `vault_malformed_key`: a key or key configuration is unusable (not 32 bytes, bad base64, bad variable format).
 * - `vault_malformed_record`: a stored record is not in the vault's format (bad base64, lengths, version).
 * - `vault_invalid_credentials`: credentials fail their schema, on put or on open.
 * - `vault_key_unavailable`: the key provider (a KMS) failed; trying again may succeed.
 */
export type VaultErrorCode =
  | "vault_tampered"
  | "vault_wrong_key"
  | "vault_missing_key"
  | "vault_malformed_key"
  | "vault_malformed_record"
  | "vault_invalid_credentials"
  | "vault_key_unavailable";

/** Options every {@link SyncError} accepts. */
export interface SyncErrorOptions {
  /** Whether trying again later may succeed. */
  retryable?: boolean;
  /** The underlying error. */
  cause?: unknown;
}

/** Base class of every error this package throws. */
export class SyncError extends Error {
  /** Machine-readable code. */
  readonly code: SyncErrorCode;
  /** Whether trying again later may succeed. */
  readonly retryable: boolean;

  constructor(code: SyncErrorCode, message: string, options: SyncErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.retryable = options.retryable ?? false;
    Object.defineProperty(this, BRAND, { value: true, enumerable: false });
  }
}

/** One problem found in an options object (or an argument) at the edge. */
export interface ConfigIssue {
  /** Where: the option's path (`batchSize`, `lease.ttlMs`, `readBack.flushEvery`), or the argument's name. */
  path: string;
  /** What is expected there (never the value given when it could hold a secret). */
  message: string;
}

/**
 * Invalid engine, mapping or store configuration, or an invalid argument of a public method. Options objects are
 * validated as a whole before anything is done (no lease taken, no call made): {@link SyncConfigError.issues} lists
 * every problem found, and the message lists them too.
 */
export class SyncConfigError extends SyncError {
  /** Every problem found (empty when the error names a single problem in its message only). */
  readonly issues: readonly ConfigIssue[];

  constructor(message: string, options: SyncErrorOptions & { issues?: readonly ConfigIssue[] } = {}) {
    const { issues, ...rest } = options;
    super("config", message, rest);
    this.issues = issues ?? [];
  }
}

/** A store write was refused because this runner no longer holds the tenant pair's lease. */
export class LeaseLostError extends SyncError {
  constructor(message: string, options: SyncErrorOptions = {}) {
    super("lease_lost", message, { retryable: true, ...options });
  }
}

/**
 * A store's database was migrated by a newer release of this package (its schema version is higher than this code
 * knows), or misses a step below its current version. Nothing was changed; run a release that knows the database's
 * schema. Thrown by the SQLite store, the PostgreSQL stores and their migration runner. Code `store`, not retryable.
 */
export class SchemaVersionError extends SyncError {
  /** The versioned schema: a PostgreSQL migration set (`audit` for the store's tables, `limiter`, ...); `audit` for the SQLite file. */
  readonly set: string;
  /** Highest version recorded in the database. */
  readonly databaseVersion: number;
  /** Highest version this code knows. */
  readonly codeVersion: number;

  constructor(message: string, details: { set: string; databaseVersion: number; codeVersion: number }) {
    super("store", message, { retryable: false });
    this.set = details.set;
    this.databaseVersion = details.databaseVersion;
    this.codeVersion = details.codeVersion;
  }
}

/**
 * A credential vault failure (see {@link VaultErrorCode}). Messages name tenant pairs, record names, key ids and
 * field paths, never a key, a secret or a decrypted value; node:crypto's own errors are never attached.
 */
export class VaultError extends SyncError {
  declare readonly code: VaultErrorCode;

  constructor(code: VaultErrorCode, message: string, options: SyncErrorOptions = {}) {
    super(code, message, { retryable: code === "vault_key_unavailable", ...options });
  }
}

/** True for any error thrown by this package, from any loaded copy of it. */
export function isSyncError(e: unknown): e is SyncError {
  return typeof e === "object" && e !== null && (e as Record<symbol, unknown>)[BRAND] === true;
}

/** The parts of a foreign error (client, store) the engine keeps: never its request, body or cause. */
export interface ErrorInfo {
  /** Code from the error (`"606"`, `"http"`, ...) or `"unknown"`. */
  code: string;
  /** Message (clients redact secrets before constructing it). */
  message: string;
  /** Whether the error says trying again may succeed. */
  retryable: boolean;
  /** Request id, when the error carried one. */
  requestId?: string | undefined;
}

const SECRETISH = /(client_secret|password|access_token|refresh_token|token)=([^&\s]+)/gi;

/** Extracts an {@link ErrorInfo} from anything thrown, redacting secret-looking query values. @internal */
export function errorInfo(e: unknown): ErrorInfo {
  if (typeof e === "object" && e !== null) {
    const r = e as Record<string, unknown>;
    const code = r.code === undefined ? "unknown" : String(r.code);
    const message = typeof r.message === "string" ? r.message : String(e);
    const info: ErrorInfo = {
      code,
      message: message.replace(SECRETISH, "$1=[redacted]"),
      retryable: r.retryable === true,
    };
    if (typeof r.requestId === "string") info.requestId = r.requestId;
    return info;
  }
  return { code: "unknown", message: String(e).replace(SECRETISH, "$1=[redacted]"), retryable: false };
}
