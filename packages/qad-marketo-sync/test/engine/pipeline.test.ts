import { describe, expect, it } from "vitest";
import { runPipeline } from "../../src/engine/pipeline.js";
import type { SourceItem, SourceRead } from "../../src/index.js";

const silent = { debug() {}, info() {}, warn() {}, error() {} };

function numbered(total: number): SourceRead {
  let pos = 0;
  return {
    checkpoint: () => pos,
    async *[Symbol.asyncIterator](): AsyncIterator<SourceItem> {
      for (let i = 0; i < total; i++) {
        pos = i + 1;
        yield { type: "record", record: i + 1 };
      }
    },
  };
}

describe("pipeline: ordered commits and the checkpoint", () => {
  it("with 2 batches in flight, a slowly failing commit is never skipped by the next batch's checkpoint", async () => {
    const saved: unknown[] = [];
    const committed: number[] = [];
    let releaseFirst!: () => void;
    const firstGate = new Promise<void>((r) => {
      releaseFirst = r;
    });
    let secondReady!: () => void;
    const secondDone = new Promise<void>((r) => {
      secondReady = r;
    });
    const result = await runPipeline(
      numbered(30),
      { batchSize: 10, batchConcurrency: 2, readAhead: 4, stop: new AbortController(), logger: silent, runId: "r" },
      {
        async work(items, leads, batch) {
          await leads.take([]);
          if (batch === 2) secondReady();
          return { batch, items: items.length };
        },
        async commit(r, batch, earned) {
          if (batch === 1) {
            // Batch 1's commit fails, but only once batch 2 has finished its work (slowly).
            await secondDone;
            releaseFirst();
            await firstGate;
            throw new Error("disk full");
          }
          committed.push(batch);
          if (earned) saved.push(earned.value);
          void r;
          return undefined;
        },
      },
    );
    expect(result.broken).toBe(true);
    expect(result.failure?.message).toBe("disk full");
    expect(committed).toEqual([]);
    expect(saved).toEqual([]);
    expect(result.checkpointSaved).toBe(false);
  });

  it("commits in source order and saves each batch's checkpoint", async () => {
    const saved: unknown[] = [];
    const result = await runPipeline(
      numbered(25),
      { batchSize: 10, batchConcurrency: 3, readAhead: 2, stop: new AbortController(), logger: silent, runId: "r" },
      {
        async work(_items, leads, batch) {
          await leads.take([]);
          // Later batches finish their work first.
          await new Promise((r) => setTimeout(r, (4 - batch) * 3));
          return batch;
        },
        async commit(_r, _batch, earned) {
          saved.push(earned?.value);
          return undefined;
        },
      },
    );
    expect(result.completedSource).toBe(true);
    expect(saved).toEqual([10, 20, 25]);
  });
});

describe("pipeline: a graceful stop during a source read", () => {
  for (const [label, make] of [
    [
      "QadAbortError (code aborted)",
      () => Object.assign(new Error("aborted"), { name: "QadAbortError", code: "aborted" }),
    ],
    ["DOMException AbortError", () => new DOMException("stop", "AbortError")],
  ] as const) {
    it(`a source that ends with ${label} after the stop is a stop, not a failure`, async () => {
      const stop = new AbortController();
      const read: SourceRead = {
        checkpoint: () => 0,
        async *[Symbol.asyncIterator](): AsyncIterator<SourceItem> {
          yield { type: "record", record: 1 };
          stop.abort(new DOMException("stop requested", "AbortError"));
          throw make();
        },
      };
      const result = await runPipeline(
        read,
        { batchSize: 10, batchConcurrency: 1, readAhead: 2, stop, logger: silent, runId: "r" },
        {
          async work(items, leads, batch) {
            await leads.take([]);
            return { batch, items: items.length };
          },
          async commit() {
            return undefined;
          },
        },
      );
      expect(result.failure).toBeUndefined();
      expect(result.completedSource).toBe(false);
    });
  }
});
