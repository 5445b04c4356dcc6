import { FakeTime, flush } from "@ml/http-kernel/testing";
import { InMemoryLimiterStore, MarketoQuotaExceededError } from "@ml/marketo-client";
import { describe, expect, it } from "vitest";
import { silentLogger } from "../../src/internal/runtime.js";
import { Limiter, type ResolvedLimits } from "../../src/limits/limiter.js";

const limits = (over: Partial<ResolvedLimits> = {}): ResolvedLimits => ({
  callsPerWindow: 3,
  windowMs: 1000,
  maxConcurrent: 10,
  dailyQuota: 1000,
  dailyReserve: 0,
  leaseMs: 60_000,
  rateLimitPauseMs: 250,
  concurrencyPauseMs: 50,
  rateLimitMaxPauseMs: 2_000,
  pollMs: 5,
  ...over,
});

function make(over: Partial<ResolvedLimits> = {}, store = new InMemoryLimiterStore()) {
  const time = new FakeTime();
  const limiter = new Limiter({
    store,
    key: "k",
    limits: limits(over),
    clock: time.clock,
    sleep: time.sleep,
    logger: silentLogger,
  });
  return { time, limiter, store };
}

describe("Limiter (injected clock)", () => {
  it("sliding window is exact: a call leaves the window windowMs after it finished", async () => {
    const { time, limiter } = make();
    const granted: number[] = [];
    const slots = Array.from({ length: 4 }, (_, i) =>
      limiter.acquire().then((s) => {
        granted.push(i);
        return s;
      }),
    );
    await flush();
    expect(granted).toEqual([0, 1, 2]);
    await time.advance(10);
    for (const s of await Promise.all(slots.slice(0, 3))) await s.release(); // finished at t=10
    await time.advance(999); // t = 1009: still inside the window of the first three
    expect(granted).toEqual([0, 1, 2]);
    await time.advance(1); // t = 1010
    expect(granted).toEqual([0, 1, 2, 3]);
  });

  it("caps calls in flight and wakes the next waiter on release (FIFO)", async () => {
    const { limiter } = make({ callsPerWindow: 100, maxConcurrent: 2 });
    const order: number[] = [];
    const slots = Array.from({ length: 4 }, (_, i) =>
      limiter.acquire().then((s) => {
        order.push(i);
        return s;
      }),
    );
    await flush();
    expect(order).toEqual([0, 1]);
    expect(limiter.snapshot().inFlight).toBe(2);
    await (await slots[1]!).release();
    await flush();
    expect(order).toEqual([0, 1, 2]);
    await (await slots[0]!).release();
    await flush();
    expect(order).toEqual([0, 1, 2, 3]);
  });

  it("a pause holds back every queued call until the gate opens", async () => {
    const { time, limiter } = make({ callsPerWindow: 100 });
    await limiter.pause(time.clock.now() + 500);
    let got = 0;
    for (let i = 0; i < 5; i++) void limiter.acquire().then(() => got++);
    await time.advance(499);
    expect(got).toBe(0);
    await time.advance(1);
    expect(got).toBe(5);
  });

  it("stops at the daily ceiling with a typed error for every queued call", async () => {
    const { limiter } = make({ callsPerWindow: 100, dailyQuota: 10, dailyReserve: 2 });
    for (let i = 0; i < 8; i++) await (await limiter.acquire()).release();
    const rejected = await Promise.allSettled([limiter.acquire(), limiter.acquire()]);
    for (const r of rejected) {
      expect(r.status).toBe("rejected");
      expect((r as PromiseRejectedResult).reason).toBeInstanceOf(MarketoQuotaExceededError);
    }
    expect(limiter.snapshot().dailyUsed).toBe(8);
  });

  it("the daily count resets at 00:00 US Central", async () => {
    const time = new FakeTime(Date.parse("2026-03-02T05:59:00Z")); // 23:59 Central (CST, UTC-6)
    const limiter = new Limiter({
      store: new InMemoryLimiterStore(),
      key: "k",
      limits: limits({ callsPerWindow: 100, dailyQuota: 2 }),
      clock: time.clock,
      sleep: time.sleep,
      logger: silentLogger,
    });
    for (let i = 0; i < 2; i++) await (await limiter.acquire()).release();
    await expect(limiter.acquire()).rejects.toBeInstanceOf(MarketoQuotaExceededError);
    await time.advance(60_000); // 00:00 Central
    await expect(limiter.acquire()).resolves.toBeDefined();
  });

  it("an aborted waiter leaves the queue without taking a slot", async () => {
    const { limiter } = make({ callsPerWindow: 100, maxConcurrent: 1 });
    const first = await limiter.acquire();
    const controller = new AbortController();
    const waiting = limiter.acquire(controller.signal);
    controller.abort(new Error("stop"));
    await expect(waiting).rejects.toThrow("stop");
    await first.release();
    const next = await limiter.acquire();
    expect(limiter.snapshot().inFlight).toBe(1);
    await next.release();
  });

  it("two limiters on one store share the window (the PostgreSQL store will do the same across processes)", async () => {
    const store = new InMemoryLimiterStore();
    const a = make({}, store);
    const b = new Limiter({
      store,
      key: "k",
      limits: limits(),
      clock: a.time.clock,
      sleep: a.time.sleep,
      logger: silentLogger,
    });
    await a.limiter.acquire();
    await b.acquire();
    await a.limiter.acquire();
    let fourth = false;
    void b.acquire().then(() => {
      fourth = true;
    });
    await flush();
    expect(fourth).toBe(false);
    expect(b.snapshot().windowCalls).toBe(3);
  });

  it("a slot never released counts only until its lease ends", async () => {
    const { time, limiter } = make({ callsPerWindow: 1, leaseMs: 5_000 });
    await limiter.acquire(); // never released (crashed worker)
    let next = false;
    void limiter.acquire().then(() => {
      next = true;
    });
    await time.advance(5_000 + 999);
    expect(next).toBe(false);
    await time.advance(2);
    expect(next).toBe(true);
  });
});
