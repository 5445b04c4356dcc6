import { realSleep, silentLogger, systemClock } from "../internal/runtime.js";
import { assertNonEmptyString, assertOptions, assertParams } from "../internal/validate.js";
import { BulkExtraction, resolveExtractOptions } from "./extraction.js";
import { type BulkJobListStatus, cancelJob, centralDay, type JobContext, jobStatus, listJobs } from "./job.js";
import { checkResumeState, planActivities, planLeads } from "./plan.js";
import type {
  ActivityExtractParams,
  BulkApiDependencies,
  BulkExportUsage,
  BulkExtractOptions,
  BulkExtractState,
  BulkJobStatus,
  BulkTimingOptions,
  BulkTransport,
  LeadExtractParams,
} from "./types.js";

/** Options of the single-job calls. */
export interface BulkCallOptions {
  /** Cancels the call. */
  signal?: AbortSignal | undefined;
}

/**
 * Bulk export of one object (`leads` or `activities`): {@link BulkExportApi.extract} runs the whole
 * create → enqueue → poll → download → parse cycle; `status` and `cancel` act on one job.
 */
export class BulkExportApi<P> {
  readonly #ctx: JobContext;
  readonly #plan: (params: P, maxDays: number) => Promise<BulkExtractState>;
  readonly #timing: BulkTimingOptions | undefined;

  /** @internal Built by {@link BulkApi}. */
  constructor(
    ctx: JobContext,
    plan: (params: P, maxDays: number) => Promise<BulkExtractState>,
    timing?: BulkTimingOptions | undefined,
  ) {
    this.#ctx = ctx;
    this.#plan = plan;
    this.#timing = timing;
  }

  /**
   * Extracts every matching record as rows (`Record<string, string | null>`, keyed by column header), streaming and
   * parsing the export files at constant memory. Date ranges over 31 days become several jobs, delivered in order.
   * Nothing is sent until the first row is asked for.
   *
   * @example
   * ```ts
   * const extraction = mk.bulk.leads.extract({ filter: { createdAt: { startAt: "2026-01-01", endAt: "2026-06-30" } } });
   * try {
   *   for await (const row of extraction) await save(row);
   * } catch (e) {
   *   if (e instanceof MarketoBulkQuotaError) await saveForTomorrow(e.state); // resume with { resumeFrom: e.state }
   *   else throw e;
   * }
   * ```
   */
  extract(params: P, options?: BulkExtractOptions): BulkExtraction {
    const what = `bulk.${this.#ctx.object}.extract`;
    assertOptions(options, what);
    if (!options?.resumeFrom) assertParams(params, what, "{ filter: { createdAt: { startAt, endAt } } }");
    const resolved = resolveExtractOptions(options, this.#timing);
    const resume = options?.resumeFrom;
    const maxDays = options?.maxWindowDays ?? 31;
    const object = this.#ctx.object;
    const plan = resume ? async () => checkResumeState(resume, object) : () => this.#plan(params, maxDays);
    return new BulkExtraction(this.#ctx, plan, resolved);
  }

  /** The status of one export job (`status.json`). */
  async status(exportId: string, options?: BulkCallOptions): Promise<BulkJobStatus> {
    assertNonEmptyString(exportId, `bulk.${this.#ctx.object}.status exportId`);
    return jobStatus(this.#ctx, exportId, options?.signal);
  }

  /** Cancels one export job (`cancel.json`) and returns its new status. */
  async cancel(exportId: string, options?: BulkCallOptions): Promise<BulkJobStatus> {
    assertNonEmptyString(exportId, `bulk.${this.#ctx.object}.cancel exportId`);
    return cancelJob(this.#ctx, exportId, options?.signal);
  }

  /**
   * This API user's export jobs of the past 7 days (`export.json`, every page), optionally only those in the given
   * statuses. Marketo lists only the jobs of the API user that asks.
   */
  jobs(options?: BulkCallOptions & { status?: readonly BulkJobListStatus[] | undefined }): Promise<BulkJobStatus[]> {
    return listJobs(this.#ctx, options?.status, options?.signal);
  }
}

/**
 * Marketo bulk extract of leads and activities. The client builds it as `mk.bulk`.
 *
 * @example
 * ```ts
 * for await (const activity of mk.bulk.activities.extract({
 *   filter: { createdAt: { startAt: new Date("2026-01-01"), endAt: new Date("2026-03-31") } },
 *   activityTypes: ["Visit Webpage"],
 * })) console.log(activity.leadId, activity.activityDate);
 * ```
 */
export class BulkApi {
  /** Leads export (`/bulk/v1/leads/export/...`). */
  readonly leads: BulkExportApi<LeadExtractParams>;
  /** Activities export (`/bulk/v1/activities/export/...`). */
  readonly activities: BulkExportApi<ActivityExtractParams>;

  /**
   * @param transport The client's transport (or anything with the same `request`/`raw`).
   * @param deps Clock, sleep, random, logger and the describe functions the field lists are built from.
   */
  readonly #clock: { now(): number };

  constructor(transport: BulkTransport, deps: BulkApiDependencies = {}) {
    this.#clock = deps.clock ?? systemClock;
    const base = {
      transport,
      sleep: deps.sleep ?? realSleep,
      random: deps.random ?? Math.random,
      logger: deps.logger ?? silentLogger,
      clock: deps.clock ?? systemClock,
    };
    this.leads = new BulkExportApi<LeadExtractParams>(
      { ...base, object: "leads" },
      (params, maxDays) => planLeads(params, maxDays, deps.describeLeadFields),
      deps.timing,
    );
    this.activities = new BulkExportApi<ActivityExtractParams>(
      { ...base, object: "activities" },
      (params, maxDays) => planActivities(params, maxDays, deps.describeActivityTypes),
      deps.timing,
    );
  }

  /**
   * Export bytes this API user used today (US Central day, by the client's clock): the `fileSize` of its leads and
   * activities jobs completed today, as Marketo's docs advise. Other API users' exports count against the same 500 MB
   * but are not visible here, so this is a lower bound. Costs two calls or more.
   *
   * @example
   * ```ts
   * const { bytes } = await mk.bulk.exportBytesToday();
   * if (bytes > 450 * 1024 * 1024) scheduleForTomorrow();
   * ```
   */
  async exportBytesToday(options?: BulkCallOptions): Promise<BulkExportUsage> {
    const day = centralDay(this.#clock.now());
    let bytes = 0;
    let jobs = 0;
    for (const api of [this.leads, this.activities]) {
      for (const job of await api.jobs({ status: ["Completed"], signal: options?.signal })) {
        if (job.status.toLowerCase() !== "completed" || !job.finishedAt) continue;
        const finished = Date.parse(job.finishedAt);
        if (!Number.isFinite(finished) || centralDay(finished) !== day) continue;
        bytes += job.fileSize ?? 0;
        jobs++;
      }
    }
    return { day, bytes, jobs };
  }
}
