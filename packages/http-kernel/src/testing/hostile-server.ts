/**
 * Loopback `node:http` servers that behave like a hostile or broken network peer, for the hostile-server suites of
 * both clients. Test-only: never bundled into a client's `dist` (the clients import it from their tests alone).
 */
import { once } from "node:events";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { gzipSync } from "node:zlib";

/** One request a server received, with its headers and body as sent. */
export interface SeenRequest {
  /** HTTP method. */
  method: string;
  /** Path and query. */
  url: string;
  /** Headers, lower-cased names. */
  headers: Record<string, string | string[] | undefined>;
  /** The request body as text. */
  body: string;
}

/** A handler: answers one request (the body already read into `seen.body`). */
export type HostileHandler = (req: IncomingMessage, res: ServerResponse, seen: SeenRequest) => void | Promise<void>;

/** A running loopback server. */
export interface HostileServer {
  /** `http://127.0.0.1:<port>`. */
  readonly origin: string;
  /** Every request received so far. */
  readonly seen: SeenRequest[];
  /** Replaces the handler. */
  handle(handler: HostileHandler): void;
  /** Closes the server and every open connection. */
  close(): Promise<void>;
}

/** Starts a loopback server answering with `handler` (404 until one is set). */
export async function startHostileServer(handler?: HostileHandler): Promise<HostileServer> {
  let current: HostileHandler | undefined = handler;
  const seen: SeenRequest[] = [];
  const server: Server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const entry: SeenRequest = {
      method: req.method ?? "",
      url: req.url ?? "",
      headers: { ...req.headers },
      body: Buffer.concat(chunks).toString("utf8"),
    };
    seen.push(entry);
    res.on("error", () => {});
    if (!current) {
      res.writeHead(404).end();
      return;
    }
    try {
      await current(req, res, entry);
    } catch {
      res.destroy();
    }
  });
  server.keepAliveTimeout = 1;
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    seen,
    handle(h) {
      current = h;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Answers with a redirect to `location`. */
export function redirectTo(status: number, location: string): HostileHandler {
  return (_req, res) => {
    res.writeHead(status, { location, "content-type": "application/json" }).end('{"success":true,"result":[]}');
  };
}

/** Sends headers, then one byte every `everyMs` ms, forever (until the client goes away). */
export function trickle(everyMs: number, contentType = "application/json"): HostileHandler {
  return (_req, res) => {
    res.writeHead(200, { "content-type": contentType });
    res.write("{");
    const t = setInterval(() => {
      if (res.destroyed || res.writableEnded) clearInterval(t);
      else res.write(" ");
    }, everyMs);
    res.on("close", () => clearInterval(t));
  };
}

/** Sends headers, then nothing. */
export function silentAfterHeaders(contentType = "application/json"): HostileHandler {
  return (_req, res) => {
    res.writeHead(200, { "content-type": contentType });
    res.flushHeaders();
  };
}

/** Streams `totalBytes` of JSON-looking filler (or endlessly when `Infinity`), as fast as the client reads. */
export function hugeBody(totalBytes: number, options: { declareLength?: boolean } = {}): HostileHandler {
  return (_req, res) => {
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (options.declareLength && Number.isFinite(totalBytes)) headers["content-length"] = String(totalBytes);
    res.writeHead(200, headers);
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    let sent = 0;
    const pump = () => {
      while (sent < totalBytes && !res.destroyed) {
        const n = Math.min(chunk.length, totalBytes - sent);
        sent += n;
        if (!res.write(n === chunk.length ? chunk : chunk.subarray(0, n))) {
          res.once("drain", pump);
          return;
        }
      }
      if (!res.destroyed) res.end();
    };
    pump();
  };
}

/**
 * A gzip bomb: `decodedBytes` of spaces as `Content-Encoding: gzip`, sent as repeated gzip members of 1 MiB each
 * (about 1 KiB compressed: roughly 1,000:1), so the server spends nothing on compression.
 */
export function gzipBomb(decodedBytes: number): HostileHandler {
  const member = gzipSync(Buffer.alloc(1024 * 1024, 0x20), { level: 9 });
  return (_req, res) => {
    res.writeHead(200, { "content-type": "application/json", "content-encoding": "gzip" });
    let sent = 0;
    const pump = () => {
      while (sent < decodedBytes && !res.destroyed) {
        sent += 1024 * 1024;
        if (!res.write(member)) {
          res.once("drain", pump);
          return;
        }
      }
      if (!res.destroyed) res.end();
    };
    pump();
  };
}

/** Answers with a header of `bytes` bytes (over undici's 16 KiB limit by default). */
export function hugeHeaders(bytes = 64 * 1024): HostileHandler {
  return (_req, res) => {
    res.writeHead(200, { "content-type": "application/json", "x-filler": "a".repeat(bytes) }).end("{}");
  };
}

/** Answers `status` with `body` and `contentType`. */
export function answer(status: number, body: string, contentType = "application/json"): HostileHandler {
  return (_req, res) => {
    res.writeHead(status, { "content-type": contentType }).end(body);
  };
}

/** Peak RSS sampled every 5 ms while `run` runs, in bytes, and what `run` settled with. */
export async function peakRss<T>(
  run: () => Promise<T>,
): Promise<{ peak: number; baseline: number; result: PromiseSettledResult<T> }> {
  const baseline = process.memoryUsage().rss;
  let peak = baseline;
  const t = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 5);
  const [result] = await Promise.allSettled([run()]);
  clearInterval(t);
  peak = Math.max(peak, process.memoryUsage().rss);
  return { peak, baseline, result };
}

/** Whether long hostile variants run (`ML_HOSTILE_LONG=1`): 200 MB+ bodies, GB bombs, long trickles. */
export const LONG_HOSTILE = process.env.ML_HOSTILE_LONG === "1";
