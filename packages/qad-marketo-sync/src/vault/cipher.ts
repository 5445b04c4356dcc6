/**
 * The vault's record format: AES-256-GCM with a fresh random 96-bit nonce per seal and the record's place (tenant
 * pair, name, key id) as associated data. The ciphertext field starts with a format version byte and an 8-byte key
 * check value (HMAC-SHA256 of a constant under the key), so opening with the wrong key under a known id is told
 * apart from a changed byte; both header parts are authenticated too.
 *
 * @module
 */
import { createCipheriv, createDecipheriv, createHmac, randomBytes } from "node:crypto";
import { VaultError } from "../errors.js";
import type { SealedSecret } from "../store/secret-store.js";

const ALGORITHM = "aes-256-gcm";
const FORMAT_VERSION = 1;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const CHECK_BYTES = 8;
const HEADER_BYTES = 1 + CHECK_BYTES;

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Where a record lives; bound into its encryption. @internal */
export interface RecordPlace {
  tenant: string;
  name: string;
}

/** Key check value: identifies a key without revealing it. @internal */
export function keyCheck(key: Buffer): Buffer {
  return createHmac("sha256", key).update("ml-vault key check v1").digest().subarray(0, CHECK_BYTES);
}

function associatedData(place: RecordPlace, keyId: string, header: Buffer): Buffer {
  return Buffer.concat([
    Buffer.from(JSON.stringify(["ml-vault", FORMAT_VERSION, place.tenant, place.name, keyId]), "utf8"),
    header,
  ]);
}

const describe = (place: RecordPlace) => `vault record "${place.name}" of tenant pair "${place.tenant}"`;

/** Seals `plaintext` under `key`. The caller zeroes its plaintext buffer. @internal */
export function seal(
  place: RecordPlace,
  keyId: string,
  key: Buffer,
  plaintext: Buffer,
  updatedAt: number,
): SealedSecret {
  const nonce = randomBytes(NONCE_BYTES);
  const header = Buffer.concat([Buffer.from([FORMAT_VERSION]), keyCheck(key)]);
  const cipher = createCipheriv(ALGORITHM, key, nonce, { authTagLength: TAG_BYTES });
  cipher.setAAD(associatedData(place, keyId, header));
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return {
    tenant: place.tenant,
    name: place.name,
    keyId,
    nonce: nonce.toString("base64"),
    ciphertext: Buffer.concat([header, body]).toString("base64"),
    tag: cipher.getAuthTag().toString("base64"),
    updatedAt,
  };
}

function decode(value: unknown, field: string, place: RecordPlace): Buffer {
  if (typeof value !== "string" || !BASE64.test(value)) {
    throw new VaultError("vault_malformed_record", `${describe(place)}: ${field} is not base64`);
  }
  return Buffer.from(value, "base64");
}

/** The parts of a stored record, checked for shape (not yet authenticated). @internal */
export interface ParsedRecord {
  nonce: Buffer;
  tag: Buffer;
  header: Buffer;
  check: Buffer;
  body: Buffer;
}

/** Checks a stored record's encoding and lengths. @internal */
export function parseSealed(sealed: SealedSecret, place: RecordPlace): ParsedRecord {
  const nonce = decode(sealed.nonce, "nonce", place);
  const tag = decode(sealed.tag, "tag", place);
  const ciphertext = decode(sealed.ciphertext, "ciphertext", place);
  if (nonce.length !== NONCE_BYTES) {
    throw new VaultError("vault_malformed_record", `${describe(place)}: nonce must be ${NONCE_BYTES} bytes`);
  }
  if (tag.length !== TAG_BYTES) {
    throw new VaultError("vault_malformed_record", `${describe(place)}: tag must be ${TAG_BYTES} bytes`);
  }
  if (ciphertext.length < HEADER_BYTES || ciphertext[0] !== FORMAT_VERSION) {
    throw new VaultError(
      "vault_malformed_record",
      `${describe(place)}: ciphertext is not in vault format ${FORMAT_VERSION} (written by a newer version, or damaged)`,
    );
  }
  return {
    nonce,
    tag,
    header: ciphertext.subarray(0, HEADER_BYTES),
    check: ciphertext.subarray(1, HEADER_BYTES),
    body: ciphertext.subarray(HEADER_BYTES),
  };
}

/**
 * Opens a sealed record under `key` (the key of `sealed.keyId`). The record must be the one stored at `place`: a
 * record copied to another tenant pair or name does not authenticate. Throws {@link VaultError} `vault_wrong_key` or
 * `vault_tampered`, never node:crypto's error. @internal
 */
export function open(sealed: SealedSecret, place: RecordPlace, key: Buffer): Buffer {
  const parts = parseSealed(sealed, place);
  if (!keyCheck(key).equals(parts.check)) {
    throw new VaultError(
      "vault_wrong_key",
      `${describe(place)}: the key under id "${sealed.keyId}" is not the key that sealed it (check the key ring: an id must keep its bytes)`,
    );
  }
  try {
    const decipher = createDecipheriv(ALGORITHM, key, parts.nonce, { authTagLength: TAG_BYTES });
    decipher.setAAD(associatedData(place, sealed.keyId, parts.header));
    decipher.setAuthTag(parts.tag);
    return Buffer.concat([decipher.update(parts.body), decipher.final()]);
  } catch {
    // node:crypto says "Unsupported state or unable to authenticate data": say what it means instead.
    throw new VaultError(
      "vault_tampered",
      `${describe(place)} failed authentication: its ciphertext, nonce, tag or key id was changed, or it was copied from another tenant pair or name`,
    );
  }
}
