import { type ErrorInfo, errorInfo } from "../errors.js";
import type { Emitter, StageCounts } from "../events.js";
import type { Logger } from "../internal/runtime.js";
import type { JsonValue, MarketoGateway } from "../ports.js";
import type { AuditEntry, AuditStore, Outcome, RecordKind } from "../store/audit-store.js";
import { type CarriedSummary, emptyOutcomes, type RunSummary } from "../summary.js";
import type { Executed } from "./execute.js";
import { WRITABLE_KINDS } from "./plan.js";

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

/** What decides a run's status. @internal */
export interface StatusInput {
  /** A batch could not be recorded, or a fatal error / source failure / lost lease. */
  failure?: ErrorInfo | undefined;
  /** The source (or the replay selection) was gone through to its end. */
  completed: boolean;
  /** Write calls issued, and how many failed as a whole. */
  writeCalls: number;
  failedWriteCalls: number;
  /** Records Marketo accepted. */
  written: number;
  /** Records whose write failed (carried forward). */
  failedRecords: number;
  /** The first whole-call failure. */
  callError?: ErrorInfo | undefined;
}

/**
 * The honest status of a run: `failed` on a failure, or when it issued writes and every one failed as a whole
 * (Marketo unreachable) with nothing written; `stopped` when it ended early; `degraded` when it went through its
 * input but some writes failed; `completed` otherwise.
 * @internal
 */
export function decideStatus(s: StatusInput): { status: RunSummary["status"]; error?: ErrorInfo | undefined } {
  if (s.failure) return { status: "failed", error: s.failure };
  if (s.writeCalls > 0 && s.failedWriteCalls === s.writeCalls && s.written === 0) {
    const cause = s.callError ?? { code: "unknown", message: "no write reached Marketo", retryable: true };
    return {
      status: "failed",
      error: { ...cause, message: `every Marketo write failed (${s.failedWriteCalls} calls): ${cause.message}` },
    };
  }
  if (!s.completed) return { status: "stopped" };
  if (s.failedRecords > 0) return { status: "degraded" };
  return { status: "completed" };
}

/** Counts, outcomes and the run record of one run (sync or replay). @internal */
export class RunBook {
  readonly outcomes = emptyOutcomes();
  readonly counts = zeroCounts();
  /**
   * externalCompanyIds whose company or named account this run wrote or read, for the read-back: one entry per
   * account, so it grows with the run. Left empty when the run has no read-back (`keepTouched: false`).
   */
  readonly touched = new Set<string>();
  readonly carried: CarriedSummary = { retried: 0, written: 0, pending: 0, dead: 0 };
  writeCalls = 0;
  failedWriteCalls = 0;
  callError: ErrorInfo | undefined;
  readonly #startedAt: number;
  readonly #callsBefore: number;

  private constructor(
    private readonly deps: {
      tenant: string;
      runId: string;
      trigger: RunSummary["trigger"];
      store: AuditStore;
      gateway: MarketoGateway;
      emitter: Emitter;
      logger: Logger;
      now: () => number;
      /** Collect {@link RunBook.touched}. @default true */
      keepTouched?: boolean;
    },
    startedAt: number,
  ) {
    this.#startedAt = startedAt;
    this.#callsBefore = deps.gateway.usage().callsMade;
  }

  /**
   * Set when the store refused to record the start of the run: the failure the run must end with (the store's
   * error, its message saying that the run record could not be written). The run then does no work.
   */
  startFailure: ErrorInfo | undefined;

  /**
   * Records the start of a run in the store and emits `runStarted`. Never throws for the store: a failed `startRun`
   * is kept as {@link RunBook.startFailure} (and logged), so the caller ends the run `failed` with that reason.
   */
  static async start(deps: RunBook["deps"]): Promise<RunBook> {
    const startedAt = deps.now();
    let startFailure: ErrorInfo | undefined;
    try {
      await deps.store.startRun({
        tenant: deps.tenant,
        runId: deps.runId,
        trigger: deps.trigger,
        status: "running",
        startedAt,
      });
    } catch (e) {
      const info = errorInfo(e);
      startFailure = { ...info, message: `the run record could not be written: ${info.message}` };
      deps.logger.error({ runId: deps.runId, err: info }, "could not record the start of the run");
    }
    deps.emitter.emit("runStarted", { runId: deps.runId, tenant: deps.tenant, trigger: deps.trigger });
    const book = new RunBook(deps, startedAt);
    book.startFailure = startFailure;
    return book;
  }

  /** Counts a durably recorded batch of audit rows (and what its execution did). */
  record(entries: AuditEntry[], executed?: Executed): void {
    for (const e of entries) this.outcomes[e.kind as RecordKind][e.outcome as Outcome]++;
    this.counts.recorded += entries.length;
    if (executed) {
      this.writeCalls += executed.writeCalls;
      this.failedWriteCalls += executed.failedWriteCalls;
      this.callError ??= executed.callError;
      if (this.deps.keepTouched !== false) for (const t of executed.touched) this.touched.add(t);
      for (const e of executed.entries) if (e.outcome === "created" || e.outcome === "updated") this.counts.written++;
    }
  }

  /** Records whose write failed in this run. */
  failedRecords(): number {
    let n = 0;
    for (const k of WRITABLE_KINDS) n += this.outcomes[k].failed;
    return n;
  }

  /** The status the run ends with (see {@link decideStatus}). */
  status(failure: ErrorInfo | undefined, completed: boolean): ReturnType<typeof decideStatus> {
    return decideStatus({
      failure,
      completed,
      writeCalls: this.writeCalls,
      failedWriteCalls: this.failedWriteCalls,
      written: this.counts.written,
      failedRecords: this.failedRecords(),
      callError: this.callError,
    });
  }

  /** Builds the summary, stores the end of the run, emits `runFinished`. */
  async finish(
    status: RunSummary["status"],
    extra: {
      checkpointSaved: boolean;
      error?: ErrorInfo | undefined;
      contextsUpdated: number;
      readOnly: RunSummary["readOnly"];
      droppedFields?: string[];
      /** The figures of a periodic reconcile made in this run. */
      reconcile?: RunSummary["reconcile"];
    },
  ): Promise<RunSummary> {
    const { tenant, runId, trigger, store, gateway, emitter, logger } = this.deps;
    try {
      const left = await store.countCarried(tenant);
      this.carried.pending = left.pending;
      this.carried.dead = left.dead;
    } catch (e) {
      logger.warn({ runId, err: errorInfo(e) }, "could not count carried-forward records");
    }
    const finishedAt = this.deps.now();
    const usage = gateway.usage();
    const summary: RunSummary = {
      runId,
      tenant,
      trigger,
      status,
      startedAt: this.#startedAt,
      finishedAt,
      durationMs: finishedAt - this.#startedAt,
      outcomes: this.outcomes,
      sourceItems: this.counts.read,
      batches: this.counts.batches,
      checkpointSaved: extra.checkpointSaved,
      marketoCalls: usage.callsMade - this.#callsBefore,
      marketoWriteCalls: this.writeCalls,
      quotaLeft: Math.max(0, usage.dailyLimit - usage.dailyUsed),
      readOnly: extra.readOnly,
      droppedFields: extra.droppedFields ?? [],
      contextsUpdated: extra.contextsUpdated,
      carried: { ...this.carried },
      ...(extra.error ? { error: extra.error } : {}),
      ...(extra.reconcile ? { reconcile: extra.reconcile } : {}),
    };
    try {
      await store.finishRun(tenant, runId, { status, finishedAt, summary: summary as unknown as JsonValue });
    } catch (e) {
      logger.error({ runId, err: errorInfo(e) }, "could not record the end of the run");
    }
    emitter.emit("runFinished", summary);
    logger.info({ runId, status, outcomes: this.outcomes, marketoCalls: summary.marketoCalls }, "sync run finished");
    return summary;
  }
}
