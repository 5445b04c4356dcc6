/**
 * Checks of the Marketo base URLs (`rest`, `identity`, `bulk`): the token and every credentialed call go there.
 *
 * @module
 */
import { BlockList, isIP } from "node:net";
import { MarketoConfigError } from "../errors.js";

/** What the base URL checks accept besides public https hosts. @internal */
export interface BaseUrlPolicy {
  /** Accept plain `http:`. */
  allowHttp: boolean;
  /** Accept loopback hosts (127.0.0.0/8, ::1, `localhost`). */
  allowLoopback: boolean;
}

const blocks = (list: ReadonlyArray<readonly [string, number, "ipv4" | "ipv6"]>): BlockList => {
  const b = new BlockList();
  for (const [net, prefix, family] of list) b.addSubnet(net, prefix, family);
  return b;
};

// BlockList matches IPv4-mapped IPv6 addresses (::ffff:169.254.169.254) against the IPv4 rules.
const NEVER: ReadonlyArray<readonly [string, BlockList]> = [
  [
    "a link-local or cloud metadata address",
    blocks([
      ["169.254.0.0", 16, "ipv4"],
      ["100.100.100.200", 32, "ipv4"],
      ["fe80::", 10, "ipv6"],
      ["fd00:ec2::254", 128, "ipv6"],
    ]),
  ],
  [
    "an unspecified address",
    blocks([
      ["0.0.0.0", 8, "ipv4"],
      ["::", 128, "ipv6"],
    ]),
  ],
];
const LOOPBACK = blocks([
  ["127.0.0.0", 8, "ipv4"],
  ["::1", 128, "ipv6"],
]);
const METADATA_NAMES = new Set(["metadata.google.internal", "metadata.goog", "metadata", "instance-data"]);

/**
 * Validates one base URL: absolute http(s), https unless `allowHttp`, no userinfo, query or fragment, and not a
 * link-local, metadata or unspecified host (numeric forms such as `0x7f000001` are normalised by the URL parser
 * first); loopback only with `allowLoopback`. Messages name the option and the host, never a secret.
 * @throws {MarketoConfigError} (code `CONFIG`).
 * @internal
 */
export function checkBaseUrl(name: string, raw: string, policy: BaseUrlPolicy): void {
  const fail = (why: string): never => {
    throw new MarketoConfigError(`baseUrls.${name} ${why}`, { code: "CONFIG" });
  };
  // Checked on the text: the URL parser silently drops tabs and newlines and strips control characters at the ends.
  if (/[\u0000-\u001f\u007f-\u009f\s\\]/.test(raw))
    fail("must not contain whitespace, control characters or backslashes");
  const url = URL.canParse(raw) ? new URL(raw) : fail("is not an absolute URL");
  if (url.protocol !== "https:" && !(url.protocol === "http:" && policy.allowHttp)) {
    fail(url.protocol === "http:" ? "must use https (plain http needs the allowHttp option)" : "must use https");
  }
  if (url.username !== "" || url.password !== "" || /^[a-z]+:\/\/[^/]*@/i.test(raw)) {
    fail("must not contain credentials (user:password@)");
  }
  if (url.search !== "" || raw.includes("?")) fail("must not contain a query string");
  if (url.hash !== "" || raw.includes("#")) fail("must not contain a fragment");
  if (/%(?:[01][0-9a-f]|7f)/i.test(url.pathname)) fail("must not contain percent-encoded control characters");
  const host = url.hostname
    .replace(/^\[|\]$/g, "")
    .replace(/\.$/, "")
    .toLowerCase();
  if (host === "") fail("has no host");
  const family = isIP(host);
  const type = family === 4 ? "ipv4" : "ipv6";
  if (METADATA_NAMES.has(host)) fail(`host ${host} is a cloud metadata endpoint`);
  if (family !== 0) {
    for (const [label, list] of NEVER) if (list.check(host, type)) fail(`host ${host} is ${label}`);
  }
  const loopback = (family !== 0 && LOOPBACK.check(host, type)) || host === "localhost" || host.endsWith(".localhost");
  if (loopback && !policy.allowLoopback) {
    fail(`host ${host} is a loopback address (set network: { allowLoopback: true } to accept it)`);
  }
}
