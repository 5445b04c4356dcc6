import { type ErrorInfo, errorInfo } from "../errors.js";
import { isAbort } from "../internal/abort.js";
import type { Logger } from "../internal/runtime.js";
import type { JsonValue, SourceItem, SourceRead } from "../ports.js";
import { CheckpointLedger, type EarnedCheckpoint } from "./checkpoints.js";
import { LeadPool, type LeadTicket } from "./lead-pool.js";

/** What the pipeline needs from the run it serves. @internal */
export interface PipelineHooks<R> {
  /** Plans and writes one batch (no store write): runs concurrently with other batches. */
  work(items: SourceItem[], leads: LeadTicket, batch: number): Promise<R>;
  /**
   * Records one batch durably (one store transaction) with the checkpoint it earned; called in batch order, one at
   * a time. Answers a fatal error that must stop the run, if any. A throw means the batch was not recorded.
   */
  commit(result: R, batch: number, checkpoint: EarnedCheckpoint | undefined): Promise<ErrorInfo | undefined>;
}

/** Pipeline settings. @internal */
export interface PipelineOptions {
  batchSize: number;
  batchConcurrency: number;
  readAhead: number;
  /** Aborting stops the run gracefully (batches dispatched are still recorded). */
  stop: AbortController;
  logger: Logger;
  runId: string;
}

/** How a pipeline run ended. @internal */
export interface PipelineResult {
  /** The source was read to its end (not stopped, no failure). */
  completedSource: boolean;
  /** Some batch saved the source checkpoint. */
  checkpointSaved: boolean;
  /** A batch could not be recorded. */
  broken: boolean;
  /** The first failure (source, store or fatal Marketo error). */
  failure?: ErrorInfo | undefined;
}

/**
 * The read-ahead pipeline of a sync run: a reader fills a queue of batches (up to `readAhead`) while up to
 * `batchConcurrency` batches are planned and written; commits happen strictly in source order, and the checkpoint
 * ledger decides what each commit may save (never past a record not durably recorded).
 * @internal
 */
export async function runPipeline<R>(
  read: SourceRead,
  options: PipelineOptions,
  hooks: PipelineHooks<R>,
): Promise<PipelineResult> {
  const { stop, logger, runId } = options;
  const ledger = new CheckpointLedger();
  const pool = new LeadPool();
  const result: PipelineResult = { completedSource: false, checkpointSaved: false, broken: false };
  const fail = (info: ErrorInfo) => {
    result.failure ??= info;
  };

  let commitTail: Promise<void> = Promise.resolve();
  const inflight: Promise<void>[] = [];
  let batchNo = 0;
  let dispatchedFinal = false;

  const dispatch = (items: SourceItem[], checkpoint: JsonValue | undefined, final: boolean) => {
    const n = ++batchNo;
    if (final) dispatchedFinal = true;
    ledger.register(n, checkpoint);
    // Lead turns are taken in dispatch order: the ticket is taken now, synchronously.
    const ticket = pool.ticket(n, final);
    const work = (async () => {
      try {
        return await hooks.work(items, ticket, n);
      } finally {
        ticket.release();
      }
    })();
    work.catch(() => {}); // observed below, in commit order
    const committed = commitTail.then(async () => {
      if (ledger.isBroken()) return;
      try {
        const r = await work;
        const earned = ledger.earned(n, ticket.pendingFrom());
        const fatal = await hooks.commit(r, n, earned);
        ledger.committed(n, earned);
        if (earned) result.checkpointSaved = true;
        if (fatal && !result.failure) {
          fail(fatal);
          stop.abort(new Error(`fatal Marketo error ${fatal.code}`));
        }
      } catch (e) {
        ledger.failed();
        result.broken = true;
        fail(errorInfo(e));
        logger.error({ runId, batch: n, err: result.failure }, "batch could not be recorded; stopping the run");
        stop.abort(e);
      }
    });
    commitTail = committed;
    inflight.push(committed);
  };

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
    let sourceFailed = false;
    try {
      for await (const item of read) {
        buffer.push(item);
        if (buffer.length >= options.batchSize) {
          pushBatch({ items: buffer, checkpoint: read.checkpoint(), final: false });
          buffer = [];
          while (queue.length >= options.readAhead && !stop.signal.aborted) {
            await new Promise<void>((r) => {
              wakeReader = r;
            });
          }
        }
        if (stop.signal.aborted) break;
      }
      result.completedSource = !stop.signal.aborted;
    } catch (e) {
      if (!(stop.signal.aborted && (isAbort(e) || e === stop.signal.reason))) {
        sourceFailed = true;
        fail(errorInfo(e));
        logger.error({ runId, err: result.failure }, "source read failed; recording what was read");
      }
    }
    // What was read before a source failure is still recorded, without a checkpoint; the last (possibly empty)
    // batch of a completed read carries the source's final checkpoint.
    if (buffer.length > 0 || result.completedSource) {
      let checkpoint: JsonValue | undefined;
      if (!sourceFailed && !result.failure) {
        try {
          checkpoint = read.checkpoint();
        } catch (e) {
          // A source whose final checkpoint throws failed: what it yielded is recorded, without a checkpoint.
          result.completedSource = false;
          fail(errorInfo(e));
          logger.error({ runId, err: result.failure }, "source checkpoint failed; recording what was read");
        }
      }
      pushBatch({ items: buffer, checkpoint, final: true });
    }
    readerDone = true;
    wakeWriter?.();
  })();
  // Graceful stop: batches already dispatched finish and are recorded; batches read ahead are not written (their
  // records are read again next run, from the last saved checkpoint).
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
    while (inflight.length >= options.batchConcurrency) await inflight.shift();
  }
  await reader;
  // Stopped (or the source failed) before its last batch: write the pooled leads of the batches dispatched, in a
  // batch of their own that earns the last dispatched batch's checkpoint.
  if (!dispatchedFinal && batchNo > 0 && !ledger.isBroken()) dispatch([], ledger.last(batchNo), true);
  stop.signal.removeEventListener("abort", onStop);
  await Promise.all(inflight);
  return result;
}
