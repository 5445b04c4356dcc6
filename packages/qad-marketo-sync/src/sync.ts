/**
 * `createSync`: the engine. Source → validate → map → detect changes → plan → write → record, per batch, under a
 * lease per tenant pair, with the checkpoint saved in the same store transaction as the outcomes that earn it.
 *
 * @module
 */

import { randomUUID } from "node:crypto";
import type { z } from "zod";
import { CapabilityTracker } from "./engine/capabilities.js";
import { CapabilityCache } from "./engine/capability-cache.js";
import { type CarryForwardOptions, carryChanges, carryPolicy, carryRefs, loadCarried } from "./engine/carry-forward.js";
import { retryCarried } from "./engine/carry-retry.js";
import { type DryRunOptions, type DryRunReport, dryRunPlan } from "./engine/dry-run.js";
import { type ExecuteContext, type Executed, executePlan } from "./engine/execute.js";
import { FieldFilterCache } from "./engine/field-filters.js";
import { withLease } from "./engine/lease-keeper.js";
import { NameClaims } from "./engine/name-claims.js";
import {
  checkArgument,
  refreshOptionsSchema,
  replaySelectorSchema,
  runOptionsSchema,
  validate,
  validateSyncOptions,
} from "./engine/options.js";
import { type PipelineResult, runPipeline } from "./engine/pipeline.js";
import { type FieldFilters, MAX_BATCH, type NameConflictPolicy, type Planning, planBatch } from "./engine/plan.js";
import {
  checkReconcileOptions,
  RECONCILE_CHECKPOINT,
  type ReconcileOptions,
  type ReconcileOutcome,
  type ReconcileReport,
  type ReconcileSchedule,
  reconcileDue,
  reconcileTotals,
  reconcile as runReconcile,
} from "./engine/reconcile.js";
import { type RedriveDeps, redrive } from "./engine/redrive.js";
import { replayCandidates } from "./engine/replay.js";
import { RunBook } from "./engine/run-bookkeeping.js";
import { type ErrorInfo, errorInfo, SyncConfigError } from "./errors.js";
import { Emitter, type SyncEventName, type SyncListener } from "./events.js";
import { type Clock, type Logger, realSleep, type Sleep, silentLogger, systemClock } from "./internal/runtime.js";
import { defaultMapping } from "./mapping/defaults.js";
import { compileMapping, type SyncMapping } from "./mapping/mapping.js";
import type { CustomerSource, MarketoGateway, SourceRead } from "./ports.js";
import { type AccountContext, emptyAccountContext } from "./readback/account-context.js";
import { type ReadBackOptions, type ReadBackResult, readBack } from "./readback/readback.js";
import { type Schedule, type ScheduleOptions, startSchedule } from "./schedule.js";
import { type SourceCustomer, sourceCustomerSchema } from "./source/customer-schema.js";
import type {
  AuditStore,
  CarriedRecord,
  CarryQuery,
  CarryState,
  Lease,
  PruneResult,
  RetentionPolicy,
  WritableKind,
} from "./store/audit-store.js";
import type { RunSummary } from "./summary.js";

/** Name of the source checkpoint in the store. */
export const SOURCE_CHECKPOINT = "source";

/**
 * Options of {@link createSync}, validated as a whole when the sync is created: a {@link SyncConfigError} lists every
 * missing or malformed option at once (unknown options included). New members go into `syncOptionsSchema`
 * (`src/engine/options.ts`) too.
 */
export interface SyncOptions<S = SourceCustomer> {
  /** Where customer records come from (e.g. `qadCustomerSource(qad)`). */
  source: CustomerSource;
  /** Marketo (e.g. `marketoGateway(mk)`). */
  marketo: MarketoGateway;
  /** Audit trail, checkpoints, leases and account contexts (e.g. `createMemoryStore()`). */
  store: AuditStore;
  /** Name of the tenant pair (one QAD tenant ⇄ one Marketo instance): scopes checkpoints, audit and the lease. @default "default" */
  tenant?: string;
  /** Edge schema validating each source record. @default sourceCustomerSchema */
  schema?: z.ZodType<S>;
  /** The mapping. @default defaultMapping (see `extendMapping`) */
  mapping?: SyncMapping<S>;
  /** Shortcut replacing `mapping.externalCompanyId`. */
  keyOf?: (record: S) => string;
  /** Source records per batch (a batch is one commit; Marketo writes are chunked to 300 anyway). @default 300 */
  batchSize?: number;
  /** Batches written concurrently; commits stay in source order. @default 2 */
  batchConcurrency?: number;
  /** Batches read from the source ahead of the writers (overlaps source paging with Marketo calls). @default 16 */
  readAhead?: number;
  /** Lease timing. */
  lease?: {
    /** Lease time to live. @default 60_000 */
    ttlMs?: number;
    /** Renewal interval. @default ttlMs / 3 */
    renewEveryMs?: number;
  };
  /** Read-back after each run, or `false`. @default {} (opportunities of touched accounts and new activity) */
  readBack?: ReadBackOptions | false;
  /**
   * Two customers whose named accounts would share a name (Marketo keeps one account per name): `suffixKey` names
   * the later one "name (externalCompanyId)", `skip` records it as skipped.
   * @default "suffixKey"
   */
  namedAccountNameConflicts?: NameConflictPolicy;
  /** Drop mapped fields the instance does not describe (when the gateway can describe). @default true */
  describeFields?: boolean;
  /** How long describe answers are reused across runs, in ms. @default 3_600_000 (1 hour) */
  describeTtlMs?: number;
  /**
   * Errors after which a run stops (after recording its batch). Other write errors fail only their records.
   * @default quota exhausted (607), access denied (603), authentication and configuration errors
   */
  isFatal?: (error: unknown) => boolean;
  /**
   * Carry-forward of records whose write failed (after the client's retries) or that were skipped as read-only:
   * kept in the store in the same transaction as their audit rows, and retried first by every later run once due
   * (a growing delay after each failed attempt; dead-lettered after `maxAttempts`). A newer write of the same record
   * supersedes a carried payload, which is then never sent.
   */
  carryForward?: CarryForwardOptions;
  /**
   * How long an object's writability answer (probe or 1018) is trusted before it is probed again, in ms; the answer
   * and its time are kept in the store, so restarts do not reset it. Records skipped while a CRM sync owned an object
   * are written by the first run after it no longer does and the answer has expired.
   * @default 3_600_000 (1 hour)
   */
  readOnlyRecheckMs?: number;
  /**
   * Audit history to keep: after each run that ended `completed` or `degraded`, older history is pruned (see
   * `AuditStore.prune`: a record's newest row, the rows of carried-forward records and running runs are always kept).
   * A prune failure is logged, never fails the run. `Sync.prune` prunes on demand.
   * @default undefined (keep everything)
   */
  retention?: RetentionPolicy;
  /**
   * Periodic reconcile of deletions: after every `everyRuns`-th run that read its source to the end, or once
   * `everyMs` has passed since the last one, `runOnce` compares the source's keys with the synced records and
   * applies `policy` to those gone (see {@link Sync.reconcile}); the time and run count of the last reconcile are
   * kept in the store (checkpoint `reconcile`). Its figures are in `RunSummary.reconcile`; a reconcile failure is
   * reported there and logged, never fails the run.
   * @default undefined (no periodic reconcile)
   */
  reconcile?: ReconcileSchedule;
  /** pino-compatible logger. */
  logger?: Logger;
  /** Clock. @default Date.now */
  clock?: Clock;
  /** Sleep (lease renewal). @default setTimeout-based */
  sleep?: Sleep;
}

/** Per-run options (validated before the lease is taken: a {@link SyncConfigError} names what is wrong). */
export interface RunOptions {
  /** Aborting stops the run gracefully: the batch in flight is written and recorded, the checkpoint saved. */
  signal?: AbortSignal;
}

/** What {@link Sync.runOnce} (and replay) answers. */
export type RunOutcome =
  | { status: "completed" | "degraded" | "stopped" | "failed"; summary: RunSummary }
  | {
      /** Another runner holds this tenant pair's lease; nothing was done. */
      status: "alreadyRunning";
      /** The holder's run id. */
      holder: string;
      /** When its lease expires unless renewed (ms since epoch). */
      expiresAt: number;
    };

/** Which audit entries to replay. Every condition given must hold. Validated before the lease is taken. */
export interface ReplaySelector {
  /** Entries of this run ("all failures of a run"). */
  runId?: string;
  /** Only these record keys. */
  keys?: string[];
  /** Only these kinds. */
  kinds?: WritableKind[];
  /** Outcomes to replay. @default ["failed", "skipped"] */
  outcomes?: ("failed" | "skipped")[];
  /**
   * Replay carried-forward records in these states instead of audit rows (e.g. `["dead"]` for dead-lettered ones);
   * `runId` then matches the run of their last attempt.
   */
  carried?: CarryState[];
}

/** A sync engine for one tenant pair. */
export interface Sync {
  /** The tenant pair. */
  readonly tenant: string;
  /**
   * Runs one incremental sync from the saved checkpoint, unless another runner holds the lease. Invalid options throw
   * a {@link SyncConfigError} before the lease is taken; once it runs, it resolves with the outcome whatever happens
   * (a source or store failure ends the run `failed` with its reason in `summary.error`) and the lease is released.
   */
  runOnce(options?: RunOptions): Promise<RunOutcome>;
  /**
   * Runs on a cron schedule (croner syntax) until the handle is stopped; overlapping ticks are skipped. An invalid
   * cron expression or option throws a {@link SyncConfigError} (every problem listed) and schedules nothing.
   */
  schedule(cron: string, options?: ScheduleOptions): Schedule;
  /** Stops the current run gracefully (and any schedule); resolves when it has ended. */
  stop(): Promise<void>;
  /**
   * Re-drives failed or skipped records from the audit trail. Idempotent: a record already written since (by a
   * replay or a newer run) is recorded as unchanged and not written again.
   */
  replay(selector?: ReplaySelector, options?: RunOptions): Promise<RunOutcome>;
  /**
   * Deletes audit history beyond `policy` (default: `SyncOptions.retention`). Never deletes a record's newest audit
   * row, any row of a carried-forward record, or a running run.
   */
  prune(policy?: RetentionPolicy): Promise<PruneResult>;
  /** Carried-forward records (pending or dead-lettered), ordered by (kind, key); see `SyncOptions.carryForward`. */
  carried(query?: Omit<CarryQuery, "tenant">): Promise<CarriedRecord[]>;
  /**
   * The sales context of one account: its stored context, or an empty one (no opportunities, no activity) for an
   * account this engine synced (as a company or a named account) that has none yet; `undefined` only for an account
   * it does not know.
   */
  accountContext(externalCompanyId: string): Promise<AccountContext | undefined>;
  /** Refreshes account contexts now (opportunities of `accounts`, and new activity). */
  refreshAccountContexts(accounts: string[], options?: ReadBackOptions & RunOptions): Promise<ReadBackResult>;
  /**
   * Plans the next run without writing anything: reads the source from the saved checkpoint, validates, maps and
   * compares with the synced state, probing Marketo's capabilities and describe (reads), and reports per record
   * would-create / would-update (with the changed fields) / unchanged / rejected / skipped, plus the calls a real
   * run would spend. No Marketo write, no checkpoint, no audit row, no synced state, no carried record changes; no
   * lease is taken (a running sync is not held up). For large sources pass `onItem` (verdicts streamed, only totals
   * kept). `reconcile: true` adds what a reconcile would do.
   * @example
   * const report = await sync.dryRun({ onItem: (i) => i.action === "update" && console.log(i.key, i.changes) });
   * console.log(report.totals.calls.total, "Marketo calls");
   */
  dryRun(options?: DryRunOptions): Promise<DryRunReport>;
  /**
   * Finds records gone from the source (QAD deletes and deactivations, which a modified-since poll cannot see) by
   * comparing the source's keys (`CustomerSource.keys`, keys only) with the synced records, and applies the policy
   * (default `report`; `SyncOptions.reconcile`'s settings when given). Marketo is called only for the policy's
   * writes. Takes the lease (answers `alreadyRunning` when another runner holds it), except with `dryRun: true`,
   * which writes nothing anywhere.
   * @example
   * const r = await sync.reconcile({ dryRun: true, policy: "removeNamedAccount" });
   * if (r.status !== "alreadyRunning") for (const f of r.findings) console.log(f.key, f.why, f.result);
   */
  reconcile(options?: ReconcileOptions): Promise<ReconcileOutcome>;
  /** Subscribes to an event; returns the unsubscribe function. */
  on<E extends SyncEventName>(event: E, listener: SyncListener<E>): () => void;
}

const FATAL_CODES = new Set(["603", "607", "CONFIG", "AUTH", "config", "auth"]);
const FATAL_NAMES = new Set([
  "MarketoQuotaExceededError",
  "MarketoAuthError",
  "MarketoPermissionError",
  "MarketoConfigError",
]);

/** The default {@link SyncOptions.isFatal}. */
export function defaultIsFatal(e: unknown): boolean {
  if (typeof e !== "object" || e === null) return false;
  const r = e as { code?: unknown; name?: unknown };
  return FATAL_CODES.has(String(r.code)) || FATAL_NAMES.has(String(r.name));
}

/**
 * Creates the sync engine for one tenant pair. It only wires the engine modules (`src/engine/`): the lease keeper,
 * the carry-forward retry, the read-ahead pipeline with its checkpoint ledger and lead pool, the planner, the
 * executor, replay and the run bookkeeping.
 *
 * @example
 * const sync = createSync({
 *   source: qadCustomerSource(new QadClient({ ...qadOptions })),
 *   marketo: marketoGateway(new MarketoClient({ ...marketoOptions })),
 *   store: createMemoryStore(),
 * });
 * sync.on("progress", ({ counts }) => console.log(counts));
 * const outcome = await sync.runOnce();
 */
export function createSync<S = SourceCustomer>(options: SyncOptions<S>): Sync {
  validateSyncOptions(options);
  const tenant = options.tenant ?? "default";
  const logger = options.logger ?? silentLogger;
  const clock = options.clock ?? systemClock;
  const sleep = options.sleep ?? realSleep;
  const { store, source, marketo: gateway } = options;
  const schema = (options.schema ?? sourceCustomerSchema) as z.ZodType<S>;
  const baseMapping = (options.mapping ?? defaultMapping) as SyncMapping<S>;
  const mapping = compileMapping(options.keyOf ? { ...baseMapping, externalCompanyId: options.keyOf } : baseMapping);
  const batchSize = options.batchSize ?? MAX_BATCH;
  const batchConcurrency = options.batchConcurrency ?? 2;
  const readAhead = options.readAhead ?? 16;
  const ttlMs = options.lease?.ttlMs ?? 60_000;
  const renewEveryMs = options.lease?.renewEveryMs ?? Math.max(1, Math.floor(ttlMs / 3));
  const isFatal = options.isFatal ?? defaultIsFatal;
  const readBackOptions = options.readBack ?? {};
  const policy = carryPolicy(options.carryForward);
  const readOnlyRecheckMs = options.readOnlyRecheckMs ?? 3_600_000;
  const retention = options.retention;
  const reconcileSchedule = options.reconcile;
  if (reconcileSchedule !== undefined) checkReconcileOptions(reconcileSchedule, "reconcile");
  const emitter = new Emitter(logger);
  const leaseOptions = { store, name: `sync:${tenant}`, ttlMs, renewEveryMs, sleep, logger };
  const filterCache = new FieldFilterCache({
    gateway,
    enabled: options.describeFields !== false,
    ttlMs: options.describeTtlMs ?? 3_600_000,
    clock,
    logger,
  });
  const capabilityCache = new CapabilityCache({ gateway, store, tenant, ttlMs: readOnlyRecheckMs, clock, logger });
  const now = () => clock.now();

  let current: { stop: AbortController; done: Promise<unknown> } | undefined;
  const schedules = new Set<Schedule>();

  /** Runs `body` under the tenant pair's lease, as the current run. */
  /** `tenant:[kind:]ISO-start:8 hex`, unique and sortable by start within a tenant pair. */
  const newRunId = (kind?: string) =>
    `${tenant}:${kind ? `${kind}:` : ""}${new Date(clock.now()).toISOString()}:${randomUUID().slice(0, 8)}`;

  const underLease = async <T>(
    signal: AbortSignal | undefined,
    body: (ctx: { runId: string; lease: Lease; stop: AbortController; leaseLost: () => boolean }) => Promise<T>,
  ): Promise<T | Extract<RunOutcome, { status: "alreadyRunning" }>> => {
    const runId = newRunId();
    let resolveDone!: () => void;
    const done = new Promise<void>((r) => {
      resolveDone = r;
    });
    try {
      const got = await withLease(
        leaseOptions,
        runId,
        signal,
        (held) => {
          current = { stop: held.stop, done };
        },
        (held) => body({ runId, lease: held.lease, stop: held.stop, leaseLost: held.lost }),
      );
      if (!got.acquired) {
        emitter.emit("runSkipped", { tenant, reason: "already_running", holder: got.holder, expiresAt: got.expiresAt });
        return { status: "alreadyRunning", holder: got.holder, expiresAt: got.expiresAt };
      }
      return got.value;
    } finally {
      current = undefined;
      resolveDone();
    }
  };

  const probe = async (caps: CapabilityTracker, signal?: AbortSignal) => {
    await caps.probe("companies", signal);
    if (baseMapping.salesPerson) await caps.probe("salesPersons", signal);
    await caps.probe("opportunities", signal);
  };

  const doReadBack = async (
    accounts: string[],
    opts: ReadBackOptions,
    fence: Lease | undefined,
    signal: AbortSignal | undefined,
    runId?: string,
  ): Promise<ReadBackResult> =>
    readBack(accounts, opts, { tenant, gateway, store, emitter, logger, now, sleep, fence, signal, runId });

  /**
   * What a sync run and a replay both set up once they hold the lease: the run record, this run's capability
   * tracker (`reprobe`: ask Marketo afresh whatever the cache holds), the executor's context and the re-drive
   * context of carried-forward retries and replays.
   */
  const beginRun = async (
    held: { runId: string; lease: Lease; stop: AbortController },
    trigger: RunSummary["trigger"],
    reprobe: boolean,
  ) => {
    const { runId, lease, stop } = held;
    // The accounts a run touched are kept only for its read-back (one entry per account: O(N) on a first sync).
    const keepTouched = trigger !== "replay" && readBackOptions !== false;
    const book = await RunBook.start({ tenant, runId, trigger, store, gateway, emitter, logger, now, keepTouched });
    const caps = new CapabilityTracker(gateway, emitter, logger, capabilityCache, reprobe);
    const exec: ExecuteContext = { tenant, runId, gateway, capabilities: caps, now, isFatal };
    const redriveDeps: Omit<RedriveDeps, "replay" | "carried"> = {
      store,
      tenant,
      runId,
      now,
      policy,
      exec,
      fence: lease,
      stop: stop.signal,
      book,
      emitter,
    };
    return { book, caps, exec, redriveDeps };
  };

  const reconcileDeps = (runId: string, fence: Lease | undefined, capabilities: CapabilityTracker) => ({
    tenant,
    runId,
    source,
    store,
    gateway,
    schema,
    mapping,
    capabilities,
    fence,
    isFatal,
    logger,
    now,
  });
  const reconcileSettings = (): ReconcileOptions => {
    const { everyRuns: _runs, everyMs: _ms, ...settings } = reconcileSchedule ?? {};
    return settings;
  };
  const saveCadence = async (value: { lastAt: number; runs: number }, lease: Lease) => {
    try {
      await store.saveCheckpoint(tenant, RECONCILE_CHECKPOINT, value, lease);
    } catch (e) {
      logger.warn({ err: errorInfo(e) }, "could not save the reconcile cadence");
    }
  };

  /** The periodic reconcile of `SyncOptions.reconcile`, inside a run that read its source to the end. */
  const periodicReconcile = async (
    runId: string,
    lease: Lease,
    caps: CapabilityTracker,
    signal: AbortSignal,
  ): Promise<ReconcileReport | undefined> => {
    try {
      const cadence = reconcileDue(
        reconcileSchedule as ReconcileSchedule,
        await store.getCheckpoint(tenant, RECONCILE_CHECKPOINT),
        clock.now(),
      );
      if (!cadence.due) {
        await saveCadence(cadence.next, lease);
        return undefined;
      }
      const report = await runReconcile(reconcileDeps(runId, lease, caps), { ...reconcileSettings(), signal });
      await saveCadence(report.status === "completed" ? cadence.reset : cadence.next, lease);
      if (report.error) logger.warn({ runId, err: report.error }, "reconcile did not complete");
      return report;
    } catch (e) {
      logger.warn({ runId, err: errorInfo(e) }, "reconcile failed");
      return undefined;
    }
  };

  /** The planning context of one run (or dry run): field filters are loaded into it once the run starts. */
  const planContext = (runId: string) => ({
    tenant,
    runId,
    schema,
    mapping,
    store,
    filters: {} as FieldFilters,
    names: new NameClaims(store, tenant),
    nameConflicts: options.namedAccountNameConflicts ?? "suffixKey",
    dropped: new Set<string>(),
    now,
  });

  const runSync = (trigger: "manual" | "schedule", runOptions: RunOptions = {}) =>
    underLease(runOptions.signal, async (held) => {
      const { runId, lease, stop, leaseLost } = held;
      const { book, caps, exec: execCtx, redriveDeps } = await beginRun(held, trigger, false);
      // A store that could not record the start of the run ends it failed, with nothing done (RunBook.start).
      let failure: ErrorInfo | undefined = book.startFailure;
      let completedSource = false;
      let checkpointSaved = false;
      let contextsUpdated = 0;
      const planCtx = planContext(runId);
      // Carried rows are looked up per batch only when some may exist (the store had some, or this run put some).
      let carryActive = false;
      if (!failure)
        try {
          planCtx.filters = await filterCache.load();
          await probe(caps);
          const left = await store.countCarried(tenant);
          carryActive = left.pending + left.dead > 0;
          // Records carried forward by earlier runs go first, so an outage never leaves them behind.
          if (left.pending > 0) {
            const retried = await retryCarried({
              ...redriveDeps,
              capabilities: caps,
              filters: planCtx.filters,
              dropped: planCtx.dropped,
            });
            failure = retried.fatal;
          }
        } catch (e) {
          failure = errorInfo(e);
        }

      // Whatever the source (or the store) throws from here ends the run as failed with its reason: the run record is
      // finished and runOnce resolves.
      let read: SourceRead | undefined;
      if (!failure && !stop.signal.aborted) {
        try {
          read = source.read(await store.getCheckpoint(tenant, SOURCE_CHECKPOINT), { signal: stop.signal });
        } catch (e) {
          failure = errorInfo(e);
          logger.error({ runId, err: failure }, "source read failed");
        }
      }
      if (read) {
        const result = await runPipeline<{ planning: Planning; executed: Executed }>(
          read,
          { batchSize, batchConcurrency, readAhead, stop, logger, runId },
          {
            async work(items, leads, batch) {
              const planning = await planBatch(items, planCtx, batch);
              const executed = await executePlan(planning.plan, { ...execCtx, leads, planEntries: planning.entries });
              return { planning, executed };
            },
            async commit({ planning, executed }, batch, earned) {
              const entries = [...planning.entries, ...executed.entries];
              const prior = carryActive ? await loadCarried(store, tenant, carryRefs(entries)) : new Map();
              const carry = carryChanges(entries, prior, { tenant, runId, now: now(), policy });
              await store.commitBatch({
                tenant,
                entries,
                synced: executed.synced,
                checkpoint: earned ? { name: SOURCE_CHECKPOINT, value: earned.value } : undefined,
                carry,
                fence: lease,
              });
              planCtx.names.committed(batch, entries);
              if (carry.put && carry.put.length > 0) carryActive = true;
              const c = book.counts;
              c.read += planning.counts.read;
              c.rejected += planning.counts.rejected;
              c.mapped += planning.counts.mapped;
              c.unchanged += planning.counts.unchanged;
              c.planned += planning.counts.planned;
              c.batches++;
              book.record(entries, executed);
              emitter.emit("batchCommitted", {
                runId,
                batch,
                records: entries.length,
                checkpointSaved: earned !== undefined,
              });
              emitter.emit("progress", { runId, counts: { ...c } });
              return executed.fatal;
            },
          },
        ).catch(
          (e): PipelineResult => ({
            completedSource: false,
            checkpointSaved: false,
            broken: true,
            failure: errorInfo(e),
          }),
        );
        failure ??= result.failure;
        completedSource = result.completedSource;
        checkpointSaved = result.checkpointSaved;
      }

      if (leaseLost()) {
        failure ??= {
          code: "lease_lost",
          message: "the lease was lost; another runner may have taken over",
          retryable: true,
        };
      }
      const verdict = book.status(failure, completedSource);
      let reconciled: ReconcileReport | undefined;
      if (reconcileSchedule && !leaseLost() && (verdict.status === "completed" || verdict.status === "degraded")) {
        reconciled = await periodicReconcile(runId, lease, caps, stop.signal);
      }
      if ((verdict.status === "completed" || verdict.status === "degraded") && readBackOptions !== false) {
        try {
          contextsUpdated = (await doReadBack([...book.touched], readBackOptions, lease, undefined, runId))
            .contextsUpdated;
        } catch (e) {
          // The sync itself succeeded; a read-back failure is reported, not fatal.
          logger.warn({ runId, err: errorInfo(e) }, "read-back failed");
        }
      }
      const droppedFields = [...planCtx.dropped].sort();
      if (droppedFields.length > 0) {
        logger.warn(
          { runId, fields: droppedFields },
          "mapped fields this Marketo instance does not have were not sent",
        );
      }
      if (!leaseLost()) await capabilityCache.persist(lease);
      const summary = await book.finish(verdict.status, {
        checkpointSaved,
        error: verdict.error,
        contextsUpdated,
        readOnly: caps.readOnly(),
        droppedFields,
        ...(reconciled ? { reconcile: reconcileTotals(reconciled) } : {}),
      });
      if (retention && (verdict.status === "completed" || verdict.status === "degraded")) {
        try {
          const pruned = await store.prune(tenant, retention, clock.now());
          if (pruned.auditRows > 0 || pruned.runs > 0) logger.info({ runId, ...pruned }, "audit history pruned");
        } catch (e) {
          logger.warn({ runId, err: errorInfo(e) }, "audit prune failed");
        }
      }
      return { status: verdict.status, summary };
    });

  const replay = (selector: ReplaySelector = {}, runOptions: RunOptions = {}) =>
    underLease(runOptions.signal, async (held) => {
      const { lease, stop } = held;
      // A manual replay asks Marketo afresh whether objects are writable (the operator may just have changed it).
      const { book, caps, redriveDeps } = await beginRun(held, "replay", true);
      let failure: ErrorInfo | undefined = book.startFailure;
      if (!failure)
        try {
          await probe(caps);
          const candidates = await replayCandidates(store, tenant, selector);
          const r = await redrive(candidates, { ...redriveDeps, replay: true });
          failure = r.fatal;
        } catch (e) {
          failure = errorInfo(e);
        }
      const verdict = book.status(failure, !stop.signal.aborted);
      await capabilityCache.persist(lease);
      const summary = await book.finish(verdict.status, {
        checkpointSaved: false,
        error: verdict.error,
        contextsUpdated: 0,
        readOnly: caps.readOnly(),
      });
      return { status: verdict.status, summary };
    });

  const sync: Sync = {
    tenant,
    async runOnce(runOptions) {
      validate(runOptionsSchema, runOptions ?? {}, "runOnce");
      return runSync("manual", runOptions);
    },
    async replay(selector, runOptions) {
      validate(replaySelectorSchema, selector ?? {}, "replay", "selector");
      validate(runOptionsSchema, runOptions ?? {}, "replay", "options");
      return replay(selector, runOptions);
    },
    schedule(cron, scheduleOptions) {
      const s = startSchedule(cron, () => runSync("schedule"), scheduleOptions, logger);
      schedules.add(s);
      const origStop = s.stop.bind(s);
      s.stop = () => {
        schedules.delete(s);
        origStop();
      };
      return s;
    },
    async stop() {
      for (const s of [...schedules]) s.stop();
      const c = current;
      if (!c) return;
      c.stop.abort(new DOMException("stop requested", "AbortError"));
      await c.done.catch(() => {});
    },
    async prune(policy) {
      const p = policy ?? retention;
      if (!p) throw new SyncConfigError("prune needs a retention policy (argument or SyncOptions.retention)");
      return store.prune(tenant, p, clock.now());
    },
    carried: (query = {}) => store.listCarried({ ...query, tenant }),
    async accountContext(id) {
      checkArgument(
        typeof id === "string" && id !== "",
        "accountContext",
        "externalCompanyId",
        "a non-empty string",
        id,
      );
      const ctx = await store.getAccountContext(tenant, id);
      if (ctx) return ctx;
      // Known (synced as a company or named account) but no context yet: an empty one, as the read-back would start.
      for (const kind of ["company", "namedAccount"] as const) {
        const synced = await store.getSynced(tenant, kind, [id]);
        if (synced.size > 0) return emptyAccountContext(id, synced.get(id)?.at ?? clock.now());
      }
      return undefined;
    },
    async refreshAccountContexts(accounts, opts = {}) {
      checkArgument(
        Array.isArray(accounts) && accounts.every((a) => typeof a === "string"),
        "refreshAccountContexts",
        "accounts",
        "an array of externalCompanyIds (strings)",
        accounts,
      );
      validate(refreshOptionsSchema, opts, "refreshAccountContexts", "options");
      return doReadBack(accounts, opts, undefined, opts.signal);
    },
    async dryRun(dryOptions = {}) {
      const runId = newRunId("dry-run");
      const callsBefore = gateway.usage().callsMade;
      const caps = new CapabilityTracker(gateway, emitter, logger, capabilityCache, false);
      const planCtx = planContext(runId);
      planCtx.filters = await filterCache.load(dryOptions.signal);
      await probe(caps, dryOptions.signal);
      const report: DryRunReport = await dryRunPlan(
        {
          tenant,
          source,
          store,
          gateway,
          plan: planCtx,
          capabilities: caps,
          batchSize,
          from: await store.getCheckpoint(tenant, SOURCE_CHECKPOINT),
          callsBefore,
        },
        dryOptions,
      );
      if (dryOptions.reconcile) {
        const extra = dryOptions.reconcile === true ? {} : dryOptions.reconcile;
        report.reconcile = await runReconcile(reconcileDeps(runId, undefined, caps), {
          ...reconcileSettings(),
          ...extra,
          dryRun: true,
          signal: dryOptions.signal,
        });
      }
      return report;
    },
    async reconcile(reconcileOptions = {}) {
      checkReconcileOptions(reconcileOptions, "reconcile");
      const settings = { ...reconcileSettings(), ...reconcileOptions };
      const capsFor = async (signal?: AbortSignal) => {
        const caps = new CapabilityTracker(gateway, emitter, logger, capabilityCache, false);
        if ((settings.policy ?? "report") === "markInactive") await caps.probe("companies", signal);
        return caps;
      };
      if (settings.dryRun) {
        const runId = newRunId("reconcile-dry-run");
        return runReconcile(reconcileDeps(runId, undefined, await capsFor(settings.signal)), settings);
      }
      return underLease(settings.signal, async (held) => {
        const caps = await capsFor(held.stop.signal);
        const report = await runReconcile(reconcileDeps(held.runId, held.lease, caps), {
          ...settings,
          signal: held.stop.signal,
        });
        if (report.status === "completed" && !held.leaseLost()) {
          await saveCadence({ lastAt: clock.now(), runs: 0 }, held.lease);
        }
        return report;
      });
    },
    on: (event, listener) => emitter.on(event, listener),
  };
  return sync;
}
