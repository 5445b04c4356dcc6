/**
 * The credential vault: typed QAD and Marketo credentials (and any named JSON record) per tenant pair, sealed with
 * AES-256-GCM into a {@link SecretStore}, with key rotation that never stops readers and never overwrites a newer
 * value.
 *
 * @module
 */
import { inspect } from "node:util";
import { SyncConfigError, SyncError, VaultError, type VaultErrorCode } from "../errors.js";
import { type Clock, type Logger, silentLogger, systemClock } from "../internal/runtime.js";
import type { JsonValue } from "../ports.js";
import type { SealedSecret, SecretStore } from "../store/secret-store.js";
import { open, type RecordPlace, seal } from "./cipher.js";
import {
  hideSecrets,
  MARKETO_RECORD,
  type MarketoCredentials,
  QAD_RECORD,
  type QadCredentials,
  type RecordKind,
  validate,
} from "./credentials.js";
import { type KeyProvider, type KeyRing, keySource } from "./keys.js";

/** Options of {@link createVault}. */
export interface VaultOptions {
  /** Where sealed records are kept (the memory, SQLite and PostgreSQL stores all implement it). */
  store: SecretStore;
  /** The keys: a ring ({@link keysFromEnv}, {@link keyRing}) or a KMS {@link KeyProvider}. */
  keys: KeyRing | KeyProvider;
  /** Clock for `updatedAt` and the provider cache. @default Date.now */
  clock?: Clock;
  /** pino-compatible logger; entries carry tenant pairs, record names and key ids only. @default silent */
  logger?: Logger;
  /**
   * How long a provider's current key id is reused before asking again, in ms (rotation always asks).
   * @default 60000
   */
  currentKeyIdTtlMs?: number;
}

/** Options of one vault call. */
export interface VaultCallOptions {
  /** Cancels a call waiting on the key provider. */
  signal?: AbortSignal | undefined;
}

/** Options of {@link Vault.rotate}. */
export interface RotateOptions {
  /** Stops between records; records done so far stay re-sealed (rotation is safe to run again). */
  signal?: AbortSignal | undefined;
  /** Records read per page. @default 100 */
  pageSize?: number;
  /** Only this tenant pair. */
  tenant?: string;
}

/** A record rotation could not open, left untouched. */
export interface RotationFailure {
  /** Tenant pair. */
  tenant: string;
  /** Record name. */
  name: string;
  /** Key id the record names. */
  keyId: string;
  /** Why it could not be opened. */
  code: VaultErrorCode;
}

/** What {@link Vault.rotate} did. */
export interface RotationResult {
  /** The current key id records were re-sealed under. */
  keyId: string;
  /** Records found under another key id. */
  scanned: number;
  /** Records re-sealed under `keyId`. */
  resealed: number;
  /** Records changed or deleted by someone else meanwhile: left as that writer left them, never overwritten. */
  changed: number;
  /** Records that could not be opened (missing key, wrong key, tampered), left as they are. */
  failed: RotationFailure[];
}

/** The vault. It prints as `Vault { ... }` without keys; returned credentials print with secrets redacted. */
export interface Vault {
  /** Validates and seals a tenant pair's QAD credentials (record `qad`). */
  putQad(tenant: string, credentials: QadCredentials, options?: VaultCallOptions): Promise<void>;
  /**
   * A tenant pair's QAD credentials, validated again, ready for `new QadClient({ ...qad })`; `undefined` when none
   * are stored. Their `util.inspect` and `JSON.stringify` show secrets as `[redacted]`; a spread copy is plain.
   */
  getQad(tenant: string, options?: VaultCallOptions): Promise<QadCredentials | undefined>;
  /** Validates and seals a tenant pair's Marketo credentials (record `marketo`). */
  putMarketo(tenant: string, credentials: MarketoCredentials, options?: VaultCallOptions): Promise<void>;
  /** A tenant pair's Marketo credentials, ready for `new MarketoClient({ ...mk })`; see {@link Vault.getQad}. */
  getMarketo(tenant: string, options?: VaultCallOptions): Promise<MarketoCredentials | undefined>;
  /** Seals any JSON value as record `name` (not `qad` or `marketo`: use the typed calls for those). */
  put(tenant: string, name: string, value: JsonValue, options?: VaultCallOptions): Promise<void>;
  /**
   * Record `name` of a tenant pair, or `undefined`. Objects inside are redacted in inspect/JSON output on keys that
   * look secret (`...password`, `...secret`, `...token`, `...apiKey`, `...privateKey`).
   */
  get(tenant: string, name: string, options?: VaultCallOptions): Promise<JsonValue | undefined>;
  /** Deletes record `name` (`qad`, `marketo` or any other); answers whether it existed. */
  delete(tenant: string, name: string): Promise<boolean>;
  /**
   * Re-seals, page by page, every record not under the current key id, each with a compare-and-swap on its nonce
   * so a value written meanwhile is never overwritten. Readers keep working throughout: old records open with the
   * old keys still in the ring. Remove an old key only once a rotation reports no record left under it.
   */
  rotate(options?: RotateOptions): Promise<RotationResult>;
}

const MAX_PART = 200;

function checkPart(value: unknown, what: string): string {
  if (typeof value !== "string" || value === "" || value.length > MAX_PART) {
    throw new SyncConfigError(`vault ${what} must be a non-empty string of at most ${MAX_PART} characters`);
  }
  return value;
}

/**
 * Creates a vault over a store and keys.
 *
 * @example
 * ```ts
 * const store = createSqliteStore({ path: "sync.db" });
 * const vault = createVault({ store, keys: keysFromEnv() });          // ML_VAULT_KEYS="k1:base64..."
 * await vault.putMarketo("acme", { munchkinId: "123-ABC-456", clientId, clientSecret });
 * const mk = await vault.getMarketo("acme");
 * const marketo = new MarketoClient({ ...mk! });
 * ```
 */
export function createVault(options: VaultOptions): Vault {
  if (typeof options !== "object" || options === null) throw new SyncConfigError("createVault needs an options object");
  const { store } = options;
  if (
    typeof store?.putSealed !== "function" ||
    typeof store.getSealed !== "function" ||
    typeof store.listSealed !== "function" ||
    typeof store.deleteSealed !== "function"
  ) {
    throw new SyncConfigError(
      "createVault: store must implement SecretStore (putSealed, getSealed, listSealed, deleteSealed)",
    );
  }
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? silentLogger;
  const ttl = options.currentKeyIdTtlMs ?? 60_000;
  if (!(ttl >= 0)) throw new SyncConfigError("createVault: currentKeyIdTtlMs must be a number ≥ 0");
  const keys = keySource(options.keys, { currentKeyIdTtlMs: ttl, now: () => clock.now() });

  async function keyOf(id: string, place: RecordPlace | undefined, signal: AbortSignal | undefined): Promise<Buffer> {
    const key = await keys.key(id, { signal });
    if (!key) {
      const what = place ? `vault record "${place.name}" of tenant pair "${place.tenant}"` : "the current key";
      throw new VaultError(
        "vault_missing_key",
        `${what}: no key with id "${id}" (was it removed from the ring before a rotation re-sealed its records?)`,
      );
    }
    return key;
  }

  async function sealValue(place: RecordPlace, value: JsonValue, signal: AbortSignal | undefined): Promise<void> {
    const keyId = await keys.currentKeyId({ signal });
    const key = await keyOf(keyId, undefined, signal);
    const plaintext = Buffer.from(JSON.stringify(value), "utf8");
    try {
      await store.putSealed(seal(place, keyId, key, plaintext, clock.now()));
    } finally {
      plaintext.fill(0);
    }
    logger.debug({ tenant: place.tenant, name: place.name, keyId }, "vault record sealed");
  }

  async function openSealed(
    sealed: SealedSecret,
    place: RecordPlace,
    signal: AbortSignal | undefined,
  ): Promise<Buffer> {
    return open(sealed, place, await keyOf(sealed.keyId, place, signal));
  }

  async function putRecord(tenant: string, name: string, kind: RecordKind, value: unknown, opts: VaultCallOptions) {
    const place = { tenant: checkPart(tenant, "tenant"), name: checkPart(name, "record name") };
    const clean = validate(kind, value, `vault record "${name}" of tenant pair "${tenant}"`);
    await sealValue(place, clean, opts.signal);
  }

  async function getRecord(tenant: string, name: string, kind: RecordKind, opts: VaultCallOptions) {
    const place = { tenant: checkPart(tenant, "tenant"), name: checkPart(name, "record name") };
    const sealed = await store.getSealed(place.tenant, place.name);
    if (!sealed) return undefined;
    const plaintext = await openSealed(sealed, place, opts.signal);
    let parsed: unknown;
    try {
      parsed = JSON.parse(plaintext.toString("utf8"));
    } catch {
      throw new VaultError("vault_malformed_record", `vault record "${name}" of tenant pair "${tenant}" is not JSON`);
    } finally {
      plaintext.fill(0);
    }
    return hideSecrets(validate(kind, parsed, `stored vault record "${name}" of tenant pair "${tenant}"`));
  }

  function generic(name: string): string {
    checkPart(name, "record name");
    if (name === QAD_RECORD || name === MARKETO_RECORD) {
      throw new SyncConfigError(
        `vault record "${name}" is typed: use ${name === QAD_RECORD ? "putQad/getQad" : "putMarketo/getMarketo"}`,
      );
    }
    return name;
  }

  async function resealOne(
    first: SealedSecret,
    keyId: string,
    key: Buffer,
    signal: AbortSignal | undefined,
  ): Promise<"resealed" | "changed" | VaultErrorCode> {
    const place = { tenant: first.tenant, name: first.name };
    let current: SealedSecret | undefined = first;
    for (let attempt = 0; attempt < 5; attempt++) {
      if (!current) return "changed";
      if (current.keyId === keyId) return "changed";
      let plaintext: Buffer;
      try {
        plaintext = await openSealed(current, place, signal);
      } catch (e) {
        if (e instanceof VaultError && e.code !== "vault_key_unavailable") return e.code;
        throw e;
      }
      try {
        const next = seal(place, keyId, key, plaintext, clock.now());
        if (await store.putSealed(next, { expectNonce: current.nonce })) return "resealed";
      } finally {
        plaintext.fill(0);
      }
      // Someone wrote (or deleted) it since we read it: look again, never overwrite their value.
      current = await store.getSealed(place.tenant, place.name);
    }
    return "changed";
  }

  const vault: Vault = {
    putQad: (tenant, credentials, opts = {}) => putRecord(tenant, QAD_RECORD, "qad", credentials, opts),
    getQad: (tenant, opts = {}) => getRecord(tenant, QAD_RECORD, "qad", opts) as Promise<QadCredentials | undefined>,
    putMarketo: (tenant, credentials, opts = {}) => putRecord(tenant, MARKETO_RECORD, "marketo", credentials, opts),
    getMarketo: (tenant, opts = {}) =>
      getRecord(tenant, MARKETO_RECORD, "marketo", opts) as Promise<MarketoCredentials | undefined>,
    put: async (tenant, name, value, opts = {}) => putRecord(tenant, generic(name), "json", value, opts),
    get: async (tenant, name, opts = {}) => getRecord(tenant, generic(name), "json", opts),
    async delete(tenant, name) {
      const removed = await store.deleteSealed(checkPart(tenant, "tenant"), checkPart(name, "record name"));
      if (removed) logger.debug({ tenant, name }, "vault record deleted");
      return removed;
    },

    async rotate(opts = {}) {
      const { signal } = opts;
      const pageSize = opts.pageSize ?? 100;
      if (!Number.isInteger(pageSize) || pageSize < 1)
        throw new SyncConfigError("rotate: pageSize must be an integer ≥ 1");
      const tenant = opts.tenant === undefined ? undefined : checkPart(opts.tenant, "tenant");
      const keyId = await keys.currentKeyId({ signal, fresh: true });
      const key = await keyOf(keyId, undefined, signal);
      const result: RotationResult = { keyId, scanned: 0, resealed: 0, changed: 0, failed: [] };
      const stopIfAborted = () => {
        if (signal?.aborted) {
          throw new SyncError(
            "aborted",
            `vault rotation aborted after ${result.resealed} of ${result.scanned} records re-sealed (run it again to finish)`,
            { cause: signal.reason },
          );
        }
      };
      logger.info({ keyId, tenant }, "vault rotation started");
      let after: { tenant: string; name: string } | undefined;
      for (;;) {
        stopIfAborted();
        const page = await store.listSealed({ tenant, notKeyId: keyId, after, limit: pageSize });
        for (const sealed of page) {
          stopIfAborted();
          result.scanned++;
          const outcome = await resealOne(sealed, keyId, key, signal);
          if (outcome === "resealed") result.resealed++;
          else if (outcome === "changed") result.changed++;
          else {
            result.failed.push({ tenant: sealed.tenant, name: sealed.name, keyId: sealed.keyId, code: outcome });
            logger.warn(
              { tenant: sealed.tenant, name: sealed.name, keyId: sealed.keyId, code: outcome },
              "vault rotation left a record it cannot open",
            );
          }
        }
        const last = page.at(-1);
        if (!last || page.length < pageSize) break;
        if (after && last.tenant === after.tenant && last.name === after.name) {
          // A store that ignores the keyset cursor would loop here forever.
          throw new SyncError("store", "SecretStore.listSealed returned the same page twice: it ignores `after`");
        }
        after = { tenant: last.tenant, name: last.name };
      }
      logger.info(
        {
          keyId,
          scanned: result.scanned,
          resealed: result.resealed,
          changed: result.changed,
          failed: result.failed.length,
        },
        "vault rotation finished",
      );
      return result;
    },
  };
  Object.defineProperties(vault, {
    toJSON: { value: () => ({ vault: true }) },
    [inspect.custom]: { value: () => "Vault { keys: [hidden] }" },
  });
  return vault;
}
