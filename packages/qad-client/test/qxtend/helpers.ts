import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { QxtendDeps, QxtendOptions } from "../../src/qxtend/index.js";
import type { Customer } from "../../src/records/customer.js";
import { createQxtendHandler, type QxtendHandler, type QxtendSimOptions } from "../../src/testing/qxtend/index.js";

/** Deterministic PRNG (mulberry32) so data and jitter are reproducible. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A tiny structural store: what the QXtend face needs from QadSimStore. */
export class MemoryStore {
  rows: Customer[];
  constructor(rows: Customer[]) {
    this.rows = rows;
  }
  customers(): readonly unknown[] {
    return [...this.rows].sort((a, b) =>
      `${a.sharedSetCode}\u0000${a.customerCode}` < `${b.sharedSetCode}\u0000${b.customerCode}` ? -1 : 1,
    );
  }
  now(): Date {
    return new Date("2026-11-27T00:00:00Z");
  }
}

/** `n` canonical customers over 60 days of 2026, some with contacts, some inactive. */
export function makeCustomers(n: number, seed = 1, sharedSetCode = "SET1"): Customer[] {
  const rnd = seeded(seed);
  const out: Customer[] = [];
  for (let i = 0; i < n; i++) {
    const day = 1 + Math.floor(rnd() * 60);
    const date = new Date(Date.UTC(2026, 0, day)).toISOString().slice(0, 10);
    const c: Customer = {
      customerCode: `C${String(i).padStart(5, "0")}`,
      sharedSetCode,
      name: `Customer ${i}`,
      address: { street1: `${i} Main St`, city: "Springfield", zipCode: `${10000 + i}`, countryCode: "US" },
      telephone: `+1 555 ${String(i).padStart(4, "0")}`,
      email: `c${i}@example.com`,
      languageCode: "us",
      isActive: i % 7 !== 0,
      customerTypeCode: i % 2 ? "DIST" : "OEM",
      currencyCode: "USD",
      creditTermsCode: "N30",
      salespersonCode: `SP${i % 5}`,
      region: i % 3 ? "EAST" : "WEST",
      contacts:
        i % 4 === 0
          ? [
              { contactCode: `K${i}`, name: `Pat ${i}`, email: `pat${i}@example.com`, isPrimary: true },
              { contactCode: `K${i}b`, name: `Sam ${i}`, title: "Buyer", isPrimary: false },
            ]
          : [],
      lastModified: { date, time: Math.floor(rnd() * 86_000) },
      custom: {},
    };
    if (i % 3 === 0) c.address.stateCode = "IL";
    out.push(c);
  }
  return out;
}

/** A loopback node:http server mounting the QXtend handler at the QXtend path. */
export async function startQxtendServer(
  store: MemoryStore,
  options: QxtendSimOptions = {},
): Promise<{ url: string; handler: QxtendHandler; close(): Promise<void>; server: Server }> {
  const handler = createQxtendHandler(store, options);
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      if (req.method !== "POST" || req.url !== "/qxi/services/QdocWebService") {
        res.writeHead(404).end();
        return;
      }
      const headers: Record<string, string | undefined> = {};
      for (const [k, v] of Object.entries(req.headers)) headers[k] = Array.isArray(v) ? v.join(", ") : v;
      handler({ headers, body: Buffer.concat(chunks).toString("utf8") }).then(
        (r) => res.writeHead(r.status, r.headers).end(r.body),
        (e: unknown) => res.writeHead(599).end(String(e)),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/qxi/services/QdocWebService`,
    handler,
    server,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Recorded log lines. */
export interface LogLine {
  level: string;
  obj: object;
  msg?: string | undefined;
}

/** Deterministic deps: real fetch over loopback, recorded sleeps, seeded random, recording logger. */
export function testDeps(seed = 7): QxtendDeps & { sleeps: number[]; logs: LogLine[]; fetchCalls: string[] } {
  const sleeps: number[] = [];
  const logs: LogLine[] = [];
  const fetchCalls: string[] = [];
  const log = (level: string) => (obj: object, msg?: string) => logs.push({ level, obj, msg });
  return {
    sleeps,
    logs,
    fetchCalls,
    fetch: (async (input: string | URL | Request, init?: RequestInit) => {
      fetchCalls.push(String(init?.body ?? ""));
      return fetch(input, init);
    }) as typeof fetch,
    clock: { now: () => 1_780_000_000_000 },
    sleep: async (ms: number) => {
      sleeps.push(ms);
    },
    random: seeded(seed),
    logger: { debug: log("debug"), info: log("info"), warn: log("warn"), error: log("error") },
  };
}

export const SIM_CREDENTIALS = { username: "mfg", password: "s3cr&t<pw>" } as const;

/** Client options matching {@link startQxtendServer} with SIM_CREDENTIALS. */
export function clientOptions(url: string, extra: Partial<QxtendOptions> = {}): QxtendOptions {
  return {
    url,
    receiver: "qad-qxtend",
    version: "eB2_1",
    domain: "10USA",
    username: SIM_CREDENTIALS.username,
    password: SIM_CREDENTIALS.password,
    sharedSetCode: "SET1",
    profiles: { customers: "Customer" },
    retry: { maxRetries: 3, baseDelayMs: 100, maxDelayMs: 1_000 },
    ...extra,
  };
}

/** Collects all pages (the shared helper, re-exported for the QXtend suites). */
export { collect } from "@ml/http-kernel/testing";
