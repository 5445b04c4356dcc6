import { isMarketoError } from "../errors.js";
import { parseBatches } from "./csv.js";
import { downloadFile } from "./download.js";
import { attachState, MarketoBulkDownloadError, MarketoBulkError, MarketoBulkJobFailedError } from "./errors.js";
import {
  cancelJob,
  classify1029,
  createJob,
  enqueueJob,
  type JobContext,
  quotaError,
  waitForCompletion,
} from "./job.js";
import type {
  BulkExtractOptions,
  BulkExtractState,
  BulkJobState,
  BulkJobStatus,
  BulkRow,
  BulkTimingOptions,
} from "./types.js";
import { dateWindowOf } from "./windows.js";

/** Options with their defaults applied. */
export interface ResolvedExtractOptions {
  signal: AbortSignal | undefined;
  concurrency: number;
  initialDelayMs: number;
  maxDelayMs: number;
  pollTimeoutMs: number;
  queueRetryDelayMs: number;
  queueTimeoutMs: number;
  resumeBaseDelayMs: number;
  resumeMaxDelayMs: number;
  nullLiteral: boolean;
  stripNul: boolean;
  maxResumeAttempts: number;
  verifyRecordCount: boolean;
}

/** Applies the extract's options over the client-wide `timing`, then the documented defaults. */
export function resolveExtractOptions(
  o: BulkExtractOptions | undefined,
  timing?: BulkTimingOptions | undefined,
): ResolvedExtractOptions {
  const concurrency = Math.trunc(o?.concurrency ?? 1);
  return {
    signal: o?.signal,
    concurrency: Math.min(10, Math.max(1, Number.isFinite(concurrency) ? concurrency : 1)),
    initialDelayMs: o?.poll?.initialDelayMs ?? timing?.poll?.initialDelayMs ?? 60_000,
    maxDelayMs: o?.poll?.maxDelayMs ?? timing?.poll?.maxDelayMs ?? 300_000,
    pollTimeoutMs: o?.poll?.timeoutMs ?? timing?.poll?.timeoutMs ?? 6 * 3_600_000,
    queueRetryDelayMs: o?.queueRetryDelayMs ?? timing?.queueRetryDelayMs ?? 60_000,
    queueTimeoutMs: o?.queueTimeoutMs ?? timing?.queueTimeoutMs ?? 6 * 3_600_000,
    resumeBaseDelayMs: o?.resumeBaseDelayMs ?? timing?.resumeBaseDelayMs ?? 500,
    resumeMaxDelayMs: o?.resumeMaxDelayMs ?? timing?.resumeMaxDelayMs ?? 30_000,
    nullLiteral: o?.nullLiteral ?? true,
    stripNul: (o?.nulBytes ?? "strip") === "strip",
    maxResumeAttempts: o?.maxResumeAttempts ?? 5,
    verifyRecordCount: o?.verifyRecordCount ?? true,
  };
}

/**
 * A running bulk extract: an async iterable of rows (`for await (const row of extraction)`), in window order, each
 * row once. `state()` is where it stands at any moment: save it and pass it as `resumeFrom` to continue later without
 * repeating a delivered row. Errors of the bulk layer carry the same state (`error.state`).
 *
 * Rows are yielded while the file streams; the file's checksum can only be verified at its end, so a checksum or
 * truncation error can follow rows of the same file that were already yielded. Those rows stay delivered (and are
 * counted in the state); the last row of a file is held back until the file is verified.
 */
export class BulkExtraction implements AsyncIterable<BulkRow> {
  readonly #ctx: JobContext;
  readonly #plan: () => Promise<BulkExtractState>;
  readonly #o: ResolvedExtractOptions;
  #state: BulkExtractState | undefined;
  #started = false;
  readonly #inner = new AbortController();

  /** @internal Built by `BulkApi`; use `mk.bulk.leads.extract()` / `mk.bulk.activities.extract()`. */
  constructor(ctx: JobContext, plan: () => Promise<BulkExtractState>, options: ResolvedExtractOptions) {
    this.#ctx = ctx;
    this.#plan = plan;
    this.#o = options;
  }

  /**
   * A JSON-serialisable copy of where the extract stands (jobs created, rows delivered per job). `undefined` until the
   * extract has planned its jobs (the first `next()`), unless it was resumed from a state.
   */
  state(): BulkExtractState | undefined {
    return this.#state === undefined ? undefined : structuredClone(this.#state);
  }

  /** Warnings so far, e.g. the updatedAt → createdAt fallback after 1035. */
  get warnings(): readonly string[] {
    return this.#state?.warnings ?? [];
  }

  /**
   * Stops the extract and cancels its Marketo jobs that have not finished (`cancel.json`), freeing their queue
   * slots. A loop over the rows ends with the abort reason. `state()` afterwards can still resume: canceled windows
   * get new jobs.
   */
  async cancel(): Promise<void> {
    this.#inner.abort(new MarketoBulkError("Bulk extract canceled", { code: "BULK_CANCELED" }));
    const jobs = this.#state?.jobs ?? [];
    for (const job of jobs) {
      if (job.exportId !== undefined && (job.status === "created" || job.status === "enqueued")) {
        try {
          await cancelJob(this.#ctx, job.exportId);
          // A canceled job cannot be resumed; a later resume from state() creates a new one for this window.
          job.exportId = undefined;
          job.status = "pending";
          job.rowsDelivered = 0;
        } catch (err) {
          this.#ctx.logger.warn({ exportId: job.exportId, err: String(err) }, "bulk job cancel failed");
        }
      }
    }
  }

  /**
   * Starts the extract (on the first `next()`) and yields its rows in order. An extraction can be iterated once;
   * breaking out of the loop stops it (its Marketo jobs stay, for a resume from `state()`).
   */
  [Symbol.asyncIterator](): AsyncIterator<BulkRow> {
    if (this.#started) throw new MarketoBulkError("A BulkExtraction can be iterated once", { code: "BULK_REUSED" });
    this.#started = true;
    // Rows travel in batches (one per downloaded chunk) and are handed out one by one here, so a row costs one
    // promise, not one per generator layer. Counting happens as each row is handed out: a consumer that stops after
    // a row has had exactly the rows the state says.
    const batches = this.#run();
    let batch: Batch | undefined;
    let index = 0;
    // A row of a window passed over (it belongs to the next window, see splitWindows) counts as consumed for its job,
    // so a resume skips it, but not as delivered.
    const hand = (b: Batch): IteratorResult<BulkRow> | undefined => {
      while (index < b.rows.length) {
        const row = b.rows[index++] as BulkRow;
        b.job.rowsDelivered++;
        if (b.keep !== undefined && !b.keep(row)) continue;
        (this.#state as BulkExtractState).rowsDelivered++;
        return { value: row, done: false };
      }
      return undefined;
    };
    const pull = async (): Promise<IteratorResult<BulkRow>> => {
      for (;;) {
        const handed = batch === undefined ? undefined : hand(batch);
        if (handed) return handed;
        const r = await batches.next();
        if (r.done) return { value: undefined, done: true };
        batch = r.value;
        index = 0;
      }
    };
    const user = this.#o.signal;
    const inner = this.#inner.signal;
    return {
      next: () => {
        // Stop at once on abort or cancel(), even with rows of the current batch still in memory.
        if (user?.aborted || inner.aborted) {
          batch = undefined;
          const reason = user?.aborted ? user.reason : inner.reason;
          return batches.return(undefined).then(() => Promise.reject(reason));
        }
        const handed = batch === undefined ? undefined : hand(batch);
        return handed ? Promise.resolve(handed) : pull();
      },
      return: async (): Promise<IteratorResult<BulkRow>> => {
        batch = undefined;
        await batches.return(undefined);
        return { value: undefined, done: true };
      },
    };
  }

  async *#run(): AsyncGenerator<Batch> {
    const signals = [this.#inner.signal, ...(this.#o.signal ? [this.#o.signal] : [])];
    const signal = AbortSignal.any(signals);
    const lookahead = new AbortController();
    const prepared = new Map<number, Promise<void>>();
    try {
      this.#state ??= await this.#plan();
      const state = this.#state;
      const prepare = (i: number): Promise<void> => {
        let p = prepared.get(i);
        if (!p) {
          p = this.#prepare(state, i, AbortSignal.any([signal, lookahead.signal]));
          // Awaited later, in order; until then a failure must not count as unhandled.
          p.catch(() => {});
          prepared.set(i, p);
        }
        return p;
      };
      for (let i = 0; i < state.jobs.length; i++) {
        const job = state.jobs[i] as BulkJobState;
        if (job.status === "done") continue;
        for (let k = i; k < Math.min(state.jobs.length, i + this.#o.concurrency); k++) {
          if (state.jobs[k]?.status !== "done") void prepare(k);
        }
        await prepare(i);
        yield* this.#deliver(state, job, state.jobs[i + 1], signal);
        job.status = "done";
        this.#ctx.logger.info(
          {
            object: state.object,
            exportId: job.exportId,
            rows: job.rowsDelivered,
            bytes: job.fileSize,
            job: i + 1,
            of: state.jobs.length,
          },
          "bulk job delivered",
        );
        job.bytesReceived = 0;
      }
    } catch (err) {
      if (err instanceof MarketoBulkError && this.#state) attachState(err, structuredClone(this.#state));
      throw err;
    } finally {
      lookahead.abort();
    }
  }

  /** Creates (if needed) and enqueues job `i`. */
  async #prepare(state: BulkExtractState, i: number, signal: AbortSignal): Promise<void> {
    const job = state.jobs[i] as BulkJobState;
    if (job.exportId === undefined) {
      const created = await this.#create(state, job, signal);
      job.exportId = created;
      job.status = "created";
      this.#ctx.logger.info({ object: state.object, exportId: created, filter: job.filter }, "bulk job created");
    }
    if (job.status === "created") {
      await enqueueJob(this.#ctx, job.exportId, {
        signal,
        queueRetryDelayMs: this.#o.queueRetryDelayMs,
        queueTimeoutMs: this.#o.queueTimeoutMs,
      });
      job.status = "enqueued";
    }
  }

  async #create(state: BulkExtractState, job: BulkJobState, signal: AbortSignal): Promise<string> {
    let waited = 0;
    for (;;) {
      const body: Record<string, unknown> = { format: state.format, filter: job.filter };
      const fields = fieldsFor(state, job);
      if (fields) body["fields"] = fields;
      if (state.columnHeaderNames) body["columnHeaderNames"] = state.columnHeaderNames;
      try {
        const st = await createJob(this.#ctx, body, signal);
        return st.exportId;
      } catch (err) {
        const kind = classify1029(err);
        if (kind === "daily-quota") throw quotaError(err, this.#ctx.clock.now());
        // Checked on the filter sent: a concurrent job may have switched this one already.
        if (isMarketoError(err) && err.code === "1035" && "updatedAt" in (body["filter"] as object)) {
          this.#fallBackToCreatedAt(state, err.message);
          continue;
        }
        if (kind === "queue-full" && waited < this.#o.queueTimeoutMs) {
          const delay = this.#o.queueRetryDelayMs;
          await this.#ctx.sleep(delay, signal);
          waited += delay;
          continue;
        }
        throw err;
      }
    }
  }

  /** 1035: this instance does not filter on updatedAt. Every job not yet created switches to createdAt. */
  #fallBackToCreatedAt(state: BulkExtractState, reason: string): void {
    let switched = 0;
    for (const job of state.jobs) {
      if (job.exportId === undefined && "updatedAt" in job.filter) {
        const { updatedAt, ...rest } = job.filter;
        job.filter = { ...rest, createdAt: updatedAt };
        switched++;
      }
    }
    if (switched > 0) {
      const warning = `Marketo rejected the updatedAt filter (1035: ${reason}); fell back to createdAt, so leads updated but created outside the range are not exported`;
      state.warnings.push(warning);
      this.#ctx.logger.warn({ jobs: switched }, warning);
    }
  }

  /**
   * Windows share their boundaries (see `splitWindows`): when the next job's window starts where this one ends, a row
   * stamped at or after that instant belongs to the next job, whichever way Marketo reads `endAt`. Checked on the
   * row's own date column (`createdAt` of a lead, `activityDate` of an activity), which is exported for that purpose
   * when it was not asked for, and then removed from the rows.
   */
  #boundaryFilter(
    state: BulkExtractState,
    job: BulkJobState,
    next: BulkJobState | undefined,
  ): ((row: BulkRow) => boolean) | undefined {
    if (!sharesEnd(job, next)) return undefined;
    const field = windowColumn(state, job);
    if (field === undefined) {
      // The bulk updatedAt filter is not the visible updatedAt field (Marketo's docs): no column to check it on.
      const warning = `The ${state.object} updatedAt windows cannot be checked on a column: a record updated exactly on a window boundary may be delivered twice if Marketo's endAt is inclusive`;
      if (!state.warnings.includes(warning)) {
        state.warnings.push(warning);
        this.#ctx.logger.warn({ object: state.object }, warning);
      }
      return undefined;
    }
    const column = state.columnHeaderNames?.[field] ?? field;
    const added = state.fields !== undefined && !state.fields.includes(field);
    const endMs = Date.parse((dateWindowOf(job.filter) as { endAt: string }).endAt);
    return (row) => {
      const value = row[column];
      if (added) delete row[column];
      if (value === null || value === undefined) return true;
      return !(Date.parse(value) >= endMs);
    };
  }

  /** Waits for job completion, then streams, verifies and parses its file, skipping rows already delivered. */
  async *#deliver(
    state: BulkExtractState,
    job: BulkJobState,
    next: BulkJobState | undefined,
    signal: AbortSignal,
  ): AsyncGenerator<Batch> {
    const exportId = job.exportId as string;
    const keep = this.#boundaryFilter(state, job, next);
    let status: BulkJobStatus;
    try {
      status = await waitForCompletion(this.#ctx, exportId, {
        signal,
        initialDelayMs: this.#o.initialDelayMs,
        maxDelayMs: this.#o.maxDelayMs,
        timeoutMs: this.#o.pollTimeoutMs,
        enqueue: () =>
          enqueueJob(this.#ctx, exportId, {
            signal,
            queueRetryDelayMs: this.#o.queueRetryDelayMs,
            queueTimeoutMs: this.#o.queueTimeoutMs,
          }),
      });
    } catch (err) {
      if (err instanceof MarketoBulkJobFailedError) {
        // A failed or canceled job never becomes a file and must be created again (Marketo's docs): the state the
        // error carries sends this window back to "pending", so a resume creates a new job for it.
        const warning = `Bulk export job ${exportId} ended ${err.jobStatus}; a resume creates a new job for its window`;
        state.warnings.push(warning);
        this.#ctx.logger.warn({ exportId, jobStatus: err.jobStatus }, warning);
        job.exportId = undefined;
        job.status = "pending";
        job.rowsDelivered = 0;
        job.bytesReceived = 0;
      }
      throw err;
    }
    if (
      job.fileChecksum !== undefined &&
      status.fileChecksum !== undefined &&
      job.fileChecksum !== status.fileChecksum
    ) {
      this.#ctx.logger.warn({ exportId }, "bulk file checksum changed since the last run; skipping rows by count");
    }
    job.status = "completed";
    this.#ctx.logger.info(
      { exportId, fileSize: status.fileSize, numberOfRecords: status.numberOfRecords, skipRows: job.rowsDelivered },
      "bulk job completed; downloading",
    );
    job.fileSize = status.fileSize;
    job.fileChecksum = status.fileChecksum;
    job.bytesReceived = 0;
    const errorContext = () => ({ exportId, state: structuredClone(state) });
    const chunks = downloadFile({
      transport: this.#ctx.transport,
      path: `/v1/${state.object}/export/${encodeURIComponent(exportId)}/file.json`,
      signal,
      fileSize: status.fileSize,
      fileChecksum: status.fileChecksum,
      maxResumeAttempts: this.#o.maxResumeAttempts,
      resumeBaseDelayMs: this.#o.resumeBaseDelayMs,
      resumeMaxDelayMs: this.#o.resumeMaxDelayMs,
      sleep: this.#ctx.sleep,
      random: this.#ctx.random,
      logger: this.#ctx.logger,
      onBytes: (n) => {
        job.bytesReceived = n;
      },
      errorContext,
    });
    try {
      for await (const rows of parseBatches(chunks, {
        format: state.format,
        nullLiteral: this.#o.nullLiteral,
        stripNul: this.#o.stripNul,
        skipRows: job.rowsDelivered,
        expectedRows: this.#o.verifyRecordCount ? status.numberOfRecords : undefined,
        ...expectedColumns(state, job),
        errorContext,
      })) {
        yield keep ? { job, rows, keep } : { job, rows };
      }
    } catch (err) {
      if (err instanceof MarketoBulkDownloadError && err.code === "BULK_FILE_GONE" && job.rowsDelivered === 0) {
        const warning = `The file of bulk export job ${exportId} is gone (past Marketo's 7-day retention); a resume creates a new job for its window`;
        state.warnings.push(warning);
        this.#ctx.logger.warn({ exportId }, warning);
        job.exportId = undefined;
        job.status = "pending";
        job.bytesReceived = 0;
        job.fileSize = undefined;
        job.fileChecksum = undefined;
      }
      throw err;
    }
  }
}

/** Columns Marketo writes for an activities extract without `fields` (at least these; documented defaults). */
const DEFAULT_ACTIVITY_COLUMNS = ["marketoGUID", "leadId", "activityDate", "activityTypeId"];

/** True when the next job's window starts where this job's ends (windows of one split share their boundaries). */
function sharesEnd(job: BulkJobState, next: BulkJobState | undefined): boolean {
  const own = dateWindowOf(job.filter);
  const following = next === undefined ? undefined : dateWindowOf(next.filter);
  return own !== undefined && following !== undefined && following.key === own.key && following.startAt === own.endAt;
}

/** The column a job's rows carry their window date in: only a createdAt window has one. */
function windowColumn(state: BulkExtractState, job: BulkJobState): string | undefined {
  if (dateWindowOf(job.filter)?.key !== "createdAt") return undefined;
  return state.object === "leads" ? "createdAt" : "activityDate";
}

/**
 * The fields sent for a job: the requested ones, plus the window date column when the job shares its end with the
 * next one and it was not requested (the boundary check needs it; it is removed from the rows).
 */
function fieldsFor(state: BulkExtractState, job: BulkJobState): string[] | undefined {
  if (state.fields === undefined) return undefined;
  const next = state.jobs[state.jobs.indexOf(job) + 1];
  const column = sharesEnd(job, next) ? windowColumn(state, job) : undefined;
  return column === undefined || state.fields.includes(column) ? state.fields : [...state.fields, column];
}

/**
 * The header a job's file must carry: the fields sent under their `columnHeaderNames`, or, for an activities extract
 * that left the columns to Marketo, the core default columns at least.
 */
function expectedColumns(
  state: BulkExtractState,
  job: BulkJobState,
): { expectedHeader?: string[]; requiredHeader?: string[] } {
  const rename = (c: string) => state.columnHeaderNames?.[c] ?? c;
  const fields = fieldsFor(state, job);
  if (fields !== undefined) return { expectedHeader: fields.map(rename) };
  return state.object === "activities" ? { requiredHeader: DEFAULT_ACTIVITY_COLUMNS.map(rename) } : {};
}

/** Rows of one job, released together. */
interface Batch {
  job: BulkJobState;
  rows: BulkRow[];
  /** Rows failing it belong to the next window: consumed, not delivered. */
  keep?: (row: BulkRow) => boolean;
}
