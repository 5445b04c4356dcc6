import { flush } from "@ml/http-kernel/testing";
import { describe, expect, it } from "vitest";
import {
  arraySource,
  type CustomerSource,
  createMemoryStore,
  createSync,
  extendMapping,
  type RunOutcome,
  type SourceItem,
  type SyncEvents,
} from "../src/index.js";
import { customer, customers } from "./support/customers.js";
import { FakeGateway } from "./support/fake-gateway.js";

const summaryOf = (o: RunOutcome) => {
  if (o.status === "alreadyRunning") throw new Error("unexpected alreadyRunning");
  return o.summary;
};

/** A source that yields `n` records, then waits for `release` before yielding the rest. */
function gatedSource(total: number, pauseAfter: number) {
  let release!: () => void;
  const gate = new Promise<void>((r) => {
    release = r;
  });
  let reached!: () => void;
  const paused = new Promise<void>((r) => {
    reached = r;
  });
  const source: CustomerSource = {
    read(from, options) {
      const start = typeof from === "number" ? from : 0;
      let pos = start;
      return {
        checkpoint: () => pos,
        async *[Symbol.asyncIterator](): AsyncIterator<SourceItem> {
          for (let i = start; i < total; i++) {
            if (i === pauseAfter) {
              reached();
              await gate;
            }
            options?.signal?.throwIfAborted();
            pos = i + 1;
            yield { type: "record", record: customer(i + 1) };
          }
        },
      };
    },
  };
  return { source, release, paused };
}

describe("leases", () => {
  it("a second runner of the same tenant pair gets a typed alreadyRunning outcome; other tenants run", async () => {
    const store = createMemoryStore();
    const g = gatedSource(20, 10);
    const a = createSync({ source: g.source, marketo: new FakeGateway(), store, readBack: false, batchSize: 5 });
    const b = createSync({ source: arraySource(customers(3)), marketo: new FakeGateway(), store, readBack: false });
    const c = createSync({
      source: arraySource(customers(3)),
      marketo: new FakeGateway(),
      store,
      readBack: false,
      tenant: "eu",
    });
    const skipped: SyncEvents["runSkipped"][] = [];
    b.on("runSkipped", (e) => skipped.push(e));
    const running = a.runOnce();
    await g.paused;
    const second = await b.runOnce();
    expect(second.status).toBe("alreadyRunning");
    if (second.status === "alreadyRunning") expect(second.holder).toMatch(/^default:/);
    expect(skipped).toHaveLength(1);
    expect((await c.runOnce()).status).toBe("completed");
    g.release();
    expect((await running).status).toBe("completed");
    // Released: the next run goes ahead.
    expect((await b.runOnce()).status).toBe("completed");
  });

  it("renews the lease while running and stops gracefully when it is lost", async () => {
    let t = 0;
    const clock = { now: () => t };
    const store = createMemoryStore({ clock });
    const sleeps: number[] = [];
    let wake: (() => void) | undefined;
    // A controllable sleep: each renewal waits until the test advances time.
    const sleep = (ms: number, signal?: AbortSignal) =>
      new Promise<void>((resolve, reject) => {
        sleeps.push(ms);
        wake = resolve;
        signal?.addEventListener("abort", () => reject(signal.reason), { once: true });
      });
    const g = gatedSource(20, 10);
    const sync = createSync({
      source: g.source,
      marketo: new FakeGateway(),
      store,
      readBack: false,
      batchSize: 5,
      clock,
      sleep,
      lease: { ttlMs: 3_000 },
      // Without leads every batch is complete when committed (pooled leads would hold the checkpoint back).
      mapping: extendMapping({ lead: false }),
    });
    const running = sync.runOnce();
    await g.paused;
    expect(sleeps).toEqual([1_000]);
    t = 900;
    wake?.();
    while (sleeps.length < 2) await flush(); // the renewal runs, then waits for the next one
    expect(sleeps).toEqual([1_000, 1_000]); // renewed, waiting for the next renewal
    // Lose the lease: it expires and another runner takes it.
    t = 10_000;
    expect((await store.acquireLease("sync:default", "intruder", 60_000)).acquired).toBe(true);
    wake?.();
    await flush(); // the keeper's renewal finds the lease taken (in-memory store: no I/O, a few turns)
    g.release();
    const outcome = await running;
    expect(outcome.status).toBe("failed");
    const s = summaryOf(outcome);
    expect(s.error?.code).toBe("lease_lost");
    // Batches recorded before the loss stay; the lost lease fences everything after it.
    expect(s.outcomes.company.created).toBe(10);
    expect(await store.getCheckpoint("default", "source")).toBe(10);
  });
});

describe("graceful stop", () => {
  it("stop() finishes the batches in flight, records them and saves the checkpoint; the next run resumes", async () => {
    const store = createMemoryStore();
    const marketo = new FakeGateway();
    const g = gatedSource(30, 12);
    const sync = createSync({ source: g.source, marketo, store, readBack: false, batchSize: 5 });
    const running = sync.runOnce();
    await g.paused;
    const stopped = sync.stop();
    g.release();
    await stopped;
    const outcome = await running;
    expect(outcome.status).toBe("stopped");
    const s = summaryOf(outcome);
    // Two full batches were dispatched before the stop; the two records read after them wait for the next run.
    expect(s.outcomes.company.created).toBe(10);
    expect(await store.getCheckpoint("default", "source")).toBe(10);
    const next = summaryOf(await sync.runOnce());
    expect(next.outcomes.company.created).toBe(20);
    expect(marketo.companies.size).toBe(30);
  });

  it("an AbortSignal stops the run the same way", async () => {
    const store = createMemoryStore();
    const g = gatedSource(30, 7);
    const sync = createSync({ source: g.source, marketo: new FakeGateway(), store, readBack: false, batchSize: 5 });
    const ac = new AbortController();
    const running = sync.runOnce({ signal: ac.signal });
    await g.paused;
    ac.abort();
    g.release();
    const outcome = await running;
    expect(outcome.status).toBe("stopped");
    expect(await store.getCheckpoint("default", "source")).toBe(5);
  });
});

describe("observability", () => {
  it("emits runStarted, progress per batch, batchCommitted and runFinished with a summary", async () => {
    const sync = createSync({
      source: arraySource(customers(12)),
      marketo: new FakeGateway(),
      store: createMemoryStore(),
      readBack: false,
      batchSize: 5,
    });
    const events: string[] = [];
    const progress: SyncEvents["progress"][] = [];
    sync.on("runStarted", () => events.push("runStarted"));
    sync.on("batchCommitted", (e) => events.push(`batch${e.batch}`));
    sync.on("progress", (p) => progress.push(p));
    let finished: SyncEvents["runFinished"] | undefined;
    const off = sync.on("runFinished", (s) => {
      finished = s;
    });
    sync.on("progress", () => {
      throw new Error("a broken listener must not break the run");
    });
    const outcome = await sync.runOnce();
    off();
    expect(outcome.status).toBe("completed");
    expect(events).toEqual(["runStarted", "batch1", "batch2", "batch3"]);
    expect(progress.at(-1)?.counts).toMatchObject({ read: 12, mapped: 12, planned: 36, written: 36, batches: 3 });
    expect(finished?.outcomes.company.created).toBe(12);
    expect(finished?.marketoCalls).toBeGreaterThan(0);
    expect(finished?.quotaLeft).toBe(50_000 - (finished?.marketoCalls ?? 0));
  });

  it("logs through a pino-compatible logger", async () => {
    const lines: { level: string; msg?: string }[] = [];
    const logger = {
      debug: (_o: object, msg?: string) => lines.push({ level: "debug", msg }),
      info: (_o: object, msg?: string) => lines.push({ level: "info", msg }),
      warn: (_o: object, msg?: string) => lines.push({ level: "warn", msg }),
      error: (_o: object, msg?: string) => lines.push({ level: "error", msg }),
    };
    const marketo = new FakeGateway();
    marketo.recordLevel1018.add("companies");
    const sync = createSync({
      source: arraySource(customers(2)),
      marketo,
      store: createMemoryStore(),
      readBack: false,
      logger,
    });
    await sync.runOnce();
    expect(lines).toContainEqual({
      level: "warn",
      msg: "Marketo answered 1018: object is read-only, reading it instead",
    });
    expect(lines).toContainEqual({ level: "info", msg: "sync run finished" });
  });
});

describe("schedule", () => {
  it('runs on a cron schedule (trigger "schedule") and stops with the engine', async () => {
    const marketo = new FakeGateway();
    const sync = createSync({
      source: arraySource(customers(3)),
      marketo,
      store: createMemoryStore(),
      readBack: false,
    });
    const outcomes: unknown[] = [];
    // A yearly expression: only the immediate run happens during the test, whatever the wall clock says.
    const handle = sync.schedule("0 0 1 1 *", { onRun: (o) => outcomes.push(o), runImmediately: true });
    expect(handle.nextRun()).toBeInstanceOf(Date);
    while (outcomes.length === 0) await flush(); // the immediate run (in memory) finishes; no wall-clock wait
    expect(outcomes).toHaveLength(1);
    expect(outcomes[0]).toMatchObject({ status: "completed", summary: { trigger: "schedule" } });
    await sync.stop();
    expect(handle.nextRun()).toBeNull();
  });
});
