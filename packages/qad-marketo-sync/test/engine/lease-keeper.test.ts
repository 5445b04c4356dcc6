import { describe, expect, it } from "vitest";
import { withLease } from "../../src/engine/lease-keeper.js";
import { createMemoryStore } from "../../src/index.js";

const silent = { debug() {}, info() {}, warn() {}, error() {} };
/** A sleep that only ends when aborted (no renewal happens). */
const idle = (_ms: number, signal?: AbortSignal) =>
  new Promise<void>((_resolve, reject) => {
    signal?.addEventListener("abort", () => reject(signal.reason), { once: true });
  });

describe("lease keeper", () => {
  it("answers the holder when the lease is taken, and releases it after the body", async () => {
    const store = createMemoryStore();
    const opts = {
      store,
      name: "sync:t",
      ttlMs: 1_000,
      renewEveryMs: 300,
      sleep: idle,
      logger: silent,
    };
    await store.acquireLease("sync:t", "other", 1_000).then((g) => {
      if (g.acquired) return store.releaseLease(g.lease);
    });
    const held = await withLease(
      opts,
      "me",
      undefined,
      () => {},
      async () => {
        const busy = await withLease(
          opts,
          "you",
          undefined,
          () => {},
          async () => 1,
        );
        expect(busy).toMatchObject({ acquired: false, holder: "me" });
        return 2;
      },
    );
    expect(held).toEqual({ acquired: true, value: 2 });
    expect((await store.acquireLease("sync:t", "next", 1_000)).acquired).toBe(true);
  });

  it("a renewal that finds the lease gone aborts the body's stop signal", async () => {
    let t = 0;
    const store = createMemoryStore({ clock: { now: () => t } });
    let wake!: () => void;
    const sleep = (_ms: number, signal?: AbortSignal) =>
      new Promise<void>((resolve, reject) => {
        wake = resolve;
        signal?.addEventListener("abort", () => reject(signal.reason), { once: true });
      });
    const opts = { store, name: "sync:t", ttlMs: 1_000, renewEveryMs: 300, sleep, logger: silent };
    const out = await withLease(
      opts,
      "me",
      undefined,
      () => {},
      async (h) => {
        t = 5_000; // expired
        await store.acquireLease("sync:t", "intruder", 10_000);
        wake();
        await new Promise<void>((r) => h.stop.signal.addEventListener("abort", () => r(), { once: true }));
        return h.lost();
      },
    );
    expect(out).toEqual({ acquired: true, value: true });
  });

  it("a caller's aborted signal aborts stop at once", async () => {
    const store = createMemoryStore();
    const ac = new AbortController();
    ac.abort();
    const opts = {
      store,
      name: "sync:t",
      ttlMs: 1_000,
      renewEveryMs: 300,
      sleep: idle,
      logger: silent,
    };
    const out = await withLease(
      opts,
      "me",
      ac.signal,
      () => {},
      async (h) => h.stop.signal.aborted,
    );
    expect(out).toEqual({ acquired: true, value: true });
  });
});
