/**
 * Typed events of a sync. Listeners are called synchronously; one that throws is logged and ignored, so an observer
 * can never break a run.
 *
 * @module
 */

import type { Logger } from "./internal/runtime.js";
import type { GatewayCapability } from "./ports.js";
import type { AccountContext } from "./readback/account-context.js";
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
  /** The engine learned whether an object is writable (probe or 1018). */
  capability: GatewayCapability;
  /** An account context changed in the read-back. */
  accountContext: AccountContext;
  /** A run ended. */
  runFinished: RunSummary;
}

/** Name of a sync event. */
export type SyncEventName = keyof SyncEvents;

/** Listener of one event. */
export type SyncListener<E extends SyncEventName> = (payload: SyncEvents[E]) => void;

/** A small typed event emitter. @internal */
export class Emitter {
  readonly #listeners = new Map<SyncEventName, Set<(p: never) => void>>();
  readonly #logger: Logger;

  constructor(logger: Logger) {
    this.#logger = logger;
  }

  on<E extends SyncEventName>(event: E, fn: SyncListener<E>): () => void {
    let set = this.#listeners.get(event);
    if (!set) {
      set = new Set();
      this.#listeners.set(event, set);
    }
    set.add(fn as (p: never) => void);
    return () => set.delete(fn as (p: never) => void);
  }

  emit<E extends SyncEventName>(event: E, payload: SyncEvents[E]): void {
    const set = this.#listeners.get(event);
    if (!set) return;
    for (const fn of set) {
      try {
        (fn as SyncListener<E>)(payload);
      } catch (e) {
        this.#logger.warn({ event, err: e instanceof Error ? e.message : String(e) }, "sync event listener threw");
      }
    }
  }

  has(event: SyncEventName): boolean {
    return (this.#listeners.get(event)?.size ?? 0) > 0;
  }
}
