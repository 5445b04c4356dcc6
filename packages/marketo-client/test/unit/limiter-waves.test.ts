import { FakeTime } from "@ml/http-kernel/testing";
import { InMemoryLimiterStore } from "@ml/marketo-client";
import { describe, expect, it } from "vitest";
import { silentLogger } from "../../src/internal/runtime.js";
import { Limiter, type ResolvedLimits } from "../../src/limits/limiter.js";

const limits: ResolvedLimits = {
  callsPerWindow: 10,
  windowMs: 20_000,
  maxConcurrent: 2,
  dailyQuota: 50_000,
  dailyReserve: 0,
  leaseMs: 360_000,
  rateLimitPauseMs: 2_000,
  concurrencyPauseMs: 1_000,
  rateLimitMaxPauseMs: 60_000,
  pollMs: 100,
};

/**
 * Calls through the limiter the way the transport makes them: acquire, a round trip of `rttMs` (the server sees the
 * call `arriveMs` after the grant), release with the answer's time. Returns grant, arrival and answer times.
 */
async function run(calls: number, rttMs: number, arriveMs: number, time: FakeTime, limiter: Limiter) {
  const log: { granted: number; arrived: number; answered: number }[] = [];
  await Promise.all(
    Array.from({ length: calls }, async () => {
      const slot = await limiter.acquire();
      const granted = time.clock.now();
      await time.sleep(rttMs);
      const answered = time.clock.now();
      log.push({ granted, arrived: granted + arriveMs, answered });
      await slot.release(answered);
    }),
  );
  return log;
}

describe("Limiter pace at a 20 s window (injected clock)", () => {
  it("each call of the next wave is granted the moment the call it replaces leaves the window: no polling loss", async () => {
    const time = new FakeTime();
    const limiter = new Limiter({
      store: new InMemoryLimiterStore(),
      key: "k",
      limits,
      clock: time.clock,
      sleep: time.sleep,
      logger: silentLogger,
    });
    const done = run(30, 50, 20, time, limiter);
    await time.advance(45_000);
    const log = (await done).sort((a, b) => a.granted - b.granted);
    expect(log).toHaveLength(30);
    const start = log[0]!.granted;
    const answers = log.map((c) => c.answered).sort((a, b) => a - b);
    for (let i = 10; i < 30; i++) {
      // Granted exactly windowMs after the i-10th answer: the earliest moment it is sure to have left Marketo's window.
      expect(log[i]!.granted).toBe(answers[i - 10]! + limits.windowMs);
    }
    // 30 calls at 2 in flight and 50 ms each: 2 windows plus 5 round trips of the last wave, plus one round trip lost
    // per window (the exact-safe bound), and nothing else.
    expect(answers.at(-1)! - start).toBe(2 * limits.windowMs + 5 * 50 + 2 * 50);
  });

  it("never lets Marketo's window (by arrival time) hold more than callsPerWindow, whatever the arrival delay", async () => {
    for (const arriveMs of [0, 1, 25, 49, 50]) {
      const time = new FakeTime();
      const limiter = new Limiter({
        store: new InMemoryLimiterStore(),
        key: "k",
        limits,
        clock: time.clock,
        sleep: time.sleep,
        logger: silentLogger,
      });
      const done = run(40, 50, arriveMs, time, limiter);
      await time.advance(90_000);
      const arrivals = (await done).map((c) => c.arrived).sort((a, b) => a - b);
      for (const at of arrivals) {
        // The simulator's rule: a call counts from its arrival until arrival + windowMs (exclusive).
        const inWindow = arrivals.filter((a) => a <= at && a > at - limits.windowMs).length;
        expect(inWindow).toBeLessThanOrEqual(limits.callsPerWindow);
      }
    }
  });
});
