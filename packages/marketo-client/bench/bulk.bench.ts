/**
 * Bulk extract benchmark: a synthetic export of BULK_BENCH_MB megabytes (default 1024) streamed over loopback from the
 * bulk simulator, downloaded (SHA-256 verified) and parsed with csv-parse into row objects by `BulkApi`.
 *
 * The simulator runs in a child process, so the RSS sampled here (process.memoryUsage().rss every 50 ms, max kept)
 * is the consumer's alone: the extract's download, hashing, parsing and row objects.
 *
 * Run: `pnpm --filter @ml/marketo-client exec tsx bench/bulk.bench.ts` (or through bench/run.ts via `runBulkBench`).
 * Saves bench/results/bulk.json.
 */
import { type ChildProcess, fork } from "node:child_process";
import { once } from "node:events";
import { mkdirSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { cpus, loadavg } from "node:os";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { fileURLToPath } from "node:url";
import { BulkApi, type BulkTransport, type BulkTransportRequest } from "../src/bulk/index.js";
import { MarketoHttpError, MarketoInvalidRequestError } from "../src/errors.js";
import { createBulkSimulator } from "../src/testing/bulk/index.js";
import { syntheticChunks } from "../src/testing/bulk/synthetic.js";
import type { SimContext } from "../src/testing/context.js";

/** Lead columns of the synthetic file: a typical mid-size field list. */
const FIELDS = [
  "id",
  "email",
  "firstName",
  "lastName",
  "company",
  "title",
  "phone",
  "address",
  "city",
  "state",
  "postalCode",
  "country",
  "leadSource",
  "leadStatus",
  "externalCompanyId",
  "notes",
  "createdAt",
  "updatedAt",
];
const TIME_SCALE = 0.0005; // one simulated minute = 30 real ms

/** Rows needed for `mb` MiB, measured on a sample of the generator itself. */
function rowsFor(mb: number): number {
  const sample = 20_000;
  let bytes = 0;
  let header = 0;
  let first = true;
  for (const chunk of syntheticChunks({
    kind: "synthetic",
    columns: FIELDS,
    headers: FIELDS,
    delimiter: ",",
    rows: sample,
    nulBytes: false,
  })) {
    if (first) header = chunk.length;
    else bytes += chunk.length;
    first = false;
  }
  return Math.max(1, Math.round((mb * 1024 * 1024 - header) / (bytes / sample)));
}

/** Child process: the simulator behind a loopback server. Sends its port and the row count to the parent. */
async function serve(mb: number): Promise<void> {
  // Sized here, so the sampling garbage stays out of the consumer's memory.
  const rows = rowsFor(mb);
  const t0 = performance.now();
  const ctx: SimContext = {
    now: () => Date.UTC(2026, 5, 1) + (performance.now() - t0) / TIME_SCALE,
    timeScale: TIME_SCALE,
    random: Math.random,
    leads: () => [],
    leadFields: () => FIELDS.map((name) => ({ name, dataType: "string" })),
    activities: () => [],
    envelopeError: (code, message) => ({
      status: 200,
      body: { requestId: "e", success: false, errors: [{ code, message }] },
    }),
  };
  const sim = createBulkSimulator(ctx, { synthetic: { leads: { rows } }, dailyQuotaBytes: 1e12 });
  const server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? "/", "http://127.0.0.1");
      const parts: Buffer[] = [];
      for await (const c of req) parts.push(c as Buffer);
      const text = Buffer.concat(parts).toString("utf8");
      const out = await sim.handle({
        method: req.method ?? "GET",
        path: url.pathname,
        query: url.searchParams,
        headers: req.headers as Record<string, string | undefined>,
        body: text ? JSON.parse(text) : undefined,
      });
      if (!out) {
        res.writeHead(404).end();
        return;
      }
      if (out.body instanceof Readable) {
        res.writeHead(out.status, out.headers);
        await pipeline(out.body, res).catch(() => res.destroy());
      } else if (typeof out.body === "string") {
        res.writeHead(out.status, out.headers).end(out.body);
      } else {
        res.writeHead(out.status, { "content-type": "application/json", ...out.headers }).end(JSON.stringify(out.body));
      }
    })();
  });
  server.listen(0, "127.0.0.1", () => {
    process.send?.({ port: (server.address() as AddressInfo).port, rows });
  });
}

/** The transport the benchmark uses: plain fetch to loopback (no limiter/auth: the simulator here needs none). */
function loopbackTransport(base: string): BulkTransport {
  return {
    async request<T>(req: BulkTransportRequest) {
      const res = await fetch(`${base}${req.path}`, {
        method: req.method,
        headers: { "content-type": "application/json" },
        ...(req.body !== undefined ? { body: JSON.stringify(req.body) } : {}),
      });
      const env = (await res.json()) as {
        success: boolean;
        result?: T[];
        errors?: { code: string; message: string }[];
      };
      if (!env.success) {
        const e = env.errors?.[0] ?? { code: "?", message: "?" };
        throw new MarketoInvalidRequestError(e.message, { code: String(e.code), errors: env.errors ?? [] });
      }
      return env;
    },
    async raw(req: BulkTransportRequest) {
      const res = await fetch(`${base}${req.path}`, {
        method: req.method,
        ...(req.headers ? { headers: req.headers } : {}),
      });
      if (res.status !== 200 && res.status !== 206) {
        throw new MarketoHttpError(`HTTP ${res.status}`, { code: `HTTP_${res.status}`, status: res.status });
      }
      return res;
    },
  };
}

/** Figures the benchmark reports. */
export interface BulkBenchResult {
  name: "bulk-extract-parse";
  sizeMbRequested: number;
  fileBytes: number;
  rows: number;
  downloadParseSeconds: number;
  throughputMBps: number;
  rowsPerSecond: number;
  consumerCpuSeconds: number;
  throughputPerConsumerCpuSecondMBps: number;
  peakRssMB: number;
  baselineRssMB: number;
  peakHeapTotalMB: number;
  loadAverage1mStartEnd: [number, number];
  rssTargetMB: number;
  method: string;
  machine: { node: string; cpus: number; cpuModel: string | undefined; platform: string; date: string };
}

/** Runs the benchmark, prints the figures and saves bench/results/bulk.json. */
export async function runBulkBench(mb = Number(process.env["BULK_BENCH_MB"] ?? 1024)): Promise<BulkBenchResult> {
  const child: ChildProcess = fork(fileURLToPath(import.meta.url), ["--serve", String(mb)], {
    execArgv: ["--import", "tsx"],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  try {
    const [msg] = (await once(child, "message")) as [{ port: number; rows: number }];
    const rows = msg.rows;
    const base = `http://127.0.0.1:${msg.port}/bulk`;
    const transport = loopbackTransport(base);
    let downloadStart = 0;
    let cpuStart: NodeJS.CpuUsage | undefined;
    const loadStart = loadavg()[0] ?? 0;
    const timed: BulkTransport = {
      request: (req) => transport.request(req),
      raw: (req) => {
        if (!downloadStart) {
          downloadStart = performance.now();
          cpuStart = process.cpuUsage();
        }
        return transport.raw(req);
      },
    };
    const bulk = new BulkApi(timed, {
      sleep: (ms) => new Promise((r) => setTimeout(r, ms * TIME_SCALE)),
      describeLeadFields: async () =>
        FIELDS.map((name, i) => ({ id: i, displayName: name, dataType: "string", rest: { name } })),
    });
    global.gc?.();
    const baselineRss = process.memoryUsage().rss;
    let peakRss = baselineRss;
    let peakHeapTotal = 0;
    const sampler = setInterval(() => {
      const m = process.memoryUsage();
      peakRss = Math.max(peakRss, m.rss);
      peakHeapTotal = Math.max(peakHeapTotal, m.heapTotal);
    }, 50);
    let count = 0;
    let checksum = 0;
    const extraction = bulk.leads.extract(
      { filter: { createdAt: { startAt: "2026-01-01T00:00:00Z", endAt: "2026-01-31T00:00:00Z" } } },
      { poll: { initialDelayMs: 60_000, maxDelayMs: 60_000 } },
    );
    for await (const row of extraction) {
      count++;
      checksum += row["email"]?.length ?? 0;
      if ((count & 0x3fff) === 0) peakRss = Math.max(peakRss, process.memoryUsage.rss());
    }
    const end = performance.now();
    const cpu = process.cpuUsage(cpuStart);
    const cpuSeconds = (cpu.user + cpu.system) / 1e6;
    clearInterval(sampler);
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
    const state = extraction.state();
    const fileBytes = state?.jobs[0]?.fileSize ?? 0;
    const seconds = (end - downloadStart) / 1000;
    if (count !== rows || checksum === 0) throw new Error(`expected ${rows} rows, got ${count}`);
    const result: BulkBenchResult = {
      name: "bulk-extract-parse",
      sizeMbRequested: mb,
      fileBytes,
      rows: count,
      downloadParseSeconds: Number(seconds.toFixed(2)),
      throughputMBps: Number((fileBytes / 1024 / 1024 / seconds).toFixed(1)),
      rowsPerSecond: Math.round(count / seconds),
      consumerCpuSeconds: Number(cpuSeconds.toFixed(2)),
      throughputPerConsumerCpuSecondMBps: Number((fileBytes / 1024 / 1024 / cpuSeconds).toFixed(1)),
      peakRssMB: Number((peakRss / 1024 / 1024).toFixed(1)),
      baselineRssMB: Number((baselineRss / 1024 / 1024).toFixed(1)),
      peakHeapTotalMB: Number((peakHeapTotal / 1024 / 1024).toFixed(1)),
      rssTargetMB: 150,
      loadAverage1mStartEnd: [Number(loadStart.toFixed(2)), Number((loadavg()[0] ?? 0).toFixed(2))],
      method:
        "simulator in a child process; this process streams the file over loopback HTTP (fetch), hashes it (SHA-256), parses it with csv-parse and builds one object per row; RSS of this process (process.memoryUsage().rss) sampled every 50 ms and every 16384 rows, max reported; wall time and this process's CPU time (process.cpuUsage) from the first file request to the last row; the machine is shared, so see loadAverage1mStartEnd",
      machine: {
        node: process.version,
        cpus: cpus().length,
        cpuModel: cpus()[0]?.model,
        platform: `${process.platform}-${process.arch}`,
        date: new Date().toISOString(),
      },
    };
    console.log(
      `bulk extract: ${(fileBytes / 1024 / 1024).toFixed(0)} MiB, ${count} rows in ${result.downloadParseSeconds} s → ${result.throughputMBps} MB/s wall, ${result.throughputPerConsumerCpuSecondMBps} MB per consumer CPU-second, ${result.rowsPerSecond} rows/s; peak RSS ${result.peakRssMB} MB (baseline ${result.baselineRssMB} MB, V8 heap at most ${result.peakHeapTotalMB} MB; target < 150 MB); load ${result.loadAverage1mStartEnd.join(" → ")}`,
    );
    const dir = fileURLToPath(new URL("./results/", import.meta.url));
    mkdirSync(dir, { recursive: true });
    writeFileSync(`${dir}bulk.json`, `${JSON.stringify(result, null, 2)}\n`);
    return result;
  } finally {
    child.kill();
  }
}

const entry = process.argv[1] ? fileURLToPath(import.meta.url) === process.argv[1] : false;
if (process.argv[2] === "--serve") {
  void serve(Number(process.argv[3]));
} else if (entry) {
  runBulkBench().catch((err) => {
    console.error(err);
    process.exitCode = 1;
  });
}
