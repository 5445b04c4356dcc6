/** Removes secrets from strings before they reach an error, a log line or a snapshot. */

const SECRET_PARAMS = /([?&](?:client_secret|client_id|access_token)=)[^&#\s]*/gi;
const BEARER = /(Bearer\s+)[A-Za-z0-9._~+/=:-]+/gi;

/** A redactor that knows the secrets of one client (client secret, current tokens). */
export class Redactor {
  readonly #secrets = new Set<string>();

  /** Remember a value that must never be shown (ignored when shorter than 4 characters). */
  add(secret: string | undefined): void {
    if (secret && secret.length >= 4) this.#secrets.add(secret);
  }

  /** Returns `text` with every known secret, secret-bearing query parameter and bearer token replaced. */
  redact(text: string): string {
    let out = text.replace(SECRET_PARAMS, "$1[REDACTED]").replace(BEARER, "$1[REDACTED]");
    for (const s of this.#secrets) {
      if (out.includes(s)) out = out.split(s).join("[REDACTED]");
    }
    return out;
  }
}
