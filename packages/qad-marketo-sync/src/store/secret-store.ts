/**
 * Storage of sealed (encrypted) credential records for the vault. The stores that hold the audit trail implement it
 * too, so credentials live in the same database as the state they belong to. A store only ever sees ciphertext: it
 * never encrypts, decrypts or logs a value.
 *
 * @module
 */

/** One encrypted record, as the vault seals it (AES-256-GCM). Binary fields are base64. */
export interface SealedSecret {
  /** Tenant pair the credentials belong to (also the associated data of the encryption). */
  tenant: string;
  /** Record name within the tenant pair, e.g. `qad` or `marketo`. */
  name: string;
  /** Id of the key that sealed it (rotation re-seals records whose key id is not the current one). */
  keyId: string;
  /** The 96-bit random nonce, base64. Unique per seal: it also serves as the record's version. */
  nonce: string;
  /** Ciphertext, base64. */
  ciphertext: string;
  /** The 128-bit GCM authentication tag, base64. */
  tag: string;
  /** When it was sealed (ms since epoch). */
  updatedAt: number;
}

/** Filter of {@link SecretStore.listSealed}, ordered by (tenant, name). */
export interface SealedQuery {
  /** Only this tenant pair. */
  tenant?: string | undefined;
  /** Only records sealed under a key other than this one (what a rotation must re-seal). */
  notKeyId?: string | undefined;
  /** Keyset cursor: only records after this (tenant, name). */
  after?: { tenant: string; name: string } | undefined;
  /** At most this many. */
  limit?: number | undefined;
}

/** Where the vault keeps sealed records. */
export interface SecretStore {
  /**
   * Upserts a sealed record by (tenant, name). With `expectNonce`, writes only if the stored record still has that
   * nonce (compare-and-swap, so a rotation never overwrites a newer value) and answers whether it wrote.
   */
  putSealed(secret: SealedSecret, options?: { expectNonce?: string | undefined }): Promise<boolean>;
  /** One sealed record. */
  getSealed(tenant: string, name: string): Promise<SealedSecret | undefined>;
  /** Sealed records matching the filter. */
  listSealed(query?: SealedQuery): Promise<SealedSecret[]>;
  /** Deletes a sealed record; answers whether one existed. */
  deleteSealed(tenant: string, name: string): Promise<boolean>;
}
