import { describe, expect, it } from "vitest";
import { carryChanges, carryPolicy, retryDelay } from "../../src/engine/carry-forward.js";
import type { AuditEntry, CarriedRecord } from "../../src/index.js";

const policy = carryPolicy({ maxAttempts: 3, baseDelayMs: 1_000, maxDelayMs: 3_000 });
const ctx = (now: number, runId = "r2") => ({ tenant: "t", runId, now, policy });
const row = (over: Partial<AuditEntry>): AuditEntry => ({
  tenant: "t",
  runId: "r2",
  key: "K",
  kind: "company",
  outcome: "failed",
  sourceKey: "K",
  reasons: [],
  payload: { externalCompanyId: "K", v: 2 },
  hash: "h2",
  error: { code: "502", message: "bad gateway", retryable: true },
  at: 10,
  ...over,
});
const carried = (over: Partial<CarriedRecord> = {}): CarriedRecord => ({
  kind: "company",
  key: "K",
  sourceKey: "K",
  payload: { externalCompanyId: "K", v: 1 },
  hash: "h1",
  cause: "failed",
  state: "pending",
  attempts: 1,
  firstAt: 1,
  lastAt: 1,
  nextAt: 2,
  runId: "r1",
  reasons: [],
  ...over,
});
const prior = (c: CarriedRecord) => new Map([[`${c.kind}\u0000${c.key}`, c]]);

describe("carry-forward rules", () => {
  it("delays double per failed attempt, capped", () => {
    expect([1, 2, 3, 4].map((n) => retryDelay(policy, n))).toEqual([1_000, 2_000, 3_000, 3_000]);
  });

  it("a failed write is carried with one attempt and the first delay", () => {
    const { put, clear } = carryChanges([row({})], new Map(), ctx(100));
    expect(clear).toEqual([]);
    expect(put).toEqual([
      expect.objectContaining({ key: "K", hash: "h2", cause: "failed", state: "pending", attempts: 1, nextAt: 1_100 }),
    ]);
  });

  it("a newer payload replaces the carried one and restarts its attempts; the same payload counts up to dead", () => {
    const newer = carryChanges([row({})], prior(carried({ attempts: 2 })), ctx(100)).put?.[0];
    expect(newer).toMatchObject({ payload: { v: 2 }, attempts: 1, firstAt: 1 });
    const same = carryChanges([row({ hash: "h1" })], prior(carried({ attempts: 2 })), ctx(100)).put?.[0];
    expect(same).toMatchObject({ attempts: 3, state: "dead" });
  });

  it("a second failure in the same run does not count twice; not attempted rows do not count", () => {
    const again = carryChanges([row({ hash: "h1" })], prior(carried({ runId: "r2", nextAt: 50 })), ctx(100)).put?.[0];
    expect(again).toMatchObject({ attempts: 1, nextAt: 50 });
    const skipped = carryChanges(
      [row({ reasons: [{ code: "not_attempted", message: "stopped" }] })],
      new Map(),
      ctx(100),
    ).put?.[0];
    expect(skipped).toMatchObject({ attempts: 0, nextAt: 100 });
  });

  it("a read-only skip is carried as read_only, due at once, never dead", () => {
    const ro = row({ outcome: "skipped", reasons: [{ code: "read_only", message: "companies are read-only" }] });
    const put = carryChanges([ro], prior(carried({ hash: "h2", attempts: 3 })), ctx(100)).put?.[0];
    expect(put).toMatchObject({ cause: "read_only", state: "pending", attempts: 3, nextAt: 100 });
  });

  it("written, unchanged, other skips and rejected customers clear the carried row", () => {
    for (const e of [
      row({ outcome: "created" }),
      row({ outcome: "unchanged" }),
      row({ outcome: "skipped", reasons: [{ code: "1006", message: "field not found" }] }),
      row({ kind: "customer", outcome: "rejected" }),
    ]) {
      const { put, clear } = carryChanges([e], prior(carried()), ctx(100));
      expect(put).toEqual([]);
      expect(clear).toEqual([{ kind: "company", key: "K" }]);
    }
    // Nothing carried: nothing to clear.
    expect(carryChanges([row({ outcome: "created" })], new Map(), ctx(100)).clear).toEqual([]);
  });

  it("validates its options", () => {
    expect(() => carryPolicy({ maxAttempts: 0 })).toThrow(/maxAttempts/);
    expect(() => carryPolicy({ baseDelayMs: 10, maxDelayMs: 5 })).toThrow(/baseDelayMs/);
  });
});
