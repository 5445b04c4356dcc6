/**
 * Which hosts a tenant URL may point at: the address classes refused unless the user opts in, the check of a URL's
 * host text (after the WHATWG parser has normalised numeric forms such as `0x7f000001`, `2130706433`, `0177.0.0.1`
 * and `127.1` to dotted quads) and of every address a name resolves to at connect time.
 *
 * @module
 */
import { BlockList, isIP, type LookupFunction } from "node:net";
import { domainToUnicode } from "node:url";
import { QadConfigError } from "../errors.js";

/**
 * Network reach of a tenant URL (REST and QXtend). Everything is refused by default except public addresses:
 * loopback, private ranges and link-local addresses each need their option. Cloud metadata endpoints
 * (169.254.169.254, fd00:ec2::254, metadata.google.internal...), unspecified addresses (0.0.0.0, ::), multicast
 * and reserved ranges are always refused: no tenant lives there.
 */
export interface TenantNetworkOptions {
  /** Accept loopback hosts: 127.0.0.0/8, ::1, `localhost` and `*.localhost` (simulators, local tunnels). @default false */
  allowLoopback?: boolean;
  /**
   * Accept private-network hosts: 10/8, 172.16/12, 192.168/16, 100.64/10 (carrier-grade NAT) and fc00::/7 (on-prem
   * QAD or QXtend sites on an internal network). @default false
   */
  allowPrivate?: boolean;
  /** Accept link-local hosts: 169.254/16 and fe80::/10 (the metadata addresses inside them stay refused). @default false */
  allowLinkLocal?: boolean;
  /**
   * Accept internationalised host names (non-ASCII or `xn--` labels). Off by default, as a look-alike name (Cyrillic
   * `а` for Latin `a`) is silently turned into punycode by the URL parser; the error shows both forms. @default false
   */
  allowIdn?: boolean;
  /**
   * Check the addresses a host name resolves to when each connection is made (an undici dispatcher whose lookup
   * refuses what this policy refuses), so a name pointing at, or re-bound to, a refused address is never connected
   * to. Set `false` only when your own `fetch` or a proxy does the connecting; the URL text is still checked.
   * @default true
   */
  checkResolvedAddress?: boolean;
  /** DNS lookup used at connect time (same contract as `dns.lookup`). @default dns.lookup */
  lookup?: LookupFunction;
}

/** The address classes a tenant host can fall in. */
export type TenantAddressClass =
  | "public"
  | "loopback"
  | "private"
  | "link_local"
  | "metadata"
  | "unspecified"
  | "reserved";

/** Why a tenant URL was refused by {@link TenantNetworkOptions}. */
export type TenantUrlRefusal = Exclude<TenantAddressClass, "public"> | "idn" | "control_character";

/**
 * A tenant (or QXtend) URL refused by the network policy: a host in a refused address class, an
 * internationalised name not allowed, or a control character. `code` is `"config"`; `reason` says which rule.
 * Names the host (never a credential) and the option that would accept it, when there is one.
 */
export class QadTenantUrlError extends QadConfigError {
  /** Which rule refused the URL. */
  readonly reason: TenantUrlRefusal;
  /** The host as the URL parser normalised it (punycode for IDN), or the address it resolved to. */
  readonly host: string;
  constructor(reason: TenantUrlRefusal, host: string, message: string) {
    super(message);
    this.name = "QadTenantUrlError";
    this.reason = reason;
    this.host = host;
  }
}

const rules = (list: ReadonlyArray<readonly [string, number, "ipv4" | "ipv6"]>): BlockList => {
  const b = new BlockList();
  for (const [net, prefix, family] of list) {
    if (prefix === (family === "ipv4" ? 32 : 128)) b.addAddress(net, family);
    else b.addSubnet(net, prefix, family);
  }
  return b;
};

// Checked in this order: the first class that matches wins (metadata before link-local, and so on). BlockList
// matches IPv4-mapped IPv6 addresses (::ffff:127.0.0.1) against the IPv4 rules.
const CLASSES: ReadonlyArray<readonly [Exclude<TenantAddressClass, "public">, BlockList]> = [
  [
    "metadata",
    rules([
      ["169.254.169.254", 32, "ipv4"], // AWS, GCP, Azure, OpenStack
      ["169.254.170.2", 32, "ipv4"], // AWS ECS task metadata
      ["100.100.100.200", 32, "ipv4"], // Alibaba Cloud
      ["192.0.0.192", 32, "ipv4"], // Oracle Cloud
      ["fd00:ec2::254", 128, "ipv6"], // AWS over IPv6
    ]),
  ],
  [
    "unspecified",
    rules([
      ["0.0.0.0", 8, "ipv4"],
      ["::", 128, "ipv6"],
    ]),
  ],
  [
    "loopback",
    rules([
      ["127.0.0.0", 8, "ipv4"],
      ["::1", 128, "ipv6"],
    ]),
  ],
  [
    "link_local",
    rules([
      ["169.254.0.0", 16, "ipv4"],
      ["fe80::", 10, "ipv6"],
    ]),
  ],
  [
    "private",
    rules([
      ["10.0.0.0", 8, "ipv4"],
      ["172.16.0.0", 12, "ipv4"],
      ["192.168.0.0", 16, "ipv4"],
      ["100.64.0.0", 10, "ipv4"],
      ["fc00::", 7, "ipv6"],
    ]),
  ],
  [
    "reserved",
    rules([
      ["224.0.0.0", 4, "ipv4"], // multicast
      ["240.0.0.0", 4, "ipv4"], // reserved, broadcast
      ["ff00::", 8, "ipv6"], // multicast
      ["::", 96, "ipv6"], // IPv4-compatible (deprecated)
    ]),
  ],
];

const NAT64 = rules([["64:ff9b::", 96, "ipv6"]]);

/** Names that are an address class by themselves (RFC 6761 `localhost`, cloud metadata names). */
function classOfName(host: string): TenantAddressClass | undefined {
  if (host === "localhost" || host.endsWith(".localhost")) return "loopback";
  if (
    ["metadata.google.internal", "metadata.goog", "metadata", "instance-data", "instance-data.ec2.internal"].includes(
      host,
    )
  )
    return "metadata";
  return undefined;
}

/** The last 32 bits of an IPv6 address as a dotted quad. */
function embeddedIpv4(ip: string): string | undefined {
  const m = /:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(ip);
  if (!m) return /(\d+\.\d+\.\d+\.\d+)$/.exec(ip)?.[1];
  const hi = Number.parseInt(m[1] as string, 16);
  const lo = Number.parseInt(m[2] as string, 16);
  return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
}

/**
 * The class of an IP address (v4 or v6, without brackets); `undefined` when `ip` is not an IP address. NAT64
 * addresses (64:ff9b::/96) are classed by the IPv4 address they embed.
 * @internal
 */
export function classifyAddress(ip: string): TenantAddressClass | undefined {
  const family = isIP(ip);
  if (family === 0) return undefined;
  const type = family === 4 ? "ipv4" : "ipv6";
  if (type === "ipv6" && NAT64.check(ip, "ipv6")) {
    const v4 = embeddedIpv4(ip);
    if (v4 && isIP(v4) === 4) return classifyAddress(v4);
  }
  for (const [cls, list] of CLASSES) if (list.check(ip, type)) return cls;
  return "public";
}

const OPTION: Partial<Record<TenantAddressClass, keyof TenantNetworkOptions>> = {
  loopback: "allowLoopback",
  private: "allowPrivate",
  link_local: "allowLinkLocal",
};

const LABEL: Record<Exclude<TenantAddressClass, "public">, string> = {
  loopback: "a loopback address",
  private: "a private-network address",
  link_local: "a link-local address",
  metadata: "a cloud metadata endpoint",
  unspecified: "an unspecified address",
  reserved: "a reserved or multicast address",
};

function allowed(cls: TenantAddressClass, policy: TenantNetworkOptions): boolean {
  if (cls === "public") return true;
  const opt = OPTION[cls];
  return opt !== undefined && policy[opt] === true;
}

function refusal(
  cls: Exclude<TenantAddressClass, "public">,
  host: string,
  what: string,
  resolvedFrom?: string,
): QadTenantUrlError {
  const opt = OPTION[cls];
  const where = resolvedFrom === undefined ? `host ${host}` : `host ${resolvedFrom} resolves to ${host}, which`;
  const fix = opt ? ` (set network.${opt}: true to accept it)` : "; no option accepts it";
  return new QadTenantUrlError(cls, host, `${what} ${where} is ${LABEL[cls]}${fix}`);
}

/** Host without IPv6 brackets and without a trailing dot, lower-cased. */
function bare(hostname: string): string {
  return hostname
    .replace(/^\[|\]$/g, "")
    .replace(/\.$/, "")
    .toLowerCase();
}

/**
 * Checks the host of a parsed URL (`URL.hostname`: numeric IPv4 forms already normalised to dotted quads, IDN
 * already in punycode) against the policy.
 * @throws {QadTenantUrlError} naming the host and the option that would accept it.
 * @internal
 */
export function checkUrlHost(url: URL, policy: TenantNetworkOptions, what = "tenantUrl"): void {
  const host = bare(url.hostname);
  const cls = classifyAddress(host) ?? classOfName(host);
  if (cls !== undefined && !allowed(cls, policy)) {
    throw refusal(cls as Exclude<TenantAddressClass, "public">, host, what);
  }
  if (isIP(host) === 0 && policy.allowIdn !== true && host.split(".").some((l) => l.startsWith("xn--"))) {
    throw new QadTenantUrlError(
      "idn",
      host,
      `${what} host ${host} is an internationalised name, shown as "${domainToUnicode(host)}": check it is the ` +
        "host you mean (look-alike letters), then set network.allowIdn: true to accept it",
    );
  }
}

/**
 * Checks one address a host name resolved to at connect time.
 * @returns the refusal, or `undefined` when the address may be connected to.
 * @internal
 */
export function checkResolvedAddress(
  hostname: string,
  address: string,
  policy: TenantNetworkOptions,
): QadTenantUrlError | undefined {
  const cls = classifyAddress(bare(address));
  if (cls === undefined || allowed(cls, policy)) return undefined;
  return refusal(cls as Exclude<TenantAddressClass, "public">, bare(address), "connection refused:", bare(hostname));
}

/** The policy refusal somewhere in an error's cause chain (fetch wraps connect errors in a TypeError). @internal */
export function findTenantRefusal(e: unknown): QadTenantUrlError | undefined {
  let cur: unknown = e;
  for (let i = 0; i < 8 && typeof cur === "object" && cur !== null; i++) {
    if (cur instanceof QadTenantUrlError) return cur;
    cur = (cur as { cause?: unknown }).cause;
  }
  return undefined;
}
