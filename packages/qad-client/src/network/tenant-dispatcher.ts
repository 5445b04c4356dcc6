/**
 * The connect-time half of the tenant network policy: an undici dispatcher whose connector refuses a refused
 * address before any socket is opened, whether the URL named it directly (a redirect to an IP literal) or a name
 * resolved to it (DNS pointing at, or re-bound to, 127.0.0.1 or 169.254.169.254).
 *
 * @module
 */
import { lookup as dnsLookup, type LookupAddress, type LookupAllOptions, type LookupOneOptions } from "node:dns";
import { isIP, type LookupFunction } from "node:net";
import { Agent, buildConnector, type Dispatcher } from "undici";
import type { FetchLike } from "../internal/deps.js";
import { checkResolvedAddress, type TenantNetworkOptions } from "./tenant-policy.js";

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/** A `dns.lookup`-compatible function that fails when any address of the name is refused by the policy. */
function guardedLookup(policy: TenantNetworkOptions): LookupFunction {
  const lookup = policy.lookup ?? (dnsLookup as unknown as LookupFunction);
  return ((hostname: string, options: LookupOneOptions | LookupAllOptions, callback: LookupCallback) => {
    const wantAll = (options as LookupAllOptions).all === true;
    lookup(
      hostname,
      { ...options, all: true } as LookupAllOptions,
      ((err: NodeJS.ErrnoException | null, addresses: LookupAddress[] | string) => {
        if (err) return callback(err, wantAll ? [] : "");
        const list = Array.isArray(addresses) ? addresses : [{ address: addresses, family: isIP(addresses) }];
        // Every address counts: a name with one public and one refused address could be connected to either.
        for (const a of list) {
          const refused = checkResolvedAddress(hostname, a.address, policy);
          if (refused) return callback(refused as unknown as NodeJS.ErrnoException, wantAll ? [] : "");
        }
        if (wantAll) return callback(null, list);
        const first = list[0];
        if (!first) return callback(Object.assign(new Error(`no address for ${hostname}`), { code: "ENOTFOUND" }), "");
        return callback(null, first.address, first.family);
      }) as never,
    );
  }) as LookupFunction;
}

/**
 * An undici dispatcher that applies the policy to every connection: IP-literal hosts are checked before connecting,
 * names through a lookup that refuses disallowed addresses. One per client (it keeps its own connection pool).
 * @internal
 */
export function createTenantDispatcher(policy: TenantNetworkOptions): Dispatcher {
  const connect = buildConnector({ lookup: guardedLookup(policy) } as buildConnector.BuildOptions);
  return new Agent({
    connect: (opts, callback) => {
      if (isIP(opts.hostname.replace(/^\[|\]$/g, "")) !== 0) {
        const refused = checkResolvedAddress(opts.hostname, opts.hostname, policy);
        if (refused) {
          callback(refused, null);
          return;
        }
      }
      connect(opts, callback);
    },
  });
}

/**
 * `fetch` with the dispatcher added to every call's init (the global fetch and undici's honour it; a fake fetch
 * ignores it).
 * @internal
 */
export function fetchThrough(fetch: FetchLike, dispatcher: Dispatcher | undefined): FetchLike {
  if (!dispatcher) return fetch;
  return (input, init) => fetch(input, { ...init, dispatcher } as RequestInit);
}
