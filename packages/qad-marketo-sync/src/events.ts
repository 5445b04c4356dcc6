/**
 * Typed events of a sync. Listeners are called synchronously; one that throws is logged and ignored, so an observer
 * can never break a run.
 *
 * @module
 */

import { errorInfo } from "./errors.js";
import type { Logger } from "./internal/runtime.js";
import type { GatewayCapability } from "./ports.js";
import type { AccountContext } from "./readback/account-context.js";
import type { ReadBackProgress } from "./readback/readback.js";
import type { RunSummary } from "./summary.js";

/** Counts per pipeline stage so far in a run. */
export interface StageCounts {
  /** Source items read (records and invalid rows). */
  read: number;
  /** Source records rejected (invalid row, failed validation or mapping). */
  rejected: number;
  /** Records mapped to payloads. */
  mapped: number;
  /** Payloads unchanged since their last successful write (not written). */
  unchanged: number;
  /** Payloads planned for a write. */
  planned: number;
  /** Payloads Marketo accepted (created or updated). */
  written: number;
  /** Audit rows durably recorded. */
  recorded: number;
  /** Batches committed. */
  batches: number;
}

/** Event name → payload. */
export interface SyncEvents {
  /** A run started (it holds the lease). */
  runStarted: { runId: string; tenant: string; trigger: "manual" | "schedule" | "replay" };
  /** A run could not start because another runner holds the tenant pair's lease. */
  runSkipped: { tenant: string; reason: "already_running"; holder: string; expiresAt: number };
  /** Stage counts after each committed batch. */
  progress: { runId: string; counts: StageCounts };
  /** A batch was durably recorded (and the checkpoint saved, when it earned one). */
  batchCommitted: { runId: string; batch: number; records: number; checkpointSaved: boolean };
  /**
   * An object's writability changed (writable ↔ read-only, from a probe or a 1018), or was learned for the first time
   * for this tenant pair. Not emitted when a run finds what was known before (answers are kept in the store across
   * runs and restarts), nor for the writable assumption after a failed probe. `previous` is the writability known
   * before (`undefined` for a first answer).
   */
  capability: GatewayCapability & { previous?: boolean | undefined };
  /**
   * Progress of a read-back (after a run, or `refreshAccountContexts`): when a phase starts (`opportunities`,
   * `activities`, `bulkActivities`), after each page of opportunities, every 300 activities, after each save of
   * contexts, at least every `ReadBackOptions.progressEveryMs` (2 s) while it works, and at the end (`done`). No
   * read-back phase is silent longer than that.
   */
  readBackProgress: ReadBackProgress;
  /** An account context changed in the read-back. */
  accountContext: AccountContext;
  /** A run ended. */
  runFinished: RunSummary;
}

/** Name of a sync event. */
export type SyncEventName = keyof SyncEvents;

/** Listener of one event. */
export type SyncListener<E extends SyncEventName> = (payload: SyncEvents[E]) => void;

/**
 * A small typed event emitter (the sync's events by default; fleets use it with theirs). A listener that throws is
 * logged (redacted, as {@link errorInfo} does) and ignored.
 * @internal
 */
export class Emitter<Events extends object = SyncEvents> {
  readonly #listeners = new Map<keyof Events, Set<(p: never) => void>>();
  readonly #logger: Logger;
  readonly #source: string;

  /** `source` names the emitter in the log line of a throwing listener. */
  constructor(logger: Logger, source = "sync") {
    this.#logger = logger;
    this.#source = source;
  }

  on<E extends keyof Events>(event: E, fn: (payload: Events[E]) => void): () => void {
    let set = this.#listeners.get(event);
    if (!set) {
      set = new Set();
      this.#listeners.set(event, set);
    }
    set.add(fn as (p: never) => void);
    return () => set.delete(fn as (p: never) => void);
  }

  emit<E extends keyof Events>(event: E, payload: Events[E]): void {
    const set = this.#listeners.get(event);
    if (!set) return;
    for (const fn of set) {
      try {
        (fn as (payload: Events[E]) => void)(payload);
      } catch (e) {
        this.#logger.warn({ event, err: errorInfo(e) }, `${this.#source} event listener threw`);
      }
    }
  }

  has(event: keyof Events): boolean {
    return (this.#listeners.get(event)?.size ?? 0) > 0;
  }
}
