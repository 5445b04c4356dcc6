import { z } from "zod";
import { isMarketoError, MarketoApiError, MarketoResponseParseError } from "../errors.js";
import type { Clock, Logger, Sleep } from "../internal/runtime.js";
import { MarketoBulkJobFailedError, MarketoBulkQuotaError, MarketoBulkTimeoutError } from "./errors.js";
import type { BulkJobStatus, BulkTransport } from "./types.js";

/** Marketo's export job, as `create`, `enqueue`, `status` and `cancel` return it. Validated at the edge. */
const jobSchema = z.object({
  exportId: z.string().min(1),
  status: z.string().min(1),
  format: z.string().nullish(),
  createdAt: z.string().nullish(),
  queuedAt: z.string().nullish(),
  startedAt: z.string().nullish(),
  finishedAt: z.string().nullish(),
  numberOfRecords: z.coerce.number().int().nonnegative().nullish(),
  fileSize: z.coerce.number().int().nonnegative().nullish(),
  fileChecksum: z.string().nullish(),
  errorMsg: z.string().nullish(),
});

/** The three meanings Marketo gives to 1029, told apart by message. */
export type Code1029 = "queue-full" | "daily-quota" | "already-queued";

/** Classifies a 1029 error by its message; `undefined` for any other error. */
export function classify1029(err: unknown): Code1029 | undefined {
  if (!isMarketoError(err) || err.code !== "1029") return undefined;
  const messages = err instanceof MarketoApiError ? err.errors.map((e) => e.message) : [];
  const text = [err.message, ...messages].join(" ").toLowerCase();
  if (text.includes("already queued")) return "already-queued";
  if (text.includes("quota")) return "daily-quota";
  // "Too many jobs in queue", and any other 1029 wording: waiting for the queue is the safe reading.
  return "queue-full";
}

/** Shared services of the job calls. */
export interface JobContext {
  transport: BulkTransport;
  object: "leads" | "activities";
  sleep: Sleep;
  random: () => number;
  logger: Logger;
  clock: Clock;
}

function toStatus(raw: unknown, what: string): BulkJobStatus {
  const parsed = jobSchema.safeParse(raw);
  if (!parsed.success) {
    throw new MarketoResponseParseError(`Unexpected bulk ${what} answer: ${parsed.error.message}`, {
      code: "PARSE",
      retryable: false,
    });
  }
  const out: BulkJobStatus = { exportId: parsed.data.exportId, status: parsed.data.status };
  for (const [k, v] of Object.entries(parsed.data)) {
    if (v !== null && v !== undefined) (out as unknown as Record<string, unknown>)[k] = v;
  }
  return out;
}

async function call(
  ctx: JobContext,
  method: "GET" | "POST",
  path: string,
  what: string,
  options: { body?: unknown; retry: "safe" | "unsafe"; signal?: AbortSignal | undefined },
): Promise<BulkJobStatus> {
  const env = await ctx.transport.request<unknown>({
    method,
    api: "bulk",
    path: `/v1/${ctx.object}/export${path}`,
    retry: options.retry,
    signal: options.signal,
    ...(options.body !== undefined ? { body: options.body } : {}),
  });
  const first = env.result?.[0];
  if (first === undefined) {
    throw new MarketoResponseParseError(`Bulk ${what} answered without a result`, {
      code: "PARSE",
      retryable: false,
      requestId: env.requestId,
    });
  }
  return toStatus(first, what);
}

/** Statuses the job list filters on. */
export type BulkJobListStatus = "Created" | "Queued" | "Processing" | "Cancelled" | "Completed" | "Failed";

/** `GET /bulk/v1/{object}/export.json`: this API user's jobs of the past 7 days, every page. */
export async function listJobs(
  ctx: JobContext,
  status: readonly BulkJobListStatus[] | undefined,
  signal?: AbortSignal,
): Promise<BulkJobStatus[]> {
  const jobs: BulkJobStatus[] = [];
  let token: string | undefined;
  for (let page = 0; page < 1_000; page++) {
    const env = await ctx.transport.request<unknown>({
      method: "GET",
      api: "bulk",
      path: `/v1/${ctx.object}/export.json`,
      query: {
        status: status && status.length > 0 ? status.join(",") : undefined,
        batchSize: 300,
        nextPageToken: token,
      },
      retry: "safe",
      signal,
    });
    for (const raw of env.result ?? []) jobs.push(toStatus(raw, "job list"));
    token = env.nextPageToken;
    if (!token || (env.result ?? []).length === 0) break;
  }
  return jobs;
}

/** `POST /bulk/v1/{object}/export/create.json`. Not retried on an unknown outcome: a repeat would create a second job. */
export function createJob(
  ctx: JobContext,
  body: Record<string, unknown>,
  signal?: AbortSignal,
): Promise<BulkJobStatus> {
  return call(ctx, "POST", "/create.json", "create", { body, retry: "unsafe", signal });
}

/** `GET .../{exportId}/status.json`. */
export function jobStatus(ctx: JobContext, exportId: string, signal?: AbortSignal): Promise<BulkJobStatus> {
  return call(ctx, "GET", `/${encodeURIComponent(exportId)}/status.json`, "status", { retry: "safe", signal });
}

/** `POST .../{exportId}/cancel.json`. */
export function cancelJob(ctx: JobContext, exportId: string, signal?: AbortSignal): Promise<BulkJobStatus> {
  return call(ctx, "POST", `/${encodeURIComponent(exportId)}/cancel.json`, "cancel", { retry: "safe", signal });
}

/** Options of {@link enqueueJob}. */
export interface EnqueueOptions {
  signal?: AbortSignal | undefined;
  queueRetryDelayMs: number;
  queueTimeoutMs: number;
}

/**
 * `POST .../{exportId}/enqueue.json`, handling 1029 by message: "Too many jobs in queue" waits and tries again,
 * "Job already queued" counts as done (a repeat after a lost answer or a resume), "Export daily quota exceeded"
 * throws {@link MarketoBulkQuotaError}. Safe to repeat, since a second enqueue answers "already queued".
 */
export async function enqueueJob(ctx: JobContext, exportId: string, options: EnqueueOptions): Promise<void> {
  let waited = 0;
  for (;;) {
    try {
      await call(ctx, "POST", `/${encodeURIComponent(exportId)}/enqueue.json`, "enqueue", {
        retry: "safe",
        signal: options.signal,
      });
      return;
    } catch (err) {
      const kind = classify1029(err);
      if (kind === "already-queued") {
        ctx.logger.info({ exportId }, "bulk job already queued; carrying on");
        return;
      }
      if (kind === "daily-quota") throw quotaError(err, ctx.clock.now(), exportId);
      if (kind !== "queue-full") throw err;
      if (waited >= options.queueTimeoutMs) {
        throw new MarketoBulkTimeoutError(
          `Marketo's export queue stayed full for ${waited} ms (1029 "Too many jobs in queue")`,
          { code: "BULK_TIMEOUT", retryable: true, exportId, cause: err },
        );
      }
      const delay = Math.round(options.queueRetryDelayMs * (0.9 + 0.2 * ctx.random()));
      ctx.logger.info({ exportId, delayMs: delay }, "bulk export queue full (1029); waiting before enqueueing again");
      await ctx.sleep(delay, options.signal);
      waited += delay;
    }
  }
}

/** Turns Marketo's 1029 daily quota answer into the typed error (state is attached by the extract). */
export function quotaError(err: unknown, now: number, exportId?: string): MarketoBulkQuotaError {
  const e = err as { requestId?: string; status?: number };
  const resetsAt = nextCentralMidnight(now);
  return new MarketoBulkQuotaError(
    `Marketo's daily bulk export quota is used up (1029 "Export daily quota exceeded"); resume with error.state after ${resetsAt.toISOString()} (00:00 US Central)`,
    { code: "1029", retryable: false, requestId: e.requestId, status: e.status, exportId, cause: err, resetsAt },
  );
}

const chicago = new Intl.DateTimeFormat("en-US", {
  timeZone: "America/Chicago",
  hourCycle: "h23",
  year: "numeric",
  month: "numeric",
  day: "numeric",
  hour: "numeric",
  minute: "numeric",
  second: "numeric",
});

/** Chicago wall-clock time of `ms`, read as if it were UTC, minus `ms`: the zone's offset at that instant. */
function chicagoOffset(ms: number): number {
  const p = Object.fromEntries(chicago.formatToParts(new Date(ms)).map((x) => [x.type, x.value]));
  const wall = Date.UTC(
    Number(p["year"]),
    Number(p["month"]) - 1,
    Number(p["day"]),
    Number(p["hour"]),
    Number(p["minute"]),
    Number(p["second"]),
  );
  return wall - Math.floor(ms / 1000) * 1000;
}

/** The US Central calendar day of `ms`, `YYYY-MM-DD` (the day Marketo's quotas count). */
export function centralDay(ms: number): string {
  const p = Object.fromEntries(chicago.formatToParts(new Date(ms)).map((x) => [x.type, x.value]));
  return `${p["year"]}-${String(p["month"]).padStart(2, "0")}-${String(p["day"]).padStart(2, "0")}`;
}

/** The next 00:00 America/Chicago after `now` (Marketo's daily quotas reset then), DST included. */
export function nextCentralMidnight(now: number): Date {
  const offset = chicagoOffset(now);
  const wall = new Date(now + offset);
  const midnightWall = Date.UTC(wall.getUTCFullYear(), wall.getUTCMonth(), wall.getUTCDate() + 1);
  let at = midnightWall - offset;
  // A DST change between now and midnight moves the offset: correct with the offset at the candidate.
  at = midnightWall - chicagoOffset(at);
  return new Date(at);
}

/** Options of {@link waitForCompletion}. */
export interface WaitOptions {
  signal?: AbortSignal | undefined;
  initialDelayMs: number;
  maxDelayMs: number;
  timeoutMs: number;
  /** Called when the job turns out to be `Created` (never enqueued, e.g. after a crash): enqueue it. */
  enqueue(): Promise<void>;
}

/**
 * Polls the job's status until `Completed`: checks once at once (a job prepared ahead may be done already), then
 * after `initialDelayMs`, doubling up to `maxDelayMs` (±10 % jitter). `Failed`, `Canceled` and `Cancelled` throw {@link MarketoBulkJobFailedError}.
 */
export async function waitForCompletion(
  ctx: JobContext,
  exportId: string,
  options: WaitOptions,
): Promise<BulkJobStatus> {
  let delay = options.initialDelayMs;
  let waited = 0;
  for (;;) {
    const st = await jobStatus(ctx, exportId, options.signal);
    switch (st.status.toLowerCase()) {
      case "completed":
        return st;
      case "failed":
        throw new MarketoBulkJobFailedError(`Bulk export job ${exportId} failed: ${st.errorMsg ?? "no reason given"}`, {
          code: "BULK_JOB_FAILED",
          exportId,
          jobStatus: st.status,
        });
      case "canceled":
      case "cancelled":
        throw new MarketoBulkJobFailedError(`Bulk export job ${exportId} was canceled`, {
          code: "BULK_JOB_CANCELED",
          exportId,
          jobStatus: st.status,
        });
      case "created":
        await options.enqueue();
        break;
      default:
        break;
    }
    if (waited >= options.timeoutMs) {
      throw new MarketoBulkTimeoutError(`Bulk export job ${exportId} still ${st.status} after ${waited} ms`, {
        code: "BULK_TIMEOUT",
        retryable: true,
        exportId,
      });
    }
    const wait = Math.round(delay * (0.9 + 0.2 * ctx.random()));
    ctx.logger.debug({ exportId, status: st.status, nextPollMs: wait }, "bulk job not ready");
    await ctx.sleep(wait, options.signal);
    waited += wait;
    delay = Math.min(options.maxDelayMs, delay * 2);
  }
}
