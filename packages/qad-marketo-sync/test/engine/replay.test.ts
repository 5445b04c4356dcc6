import { describe, expect, it } from "vitest";
import { replayCandidates, resolveCandidates } from "../../src/engine/replay.js";
import { type AuditEntry, createMemoryStore } from "../../src/index.js";

const failed = (runId: string, at: number, v: number): AuditEntry => ({
  tenant: "t",
  runId,
  key: "K",
  kind: "company",
  outcome: "failed",
  sourceKey: "K",
  reasons: [],
  payload: { externalCompanyId: "K", v },
  hash: `h${v}`,
  at,
});

describe("replay selection", () => {
  it("a record that failed twice with different payloads is replayed with the newer payload", async () => {
    // Both recording orders, so neither "first row wins" nor "last row wins" passes for "newest wins".
    for (const order of [
      [failed("r1", 10, 1), failed("r2", 20, 2)],
      [failed("r2", 20, 2), failed("r1", 10, 1)],
    ]) {
      const store = createMemoryStore();
      for (const e of order) await store.commitBatch({ tenant: "t", entries: [e], synced: [] });
      const [c] = await replayCandidates(store, "t", {});
      expect(c).toMatchObject({ runId: "r2", hash: "h2", payload: { v: 2 } });
    }
  });

  it("a replay of an old run sends the newer carried-forward payload instead of the stale one", async () => {
    const store = createMemoryStore();
    await store.commitBatch({
      tenant: "t",
      entries: [failed("r1", 10, 1)],
      synced: [],
      carry: {
        put: [
          {
            kind: "company",
            key: "K",
            sourceKey: "K",
            payload: { externalCompanyId: "K", v: 2 },
            hash: "h2",
            cause: "failed",
            state: "pending",
            attempts: 1,
            firstAt: 20,
            lastAt: 20,
            nextAt: 30,
            runId: "r2",
            reasons: [],
          },
        ],
      },
    });
    const [c] = await replayCandidates(store, "t", { runId: "r1" });
    expect(c).toMatchObject({ hash: "h2", runId: "r2" });
  });

  it("a payload written since, or already written, is not planned", async () => {
    const store = createMemoryStore();
    await store.commitBatch({
      tenant: "t",
      entries: [],
      synced: [{ kind: "company", key: "K", hash: "h9", runId: "r3", at: 30 }],
    });
    const c = { kind: "company" as const, key: "K", sourceKey: "K", payload: {}, hash: "h1", at: 10, runId: "r1" };
    const r = await resolveCandidates([c], { store, tenant: "t", runId: "x", now: () => 40, replay: true });
    expect(r.planned).toBe(0);
    expect(r.entries[0]).toMatchObject({ outcome: "unchanged", replayOf: "r1" });
    const fresh = await resolveCandidates([{ ...c, at: 50 }], {
      store,
      tenant: "t",
      runId: "x",
      now: () => 60,
      replay: false,
    });
    expect(fresh.plan.company).toHaveLength(1);
  });
});
