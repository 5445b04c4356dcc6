/**
 * A loopback proxy in front of a simulator that can answer any request the way a hostile or careless server would:
 * echo the request's token or body back in an error, redirect to another origin, send malformed JSON or a body far
 * over any limit, or rewrite the simulator's real answer. Requests no rule takes are forwarded unchanged.
 */
import { once } from "node:events";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** A request as the proxy saw it. */
export interface ProxiedRequest {
  method: string;
  /** Path and query. */
  url: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  /** The bearer token sent, without the scheme (empty when none). */
  token: string;
}

/** What a rule answers instead of forwarding. */
export type ProxyAction =
  | { status: number; body: string; contentType?: string; headers?: Record<string, string> }
  | { redirect: string; status: number }
  | { huge: string; bytes: number }
  | { rewrite: (upstream: { status: number; body: string }) => { status: number; body: string } };

/** A rule: an action for this request, or `undefined` to forward it. */
export type ProxyRule = (req: ProxiedRequest) => ProxyAction | undefined;

/** A running proxy. */
export interface SecretsProxy {
  readonly origin: string;
  /** Requests seen. */
  readonly seen: ProxiedRequest[];
  /** Requests a rule answered. */
  hits: number;
  /** Sets the rule (`undefined`: forward everything). */
  rule(rule: ProxyRule | undefined): void;
  close(): Promise<void>;
}

/** Starts a proxy forwarding to `upstream` (an origin, `http://127.0.0.1:<port>`). */
export async function startProxy(upstream: string): Promise<SecretsProxy> {
  let current: ProxyRule | undefined;
  const seen: ProxiedRequest[] = [];
  const state = { hits: 0 };
  const server: Server = createServer((req, res) => {
    handle(req, res).catch(() => res.destroy());
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    res.on("error", () => {});
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const auth = String(req.headers.authorization ?? "");
    const entry: ProxiedRequest = {
      method: req.method ?? "GET",
      url: req.url ?? "/",
      headers: { ...req.headers },
      body: Buffer.concat(chunks).toString("utf8"),
      token: auth.replace(/^Bearer\s+/i, ""),
    };
    seen.push(entry);
    const action = current?.(entry);
    if (action && !("rewrite" in action)) {
      state.hits++;
      if ("redirect" in action) {
        res.writeHead(action.status, { location: action.redirect, "content-length": "0" });
        res.end();
      } else if ("huge" in action) {
        res.writeHead(500, { "content-type": "text/plain" });
        res.write(action.huge);
        const block = Buffer.alloc(64 * 1024, 0x78);
        let left = action.bytes;
        const pump = () => {
          while (left > 0) {
            left -= block.length;
            if (!res.write(block)) {
              res.once("drain", pump);
              return;
            }
          }
          res.end();
        };
        res.on("close", () => {
          left = 0;
        });
        pump();
      } else {
        res.writeHead(action.status, {
          "content-type": action.contentType ?? "application/json",
          ...(action.headers ?? {}),
        });
        res.end(action.body);
      }
      return;
    }
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) {
      if (typeof v === "string" && !["host", "connection", "content-length", "accept-encoding"].includes(k)) {
        headers[k] = v;
      }
    }
    const up = await fetch(`${upstream}${entry.url}`, {
      method: entry.method,
      headers,
      redirect: "manual",
      ...(entry.method === "GET" || entry.method === "HEAD" ? {} : { body: entry.body }),
    });
    let status = up.status;
    let body = await up.text();
    if (action && "rewrite" in action) {
      state.hits++;
      ({ status, body } = action.rewrite({ status, body }));
    }
    const out: Record<string, string> = {};
    up.headers.forEach((v, k) => {
      if (!["content-length", "content-encoding", "transfer-encoding", "connection", "keep-alive"].includes(k)) {
        out[k] = v;
      }
    });
    res.writeHead(status, out);
    res.end(body);
  }

  server.keepAliveTimeout = 1;
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    seen,
    get hits() {
      return state.hits;
    },
    set hits(n: number) {
      state.hits = n;
    },
    rule(r) {
      current = r;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A loopback server that records what reaches it (the "other origin" of redirects) and answers 200 `{}`. */
export async function startAttacker(): Promise<{ origin: string; seen: ProxiedRequest[]; close(): Promise<void> }> {
  const seen: ProxiedRequest[] = [];
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    seen.push({
      method: req.method ?? "",
      url: req.url ?? "",
      headers: { ...req.headers },
      body: Buffer.concat(chunks).toString("utf8"),
      token: String(req.headers.authorization ?? ""),
    });
    res.writeHead(200, { "content-type": "application/json" });
    res.end('{"success":true,"result":[{"id":666,"status":"created"}],"access_token":"x","expires_in":3600}');
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    seen,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
