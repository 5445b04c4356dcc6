/**
 * The credential vault: QAD and Marketo credentials per tenant pair, sealed with AES-256-GCM in the sync store.
 *
 * @module
 */
export {
  MARKETO_RECORD,
  type MarketoCredentials,
  QAD_RECORD,
  type QadCredentials,
  type QxtendCredentials,
  type StoredQadAuth,
} from "./credentials.js";
export {
  isKeyRing,
  KEY_BYTES,
  type KeyProvider,
  type KeyRing,
  keyRing,
  keysFromEnv,
  VAULT_KEYS_VARIABLE,
  type VaultKey,
} from "./keys.js";
export {
  createVault,
  type RotateOptions,
  type RotationFailure,
  type RotationResult,
  type Vault,
  type VaultCallOptions,
  type VaultOptions,
} from "./vault.js";
