import { createHash } from "node:crypto";

/** JSON with object keys sorted at every level, so equal payloads serialise identically whatever their key order. */
export function stableStringify(value: unknown): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value) ?? "null";
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(",")}]`;
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj)
    .filter((k) => obj[k] !== undefined)
    .sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${stableStringify(obj[k])}`).join(",")}}`;
}

/**
 * Content hash of a mapped payload (SHA-256 of its stable JSON, base64url). Two payloads hash equal exactly when they
 * would write the same values, so an unchanged record costs no Marketo call.
 */
export function payloadHash(payload: unknown): string {
  return createHash("sha256").update(stableStringify(payload)).digest("base64url");
}
