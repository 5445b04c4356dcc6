import { QadConfigError } from "../errors.js";
import { checkUrlHost, QadTenantUrlError, type TenantNetworkOptions } from "../network/tenant-policy.js";

/** Options of {@link parseTenantUrl}. */
export interface TenantUrlOptions {
  /**
   * Accept plain `http:` (on-prem instances without TLS). Off by default: a tenant URL is where credentials go.
   * @default false
   */
  allowHttp?: boolean;
  /**
   * Which hosts are accepted besides public ones (loopback, private, link-local, IDN); see
   * {@link TenantNetworkOptions}. @default public hosts only
   */
  network?: TenantNetworkOptions;
}

/** C0 and C1 control characters and DEL, raw or percent-encoded (`%00`, `%0d%0a`, `%7f`, `%c2%85`). */
const CONTROL_RAW = /[\u0000-\u001f\u007f-\u009f]/;
const CONTROL_ENCODED = /%(?:[01][0-9a-f]|7f)|%c2%(?:8[0-9a-f]|9[0-9a-f])/i;

/**
 * Validates and normalises a QAD tenant URL (e.g. `https://acme.qad.com/clouderp`). Refuses anything that could
 * redirect credentials or requests elsewhere: non-https schemes (http only with `allowHttp`), userinfo, query,
 * fragment, dot segments, percent-encoded separators and control characters (raw or percent-encoded) in the path,
 * and hosts the network policy refuses ({@link TenantNetworkOptions}: loopback, private, link-local, metadata,
 * unspecified, IDN), numeric forms (`0x7f000001`, `2130706433`, `0177.0.0.1`, `127.1`, `[::ffff:127.0.0.1]`)
 * being normalised by the URL parser first. The result always ends with one `/`, so relative entity paths resolve
 * under it.
 *
 * @example
 * parseTenantUrl("https://acme.qad.com/clouderp").href // "https://acme.qad.com/clouderp/"
 * @throws {QadConfigError} when the URL is unusable; {@link QadTenantUrlError} (a QadConfigError with a `reason`)
 * when the network policy refuses its host or it holds a control character.
 */
export function parseTenantUrl(input: string, options: TenantUrlOptions = {}): URL {
  if (typeof input !== "string" || input.trim() === "") throw new QadConfigError("tenantUrl is required");
  const raw = input.trim();
  // On the text: the URL parser silently strips leading/trailing control characters and drops tabs/newlines.
  if (CONTROL_RAW.test(raw)) {
    throw new QadTenantUrlError("control_character", "", "tenantUrl must not contain control characters");
  }
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
  if (CONTROL_ENCODED.test(rawPath) || CONTROL_ENCODED.test(url.pathname)) {
    throw new QadTenantUrlError(
      "control_character",
      url.hostname,
      "tenantUrl path must not contain percent-encoded control characters (%00, %0d%0a...)",
    );
  }
  checkUrlHost(url, options.network ?? {});
  if (!url.pathname.endsWith("/")) url.pathname = `${url.pathname}/`;
  return url;
}
