/**
 * The behaviour every {@link LimiterStore} must have, as a test suite a store's own test file runs.
 *
 * @module
 */

import type { LimiterStore, ReserveLimits } from "../limits/limiter-store.js";

/** The matchers the suite uses (a subset of vitest's and jest's `expect(value)`). */
export interface LimiterContractMatchers {
  /** `Object.is` equality. */
  toBe(expected: unknown): void;
  /** Deep equality. */
  toEqual(expected: unknown): void;
  /** The value has these properties (recursively), possibly more. */
  toMatchObject(expected: object): void;
  /** `.length` equals `n`. */
  toHaveLength(n: number): void;
}

/**
 * The test API the suite registers its tests with: pass `{ describe, it, expect }` from vitest or jest. The published
 * code imports no test framework.
 */
export interface LimiterContractTestApi {
  /** Groups tests. */
  describe(name: string, body: () => void): void;
  /** One test; the suite's tests are all async. */
  it(name: string, body: () => Promise<void>): void;
  /** Starts an assertion. */
  expect(actual: unknown): LimiterContractMatchers;
}

const L: ReserveLimits = { callsPerWindow: 3, windowMs: 1000, maxConcurrent: 2, dailyCeiling: 5, leaseMs: 10_000 };
const DAY = "2026-03-02";

/**
 * Registers the {@link LimiterStore} contract suite with the caller's test framework. Every implementation must pass
 * it; `make` is called once per test and must return a fresh, empty store.
 *
 * @param name - Shown in the suite title.
 * @param make - A fresh, empty store per test.
 * @param t - The test API: `{ describe, it, expect }` from vitest or jest.
 * @example
 * import { describe, expect, it } from "vitest";
 * import { InMemoryLimiterStore } from "@ml/marketo-client";
 * import { limiterStoreContract } from "@ml/marketo-client/testing";
 * limiterStoreContract("in memory", () => new InMemoryLimiterStore(), { describe, it, expect });
 */
export function limiterStoreContract(
  name: string,
  make: () => LimiterStore | Promise<LimiterStore>,
  t: LimiterContractTestApi,
): void {
  const { describe, it, expect } = t;
  describe(`LimiterStore contract: ${name}`, () => {
    it("grants up to maxConcurrent in flight, then refuses with reason concurrency", async () => {
      const s = await make();
      const a = await s.reserve("k", 0, DAY, L);
      const b = await s.reserve("k", 0, DAY, L);
      const c = await s.reserve("k", 0, DAY, L);
      expect([a.granted, b.granted, c.granted]).toEqual([true, true, false]);
      expect(c.granted ? undefined : c.reason).toBe("concurrency");
      expect(c.state).toMatchObject({ inFlight: 2, windowCalls: 2 });
    });

    it("a released call stays in the window until windowMs after its release, and says when it leaves", async () => {
      const s = await make();
      for (let i = 0; i < 3; i++) {
        const r = await s.reserve("k", 0, DAY, L);
        if (!r.granted) throw new Error("expected a slot");
        await s.release("k", r.slotId, 100 + i);
      }
      const full = await s.reserve("k", 1099, DAY, L);
      expect(full).toMatchObject({ granted: false, reason: "window", retryAt: 1100 });
      expect((await s.reserve("k", 1100, DAY, L)).granted).toBe(true);
    });

    it("pause holds every reservation until it ends and is never shortened", async () => {
      const s = await make();
      await s.pause("k", 500);
      await s.pause("k", 300);
      expect(await s.reserve("k", 499, DAY, L)).toMatchObject({ granted: false, reason: "paused", retryAt: 500 });
      expect((await s.reserve("k", 500, DAY, L)).granted).toBe(true);
    });

    it("counts the day, refuses at the ceiling, raises to Marketo's figure, resets on a new day", async () => {
      const s = await make();
      await s.raiseDailyUsed("k", DAY, 4);
      await s.raiseDailyUsed("k", DAY, 2); // never lowers
      const r = await s.reserve("k", 0, DAY, L);
      expect(r.granted).toBe(true);
      expect(r.state.dailyUsed).toBe(5);
      expect(await s.reserve("k", 0, DAY, L)).toMatchObject({ granted: false, reason: "daily" });
      expect((await s.reserve("k", 0, "2026-03-03", L)).granted).toBe(true);
    });

    it("a slot never released stops counting after its lease", async () => {
      const s = await make();
      await s.reserve("k", 0, DAY, { ...L, maxConcurrent: 1 });
      expect((await s.reserve("k", 9_999, DAY, { ...L, maxConcurrent: 1 })).granted).toBe(false);
      expect((await s.reserve("k", 10_001, DAY, { ...L, maxConcurrent: 1 })).granted).toBe(true);
    });

    it("keys are independent instances", async () => {
      const s = await make();
      await s.pause("a", 1_000);
      expect((await s.reserve("b", 0, DAY, L)).granted).toBe(true);
      expect((await s.state("a", 0, DAY, L)).pausedUntil).toBe(1_000);
    });

    it("concurrent reservations never over-grant (atomic check-and-record)", async () => {
      const s = await make();
      const all = await Promise.all(
        Array.from({ length: 20 }, () => s.reserve("k", 0, DAY, { ...L, maxConcurrent: 20 })),
      );
      expect(all.filter((r) => r.granted)).toHaveLength(3);
    });
  });
}
