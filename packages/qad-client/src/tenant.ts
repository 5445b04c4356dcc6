import { QadConfigError } from "./errors.js";

/** Options of {@link parseTenantUrl}. */
export interface TenantUrlOptions {
  /**
   * Accept plain `http:` (on-prem instances without TLS). Off by default: a tenant URL is where credentials go.
   * @default false
   */
  allowHttp?: boolean;
}

/**
 * Validates and normalises a QAD tenant URL (e.g. `https://acme.qad.com/clouderp`). Refuses anything that could
 * redirect credentials or requests elsewhere: non-https schemes (http only with `allowHttp`), userinfo, query,
 * fragment, dot segments and percent-encoded separators in the path. The result always ends with one `/`, so
 * relative entity paths resolve under it.
 *
 * @example
 * parseTenantUrl("https://acme.qad.com/clouderp").href // "https://acme.qad.com/clouderp/"
 * @throws {QadConfigError} when the URL is unusable.
 */
export function parseTenantUrl(input: string, options: TenantUrlOptions = {}): URL {
  if (typeof input !== "string" || input.trim() === "") throw new QadConfigError("tenantUrl is required");
  const raw = input.trim();
  // Checked on the raw text too: the URL parser silently resolves dot segments and strips some characters.
  if (/[\s\\]/.test(raw)) throw new QadConfigError("tenantUrl must not contain whitespace or backslashes");
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new QadConfigError("tenantUrl is not an absolute URL (expected e.g. https://acme.qad.com/clouderp)");
  }
  if (url.protocol !== "https:" && !(url.protocol === "http:" && options.allowHttp === true)) {
    throw new QadConfigError(
      url.protocol === "http:"
        ? "tenantUrl must use https (plain http needs the explicit allowHttp option, for on-prem instances)"
        : `tenantUrl must use https, not ${url.protocol}`,
    );
  }
  if (url.username !== "" || url.password !== "" || /^[a-z]+:\/\/[^/]*@/i.test(raw)) {
    throw new QadConfigError("tenantUrl must not contain credentials; pass them in the auth option");
  }
  if (url.search !== "" || raw.includes("?")) throw new QadConfigError("tenantUrl must not contain a query string");
  if (url.hash !== "" || raw.includes("#")) throw new QadConfigError("tenantUrl must not contain a fragment");
  if (url.hostname === "") throw new QadConfigError("tenantUrl has no host");
  const rawPath = raw.replace(/^[a-z]+:\/\/[^/]*/i, "");
  if (/(^|\/)\.\.?(\/|$)/.test(rawPath) || /%2e|%2f|%5c/i.test(rawPath)) {
    throw new QadConfigError("tenantUrl path must not contain dot segments or encoded separators");
  }
  if (rawPath.includes("//")) throw new QadConfigError("tenantUrl path must not contain empty segments (//)");
  if (!url.pathname.endsWith("/")) url.pathname = `${url.pathname}/`;
  return url;
}
