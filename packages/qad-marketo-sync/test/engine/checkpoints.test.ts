import { describe, expect, it } from "vitest";
import { CheckpointLedger } from "../../src/engine/checkpoints.js";

const NONE = Number.POSITIVE_INFINITY;

describe("CheckpointLedger: never past a record not durably recorded", () => {
  it("each in-order commit earns its own checkpoint when no leads are pooled", () => {
    const l = new CheckpointLedger();
    l.register(1, 300);
    l.register(2, 600);
    const e1 = l.earned(1, NONE);
    expect(e1).toEqual({ through: 1, value: 300 });
    l.committed(1, e1);
    expect(l.earned(2, NONE)).toEqual({ through: 2, value: 600 });
  });

  it("a batch whose predecessor has not committed earns nothing (out-of-order commit)", () => {
    const l = new CheckpointLedger();
    l.register(1, 300);
    l.register(2, 600);
    expect(l.earned(2, NONE)).toBeUndefined();
    expect(() => l.committed(2, undefined)).toThrow(/out of order/);
  });

  it("after a failed commit no later batch earns a checkpoint", () => {
    const l = new CheckpointLedger();
    l.register(1, 300);
    l.register(2, 600);
    l.failed();
    expect(l.earned(1, NONE)).toBeUndefined();
    expect(l.earned(2, NONE)).toBeUndefined();
    expect(l.savedThrough()).toBe(0);
  });

  it("pooled leads of an earlier batch hold the checkpoint back to the batch before it", () => {
    const l = new CheckpointLedger();
    for (let n = 1; n <= 3; n++) l.register(n, n * 100);
    // After batch 1, its own leads wait in the pool: nothing may be saved.
    expect(l.earned(1, 1)).toBeUndefined();
    l.committed(1, undefined);
    // After batch 2, batch 2's leads are pooled: batch 1's checkpoint may be saved, not batch 2's.
    const e2 = l.earned(2, 2);
    expect(e2).toEqual({ through: 1, value: 100 });
    l.committed(2, e2);
    // Still batch 2's leads pooled after batch 3: nothing newer than what is saved.
    expect(l.earned(3, 2)).toBeUndefined();
    l.committed(3, undefined);
    expect(l.savedThrough()).toBe(1);
  });

  it("a batch without a source checkpoint (source failed) earns nothing", () => {
    const l = new CheckpointLedger();
    l.register(1, undefined);
    expect(l.earned(1, NONE)).toBeUndefined();
  });

  it("last() gives the checkpoint of the last dispatched batch for the flush batch", () => {
    const l = new CheckpointLedger();
    l.register(1, 5);
    l.register(2, 10);
    expect(l.last(2)).toBe(10);
  });
});
