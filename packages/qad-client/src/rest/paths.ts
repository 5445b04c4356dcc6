import { QadUnsafePathError } from "../errors.js";

const SEGMENT = /^[A-Za-z0-9_\-.~]+$/;

/**
 * Checks the syntax of a relative API path (e.g. `api/erp/customerV2s`) before it is joined to the tenant URL:
 * refuses absolute and scheme-relative URLs, dot segments, percent-encoding (encoded traversal), backslashes,
 * empty segments, query and fragment. Returns the path without a leading slash.
 *
 * @throws {QadUnsafePathError}
 */
export function checkPathSyntax(path: unknown): string {
  if (typeof path !== "string" || path.length === 0)
    throw new QadUnsafePathError(String(path), "not a non-empty string");
  if (path.length > 512) throw new QadUnsafePathError(path, "longer than 512 characters");
  if (/^[a-z][a-z0-9+.-]*:/i.test(path)) throw new QadUnsafePathError(path, "absolute URLs are not allowed");
  if (path.startsWith("//") || path.startsWith("\\\\") || path.startsWith("/\\")) {
    throw new QadUnsafePathError(path, "scheme-relative URLs (//host) are not allowed");
  }
  if (path.includes("%")) throw new QadUnsafePathError(path, "percent-encoded characters are not allowed");
  if (path.includes("\\")) throw new QadUnsafePathError(path, "backslashes are not allowed");
  if (/[?#]/.test(path)) throw new QadUnsafePathError(path, "query and fragment go in parameters, not in the path");
  const trimmed = path.startsWith("/") ? path.slice(1) : path;
  const segments = trimmed.split("/");
  for (const segment of segments) {
    if (segment === "") throw new QadUnsafePathError(path, "empty path segment");
    if (segment === "." || segment === "..") throw new QadUnsafePathError(path, "dot segments are not allowed");
    if (!SEGMENT.test(segment))
      throw new QadUnsafePathError(path, `segment ${JSON.stringify(segment)} has characters outside [A-Za-z0-9_-.~]`);
  }
  return trimmed;
}

/**
 * Joins a checked relative path to the tenant base URL and verifies the result stays under it (same origin, same
 * base path prefix). The last line of defence if a syntax rule were ever missed.
 *
 * @throws {QadUnsafePathError}
 */
export function resolveUnderTenant(base: URL, path: string): URL {
  const rel = checkPathSyntax(path);
  const url = new URL(rel, base);
  if (url.origin !== base.origin || !url.pathname.startsWith(base.pathname)) {
    throw new QadUnsafePathError(path, "resolves outside the tenant URL");
  }
  return url;
}

/**
 * Extracts the relative paths an OpenAPI 3 / Swagger 2 document publishes, relative to the tenant base path.
 * Server URLs / `basePath` that carry a path prefix below the tenant are honoured; templated segments
 * (`{id}`) are kept as templates.
 * @internal
 */
export function pathsFromApiDescription(doc: unknown, base: URL): Set<string> {
  const out = new Set<string>();
  if (typeof doc !== "object" || doc === null) return out;
  const d = doc as { paths?: unknown; basePath?: unknown; servers?: unknown };
  if (typeof d.paths !== "object" || d.paths === null) return out;
  let prefix = "";
  const serverUrl =
    Array.isArray(d.servers) && typeof (d.servers[0] as { url?: unknown } | undefined)?.url === "string"
      ? String((d.servers[0] as { url: string }).url)
      : typeof d.basePath === "string"
        ? d.basePath
        : "";
  if (serverUrl !== "") {
    try {
      const s = new URL(serverUrl, base);
      // Only a prefix below the tenant base path counts; a server elsewhere is ignored, never followed.
      if (s.origin === base.origin && s.pathname.startsWith(base.pathname)) {
        prefix = s.pathname.slice(base.pathname.length).replace(/\/+$/, "");
      }
    } catch {
      // Unparseable server URL: paths are taken as relative to the tenant.
    }
  }
  for (const key of Object.keys(d.paths)) {
    const p = `${prefix ? `${prefix}/` : ""}${key.replace(/^\/+/, "")}`.replace(/\/+$/, "");
    out.add(p);
  }
  return out;
}
