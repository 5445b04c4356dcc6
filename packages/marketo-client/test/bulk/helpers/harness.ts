/**
 * Test harness for the bulk extract: a SimContext over in-memory data with a scaled clock, a loopback HTTP server that
 * adapts requests to the bulk simulator's handle(), and a minimal BulkTransport over fetch. Used until (and besides)
 * the full Marketo simulator server.
 */
import { once } from "node:events";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import {
  BulkApi,
  type BulkApiDependencies,
  type BulkTransport,
  type BulkTransportRequest,
} from "../../../src/bulk/index.js";
import { MarketoHttpError, MarketoInvalidRequestError } from "../../../src/errors.js";
import { type BulkSimulator, type BulkSimulatorOptions, createBulkSimulator } from "../../../src/testing/bulk/index.js";
import type { SimActivity, SimContext, SimResponse } from "../../../src/testing/context.js";

export interface Fixture {
  leads?: Record<string, unknown>[];
  activities?: SimActivity[];
  leadFields?: { name: string; dataType: string }[];
  /** Sim ms per real ms inverse: 0.001 makes a simulated minute last 60 real ms. */
  timeScale?: number;
  options?: BulkSimulatorOptions;
  /**
   * The real-ms clock the simulated clock is derived from (default `performance.now()`). Pass a manual clock (and a
   * sleep that advances it, through `deps.sleep`) to run a test without waiting in real time.
   */
  clock?: { now(): number };
}

export interface Harness {
  url: string;
  sim: BulkSimulator;
  ctx: SimContext;
  transport: BulkTransport;
  bulk: BulkApi;
  /** Headers of every request the server received, in order. */
  seen: { path: string; range: string | undefined; authorization: string | undefined }[];
  /** Makes another BulkApi on the same server (e.g. another API user, other deps). */
  api(deps?: BulkApiDependencies, token?: string): BulkApi;
  close(): Promise<void>;
}

/** A scaled sleep: waits `ms * timeScale` real ms, so client timing follows the simulator's clock. */
export function scaledSleep(timeScale: number) {
  return (ms: number, signal?: AbortSignal) =>
    new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const t = setTimeout(resolve, Math.max(0, ms * timeScale));
      signal?.addEventListener(
        "abort",
        () => {
          clearTimeout(t);
          reject(signal.reason);
        },
        { once: true },
      );
    });
}

function makeContext(f: Fixture): SimContext {
  const timeScale = f.timeScale ?? 0.001;
  const real = f.clock ?? { now: () => performance.now() };
  const t0 = real.now();
  const epoch = Date.UTC(2026, 5, 1, 12);
  let seed = 42;
  return {
    now: () => epoch + (real.now() - t0) / timeScale,
    timeScale,
    random: () => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed / 2147483648;
    },
    leads: () => f.leads ?? [],
    leadFields: () => f.leadFields ?? [],
    activities: () => f.activities ?? [],
    envelopeError: (code, message) => ({
      status: 200,
      body: { requestId: `err#${code}`, success: false, errors: [{ code, message }] },
    }),
  };
}

async function readBody(req: IncomingMessage): Promise<unknown> {
  const parts: Buffer[] = [];
  for await (const c of req) parts.push(c as Buffer);
  if (parts.length === 0) return undefined;
  const text = Buffer.concat(parts).toString("utf8");
  return text === "" ? undefined : JSON.parse(text);
}

async function send(res: import("node:http").ServerResponse, out: SimResponse): Promise<void> {
  const headers = { ...out.headers };
  const body = out.body;
  if (body instanceof Readable) {
    res.writeHead(out.status, headers);
    // A failing body stream (the drop fault) destroys the socket mid-body.
    await pipeline(body, res).catch(() => res.destroy());
    return;
  }
  if (typeof body === "string" || Buffer.isBuffer(body)) {
    res.writeHead(out.status, headers);
    res.end(body);
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(out.status, { "content-type": "application/json", ...headers });
  res.end(text);
}

/** Minimal transport over fetch: envelope failures become typed MarketoErrors; raw() hands back 200/206. */
export function fetchTransport(baseUrl: string, token = "token-A"): BulkTransport {
  return {
    async request<T>(req: BulkTransportRequest) {
      const qs = new URLSearchParams();
      for (const [k, v] of Object.entries(req.query ?? {})) if (v !== undefined) qs.set(k, String(v));
      const query = qs.size > 0 ? `?${qs}` : "";
      const res = await fetch(`${baseUrl}${req.path}${query}`, {
        method: req.method,
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json", ...req.headers },
        ...(req.body !== undefined ? { body: JSON.stringify(req.body) } : {}),
        ...(req.signal ? { signal: req.signal } : {}),
      });
      const env = (await res.json()) as {
        success: boolean;
        requestId?: string;
        nextPageToken?: string;
        result?: T[];
        errors?: { code: string; message: string }[];
      };
      if (!env.success) {
        const first = env.errors?.[0] ?? { code: "UNKNOWN", message: "" };
        throw new MarketoInvalidRequestError(`Marketo error ${first.code}: ${first.message}`, {
          code: String(first.code),
          requestId: env.requestId,
          errors: env.errors ?? [],
        });
      }
      return env;
    },
    async raw(req: BulkTransportRequest) {
      const res = await fetch(`${baseUrl}${req.path}`, {
        method: req.method,
        headers: { authorization: `Bearer ${token}`, ...req.headers },
        ...(req.signal ? { signal: req.signal } : {}),
      });
      if (res.status !== 200 && res.status !== 206) {
        const text = await res.text();
        throw new MarketoHttpError(`HTTP ${res.status}`, {
          code: `HTTP_${res.status}`,
          status: res.status,
          bodySnippet: text,
        });
      }
      return res;
    },
  };
}

export const quietLogger = { debug() {}, info() {}, warn() {}, error() {} };

/** Starts the bulk simulator behind a loopback HTTP server. */
export async function startHarness(f: Fixture = {}, deps: BulkApiDependencies = {}): Promise<Harness> {
  const ctx = makeContext(f);
  const sim = createBulkSimulator(ctx, f.options);
  const seen: Harness["seen"] = [];
  const server: Server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? "/", "http://127.0.0.1");
      seen.push({ path: url.pathname, range: req.headers.range, authorization: req.headers.authorization });
      const out = await sim.handle({
        method: (req.method ?? "GET").toUpperCase(),
        path: url.pathname,
        query: url.searchParams,
        headers: req.headers as Record<string, string | undefined>,
        body: await readBody(req),
      });
      await send(res, out ?? { status: 404, body: "no handler" });
    })().catch((err) => {
      res.destroy(err as Error);
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}/bulk`;
  const timeScale = ctx.timeScale;
  const api = (more: BulkApiDependencies = {}, token?: string) =>
    new BulkApi(fetchTransport(url, token), {
      sleep: scaledSleep(timeScale),
      clock: { now: () => ctx.now() },
      logger: quietLogger,
      describeLeadFields: async () =>
        ctx
          .leadFields()
          .map((x, i) => ({ id: i + 1, displayName: x.name, dataType: x.dataType, rest: { name: x.name } })),
      ...deps,
      ...more,
    });
  const transport = fetchTransport(url);
  return {
    url,
    sim,
    ctx,
    transport,
    bulk: api(),
    seen,
    api,
    close: async () => {
      server.closeAllConnections();
      server.close();
      await once(server, "close").catch(() => {});
    },
  };
}

/** Collects every row of an async iterable (the shared helper, re-exported for the bulk suites). */
export { collect } from "@ml/http-kernel/testing";
