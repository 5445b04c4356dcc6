/**
 * The kernel's own failure, always mapped by each client into its own error hierarchy. It holds only plain data: never
 * the fetch error, the Request or its headers (where `Authorization` lives), so nothing kept on it can leak a secret.
 */

/** What went wrong on the wire. */
export type KernelErrorKind =
  /** A redirect was refused: to another origin, or for a method that must not be repeated. */
  | "redirect"
  /** The deadline (headers and body together) passed, or the body stalled past the idle limit. */
  | "timeout"
  /** The body (decoded or as sent) grew past its byte limit. */
  | "too_large"
  /** The connection failed (refused, reset, unknown host, bad port, oversized headers...). */
  | "network";

/** A hardened-fetch failure: plain data only, safe to keep as an error's cause. */
export class HttpKernelError extends Error {
  /** What went wrong. */
  readonly kind: KernelErrorKind;
  /** Host (with port) the request went to. */
  readonly host: string;
  /** Socket or undici code when one was found (`ECONNREFUSED`, `UND_ERR_HEADERS_OVERFLOW`, `BAD_PORT`...). */
  readonly causeCode: string | undefined;
  /** The same as {@link causeCode}, under the name Node's own errors use, for code that walks cause chains. */
  readonly code: string | undefined;
  /** Whether request bytes may have reached the server (false: refused before sending). */
  readonly maybeSent: boolean;
  /** HTTP status of a refused redirect. */
  readonly status: number | undefined;
  /** Origin a refused redirect pointed to. */
  readonly targetOrigin: string | undefined;
  /** The limit that was hit (bytes for `too_large`, ms for `timeout`). */
  readonly limit: number | undefined;

  constructor(
    kind: KernelErrorKind,
    message: string,
    fields: {
      host: string;
      causeCode?: string | undefined;
      maybeSent?: boolean;
      status?: number;
      targetOrigin?: string;
      limit?: number;
    },
  ) {
    super(message);
    this.name = "HttpKernelError";
    this.kind = kind;
    this.host = fields.host;
    this.causeCode = fields.causeCode;
    this.code = fields.causeCode;
    this.maybeSent = fields.maybeSent ?? true;
    this.status = fields.status;
    this.targetOrigin = fields.targetOrigin;
    this.limit = fields.limit;
  }
}

/** True when `e` is a {@link HttpKernelError} (by name and kind, so two bundled copies agree). */
export function isKernelError(e: unknown): e is HttpKernelError {
  return e instanceof Error && e.name === "HttpKernelError" && typeof (e as { kind?: unknown }).kind === "string";
}

/** Socket errors of a connection that was refused before any byte of the request left. */
export const NOT_SENT_CODES: ReadonlySet<string> = new Set([
  "ECONNREFUSED",
  "ENOTFOUND",
  "EAI_AGAIN",
  "ENETUNREACH",
  "EHOSTUNREACH",
  "BAD_PORT",
  "ERR_INVALID_URL",
]);

/**
 * The socket or undici code somewhere in a fetch error's cause chain (`AggregateError`s included), or `BAD_PORT` for
 * the port block list. Reads only `code`/`message` fields; keeps nothing.
 */
export function causeCodeOf(error: unknown): string | undefined {
  let c: unknown = error;
  for (let depth = 0; depth < 8 && c !== null && typeof c === "object"; depth++) {
    const code = (c as { code?: unknown }).code;
    if (typeof code === "string" && /^[A-Z][A-Z0-9_]+$/.test(code)) return code;
    if ((c as { message?: unknown }).message === "bad port") return "BAD_PORT";
    const inner = (c as { errors?: unknown }).errors;
    if (Array.isArray(inner)) {
      for (const x of inner) {
        const found = causeCodeOf(x);
        if (found) return found;
      }
    }
    c = (c as { cause?: unknown }).cause;
  }
  return undefined;
}
