/**
 * `createSync`: the engine. Source → validate → map → detect changes → plan → write → record, per batch, under a
 * lease per tenant pair, with the checkpoint saved in the same store transaction as the outcomes that earn it.
 *
 * @module
 */

import { randomUUID } from "node:crypto";
import type { z } from "zod";
import { CapabilityTracker } from "./engine/capabilities.js";
import { type Executed, executePlan, type LeadStep, MAX_BATCH, type Plan, type Planned } from "./engine/execute.js";
import { type FieldFilters, type NameConflictPolicy, normName, planBatch } from "./engine/plan.js";
import { type ErrorInfo, errorInfo, SyncConfigError } from "./errors.js";
import { Emitter, type StageCounts, type SyncEventName, type SyncListener } from "./events.js";
import { type Clock, type Logger, realSleep, type Sleep, silentLogger, systemClock } from "./internal/runtime.js";
import { defaultMapping } from "./mapping/defaults.js";
import { compileMapping, type SyncMapping } from "./mapping/mapping.js";
import type { CustomerSource, JsonValue, MarketoGateway, SourceItem } from "./ports.js";
import type { AccountContext } from "./readback/account-context.js";
import { type ReadBackOptions, type ReadBackResult, readBack } from "./readback/readback.js";
import { type Schedule, type ScheduleOptions, startSchedule } from "./schedule.js";
import { type SourceCustomer, sourceCustomerSchema } from "./source/customer-schema.js";
import type { AuditEntry, AuditStore, Lease, Outcome, RecordKind, WritableKind } from "./store/audit-store.js";
import { emptyOutcomes, type RunSummary } from "./summary.js";

/** Name of the source checkpoint in the store. */
export const SOURCE_CHECKPOINT = "source";

/** Options of {@link createSync}. */
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
  /** pino-compatible logger. */
  logger?: Logger;
  /** Clock. @default Date.now */
  clock?: Clock;
  /** Sleep (lease renewal). @default setTimeout-based */
  sleep?: Sleep;
}

/** Per-run options. */
export interface RunOptions {
  /** Aborting stops the run gracefully: the batch in flight is written and recorded, the checkpoint saved. */
  signal?: AbortSignal;
}

/** What {@link Sync.runOnce} (and replay) answers. */
export type RunOutcome =
  | { status: "completed" | "stopped" | "failed"; summary: RunSummary }
  | {
      /** Another runner holds this tenant pair's lease; nothing was done. */
      status: "alreadyRunning";
      /** The holder's run id. */
      holder: string;
      /** When its lease expires unless renewed (ms since epoch). */
      expiresAt: number;
    };

/** Which audit entries to replay. Every condition given must hold. */
export interface ReplaySelector {
  /** Entries of this run ("all failures of a run"). */
  runId?: string;
  /** Only these record keys. */
  keys?: string[];
  /** Only these kinds. */
  kinds?: WritableKind[];
  /** Outcomes to replay. @default ["failed", "skipped"] */
  outcomes?: ("failed" | "skipped")[];
}

/** A sync engine for one tenant pair. */
export interface Sync {
  /** The tenant pair. */
  readonly tenant: string;
  /** Runs one incremental sync from the saved checkpoint, unless another runner holds the lease. */
  runOnce(options?: RunOptions): Promise<RunOutcome>;
  /** Runs on a cron schedule (croner syntax) until the handle is stopped; overlapping ticks are skipped. */
  schedule(cron: string, options?: ScheduleOptions): Schedule;
  /** Stops the current run gracefully (and any schedule); resolves when it has ended. */
  stop(): Promise<void>;
  /**
   * Re-drives failed or skipped records from the audit trail. Idempotent: a record already written since (by a
   * replay or a newer run) is recorded as unchanged and not written again.
   */
  replay(selector?: ReplaySelector, options?: RunOptions): Promise<RunOutcome>;
  /** The sales context of one account. */
  accountContext(externalCompanyId: string): Promise<AccountContext | undefined>;
  /** Refreshes account contexts now (opportunities of `accounts`, and new activity). */
  refreshAccountContexts(accounts: string[], options?: ReadBackOptions & RunOptions): Promise<ReadBackResult>;
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

const zeroCounts = (): StageCounts => ({
  read: 0,
  rejected: 0,
  mapped: 0,
  unchanged: 0,
  planned: 0,
  written: 0,
  recorded: 0,
  batches: 0,
});

const isAbort = (e: unknown) => typeof e === "object" && e !== null && (e as { name?: unknown }).name === "AbortError";

/**
 * Creates the sync engine for one tenant pair.
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
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new SyncConfigError("batchSize must be a positive integer");
  if (!Number.isInteger(readAhead) || readAhead < 1) throw new SyncConfigError("readAhead must be a positive integer");
  if (!Number.isInteger(batchConcurrency) || batchConcurrency < 1) {
    throw new SyncConfigError("batchConcurrency must be a positive integer");
  }
  if (renewEveryMs >= ttlMs) throw new SyncConfigError("lease.renewEveryMs must be shorter than lease.ttlMs");
  const emitter = new Emitter(logger);
  const leaseName = `sync:${tenant}`;

  let current: { stop: AbortController; done: Promise<unknown> } | undefined;
  const schedules = new Set<Schedule>();

  /** Holds the lease for the duration of `body`, renewing it; a lost lease stops the run gracefully. */
  const withLease = async (
    signal: AbortSignal | undefined,
    body: (ctx: {
      runId: string;
      lease: Lease;
      stop: AbortController;
      leaseLost: () => boolean;
    }) => Promise<RunOutcome>,
  ): Promise<RunOutcome> => {
    const runId = `${tenant}:${new Date(clock.now()).toISOString()}:${randomUUID().slice(0, 8)}`;
    const got = await store.acquireLease(leaseName, runId, ttlMs);
    if (!got.acquired) {
      emitter.emit("runSkipped", { tenant, reason: "already_running", holder: got.holder, expiresAt: got.expiresAt });
      return { status: "alreadyRunning", holder: got.holder, expiresAt: got.expiresAt };
    }
    let lease = got.lease;
    let lost = false;
    const stop = new AbortController();
    const onAbort = () => stop.abort(signal?.reason);
    if (signal?.aborted) stop.abort(signal.reason);
    else signal?.addEventListener("abort", onAbort, { once: true });
    const keeper = new AbortController();
    const renewing = (async () => {
      while (!keeper.signal.aborted) {
        try {
          await sleep(renewEveryMs, keeper.signal);
        } catch {
          return;
        }
        if (keeper.signal.aborted) return;
        const renewed = await store.renewLease(lease, ttlMs).catch((e) => {
          logger.warn({ err: errorInfo(e) }, "lease renewal failed");
          return lease;
        });
        if (!renewed) {
          lost = true;
          logger.error({ tenant, runId }, "lease lost: stopping the run after the batch in flight");
          stop.abort(new DOMException("lease lost", "AbortError"));
          return;
        }
        lease = renewed;
      }
    })();
    const done = body({ runId, lease, stop, leaseLost: () => lost });
    current = { stop, done };
    try {
      return await done;
    } finally {
      keeper.abort();
      await renewing;
      signal?.removeEventListener("abort", onAbort);
      current = undefined;
      await store.releaseLease(lease).catch((e) => logger.warn({ err: errorInfo(e) }, "lease release failed"));
    }
  };

  // Describe answers change only when an admin edits the schema: cache them, so an unchanged re-run costs no call.
  let filtersCache: { at: number; filters: FieldFilters } | undefined;
  const describeTtlMs = options.describeTtlMs ?? 3_600_000;
  const loadFilters = async (signal?: AbortSignal): Promise<FieldFilters> => {
    if (options.describeFields === false || !gateway.fields) return {};
    if (filtersCache && clock.now() - filtersCache.at < describeTtlMs) return filtersCache.filters;
    const objects = {
      company: "companies",
      namedAccount: "namedAccounts",
      lead: "leads",
      salesPerson: "salesPersons",
    } as const;
    const out: FieldFilters = {};
    for (const [kind, object] of Object.entries(objects) as [WritableKind, (typeof objects)[WritableKind]][]) {
      try {
        out[kind] = await gateway.fields(object, { signal });
      } catch (e) {
        logger.warn({ object, err: errorInfo(e) }, "describe failed; sending every mapped field");
      }
    }
    filtersCache = { at: clock.now(), filters: out };
    return out;
  };

  /** Shared bookkeeping of one run (sync or replay). */
  const newRun = async (runId: string, trigger: RunSummary["trigger"]) => {
    const startedAt = clock.now();
    await store.startRun({ tenant, runId, trigger, status: "running", startedAt });
    emitter.emit("runStarted", { runId, tenant, trigger });
    const callsBefore = gateway.usage().callsMade;
    const outcomes = emptyOutcomes();
    const counts = zeroCounts();
    let writeCalls = 0;
    const touched = new Set<string>();
    const record = (entries: AuditEntry[], executed?: Executed) => {
      for (const e of entries) outcomes[e.kind as RecordKind][e.outcome as Outcome]++;
      counts.recorded += entries.length;
      if (executed) {
        writeCalls += executed.writeCalls;
        for (const t of executed.touched) touched.add(t);
        for (const e of executed.entries) if (e.outcome === "created" || e.outcome === "updated") counts.written++;
      }
    };
    const finish = async (
      status: RunSummary["status"],
      extra: {
        checkpointSaved: boolean;
        error?: ErrorInfo | undefined;
        contextsUpdated: number;
        readOnly: RunSummary["readOnly"];
        droppedFields?: string[];
      },
    ): Promise<RunSummary> => {
      const finishedAt = clock.now();
      const usage = gateway.usage();
      const summary: RunSummary = {
        runId,
        tenant,
        trigger,
        status,
        startedAt,
        finishedAt,
        durationMs: finishedAt - startedAt,
        outcomes,
        sourceItems: counts.read,
        batches: counts.batches,
        checkpointSaved: extra.checkpointSaved,
        marketoCalls: usage.callsMade - callsBefore,
        marketoWriteCalls: writeCalls,
        quotaLeft: Math.max(0, usage.dailyLimit - usage.dailyUsed),
        readOnly: extra.readOnly,
        droppedFields: extra.droppedFields ?? [],
        contextsUpdated: extra.contextsUpdated,
        ...(extra.error ? { error: extra.error } : {}),
      };
      try {
        await store.finishRun(tenant, runId, { status, finishedAt, summary: summary as unknown as JsonValue });
      } catch (e) {
        logger.error({ runId, err: errorInfo(e) }, "could not record the end of the run");
      }
      emitter.emit("runFinished", summary);
      logger.info({ runId, status, outcomes, marketoCalls: summary.marketoCalls }, "sync run finished");
      return summary;
    };
    return { outcomes, counts, record, finish, touched };
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
  ): Promise<ReadBackResult> =>
    readBack(accounts, opts, { tenant, gateway, store, emitter, logger, now: () => clock.now(), fence, signal });

  const runSync = (trigger: "manual" | "schedule", runOptions: RunOptions = {}) =>
    withLease(runOptions.signal, async ({ runId, lease, stop, leaseLost }) => {
      const run = await newRun(runId, trigger);
      const caps = new CapabilityTracker(gateway, emitter, logger);
      let failure: ErrorInfo | undefined;
      let broken = false;
      let checkpointSaved = false;
      let contextsUpdated = 0;
      const planCtx = {
        tenant,
        runId,
        schema,
        mapping,
        store,
        filters: {} as FieldFilters,
        names: new Map<string, string>(),
        nameConflicts: options.namedAccountNameConflicts ?? "suffixKey",
        dropped: new Set<string>(),
        now: () => clock.now(),
      };
      const execCtx = { tenant, runId, gateway, capabilities: caps, now: () => clock.now(), isFatal };
      try {
        planCtx.filters = await loadFilters();
        await probe(caps);
        if (baseMapping.namedAccount !== false) {
          for await (const s of store.listSynced(tenant, "namedAccount")) {
            if (s.name !== undefined) planCtx.names.set(normName(s.name), s.key);
          }
        }
      } catch (e) {
        failure = errorInfo(e);
      }

      let commitTail: Promise<void> = Promise.resolve();
      const inflight: Promise<void>[] = [];
      let batchNo = 0;
      // Leads are pooled across batches so every lead call but the last carries 300 (a batch of 300 customers has
      // any number of contacts). Leads still in the pool keep their batch's checkpoint from being saved: a batch's
      // checkpoint is saved only once no lead of it (or of an earlier batch) is pending.
      let leadTail: Promise<void> = Promise.resolve();
      let pool: (Planned & { origin: number })[] = [];
      const checkpoints = new Map<number, JsonValue | undefined>();
      let savedThrough = 0;
      let dispatchedFinal = false;
      const dispatch = (items: SourceItem[], checkpoint: JsonValue | undefined, final: boolean) => {
        const n = ++batchNo;
        if (final) dispatchedFinal = true;
        checkpoints.set(n, checkpoint);
        // Lead steps run in dispatch order: the slot is taken now, synchronously.
        const prevLeads = leadTail;
        let releaseLeads!: () => void;
        leadTail = new Promise<void>((r) => {
          releaseLeads = r;
        });
        let pendingFrom = Number.POSITIVE_INFINITY;
        const leadStep: LeadStep = async (own, writeLeads) => {
          await prevLeads;
          const byKey = new Map<string, Planned & { origin: number }>();
          for (const p of pool) byKey.set(p.key, p);
          for (const p of own) {
            byKey.delete(p.key);
            byKey.set(p.key, { ...p, origin: n });
          }
          const all = [...byKey.values()];
          const cut = final ? all.length : all.length - (all.length % MAX_BATCH);
          pool = all.slice(cut);
          pendingFrom = pool.reduce((m, p) => Math.min(m, p.origin), Number.POSITIVE_INFINITY);
          // The next batch may take its turn now: it needs the pool, not the outcome of these writes.
          releaseLeads();
          await writeLeads(all.slice(0, cut));
        };
        const work = (async () => {
          try {
            const planning = await planBatch(items, planCtx);
            const executed = await executePlan(planning.plan, { ...execCtx, leadStep });
            return { planning, executed };
          } finally {
            releaseLeads();
          }
        })();
        work.catch(() => {}); // observed below, in commit order
        const committed = commitTail.then(async () => {
          if (broken) return;
          try {
            const { planning, executed } = await work;
            const entries = [...planning.entries, ...executed.entries];
            const safe = Number.isFinite(pendingFrom) ? pendingFrom - 1 : n;
            const cp = safe > savedThrough ? checkpoints.get(safe) : undefined;
            await store.commitBatch({
              tenant,
              entries,
              synced: executed.synced,
              checkpoint: cp === undefined ? undefined : { name: SOURCE_CHECKPOINT, value: cp },
              fence: lease,
            });
            if (cp !== undefined) {
              checkpointSaved = true;
              savedThrough = safe;
              for (const k of checkpoints.keys()) if (k <= safe) checkpoints.delete(k);
            }
            const c = run.counts;
            c.read += planning.counts.read;
            c.rejected += planning.counts.rejected;
            c.mapped += planning.counts.mapped;
            c.unchanged += planning.counts.unchanged;
            c.planned += planning.counts.planned;
            c.batches++;
            run.record(entries, executed);
            emitter.emit("batchCommitted", {
              runId,
              batch: n,
              records: entries.length,
              checkpointSaved: cp !== undefined,
            });
            emitter.emit("progress", { runId, counts: { ...c } });
            if (executed.fatal && !failure) {
              failure = executed.fatal;
              stop.abort(new Error(`fatal Marketo error ${executed.fatal.code}`));
            }
          } catch (e) {
            broken = true;
            failure ??= errorInfo(e);
            logger.error({ runId, batch: n, err: failure }, "batch could not be recorded; stopping the run");
            stop.abort(e);
          }
        });
        commitTail = committed;
        inflight.push(committed);
      };

      let completedSource = false;
      if (!failure) {
        const from = await store.getCheckpoint(tenant, SOURCE_CHECKPOINT);
        const read = source.read(from, { signal: stop.signal });
        // The reader runs ahead of the writers (up to `readAhead` batches), so a source that fetches in pages keeps
        // fetching while Marketo calls are in flight. Each batch's checkpoint is taken right after its last item and
        // before the next is requested, so it never covers an item of a later batch.
        const queue: { items: SourceItem[]; checkpoint: JsonValue | undefined; final: boolean }[] = [];
        let readerDone = false;
        let wakeWriter: (() => void) | undefined;
        let wakeReader: (() => void) | undefined;
        const pushBatch = (b: { items: SourceItem[]; checkpoint: JsonValue | undefined; final: boolean }) => {
          queue.push(b);
          wakeWriter?.();
        };
        const onStop = () => {
          wakeReader?.();
          wakeWriter?.();
        };
        stop.signal.addEventListener("abort", onStop, { once: true });
        const reader = (async () => {
          let buffer: SourceItem[] = [];
          try {
            for await (const item of read) {
              buffer.push(item);
              if (buffer.length >= batchSize) {
                pushBatch({ items: buffer, checkpoint: read.checkpoint(), final: false });
                buffer = [];
                while (queue.length >= readAhead && !stop.signal.aborted) {
                  await new Promise<void>((r) => {
                    wakeReader = r;
                  });
                }
              }
              if (stop.signal.aborted) break;
            }
            completedSource = !stop.signal.aborted;
          } catch (e) {
            if (!(stop.signal.aborted && (isAbort(e) || e === stop.signal.reason))) {
              failure ??= errorInfo(e);
              logger.error({ runId, err: failure }, "source read failed; recording what was read");
            }
          }
          // What was read before a source failure is still recorded, without a checkpoint; the last (possibly
          // empty) batch of a completed read carries the source's final checkpoint.
          if (buffer.length > 0 || completedSource) {
            pushBatch({ items: buffer, checkpoint: failure ? undefined : read.checkpoint(), final: true });
          }
          readerDone = true;
          wakeWriter?.();
        })();
        // Graceful stop: batches already dispatched finish and are recorded; batches read ahead are not written
        // (their records are read again next run, from the last saved checkpoint).
        while (!stop.signal.aborted) {
          const next = queue.shift();
          if (!next) {
            if (readerDone) break;
            await new Promise<void>((r) => {
              wakeWriter = r;
            });
            continue;
          }
          wakeReader?.();
          dispatch(next.items, next.checkpoint, next.final);
          while (inflight.length >= batchConcurrency) await inflight.shift();
        }
        await reader;
        // Stopped (or the source failed) before its last batch: write the pooled leads of the batches dispatched,
        // in a batch of their own that earns the last dispatched batch's checkpoint.
        if (!dispatchedFinal && batchNo > 0 && !broken) dispatch([], checkpoints.get(batchNo), true);
        stop.signal.removeEventListener("abort", onStop);
        await Promise.all(inflight);
      }

      if (leaseLost()) {
        failure ??= {
          code: "lease_lost",
          message: "the lease was lost; another runner may have taken over",
          retryable: true,
        };
      }
      const status: RunSummary["status"] = broken || failure ? "failed" : completedSource ? "completed" : "stopped";
      if (status === "completed" && readBackOptions !== false) {
        try {
          contextsUpdated = (await doReadBack([...run.touched], readBackOptions, lease, undefined)).contextsUpdated;
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
      const summary = await run.finish(status, {
        checkpointSaved,
        error: failure,
        contextsUpdated,
        readOnly: caps.readOnly(),
        droppedFields,
      });
      return { status, summary };
    });

  const replay = (selector: ReplaySelector = {}, runOptions: RunOptions = {}) =>
    withLease(runOptions.signal, async ({ runId, lease, stop }) => {
      const run = await newRun(runId, "replay");
      const caps = new CapabilityTracker(gateway, emitter, logger);
      const execCtx = { tenant, runId, gateway, capabilities: caps, now: () => clock.now(), isFatal };
      let failure: ErrorInfo | undefined;
      try {
        await probe(caps);
        const rows = await store.queryAudit({
          tenant,
          runId: selector.runId,
          keys: selector.keys,
          kinds: selector.kinds ?? ["salesPerson", "company", "namedAccount", "lead"],
          outcomes: selector.outcomes ?? ["failed", "skipped"],
        });
        // The latest entry per record wins; entries without a payload (contacts without email) cannot be replayed.
        const latest = new Map<string, AuditEntry>();
        for (const r of rows) {
          if (!r.payload || !r.hash || r.kind === "customer") continue;
          const k = `${r.kind}\u0000${r.key}`;
          const prev = latest.get(k);
          if (!prev || prev.at <= r.at) latest.set(k, r);
        }
        const kinds: WritableKind[] = ["salesPerson", "company", "namedAccount", "lead"];
        const all = [...latest.values()];
        for (let i = 0; i < all.length && !stop.signal.aborted; i += MAX_BATCH) {
          const slice = all.slice(i, i + MAX_BATCH);
          const plan: Plan = { salesPerson: [], company: [], namedAccount: [], lead: [] };
          const entries: AuditEntry[] = [];
          for (const kind of kinds) {
            const ofKind = slice.filter((r) => r.kind === kind);
            if (ofKind.length === 0) continue;
            const synced = await store.getSynced(
              tenant,
              kind,
              ofKind.map((r) => r.key),
            );
            for (const r of ofKind) {
              const s = synced.get(r.key);
              if (s && (s.hash === r.hash || s.at > r.at)) {
                entries.push({
                  tenant,
                  runId,
                  key: r.key,
                  kind,
                  outcome: "unchanged",
                  sourceKey: r.sourceKey,
                  reasons: [
                    {
                      code: "already_synced",
                      message: s.hash === r.hash ? "already written with this content" : `superseded by run ${s.runId}`,
                    },
                  ],
                  hash: r.hash,
                  replayOf: r.runId,
                  at: clock.now(),
                });
                continue;
              }
              const p: Planned = {
                kind,
                key: r.key,
                sourceKey: r.sourceKey,
                payload: r.payload!,
                hash: r.hash!,
                prior: s,
                replayOf: r.runId,
              };
              plan[kind].push(p);
            }
          }
          const executed = await executePlan(plan, execCtx);
          const batchEntries = [...entries, ...executed.entries];
          await store.commitBatch({ tenant, entries: batchEntries, synced: executed.synced, fence: lease });
          run.counts.batches++;
          run.counts.read += slice.length;
          run.record(batchEntries, executed);
          emitter.emit("progress", { runId, counts: { ...run.counts } });
          if (executed.fatal) {
            failure = executed.fatal;
            break;
          }
        }
      } catch (e) {
        failure = errorInfo(e);
      }
      const status: RunSummary["status"] = failure ? "failed" : stop.signal.aborted ? "stopped" : "completed";
      const summary = await run.finish(status, {
        checkpointSaved: false,
        error: failure,
        contextsUpdated: 0,
        readOnly: caps.readOnly(),
      });
      return { status, summary };
    });

  const sync: Sync = {
    tenant,
    runOnce: (runOptions) => runSync("manual", runOptions),
    replay,
    schedule(cron, scheduleOptions) {
      const s = startSchedule(cron, () => runSync("schedule"), { logger, ...scheduleOptions });
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
    accountContext: (id) => store.getAccountContext(tenant, id),
    async refreshAccountContexts(accounts, opts = {}) {
      return doReadBack(accounts, opts, undefined, opts.signal);
    },
    on: (event, listener) => emitter.on(event, listener),
  };
  return sync;
}
