/**
 * Vault keys: a {@link KeyRing} held in process (from an environment variable or code), or a {@link KeyProvider}
 * hook for a KMS. Key bytes live in closures only: no property, `util.inspect`, `JSON.stringify` or error of a ring
 * shows them.
 *
 * @module
 */
import { inspect } from "node:util";
import { VaultError } from "../errors.js";

/** AES-256 key length, in bytes. */
export const KEY_BYTES = 32;

/** Key ids: 1 to 64 letters, digits, `.`, `_` or `-` (they are stored in clear next to each record). */
const KEY_ID = /^[A-Za-z0-9._-]{1,64}$/;

/** Default environment variable of {@link keysFromEnv}. */
export const VAULT_KEYS_VARIABLE = "ML_VAULT_KEYS";

/** One key of a ring: its id and its 32 bytes (a Buffer/Uint8Array, or the base64 text of them). */
export interface VaultKey {
  /** Key id, stored in clear with every record it seals. Never reuse an id for other bytes. */
  id: string;
  /** The 32 key bytes, or their base64. */
  key: Uint8Array | string;
}

/**
 * Keys held in process: the current one seals, every one opens. Made by {@link keyRing} or {@link keysFromEnv}. It
 * shows its key ids, never its key bytes.
 */
export interface KeyRing {
  /** Id of the key new seals use. */
  readonly currentKeyId: string;
  /** Ids of every key in the ring, current first. */
  readonly keyIds: readonly string[];
}

/**
 * A key source outside the process (a KMS, a secret manager). The vault caches what it answers: key bytes by id for
 * the life of the vault (an id must never name other bytes later), the current key id for `currentKeyIdTtlMs`.
 *
 * @example
 * ```ts
 * const keys: KeyProvider = {
 *   currentKeyId: () => kms.currentAlias(),
 *   key: async (id) => Buffer.from(await kms.decryptDataKey(id)),
 * };
 * ```
 */
export interface KeyProvider {
  /** Id of the key new seals must use. */
  currentKeyId(options: { signal?: AbortSignal | undefined }): string | Promise<string>;
  /** The 32 bytes of key `id`, or `undefined` when there is no such key. */
  key(
    id: string,
    options: { signal?: AbortSignal | undefined },
  ): Uint8Array | undefined | Promise<Uint8Array | undefined>;
}

/** What the vault reads keys through: a ring or a cached provider. @internal */
export interface KeySource {
  currentKeyId(options?: { signal?: AbortSignal | undefined; fresh?: boolean }): Promise<string>;
  /** Key bytes, or `undefined` when the source has no key of that id. */
  key(id: string, options?: { signal?: AbortSignal | undefined }): Promise<Buffer | undefined>;
}

const ringKeys = new WeakMap<KeyRing, ReadonlyMap<string, Buffer>>();

function checkId(id: unknown, where: string): string {
  if (typeof id !== "string" || !KEY_ID.test(id)) {
    throw new VaultError(
      "vault_malformed_key",
      `${where}: key id must be 1 to 64 letters, digits, ".", "_" or "-"${typeof id === "string" ? ` (got ${JSON.stringify(id.slice(0, 64))})` : ""}`,
    );
  }
  return id;
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const BASE64URL = /^[A-Za-z0-9_-]*$/;

/** Decodes a key given as bytes or base64 (standard or url-safe), checking it is 32 bytes. Never echoes the value. */
function keyBytes(value: unknown, where: string): Buffer {
  let bytes: Buffer;
  if (value instanceof Uint8Array) {
    bytes = Buffer.from(value);
  } else if (typeof value === "string") {
    const text = value.trim();
    if (BASE64.test(text)) bytes = Buffer.from(text, "base64");
    else if (BASE64URL.test(text)) bytes = Buffer.from(text, "base64url");
    else throw new VaultError("vault_malformed_key", `${where}: key is not valid base64`);
  } else {
    throw new VaultError("vault_malformed_key", `${where}: key must be a Buffer, a Uint8Array or a base64 string`);
  }
  if (bytes.length !== KEY_BYTES) {
    bytes.fill(0);
    throw new VaultError(
      "vault_malformed_key",
      `${where}: key must be ${KEY_BYTES} bytes (AES-256), got ${bytes.length}; generate one with ` +
        `node -e "console.log(require('crypto').randomBytes(32).toString('base64'))"`,
    );
  }
  return bytes;
}

/**
 * A key ring from keys given in code. The first key is the current one unless `current` names another.
 *
 * @example
 * ```ts
 * const keys = keyRing([{ id: "2025-06", key: process.env.NEW_KEY! }, { id: "2024-01", key: oldKeyBuffer }]);
 * ```
 */
export function keyRing(keys: readonly VaultKey[], options: { current?: string } = {}): KeyRing {
  if (!Array.isArray(keys) || keys.length === 0) {
    throw new VaultError("vault_malformed_key", "a key ring needs at least one key");
  }
  const map = new Map<string, Buffer>();
  keys.forEach((k, i) => {
    const id = checkId(k?.id, `key ${i + 1}`);
    if (map.has(id)) throw new VaultError("vault_malformed_key", `key ${i + 1}: key id "${id}" appears twice`);
    map.set(id, keyBytes(k.key, `key ${i + 1} (id "${id}")`));
  });
  const ids = [...map.keys()];
  const current = options.current ?? ids[0];
  if (current === undefined || !map.has(current)) {
    throw new VaultError("vault_malformed_key", `current key id "${String(current)}" is not in the ring`);
  }
  const keyIds = Object.freeze([current, ...ids.filter((id) => id !== current)]);
  const describe = () => ({ currentKeyId: current, keyIds: [...keyIds] });
  const text = () => `KeyRing { current: ${JSON.stringify(current)}, ids: ${JSON.stringify(keyIds)} }`;
  const ring: KeyRing = Object.freeze(
    Object.defineProperties(Object.create(null) as KeyRing, {
      currentKeyId: { value: current, enumerable: true },
      keyIds: { value: keyIds, enumerable: true },
      toJSON: { value: describe },
      toString: { value: text },
      [inspect.custom]: { value: text },
    }),
  );
  ringKeys.set(ring, map);
  return ring;
}

/**
 * A key ring from an environment variable (default `ML_VAULT_KEYS`): comma- or newline-separated `id:base64key`
 * entries, the first being the current key. To rotate, put the new key first and keep the old ones until
 * `vault.rotate()` has re-sealed every record.
 *
 * @example
 * ```sh
 * ML_VAULT_KEYS="2025-06:q3Zb...=,2024-01:Vd8k...="
 * ```
 * @param variable - Name of the variable. @default "ML_VAULT_KEYS"
 * @param env - Where to read it. @default process.env
 */
export function keysFromEnv(
  variable: string = VAULT_KEYS_VARIABLE,
  env: Record<string, string | undefined> = process.env,
): KeyRing {
  const raw = env[variable] ?? "";
  const entries = raw
    .split(/[,\n]/)
    .map((e) => e.trim())
    .filter((e) => e !== "");
  if (entries.length === 0) {
    throw new VaultError(
      "vault_malformed_key",
      `${variable} is not set: expected "id:base64key" entries separated by commas, the current key first`,
    );
  }
  const keys = entries.map((entry, i): VaultKey => {
    const colon = entry.indexOf(":");
    if (colon <= 0) {
      throw new VaultError("vault_malformed_key", `${variable} entry ${i + 1}: expected "id:base64key"`);
    }
    return { id: entry.slice(0, colon).trim(), key: entry.slice(colon + 1).trim() };
  });
  try {
    return keyRing(keys);
  } catch (e) {
    if (e instanceof VaultError) throw new VaultError(e.code, `${variable}: ${e.message}`);
    throw e;
  }
}

/** True when `value` is a ring made by {@link keyRing} or {@link keysFromEnv}. */
export function isKeyRing(value: unknown): value is KeyRing {
  return typeof value === "object" && value !== null && ringKeys.has(value as KeyRing);
}

/** Options of a provider-backed key source. @internal */
export interface ProviderCacheOptions {
  /** How long the provider's current key id is reused. */
  currentKeyIdTtlMs: number;
  /** Clock of the cache. */
  now(): number;
}

/** Turns a ring or a provider into the vault's {@link KeySource}. @internal */
export function keySource(keys: KeyRing | KeyProvider, cache: ProviderCacheOptions): KeySource {
  if (isKeyRing(keys)) {
    const map = ringKeys.get(keys) as ReadonlyMap<string, Buffer>;
    return {
      currentKeyId: async () => keys.currentKeyId,
      key: async (id) => map.get(id),
    };
  }
  if (
    typeof keys !== "object" ||
    keys === null ||
    typeof keys.currentKeyId !== "function" ||
    typeof keys.key !== "function"
  ) {
    throw new VaultError(
      "vault_malformed_key",
      "keys must be a key ring (keyRing, keysFromEnv) or a provider { currentKeyId(), key(id) }",
    );
  }
  const provider = keys;
  const bytes = new Map<string, Buffer>();
  const pending = new Map<string, Promise<Buffer | undefined>>();
  let current: { id: string; at: number } | undefined;
  let asking: Promise<string> | undefined;

  const unavailable = (what: string, cause: unknown) =>
    new VaultError("vault_key_unavailable", `the key provider failed to ${what}`, { cause });

  return {
    currentKeyId(options = {}) {
      const now = cache.now();
      if (!options.fresh && current && now - current.at < cache.currentKeyIdTtlMs) return Promise.resolve(current.id);
      if (!options.fresh && asking) return asking;
      const ask = (async () => {
        let id: unknown;
        try {
          id = await provider.currentKeyId({ signal: options.signal });
        } catch (e) {
          throw unavailable("name the current key", e);
        }
        current = { id: checkId(id, "key provider currentKeyId()"), at: now };
        return current.id;
      })().finally(() => {
        if (asking === ask) asking = undefined;
      });
      asking = ask;
      return ask;
    },
    key(id, options = {}) {
      const known = bytes.get(id);
      if (known) return Promise.resolve(known);
      const inFlight = pending.get(id);
      if (inFlight) return inFlight;
      const load = (async () => {
        let value: unknown;
        try {
          value = await provider.key(id, { signal: options.signal });
        } catch (e) {
          throw unavailable(`give key "${id}"`, e);
        }
        if (value === undefined || value === null) return undefined;
        const key = keyBytes(value, `key provider key("${id}")`);
        bytes.set(id, key);
        return key;
      })().finally(() => pending.delete(id));
      pending.set(id, load);
      return load;
    },
  };
}
