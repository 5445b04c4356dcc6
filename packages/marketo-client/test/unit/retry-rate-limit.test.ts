import { FakeTime, flush } from "@ml/http-kernel/testing";
import { InMemoryLimiterStore, MarketoClient, MarketoRateLimitError } from "@ml/marketo-client";
import { HttpResponse, http } from "msw";
import { setupServer } from "msw/node";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { silentLogger } from "../../src/internal/runtime.js";
import { decorrelatedJitter, RateLimitBackoff } from "../../src/limits/backoff.js";
import { Limiter, type ResolvedLimits } from "../../src/limits/limiter.js";

const limits: ResolvedLimits = {
  callsPerWindow: 100,
  windowMs: 20_000,
  maxConcurrent: 5,
  dailyQuota: 50_000,
  dailyReserve: 0,
  leaseMs: 60_000,
  rateLimitPauseMs: 1_000,
  concurrencyPauseMs: 500,
  rateLimitMaxPauseMs: 30_000,
  pollMs: 100,
};

/** A fixed sequence of random numbers, repeated. */
const sequence = (values: number[]) => {
  let i = 0;
  return () => values[i++ % values.length]!;
};

describe("606/615 backoff: decorrelated jitter", () => {
  it("each pause lies in [base, min(cap, 3 × previous)]", () => {
    const o = { baseMs: 1_000, capMs: 30_000 };
    expect(decorrelatedJitter(1_000, o, () => 0)).toBe(1_000);
    expect(decorrelatedJitter(1_000, o, () => 0.5)).toBe(2_000);
    expect(decorrelatedJitter(4_000, o, () => 0.999_999)).toBe(12_000);
    expect(decorrelatedJitter(20_000, o, () => 0.999_999)).toBe(30_000); // capped
    const random = sequence([0.13, 0.92, 0.41, 0.77, 0.05, 0.66]);
    let previous = 1_000;
    for (let i = 0; i < 50; i++) {
      const next = decorrelatedJitter(previous, o, random);
      expect(next).toBeGreaterThanOrEqual(1_000);
      expect(next).toBeLessThanOrEqual(Math.min(30_000, 3 * previous));
      previous = next;
    }
  });

  it("refusals in a row grow the pause (upper bound triples), a reset starts again", () => {
    const b = new RateLimitBackoff({ baseMs: 1_000, capMs: 30_000 });
    const top = () => 0.999_999;
    expect([b.next(top), b.next(top), b.next(top), b.next(top)]).toEqual([3_000, 9_000, 27_000, 30_000]);
    b.reset();
    expect(b.next(top)).toBe(3_000);
  });
});

describe("Limiter: shared pause gate with growing pauses (injected clock)", () => {
  function make() {
    const time = new FakeTime();
    const limiter = new Limiter({
      store: new InMemoryLimiterStore(),
      key: "k",
      limits,
      clock: time.clock,
      sleep: time.sleep,
      logger: silentLogger,
    });
    return { time, limiter };
  }

  it("consecutive 606 grow the pause, queued calls wait at the gate, a success resets the growth", async () => {
    const { time, limiter } = make();
    const random = () => 0.5;
    const pauses: number[] = [];
    for (let i = 0; i < 4; i++) {
      const slot = await limiter.acquire();
      pauses.push(await slot.rateLimited("606", random));
      await slot.release(time.clock.now());
      // A queued call waits for the gate: not granted one ms before it opens, granted when it does.
      let granted = false;
      const next = limiter.acquire().then((s) => {
        granted = true;
        return s;
      });
      await time.advance(pauses.at(-1)! - 1);
      expect(granted).toBe(false);
      await time.advance(1);
      expect(granted).toBe(true);
      await (await next).release(); // released without an answer: not a success
    }
    // base + 0.5 · (3 · previous − base): 2000, 3500, 5750, 9125
    expect(pauses).toEqual([2_000, 3_500, 5_750, 9_125]);
    const ok = await limiter.acquire();
    await ok.release(time.clock.now()); // answered without 606: the squeeze is over
    const again = await limiter.acquire();
    expect(await again.rateLimited("606", random)).toBe(2_000);
  });

  it("refusals of calls already in flight when the gate closed are one burst: the pause grows once", async () => {
    const { limiter } = make();
    const slots = await Promise.all([limiter.acquire(), limiter.acquire(), limiter.acquire()]);
    const random = () => 0.999_999;
    const pauses = [];
    for (const s of slots) pauses.push(await s.rateLimited("606", random));
    expect(pauses[0]).toBe(3_000);
    expect(pauses.slice(1).every((p) => p <= 3_000)).toBe(true);
    expect(limiter.snapshot().pausedUntil).toBeGreaterThan(0);
  });

  it("615 grows from concurrencyPauseMs and is capped at one window", async () => {
    const { time, limiter } = make();
    const pauses = [];
    for (let i = 0; i < 6; i++) {
      const s = await limiter.acquire();
      pauses.push(await s.rateLimited("615", () => 0.999_999));
      await s.release();
      await time.advance(pauses.at(-1)!);
    }
    expect(pauses).toEqual([1_500, 4_500, 13_500, 20_000, 20_000, 20_000]);
  });
});

describe("transport: a long 606 squeeze ends in a typed, retryable error only after rateLimitMaxWaitMs", () => {
  const BASE = "http://127.0.0.1:1";
  const server = setupServer();
  beforeAll(() => server.listen({ onUnhandledRequest: "error" }));
  afterEach(() => server.resetHandlers());
  afterAll(() => server.close());

  function client(maxWaitMs: number) {
    let now = Date.parse("2026-03-02T12:00:00Z");
    const sleeps: number[] = [];
    const mk = new MarketoClient({
      baseUrls: { rest: `${BASE}/rest`, identity: `${BASE}/identity`, bulk: `${BASE}/bulk` },
      allowHttp: true,
      network: { allowLoopback: true },
      clientId: "cid",
      clientSecret: "sec",
      clock: { now: () => now },
      // Sleeping moves the fake clock: the limiter's waits at the gate are what time the call spends.
      sleep: async (ms, signal) => {
        signal?.throwIfAborted();
        sleeps.push(ms);
        now += ms;
        await flush();
      },
      random: sequence([0.3, 0.8, 0.55, 0.9, 0.1]),
      usageSync: false,
      limits: { rateLimitPauseMs: 1_000, rateLimitMaxPauseMs: 30_000 },
      retry: { maxRetries: 1, rateLimitMaxWaitMs: maxWaitMs },
    });
    return { mk, sleeps, elapsed: () => now - Date.parse("2026-03-02T12:00:00Z") };
  }

  it("keeps retrying past maxRetries with growing, jittered pauses, then throws MarketoRateLimitError", async () => {
    let calls = 0;
    server.use(
      http.post(`${BASE}/identity/oauth/token`, () =>
        HttpResponse.json({ access_token: "t", token_type: "bearer", expires_in: 3600 }),
      ),
      http.get(`${BASE}/rest/v1/stats/usage.json`, () => {
        calls++;
        return HttpResponse.json({ success: false, errors: [{ code: "606", message: "Max rate limit" }] });
      }),
    );
    const { mk, sleeps, elapsed } = client(120_000);
    const error = await mk.stats.usage().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MarketoRateLimitError);
    expect(error).toMatchObject({ code: "606", retryable: true });
    expect(elapsed()).toBeGreaterThanOrEqual(120_000); // a real effort: the whole budget
    expect(calls).toBeGreaterThan(2); // maxRetries (1) does not bound 606 retries
    // The waits at the gate grow (each within [1000, 3 × previous], capped at 30 s) and are jittered.
    for (let i = 1; i < sleeps.length; i++) {
      expect(sleeps[i]!).toBeGreaterThanOrEqual(1_000);
      expect(sleeps[i]!).toBeLessThanOrEqual(Math.min(30_000, 3 * sleeps[i - 1]!));
    }
    expect(Math.max(...sleeps)).toBeGreaterThan(3 * 1_000);
    expect(new Set(sleeps).size).toBeGreaterThan(2);
  });
});
