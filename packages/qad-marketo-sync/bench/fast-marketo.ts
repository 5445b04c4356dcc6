// A minimal loopback Marketo stand-in for the throughput benchmark at 100k records. The Marketo simulator of
// @ml/marketo-client finds a record's dedupe key by scanning every stored record (O(n) per record), so a 100k sync
// against it is bound by the simulator, not by the quota. This stand-in keeps the parts that matter for the figure
// (token, envelope, per-record results, 100 calls per window and 10 concurrent calls enforced with 606/615, a fixed
// processing latency) and dedupes in O(1). It serves companies, named accounts and leads.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface FastMarketo {
  url: string;
  clientOptions: {
    baseUrls: { rest: string; identity: string; bulk: string };
    clientId: string;
    clientSecret: string;
    limits: { callsPerWindow: number; windowMs: number; maxConcurrent: number; dailyQuota: number };
    retry: { baseDelayMs: number; maxDelayMs: number };
  };
  stats(): {
    calls: number;
    writeCalls: number;
    violations606: number;
    violations615: number;
    peakConcurrent: number;
    companies: number;
    namedAccounts: number;
    duplicates: number;
    callTimes: number[];
  };
  close(): Promise<void>;
}

export async function startFastMarketo(opts: { windowMs: number; latencyMs: number }): Promise<FastMarketo> {
  const companies = new Map<string, number>();
  const named = new Map<string, string>();
  const leads = new Map<string, number>();
  const arrivals: number[] = [];
  const callTimes: number[] = [];
  const leadCalls: number[] = [];
  let calls = 0;
  let writeCalls = 0;
  let inFlight = 0;
  let peak = 0;
  let v606 = 0;
  let v615 = 0;
  const dup = 0;
  let nextId = 1;
  const send = (res: ServerResponse, body: unknown) => {
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify(body));
  };
  const ok = (result: unknown[]) => ({ requestId: `r${calls}`, success: true, errors: [], warnings: [], result });
  const fields = (names: string[]) => [
    {
      idField: "id",
      dedupeFields: [names[0]],
      fields: names.map((name) => ({ name, dataType: "string", length: 255, updateable: true })),
    },
  ];

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? "/", "http://x");
    let raw = "";
    for await (const chunk of req) raw += chunk;
    if (url.pathname.startsWith("/identity/oauth/token")) {
      return send(res, { access_token: "t", token_type: "bearer", expires_in: 3599, scope: "x" });
    }
    const now = Date.now();
    calls++;
    callTimes.push(now);
    while (arrivals.length > 0 && arrivals[0]! <= now - opts.windowMs) arrivals.shift();
    if (arrivals.length >= 100) {
      v606++;
      return send(res, {
        requestId: "x",
        success: false,
        errors: [{ code: "606", message: "Max rate limit '100' exceeded with in '20' secs" }],
      });
    }
    if (inFlight >= 10) {
      v615++;
      return send(res, {
        requestId: "x",
        success: false,
        errors: [{ code: "615", message: "Concurrent access limit '10' reached" }],
      });
    }
    arrivals.push(now);
    inFlight++;
    peak = Math.max(peak, inFlight);
    try {
      await new Promise((r) => setTimeout(r, opts.latencyMs));
      const p = url.pathname;
      if (p.endsWith("/stats/usage.json"))
        return send(res, ok([{ date: new Date().toISOString().slice(0, 10), total: calls, users: [] }]));
      if (p.endsWith("/companies/describe.json"))
        return send(
          res,
          ok(
            fields([
              "externalCompanyId",
              "company",
              "website",
              "mainPhone",
              "billingStreet",
              "billingCity",
              "billingState",
              "billingCountry",
              "billingPostalCode",
              "industry",
            ]),
          ),
        );
      if (p.endsWith("/namedaccounts/describe.json"))
        return send(res, ok(fields(["name", "domainName", "city", "country", "industry"])));
      if (p.endsWith("/salespersons/describe.json") || p.endsWith("/opportunities/describe.json"))
        return send(res, ok(fields(["externalId", "name"])));
      if (p.endsWith("/leads/describe.json")) {
        const names = ["email", "firstName", "lastName", "phone", "title", "company", "externalCompanyId"];
        return send(
          res,
          ok(
            names.map((name, i) => ({ id: i + 1, displayName: name, dataType: "string", length: 255, rest: { name } })),
          ),
        );
      }
      if (req.method === "POST" && p.endsWith("/leads.json")) {
        writeCalls++;
        const body = JSON.parse(raw) as { input: Record<string, unknown>[] };
        leadCalls.push(body.input.length);
        const result = body.input.map((r, seq) => {
          const k = String(r.email).trim().toLowerCase();
          const id = leads.get(k);
          if (id !== undefined) return { seq, id, status: "updated" };
          leads.set(k, nextId);
          return { seq, id: nextId++, status: "created" };
        });
        return send(res, ok(result));
      }
      if (req.method === "POST" && (p.endsWith("/companies.json") || p.endsWith("/namedaccounts.json"))) {
        writeCalls++;
        const body = JSON.parse(raw) as { input: Record<string, unknown>[] };
        const isCompany = p.endsWith("/companies.json");
        const result = body.input.map((r, seq) => {
          if (isCompany) {
            const k = String(r.externalCompanyId).trim().toLowerCase();
            const id = companies.get(k);
            if (id !== undefined) return { seq, id, status: "updated" };
            companies.set(k, nextId);
            return { seq, id: nextId++, status: "created" };
          }
          const k = String(r.name).trim().toLowerCase();
          const g = named.get(k);
          if (g !== undefined) return { seq, marketoGUID: g, status: "updated" };
          const guid = `g-${nextId++}`;
          named.set(k, guid);
          return { seq, marketoGUID: guid, status: "created" };
        });
        return send(res, ok(result));
      }
      res.writeHead(404);
      res.end("not found");
    } finally {
      inFlight--;
    }
  };

  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      res.writeHead(500);
      res.end();
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    clientOptions: {
      baseUrls: { rest: `${url}/rest`, identity: `${url}/identity`, bulk: `${url}/bulk` },
      clientId: "bench",
      clientSecret: "bench-secret",
      limits: { callsPerWindow: 100, windowMs: opts.windowMs, maxConcurrent: 5, dailyQuota: 50_000 },
      retry: { baseDelayMs: 20, maxDelayMs: 500 },
    },
    stats: () => ({
      calls,
      writeCalls,
      violations606: v606,
      violations615: v615,
      peakConcurrent: peak,
      companies: companies.size,
      namedAccounts: named.size,
      leads: leads.size,
      leadCalls,
      duplicates: dup,
      callTimes,
    }),
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
