import { isQadError } from "../errors.js";

/** HTTP statuses that mean "no such API here" rather than "this API refused you". */
const ABSENT_STATUSES = new Set([404, 405, 501]);
/** Socket errors that mean nothing answers at that address. */
const ABSENT_NETWORK_CODES: Record<string, string> = {
  ECONNREFUSED: "connection refused",
  ENOTFOUND: "host not found",
};

/**
 * Decides whether a failed REST probe means the REST API is not there (so protocol "auto" may use QXtend) and
 * says why; `undefined` means REST is there but failed (wrong credentials, 403, a server error, a timeout...) and
 * the error must surface. Walks the cause chain, since token failures wrap what the token endpoint answered.
 *
 * Not there: connection refused or unknown host; HTTP 404, 405 or 501 (from the token endpoint or the probe); a
 * non-JSON answer (an HTML or XML page: a web server or the web UI, not the JSON API).
 * @internal
 */
export function restAbsenceReason(error: unknown): string | undefined {
  let e: unknown = error;
  for (let depth = 0; depth < 8 && e !== null && typeof e === "object"; depth++) {
    if (isQadError(e)) {
      if (e.code === "permission") return undefined;
      if (e.status !== undefined && ABSENT_STATUSES.has(e.status)) return `HTTP ${e.status} from ${where(e)}`;
      if (e.code === "response_parse") {
        const r = e as { contentType?: string; bodySnippet?: string };
        const nonJson = /html|xml/i.test(r.contentType ?? "") || /^\s*</.test(r.bodySnippet ?? "");
        return nonJson ? `non-JSON answer (${r.contentType || "no content-type"}) from ${where(e)}` : undefined;
      }
      // An answer with any other HTTP status (401, 400 invalid_grant, 5xx...) came from a REST API that is there.
      if (e.status !== undefined && e.status !== 200) return undefined;
    } else {
      const code = (e as { code?: unknown }).code;
      if (typeof code === "string" && ABSENT_NETWORK_CODES[code]) return `${ABSENT_NETWORK_CODES[code]} (${code})`;
      const inner = (e as { errors?: unknown }).errors;
      if (Array.isArray(inner)) {
        for (const x of inner) {
          const c = (x as { code?: unknown } | null)?.code;
          if (typeof c === "string" && ABSENT_NETWORK_CODES[c]) return `${ABSENT_NETWORK_CODES[c]} (${c})`;
        }
      }
    }
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

function where(e: { request?: { url: string } }): string {
  if (!e.request) return "the REST endpoint";
  try {
    return new URL(e.request.url).pathname;
  } catch {
    return "the REST endpoint";
  }
}
