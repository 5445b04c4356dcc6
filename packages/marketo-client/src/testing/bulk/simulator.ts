/**
 * The simulated bulk extract: create / enqueue / status / file / cancel for leads and activities, a job state machine
 * driven by the simulator's scaled clock, Marketo's queue and daily byte quota, Range downloads and fault injection.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { Readable } from "node:stream";
import type { SimActivity, SimContext, SimRequest, SimResponse } from "../context.js";
import { awkwardValue, formatLine, SIM_DELIMITERS } from "./csv-writer.js";
import type { BulkSimulatorOptions } from "./options.js";
import { measureSynthetic, type SyntheticFile, syntheticRange } from "./synthetic.js";

type ObjectName = "leads" | "activities";
type JobStatus = "Created" | "Queued" | "Processing" | "Completed" | "Failed" | "Canceled";

interface BufferFile {
  kind: "buffer";
  data: Buffer;
  rows: number;
}

interface SimJob {
  exportId: string;
  object: ObjectName;
  owner: string | undefined;
  format: string;
  columns: string[];
  headers: string[];
  filter: Record<string, unknown>;
  status: JobStatus;
  createdAt: number;
  queuedAt?: number;
  startedAt?: number;
  finishedAt?: number;
  file?: BufferFile | SyntheticFile;
  measuring?: Promise<void>;
  /** Announced size/checksum/records (may differ from the bytes served, under faults). */
  fileSize?: number;
  fileChecksum?: string;
  numberOfRecords?: number;
  /** Bytes actually served (truncate "serve" fault). */
  servable?: number;
  fail?: boolean;
  dropped: boolean;
  errorMsg?: string;
}

/** One file request as the simulator saw it. */
export interface BulkSimFileRequest {
  /** The job. */
  exportId: string;
  /** The `Range` header as received, if any. */
  range: string | undefined;
  /** HTTP status answered. */
  status: number;
  /** Body bytes handed to the connection so far (grows while the download runs). */
  bytesSent: number;
}

/** What {@link BulkSimulator.inspect} reports. */
export interface BulkSimInspection extends Record<string, unknown> {
  /** Every job with its status and announced file facts. */
  jobs: {
    /** The job's export id. */
    exportId: string;
    /** Exported object. */
    object: "leads" | "activities";
    /** Current status (`Created` ... `Completed`, `Failed`, `Canceled`). */
    status: string;
    /** The filter the job was created with. */
    filter: Record<string, unknown>;
    /** Announced file size, once known. */
    fileSize?: number | undefined;
    /** Announced record count, once known. */
    numberOfRecords?: number | undefined;
  }[];
  /** Every file request, in order. */
  fileRequests: BulkSimFileRequest[];
  /** Error answers by code (`"1029"`, `"1035"`, `"1003"`, `"404"` ...). */
  errors: Record<string, number>;
  /** 1029 answers by meaning. */
  code1029: {
    /** "Too many jobs in queue". */
    queueFull: number;
    /** "Export daily quota exceeded". */
    dailyQuota: number;
    /** "Job already queued". */
    alreadyQueued: number;
  };
  /** Most jobs seen Processing / Queued at once. */
  maxProcessingSeen: number;
  /** Most jobs seen queued or processing at once (the count Marketo's queue limit applies to). */
  maxQueuedSeen: number;
  /** Export bytes counted against today's quota. */
  dailyBytesUsed: number;
  /** Calls per endpoint kind (`create`, `enqueue`, `status`, `file`, `cancel`). */
  calls: Record<string, number>;
}

/** The bulk handler the Marketo simulator server delegates `/bulk/` paths to. */
export interface BulkSimulator {
  /** Answers one request, or `undefined` when the path is not a bulk export path. */
  handle(req: SimRequest): Promise<SimResponse | undefined>;
  /** Jobs, file requests (with the Range header seen), error counts and quota use. */
  inspect(): BulkSimInspection;
  /** Changes options (and faults) from now on. */
  configure(options: BulkSimulatorOptions): void;
  /** Forgets today's export byte count, as the 00:00 US Central reset does. */
  resetDailyQuota(): void;
}

const ACTIVITY_COLUMNS = [
  "marketoGUID",
  "leadId",
  "activityDate",
  "activityTypeId",
  "campaignId",
  "primaryAttributeValueId",
  "primaryAttributeValue",
  "attributes",
];
const DAY_MS = 86_400_000;
const PATH =
  /^\/bulk\/v1\/(leads|activities)\/export(?:(\.json)|\/(create)\.json|\/([^/]+)\/(enqueue|status|file|cancel)\.json)$/;
const RANGE = /^bytes=(\d*)-(\d*)$/;

const centralDay = new Intl.DateTimeFormat("en-CA", { timeZone: "America/Chicago" });

function iso(ms: number | undefined): string | null {
  return ms === undefined ? null : new Date(ms).toISOString();
}

function toMs(value: unknown): number {
  if (value instanceof Date) return value.getTime();
  if (typeof value === "number") return value;
  return typeof value === "string" ? Date.parse(value) : Number.NaN;
}

/**
 * Creates the bulk extract handler. `ctx` gives the scaled clock and the stored leads and activities; `options` the
 * limits, synthetic file sizes and faults.
 */
export function createBulkSimulator(ctx: SimContext, options: BulkSimulatorOptions = {}): BulkSimulator {
  let opts: BulkSimulatorOptions = { ...options, faults: { ...options.faults } };
  const jobs = new Map<string, SimJob>();
  const order: SimJob[] = [];
  const bytesByDay = new Map<string, number>();
  const fileRequests: BulkSimFileRequest[] = [];
  const errors: Record<string, number> = {};
  const calls: Record<string, number> = {};
  const code1029 = { queueFull: 0, dailyQuota: 0, alreadyQueued: 0 };
  let failBudget = opts.faults?.failJobs ?? 0;
  let seq = 0;
  let requestSeq = 0;
  let maxProcessingSeen = 0;
  let maxQueuedSeen = 0;

  const stepMs = () => opts.stepMs ?? 60_000;
  const today = () => centralDay.format(new Date(ctx.now()));
  const usedToday = () => bytesByDay.get(today()) ?? 0;

  const ok = (job: SimJob): SimResponse => ({
    status: 200,
    body: { requestId: `bulk#${++requestSeq}`, success: true, warnings: [], result: [view(job)] },
  });
  const fail = (code: string, message: string): SimResponse => {
    errors[code] = (errors[code] ?? 0) + 1;
    return ctx.envelopeError(code, message);
  };
  const plain = (status: number, text: string): SimResponse => {
    errors[String(status)] = (errors[String(status)] ?? 0) + 1;
    return { status, headers: { "content-type": "text/plain" }, body: text };
  };

  function view(job: SimJob): Record<string, unknown> {
    const done = job.status === "Completed";
    return {
      exportId: job.exportId,
      format: job.format,
      status: job.status,
      createdAt: iso(job.createdAt),
      queuedAt: iso(job.queuedAt),
      startedAt: iso(job.startedAt),
      finishedAt: iso(job.finishedAt),
      numberOfRecords: done ? job.numberOfRecords : null,
      fileSize: done ? job.fileSize : null,
      fileChecksum: done ? job.fileChecksum : null,
      ...(job.errorMsg ? { errorMsg: job.errorMsg } : {}),
    };
  }

  /** Moves every job forward to where the clock says it is. Status changes at most once per step. */
  function advance(): void {
    const now = ctx.now();
    for (const job of order) {
      if (job.status === "Processing" && job.file && job.startedAt !== undefined && now >= job.startedAt + stepMs()) {
        if (job.fail) {
          job.status = "Failed";
          job.errorMsg = "Simulated export failure";
        } else {
          job.status = "Completed";
          bytesByDay.set(today(), usedToday() + (job.fileSize ?? 0));
        }
        job.finishedAt = now;
      }
    }
    let processing = order.filter((j) => j.status === "Processing").length;
    for (const job of order) {
      if (processing >= (opts.maxProcessing ?? 2)) break;
      if (job.status === "Queued" && job.queuedAt !== undefined && now >= job.queuedAt + stepMs()) {
        job.status = "Processing";
        job.startedAt = now;
        processing++;
        startFile(job);
      }
    }
    maxProcessingSeen = Math.max(maxProcessingSeen, processing);
  }

  /** Builds (or, for synthetic files, starts measuring) the job's file when processing starts: a snapshot. */
  function startFile(job: SimJob): void {
    const faults = opts.faults ?? {};
    if (failBudget > 0) {
      failBudget--;
      job.fail = true;
    }
    const delimiter = SIM_DELIMITERS[job.format] ?? ",";
    const synthetic = opts.synthetic?.[job.object];
    const finish = () => {
      const file = job.file as BufferFile | SyntheticFile;
      let size = file.kind === "buffer" ? file.data.length : file.size;
      let checksum = file.kind === "buffer" ? createHash("sha256").update(file.data).digest("hex") : file.checksum;
      job.servable = size;
      if (faults.truncateAtByte !== undefined && faults.truncateAtByte < size) {
        if ((faults.truncateMode ?? "serve") === "serve") {
          job.servable = faults.truncateAtByte;
        } else if (file.kind === "buffer") {
          file.data = file.data.subarray(0, faults.truncateAtByte);
          size = file.data.length;
          checksum = createHash("sha256").update(file.data).digest("hex");
          job.servable = size;
        }
      }
      if (faults.corruptChecksum) checksum = createHash("sha256").update(`corrupt:${checksum}`).digest("hex");
      job.fileSize = size;
      // As Marketo writes it: "sha256:<hex>".
      job.fileChecksum = `sha256:${checksum}`;
      job.numberOfRecords = file.rows;
    };
    if (synthetic) {
      job.measuring = measureSynthetic({
        columns: job.columns,
        headers: job.headers,
        delimiter,
        rows: synthetic.rows,
        nulBytes: faults.nulBytes ?? false,
      }).then((file) => {
        job.file = file;
        finish();
      });
      job.measuring.catch(() => {});
      return;
    }
    const records = job.object === "leads" ? selectLeads(job) : selectActivities(job);
    const parts: string[] = [formatLine(job.headers, delimiter)];
    let n = 0;
    for (const rec of records) {
      const values = job.columns.map((c) => {
        let v = rec[c];
        if (faults.awkwardValues) v = awkwardValue(v, n);
        if (faults.nulBytes && typeof v === "string" && v.length > 1 && n % 3 === 1) return `${v[0]}\0${v.slice(1)}`;
        return v;
      });
      parts.push(formatLine(values, delimiter));
      n++;
    }
    job.file = { kind: "buffer", data: Buffer.from(parts.join("")), rows: n };
    finish();
  }

  /**
   * Both ends inclusive, compared to the millisecond: Marketo does not document whether `endAt` is inclusive, and this
   * is the reading under which shared window boundaries overlap (a record stamped exactly on one is in both jobs).
   */
  function inRange(value: unknown, range: { startAt?: unknown; endAt?: unknown }): boolean {
    const t = toMs(value);
    if (!Number.isFinite(t)) return false;
    const a = range.startAt === undefined ? -Infinity : toMs(range.startAt);
    const b = range.endAt === undefined ? Infinity : toMs(range.endAt);
    return t >= a && t <= b;
  }

  function* selectLeads(job: SimJob): Generator<Record<string, unknown>> {
    const key = "createdAt" in job.filter ? "createdAt" : "updatedAt";
    const range = job.filter[key] as { startAt?: unknown; endAt?: unknown };
    for (const lead of ctx.leads()) if (inRange(lead[key], range)) yield lead;
  }

  function* selectActivities(job: SimJob): Generator<Record<string, unknown>> {
    const range = job.filter["createdAt"] as { startAt?: unknown; endAt?: unknown };
    const types = job.filter["activityTypeIds"] as number[] | undefined;
    const pavIds = job.filter["primaryAttributeValueIds"] as number[] | undefined;
    const pavs = job.filter["primaryAttributeValues"] as string[] | undefined;
    for (const a of ctx.activities()) {
      if (!inRange(a.activityDate, range)) continue;
      if (types && !types.includes(a.activityTypeId)) continue;
      if (pavIds && (a.primaryAttributeValueId === undefined || !pavIds.includes(a.primaryAttributeValueId))) continue;
      if (pavs && (a.primaryAttributeValue === undefined || !pavs.includes(a.primaryAttributeValue))) continue;
      yield activityRecord(a);
    }
  }

  function activityRecord(a: SimActivity): Record<string, unknown> {
    const attributes: Record<string, unknown> = {};
    for (const { name, value } of a.attributes) attributes[name] = value;
    return {
      ...a,
      campaignId: (a as { campaignId?: unknown }).campaignId ?? null,
      primaryAttributeValueId: a.primaryAttributeValueId ?? null,
      primaryAttributeValue: a.primaryAttributeValue ?? null,
      attributes,
    };
  }

  function create(object: ObjectName, body: unknown, owner: string | undefined): SimResponse {
    const b = (body ?? {}) as Record<string, unknown>;
    const format = b["format"] === undefined ? "CSV" : String(b["format"]);
    if (!(format in SIM_DELIMITERS)) return fail("1003", `Invalid format: ${format}`);
    const filter = b["filter"];
    if (typeof filter !== "object" || filter === null) return fail("1003", "filter is required");
    const f = filter as Record<string, unknown>;
    const dateKeys = object === "leads" ? ["createdAt", "updatedAt"] : ["createdAt"];
    const used = Object.keys(f).filter((k) => dateKeys.includes(k));
    for (const k of Object.keys(f)) {
      if ((opts.unsupportedFilters ?? []).includes(k))
        return fail("1035", `Unsupported filter type for target subscription: ${k}`);
    }
    if (object === "leads" && (used.length !== 1 || Object.keys(f).length !== 1)) {
      return fail("1003", "The simulator exports leads by exactly one createdAt or updatedAt filter");
    }
    if (object === "activities" && used.length !== 1) return fail("1003", "createdAt filter is required");
    const range = f[used[0] as string] as { startAt?: unknown; endAt?: unknown } | undefined;
    // Marketo asks for ISO 8601 datetimes without milliseconds.
    if ([range?.startAt, range?.endAt].some((v) => typeof v !== "string" || /\.\d/.test(v))) {
      return fail("1003", `Invalid ${used[0]} datetime: use ISO 8601 without milliseconds`);
    }
    const a = toMs(range?.startAt);
    const e = toMs(range?.endAt);
    if (!Number.isFinite(a) || !Number.isFinite(e) || e < a) return fail("1003", `Invalid ${used[0]} date range`);
    if (e - a > (opts.maxWindowDays ?? 31) * DAY_MS) {
      return fail("1003", `${used[0]} date range must not exceed ${opts.maxWindowDays ?? 31} days`);
    }
    // Past the daily quota, Marketo refuses to create jobs as well as to enqueue them.
    if (usedToday() >= (opts.dailyQuotaBytes ?? 500 * 1024 * 1024)) {
      code1029.dailyQuota++;
      return fail("1029", "Export daily quota exceeded");
    }
    let columns: string[];
    const fields = b["fields"];
    if (object === "leads") {
      if (!Array.isArray(fields) || fields.length === 0) return fail("1003", "fields is required");
      columns = fields.map(String);
      if (!opts.synthetic?.leads) {
        const known = new Set(ctx.leadFields().map((x) => x.name));
        const unknown = columns.filter((c) => !known.has(c));
        if (unknown.length > 0) return fail("1003", `Invalid fields: ${unknown.join(",")}`);
      }
    } else {
      columns = Array.isArray(fields) && fields.length > 0 ? fields.map(String) : [...ACTIVITY_COLUMNS];
      const unknown = columns.filter((c) => !ACTIVITY_COLUMNS.includes(c));
      if (unknown.length > 0) return fail("1003", `Invalid fields: ${unknown.join(",")}`);
    }
    const names = (b["columnHeaderNames"] ?? {}) as Record<string, unknown>;
    const job: SimJob = {
      exportId: `${object === "leads" ? "L" : "A"}-${(++seq).toString().padStart(6, "0")}-${Math.floor(ctx.random() * 1e9).toString(36)}`,
      object,
      owner,
      format,
      columns,
      headers: columns.map((c) => (typeof names[c] === "string" ? (names[c] as string) : c)),
      filter: structuredClone(f),
      status: "Created",
      createdAt: ctx.now(),
      dropped: false,
    };
    jobs.set(job.exportId, job);
    order.push(job);
    return ok(job);
  }

  function enqueue(job: SimJob): SimResponse {
    if (job.status === "Queued" || job.status === "Processing") {
      code1029.alreadyQueued++;
      return fail("1029", "Job already queued");
    }
    if (job.status !== "Created") return ok(job);
    if (usedToday() >= (opts.dailyQuotaBytes ?? 500 * 1024 * 1024)) {
      code1029.dailyQuota++;
      return fail("1029", "Export daily quota exceeded");
    }
    // The queue limit counts the jobs processing too ("inclusive of currently exporting jobs").
    const queued = order.filter((j) => j.status === "Queued" || j.status === "Processing").length;
    if (queued >= (opts.maxQueued ?? 10)) {
      code1029.queueFull++;
      return fail("1029", "Too many jobs in queue");
    }
    job.status = "Queued";
    job.queuedAt = ctx.now();
    maxQueuedSeen = Math.max(maxQueuedSeen, queued + 1);
    return ok(job);
  }

  /** The job list: this user's jobs of the last 7 days, filtered by status, 300 a page at most. */
  function list(object: ObjectName, query: URLSearchParams, owner: string | undefined): SimResponse {
    const wanted = (query.get("status") ?? "")
      .split(",")
      .map((x) => x.trim().toLowerCase().replace("cancelled", "canceled"))
      .filter((x) => x !== "");
    const since = ctx.now() - 7 * DAY_MS;
    const all = order.filter(
      (j) =>
        j.object === object &&
        j.createdAt >= since &&
        (!opts.ownerCheck || j.owner === owner) &&
        (wanted.length === 0 || wanted.includes(j.status.toLowerCase())),
    );
    const size = Math.min(300, Math.max(1, Number(query.get("batchSize") ?? 300) || 300));
    const offset = Number(query.get("nextPageToken") ?? 0) || 0;
    const page = all.slice(offset, offset + size);
    const next = offset + size < all.length ? String(offset + size) : undefined;
    return {
      status: 200,
      body: {
        requestId: `bulk#${++requestSeq}`,
        success: true,
        warnings: [],
        result: page.map(view),
        ...(next ? { nextPageToken: next } : {}),
      },
    };
  }

  function cancel(job: SimJob): SimResponse {
    if (job.status === "Created" || job.status === "Queued" || job.status === "Processing") {
      job.status = "Canceled";
      job.finishedAt = ctx.now();
    }
    return ok(job);
  }

  async function file(job: SimJob, rangeHeader: string | undefined): Promise<SimResponse> {
    const record = (status: number) => {
      const entry = { exportId: job.exportId, range: rangeHeader, status, bytesSent: 0 };
      fileRequests.push(entry);
      return entry;
    };
    if (job.status !== "Completed" || !job.file) {
      record(404);
      return plain(404, "File not ready");
    }
    if (opts.faults?.expireFiles) {
      record(404);
      return plain(404, "File not found");
    }
    const total = job.fileSize as number;
    const servable = job.servable ?? total;
    let from = 0;
    let to = total - 1;
    let partial = false;
    if (rangeHeader !== undefined) {
      const m = RANGE.exec(rangeHeader.trim());
      if (!m || (m[1] === "" && m[2] === "")) {
        record(416);
        return { status: 416, headers: { "content-range": `bytes */${total}` }, body: "" };
      }
      if (m[1] === "") {
        from = Math.max(0, total - Number(m[2]));
      } else {
        from = Number(m[1]);
        if (m[2] !== "") to = Math.min(total - 1, Number(m[2]));
      }
      partial = true;
    }
    if (from >= servable || from > to) {
      record(416);
      return { status: 416, headers: { "content-range": `bytes */${total}` }, body: "" };
    }
    // Truncate "serve": the announced size is larger than what the server can send.
    const end = Math.min(to, servable - 1);
    const length = end - from + 1;
    const status = partial ? 206 : 200;
    const entry = record(status);
    const headers: Record<string, string> = {
      "content-type": "text/csv; charset=utf-8",
      "content-length": String(length),
      "accept-ranges": "bytes",
    };
    if (partial) headers["content-range"] = `bytes ${from}-${end}/${total}`;
    const f = job.file;
    const source: Iterable<Buffer> =
      f.kind === "buffer" ? chunked(f.data.subarray(from, end + 1)) : syntheticRange(f, from, end);
    const dropAfter = opts.faults?.dropConnectionAfterBytes;
    let cut: number | undefined;
    if (dropAfter !== undefined && !job.dropped && length > dropAfter) {
      job.dropped = true;
      cut = dropAfter;
    }
    return { status, headers, body: new FileBody(source, cut, (n) => (entry.bytesSent = n)) };
  }

  return {
    async handle(req: SimRequest): Promise<SimResponse | undefined> {
      const m = PATH.exec(req.path);
      if (!m) return undefined;
      const object = m[1] as ObjectName;
      const action = m[2] ? "list" : (m[3] ?? (m[5] as string));
      calls[action] = (calls[action] ?? 0) + 1;
      const owner = opts.ownerCheck ? req.headers["authorization"] : undefined;
      advance();
      const expected = action === "status" || action === "file" || action === "list" ? "GET" : "POST";
      if (req.method !== expected) return fail("605", `Request method '${req.method}' not supported`);
      if (action === "create") return create(object, req.body, owner);
      if (action === "list") return list(object, req.query, owner);
      const job = jobs.get(decodeURIComponent(m[4] as string));
      const visible = job && job.object === object && (!opts.ownerCheck || job.owner === owner);
      if (!job || !visible) {
        if (action === "file") return plain(404, "Export not found");
        return fail("1003", `Export id ${m[4]} not found`);
      }
      if (action === "enqueue") return enqueue(job);
      if (action === "cancel") return cancel(job);
      // A synthetic file still being measured keeps its job Processing (advance() waits for the file).
      if (action === "status") return ok(job);
      return file(job, req.headers["range"]);
    },
    inspect(): BulkSimInspection {
      advance();
      return {
        jobs: order.map((j) => ({
          exportId: j.exportId,
          object: j.object,
          status: j.status,
          filter: structuredClone(j.filter),
          fileSize: j.fileSize,
          numberOfRecords: j.numberOfRecords,
        })),
        fileRequests: fileRequests.map((r) => ({ ...r })),
        errors: { ...errors },
        code1029: { ...code1029 },
        maxProcessingSeen,
        maxQueuedSeen,
        dailyBytesUsed: usedToday(),
        calls: { ...calls },
      };
    },
    configure(next: BulkSimulatorOptions): void {
      opts = { ...opts, ...next, faults: { ...opts.faults, ...next.faults } };
      if (next.faults?.failJobs !== undefined) failBudget = next.faults.failJobs;
    },
    resetDailyQuota(): void {
      bytesByDay.clear();
    },
  };
}

function* chunked(data: Buffer, size = 64 * 1024): Generator<Buffer> {
  for (let i = 0; i < data.length; i += size) yield data.subarray(i, Math.min(data.length, i + size));
}

/**
 * A file response body. With `dropAfter`, it sends that many bytes and then destroys the response it is piped to,
 * which closes the socket mid-body like a network failure, whatever way the server pipes it (`pipe` or `pipeline`).
 */
class FileBody extends Readable {
  readonly #source: Iterator<Buffer>;
  readonly #dropAfter: number | undefined;
  readonly #targets: NodeJS.WritableStream[] = [];
  readonly #onSent: (bytes: number) => void;
  #sent = 0;
  #cut = false;

  constructor(source: Iterable<Buffer>, dropAfter: number | undefined, onSent: (bytes: number) => void) {
    super();
    this.#source = source[Symbol.iterator]();
    this.#dropAfter = dropAfter;
    this.#onSent = onSent;
  }

  override pipe<T extends NodeJS.WritableStream>(destination: T, options?: { end?: boolean }): T {
    this.#targets.push(destination);
    return super.pipe(destination, options);
  }

  override _read(): void {
    // After the cut, never end the body normally: the response must stay incomplete until the socket is destroyed.
    if (this.#cut) return;
    for (;;) {
      const next = this.#source.next();
      if (next.done) {
        this.push(null);
        return;
      }
      const chunk = next.value;
      if (this.#dropAfter !== undefined && this.#sent + chunk.length >= this.#dropAfter) {
        const part = chunk.subarray(0, this.#dropAfter - this.#sent);
        this.#sent += part.length;
        this.#onSent(this.#sent);
        this.#cut = true;
        if (part.length > 0) this.push(part);
        // Give the partial bytes time to reach the socket, then cut the connection.
        setTimeout(() => {
          for (const t of this.#targets) (t as { destroy?: () => void }).destroy?.();
          this.destroy();
        }, 25);
        return;
      }
      this.#sent += chunk.length;
      this.#onSent(this.#sent);
      if (!this.push(chunk)) return;
    }
  }
}
