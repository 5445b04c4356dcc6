/**
 * `createFleet`: many tenant pairs over many worker processes, on pg-boss 10. One `stately` queue per pair (at most
 * one active job per pair, one waiting), the pair's cron schedule on that queue, and workers that take jobs up to a
 * concurrency limit and run the pair's sync. Correctness does not rest on the queue: every run holds the engine's
 * lease for its pair, and every batch commit is fenced by it.
 *
 * @module
 */

import PgBoss from "pg-boss";
import { type ErrorInfo, errorInfo, SyncConfigError } from "../errors.js";
import { Emitter } from "../events.js";
import { type Clock, type Logger, realSleep, silentLogger, systemClock } from "../internal/runtime.js";
import type { Sync } from "../sync.js";
import {
  checkTenant,
  DEFAULT_QUEUE_PREFIX,
  ensureQueue,
  type FleetJobData,
  type FleetJobOptions,
  QueueNames,
  resolveJobOptions,
} from "./queues.js";
import { type JobVerdict, verdictOf } from "./verdict.js";

/** A resolved tenant pair: its sync, and what to close when the fleet stops (its clients, its store). */
export interface FleetPair {
  /** The pair's sync; its `tenant` must be the pair's name. */
  sync: Sync;
  /** Called once when the fleet stops (after the pair's last run in this process). */
  close?: () => void | Promise<void>;
}

/**
 * Builds the sync of a tenant pair, the first time this process gets a job for it (then reused). Return the sync,
 * or a {@link FleetPair} when there is something to close. A resolver that throws fails the job (pg-boss retries it).
 */
export type PairResolver = (tenant: string) => Sync | FleetPair | Promise<Sync | FleetPair>;

/** Options of {@link createFleet}. Give `boss` or `connectionString`. */
export interface FleetOptions {
  /** A pg-boss 10 instance you start and stop yourself (give this or `connectionString`). */
  boss?: PgBoss;
  /** PostgreSQL URL: the fleet creates its own pg-boss, starts it when first needed, and stops it in `stop()`. */
  connectionString?: string;
  /** Options of the fleet's own pg-boss (with `connectionString`), e.g. `maintenanceIntervalSeconds`, `schema`. */
  bossOptions?: Omit<PgBoss.ConstructorOptions, "connectionString">;
  /** Builds the sync of a pair (needed by workers, i.e. by `start()`). */
  pairs?: PairResolver;
  /** Queues are named `<queuePrefix>.<tenant>`. @default "qad-marketo-sync" */
  queuePrefix?: string;
  /** Settings of every pair's jobs: expiry (the takeover delay) and retries. */
  job?: FleetJobOptions;
  /** When a run finds its pair's lease held (`alreadyRunning`), the job is re-queued for the lease's expiry. */
  defer?: {
    /** Seconds added to the holder's lease expiry. @default 1 */
    marginSeconds?: number;
    /** Shortest deferral, in seconds (covers clock skew between the store and this worker). @default 5 */
    minSeconds?: number;
    /** Longest deferral, in seconds. @default 3600 */
    maxSeconds?: number;
  };
  /** pino-compatible logger. */
  logger?: Logger;
  /** Clock (deferral arithmetic). @default Date.now */
  clock?: Clock;
}

/** Options of {@link Fleet.start}. */
export interface FleetStartOptions {
  /** Pairs this process runs at once (different pairs; one pair never runs twice). @default 1 */
  concurrency?: number;
  /**
   * Pairs this process works. @default every pair with a queue of this fleet (found with `getQueues`, looked up again
   * every `discoverEverySeconds`)
   */
  tenants?: string[];
  /** Idle wait between sweeps of the pairs' queues, in seconds (at least 0.5). @default 2 */
  pollingIntervalSeconds?: number;
  /** How often the list of pairs is looked up again, without `tenants`. @default 60 */
  discoverEverySeconds?: number;
}

/** Events of a fleet. */
export interface FleetEvents {
  /** This process took a job and starts the pair's run. */
  jobStarted: { tenant: string; jobId: string; trigger: FleetJobData["trigger"]; retryCount: number };
  /** The pair's run ended and the job was settled (completed, failed, continued or deferred). */
  jobEnded: { tenant: string; jobId: string; verdict: JobVerdict; settled: boolean };
  /** A worker loop error (database unreachable...): logged, and the loop carries on after the polling interval. */
  error: { error: ErrorInfo; during: string };
}

/** Name of a fleet event. */
export type FleetEventName = keyof FleetEvents;

/** A fleet of tenant pairs on pg-boss. */
export interface Fleet {
  /** The pg-boss instance (yours, or the fleet's own). */
  readonly boss: PgBoss;
  /** The queue of a pair. */
  queueOf(tenant: string): string;
  /** Creates the pair's queue (idempotent; `schedule` and `runNow` do it too). */
  addPair(tenant: string): Promise<void>;
  /** Runs the pair on a cron schedule (pg-boss cron, minute resolution; one schedule per pair, replaced if set). */
  schedule(tenant: string, cron: string, options?: { tz?: string }): Promise<void>;
  /** Removes the pair's schedule. */
  unschedule(tenant: string): Promise<void>;
  /**
   * Queues a run of the pair now. Resolves to the job id, or `null` when a run of the pair is already waiting (the
   * queue keeps one waiting job per pair: the waiting one will do).
   */
  runNow(tenant: string, options?: { startAfterSeconds?: number }): Promise<string | null>;
  /** This process starts working jobs (resolves once the loop runs). */
  start(options?: FleetStartOptions): Promise<void>;
  /**
   * Graceful stop: takes no more jobs, stops the running syncs (`sync.stop()`: the batch in flight is written and
   * recorded), settles their jobs (a stopped run queues its continuation, so another worker resumes it), closes the
   * pairs, and stops the fleet's own pg-boss.
   */
  stop(): Promise<void>;
  /** Pairs running in this process now. */
  running(): string[];
  /** Subscribes to an event; returns the unsubscribe function. */
  on<E extends FleetEventName>(event: E, listener: (payload: FleetEvents[E]) => void): () => void;
}

interface Fetched {
  queue: string;
  tenant: string;
  job: PgBoss.JobWithMetadata<FleetJobData>;
}

/**
 * Creates a fleet. The same call serves the process that schedules pairs and the worker processes.
 *
 * @example
 * const fleet = createFleet({
 *   connectionString: process.env.DATABASE_URL,
 *   pairs: async (tenant) => {
 *     const cfg = await loadPair(tenant);
 *     return createSync({ tenant, store, source: qadCustomerSource(new QadClient(cfg.qad)),
 *       marketo: marketoGateway(new MarketoClient({ ...cfg.marketo, limiterStore })) });
 *   },
 * });
 * await fleet.schedule("acme", "*\/15 * * * *");
 * await fleet.start({ concurrency: 4 });
 * process.on("SIGTERM", () => fleet.stop());
 */
export function createFleet(options: FleetOptions): Fleet {
  if (!options.boss === !options.connectionString) {
    throw new SyncConfigError("createFleet needs exactly one of `boss` and `connectionString`");
  }
  const owned = !options.boss;
  const boss = options.boss ?? new PgBoss({ ...options.bossOptions, connectionString: options.connectionString! });
  const names = new QueueNames(options.queuePrefix ?? DEFAULT_QUEUE_PREFIX);
  const job = resolveJobOptions(options.job);
  const logger = options.logger ?? silentLogger;
  const clock = options.clock ?? systemClock;
  const deferTiming = {
    marginSeconds: options.defer?.marginSeconds ?? 1,
    minSeconds: options.defer?.minSeconds ?? 5,
    maxSeconds: options.defer?.maxSeconds ?? 3600,
  };
  if (deferTiming.minSeconds < 1 || deferTiming.maxSeconds < deferTiming.minSeconds) {
    throw new SyncConfigError("defer.minSeconds must be ≥ 1 and ≤ defer.maxSeconds");
  }

  const emitter = new Emitter<FleetEvents>(logger, "fleet");
  const emit = <E extends FleetEventName>(event: E, payload: FleetEvents[E]) => emitter.emit(event, payload);
  const loopError = (e: unknown, during: string) => {
    const error = errorInfo(e);
    logger.error({ err: error, during }, "fleet worker loop error");
    emit("error", { error, during });
  };
  if (owned) boss.on("error", (e) => loopError(e, "pg-boss"));

  let ready: Promise<void> | undefined;
  const started = () => {
    ready ??= owned ? boss.start().then(() => undefined) : Promise.resolve();
    return ready;
  };
  const queues = new Set<string>();
  const addPair = async (tenant: string) => {
    const name = names.of(tenant);
    await started();
    if (queues.has(name)) return;
    if (await ensureQueue(boss, name, job)) logger.info({ queue: name, ...job }, "fleet queue settings updated");
    queues.add(name);
  };

  const pairs = new Map<string, Promise<FleetPair>>();
  const resolvePair = (tenant: string): Promise<FleetPair> => {
    let p = pairs.get(tenant);
    if (!p) {
      const resolver = options.pairs;
      if (!resolver) throw new SyncConfigError("createFleet: `pairs` is needed to work jobs");
      p = Promise.resolve(resolver(tenant)).then((r) => {
        const pair: FleetPair = "runOnce" in r ? { sync: r } : r;
        if (pair.sync.tenant !== tenant) {
          throw new SyncConfigError(`pairs("${tenant}") returned the sync of tenant "${pair.sync.tenant}"`);
        }
        return pair;
      });
      p.catch(() => pairs.delete(tenant));
      pairs.set(tenant, p);
    }
    return p;
  };

  const stopping = new AbortController();
  const runningSyncs = new Map<string, Sync>();
  const inFlight = new Set<Promise<void>>();
  let loop: Promise<void> | undefined;
  let wake = new AbortController();
  const nap = async (ms: number) => {
    try {
      await realSleep(ms, AbortSignal.any([wake.signal, stopping.signal]));
    } catch {
      // woken up early
    }
    if (wake.signal.aborted) wake = new AbortController();
  };

  /** Is the job's attempt we fetched still the active one? (An expired attempt may be retried by another worker.) */
  const stillOurs = async (f: Fetched) => {
    const now = await boss.getJobById<FleetJobData>(f.queue, f.job.id);
    return now?.state === "active" && now.startedOn?.getTime() === f.job.startedOn?.getTime();
  };

  const settle = async (f: Fetched, v: JobVerdict): Promise<boolean> => {
    if (!(await stillOurs(f))) {
      logger.warn({ tenant: f.tenant, jobId: f.job.id }, "job expired while its run was going; left to its retry");
      return false;
    }
    const next: FleetJobData = { tenant: f.tenant, trigger: "continue" };
    switch (v.action) {
      case "complete":
        await boss.complete(f.queue, f.job.id, { status: v.status, runId: v.runId });
        break;
      case "continue":
        // Queued before the completion: a kill between the two leaves an expiring job, never a lost continuation.
        await boss.send(f.queue, next);
        await boss.complete(f.queue, f.job.id, { status: v.status, runId: v.runId });
        break;
      case "defer":
        await boss.sendAfter(f.queue, next, {}, v.delaySeconds);
        await boss.complete(f.queue, f.job.id, { status: v.status, holder: v.holder, deferredSeconds: v.delaySeconds });
        break;
      case "fail":
        await boss.fail(f.queue, f.job.id, { status: v.status, runId: v.runId, error: v.error });
        break;
    }
    return true;
  };

  const work = async (f: Fetched) => {
    emit("jobStarted", {
      tenant: f.tenant,
      jobId: f.job.id,
      trigger: f.job.data?.trigger ?? "runNow",
      retryCount: f.job.retryCount,
    });
    let result: Parameters<typeof verdictOf>[0];
    try {
      const pair = await resolvePair(f.tenant);
      runningSyncs.set(f.tenant, pair.sync);
      result = { outcome: await pair.sync.runOnce({ signal: stopping.signal }) };
    } catch (error) {
      result = { error };
    } finally {
      runningSyncs.delete(f.tenant);
    }
    const verdict = verdictOf(result, { ...deferTiming, now: clock.now() });
    let settled = false;
    try {
      settled = await settle(f, verdict);
    } catch (e) {
      // The job stays active until it expires; pg-boss then retries it.
      loopError(e, "settling a job");
    }
    logger.info({ tenant: f.tenant, jobId: f.job.id, ...verdict, settled }, "fleet job ended");
    emit("jobEnded", { tenant: f.tenant, jobId: f.job.id, verdict, settled });
  };

  /** Pairs whose job this process took and whose sync is not running yet (being resolved). */
  const claimed = new Set<string>();
  let cursor = 0;
  const fetchNext = async (tenants: string[]): Promise<Fetched | undefined> => {
    for (let i = 0; i < tenants.length && !stopping.signal.aborted; i++) {
      const at = (cursor + i) % tenants.length;
      const tenant = tenants[at]!;
      if (runningSyncs.has(tenant) || claimed.has(tenant)) continue;
      const queue = names.of(tenant);
      const [got] = await boss.fetch<FleetJobData>(queue, { batchSize: 1, includeMetadata: true });
      if (got) {
        cursor = at + 1;
        return { queue, tenant, job: got };
      }
    }
    return undefined;
  };

  const fleet: Fleet = {
    boss,
    queueOf: (tenant) => names.of(tenant),
    addPair,
    async schedule(tenant, cron, opts = {}) {
      await addPair(tenant);
      const data: FleetJobData = { tenant, trigger: "schedule" };
      await boss.schedule(names.of(tenant), cron, data, opts.tz ? { tz: opts.tz } : {});
    },
    async unschedule(tenant) {
      await started();
      await boss.unschedule(names.of(tenant));
    },
    async runNow(tenant, opts = {}) {
      await addPair(tenant);
      const data: FleetJobData = { tenant, trigger: "runNow" };
      return opts.startAfterSeconds
        ? boss.sendAfter(names.of(tenant), data, {}, opts.startAfterSeconds)
        : boss.send(names.of(tenant), data);
    },
    async start(opts = {}) {
      if (loop) throw new SyncConfigError("fleet already started");
      if (!options.pairs) throw new SyncConfigError("createFleet: `pairs` is needed to work jobs");
      const concurrency = opts.concurrency ?? 1;
      const pollMs = Math.max(500, (opts.pollingIntervalSeconds ?? 2) * 1000);
      const discoverMs = (opts.discoverEverySeconds ?? 60) * 1000;
      if (!Number.isInteger(concurrency) || concurrency < 1) {
        throw new SyncConfigError("concurrency must be a positive integer");
      }
      await started();
      const fixed = opts.tenants?.map(checkTenant);
      for (const t of fixed ?? []) await addPair(t);
      let tenants = fixed ?? [];
      let discoveredAt = Number.NEGATIVE_INFINITY;
      const discover = async () => {
        if (fixed || Date.now() - discoveredAt < discoverMs) return;
        const all = await boss.getQueues();
        tenants = all.map((q) => names.tenantOf(q.name)).filter((t): t is string => t !== undefined);
        for (const t of tenants) await addPair(t); // this process's job settings, once per queue
        discoveredAt = Date.now();
      };
      await discover();
      logger.info({ concurrency, tenants: fixed ?? "discover" }, "fleet worker started");
      loop = (async () => {
        while (!stopping.signal.aborted) {
          if (inFlight.size >= concurrency) {
            await nap(pollMs);
            continue;
          }
          let fetched: Fetched | undefined;
          try {
            await discover();
            fetched = await fetchNext(tenants);
          } catch (e) {
            loopError(e, "fetching jobs");
          }
          if (!fetched) {
            await nap(pollMs);
            continue;
          }
          const f = fetched;
          claimed.add(f.tenant);
          const p = work(f).finally(() => {
            claimed.delete(f.tenant);
            inFlight.delete(p);
            wake.abort();
          });
          inFlight.add(p);
        }
        await Promise.all(inFlight);
      })();
    },
    async stop() {
      stopping.abort(new DOMException("fleet stopping", "AbortError"));
      wake.abort();
      await Promise.all([...runningSyncs.values()].map((s) => s.stop().catch((e) => loopError(e, "stopping a sync"))));
      await loop;
      const closing = [...pairs.values()].map(async (p) => {
        const pair = await p.catch(() => undefined);
        await pair?.close?.();
      });
      await Promise.all(closing.map((c) => c.catch((e) => loopError(e, "closing a pair"))));
      if (owned && ready) await boss.stop({ graceful: true, wait: true });
      logger.info({}, "fleet stopped");
    },
    running: () => [...runningSyncs.keys()],
    on: (event, listener) => emitter.on(event, listener),
  };
  return fleet;
}
