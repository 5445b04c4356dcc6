import { describe, expect, it } from "vitest";
import { type AuditEntry, type AuditStore, isSyncError, type SyncedState } from "../../src/index.js";

/** A store factory for the contract: a fresh, empty store with a controllable clock. */
export type MakeStore = (clock: { now(): number }) => Promise<AuditStore> | AuditStore;

const entry = (over: Partial<AuditEntry> = {}): AuditEntry => ({
  tenant: "t1",
  runId: "r1",
  key: "S.C1",
  kind: "company",
  outcome: "created",
  sourceKey: "S.C1",
  reasons: [],
  payload: { externalCompanyId: "S.C1", company: "Acme" },
  hash: "h1",
  at: 1,
  ...over,
});

const synced = (over: Partial<SyncedState> = {}): SyncedState => ({
  kind: "company",
  key: "S.C1",
  hash: "h1",
  marketoId: 7,
  runId: "r1",
  at: 1,
  ...over,
});

/**
 * The behaviour every {@link AuditStore} implementation must have. Call it from a test file of the implementation:
 * `runAuditStoreContract("memory", (clock) => createMemoryStore({ clock }))`.
 */
export function runAuditStoreContract(name: string, makeStore: MakeStore): void {
  describe(`AuditStore contract: ${name}`, () => {
    const setup = async () => {
      const clock = {
        t: 1_000,
        now() {
          return this.t;
        },
      };
      const store = await makeStore(clock);
      return { clock, store };
    };

    it("upserts audit rows by (run, kind, key): recording a batch twice keeps one row per record", async () => {
      const { store } = await setup();
      await store.commitBatch({ tenant: "t1", entries: [entry(), entry({ kind: "namedAccount" })], synced: [] });
      await store.commitBatch({ tenant: "t1", entries: [entry({ outcome: "updated" })], synced: [] });
      const rows = await store.queryAudit({ tenant: "t1" });
      expect(rows).toHaveLength(2);
      expect(rows.find((r) => r.kind === "company")?.outcome).toBe("updated");
      await store.commitBatch({ tenant: "t1", entries: [entry({ runId: "r2" })], synced: [] });
      expect(await store.queryAudit({ tenant: "t1" })).toHaveLength(3);
    });

    it("filters audit rows by run, keys, kinds and outcomes, in recording order, with a limit", async () => {
      const { store } = await setup();
      await store.commitBatch({
        tenant: "t1",
        entries: [
          entry({ key: "a", outcome: "failed" }),
          entry({ key: "b", outcome: "skipped", kind: "lead" }),
          entry({ key: "c", outcome: "created" }),
          entry({ key: "d", outcome: "failed", runId: "r2" }),
        ],
        synced: [],
      });
      expect((await store.queryAudit({ tenant: "t1", runId: "r1" })).map((r) => r.key)).toEqual(["a", "b", "c"]);
      expect((await store.queryAudit({ tenant: "t1", outcomes: ["failed"] })).map((r) => r.key)).toEqual(["a", "d"]);
      expect((await store.queryAudit({ tenant: "t1", kinds: ["lead"] })).map((r) => r.key)).toEqual(["b"]);
      expect((await store.queryAudit({ tenant: "t1", keys: ["c", "d"] })).map((r) => r.key)).toEqual(["c", "d"]);
      expect(await store.queryAudit({ tenant: "t1", limit: 2 })).toHaveLength(2);
      expect(await store.queryAudit({ tenant: "other" })).toHaveLength(0);
    });

    it("keeps audit payloads and errors intact (JSON round trip) and isolated from later caller mutation", async () => {
      const { store } = await setup();
      const e = entry({
        outcome: "failed",
        error: { code: "606", message: "rate", retryable: true, requestId: "x#1" },
      });
      await store.commitBatch({ tenant: "t1", entries: [e], synced: [] });
      e.payload!.company = "mutated";
      const [row] = await store.queryAudit({ tenant: "t1" });
      expect(row?.payload?.company).toBe("Acme");
      expect(row?.error).toEqual({ code: "606", message: "rate", retryable: true, requestId: "x#1" });
    });

    it("upserts synced state by (kind, key) and returns only known keys", async () => {
      const { store } = await setup();
      await store.commitBatch({
        tenant: "t1",
        entries: [],
        synced: [synced(), synced({ kind: "lead", key: "a@b.co", companyKey: "S.C1" })],
      });
      await store.commitBatch({ tenant: "t1", entries: [], synced: [synced({ hash: "h2" })] });
      const got = await store.getSynced("t1", "company", ["S.C1", "missing"]);
      expect([...got.keys()]).toEqual(["S.C1"]);
      expect(got.get("S.C1")?.hash).toBe("h2");
      const leads: SyncedState[] = [];
      for await (const s of store.listSynced("t1", "lead")) leads.push(s);
      expect(leads.map((s) => [s.key, s.companyKey])).toEqual([["a@b.co", "S.C1"]]);
      expect((await store.getSynced("t2", "company", ["S.C1"])).size).toBe(0);
    });

    it("saves the checkpoint with the batch, and separately", async () => {
      const { store } = await setup();
      expect(await store.getCheckpoint("t1", "source")).toBeUndefined();
      await store.commitBatch({
        tenant: "t1",
        entries: [entry()],
        synced: [],
        checkpoint: { name: "source", value: { since: "2026-01-01", keys: ["a"] } },
      });
      expect(await store.getCheckpoint("t1", "source")).toEqual({ since: "2026-01-01", keys: ["a"] });
      await store.saveCheckpoint("t1", "activities", "tok-2");
      expect(await store.getCheckpoint("t1", "activities")).toBe("tok-2");
      expect(await store.getCheckpoint("t2", "source")).toBeUndefined();
    });

    it("leases: one holder at a time, renewal, release, takeover after expiry with a higher token", async () => {
      const { store, clock } = await setup();
      const a = await store.acquireLease("sync:t1", "run-a", 10_000);
      expect(a.acquired).toBe(true);
      const b = await store.acquireLease("sync:t1", "run-b", 10_000);
      expect(b).toEqual({ acquired: false, holder: "run-a", expiresAt: 11_000 });
      if (!a.acquired) throw new Error("unreachable");
      clock.t = 9_000;
      const renewed = await store.renewLease(a.lease, 10_000);
      expect(renewed?.expiresAt).toBe(19_000);
      clock.t = 19_001;
      const c = await store.acquireLease("sync:t1", "run-c", 10_000);
      expect(c.acquired).toBe(true);
      if (!c.acquired) throw new Error("unreachable");
      expect(c.lease.token).toBeGreaterThan(a.lease.token);
      expect(await store.renewLease(renewed!, 10_000)).toBeUndefined();
      await store.releaseLease(a.lease); // stale release must not free c's lease
      expect((await store.acquireLease("sync:t1", "run-d", 10_000)).acquired).toBe(false);
      await store.releaseLease(c.lease);
      expect((await store.acquireLease("sync:t1", "run-d", 10_000)).acquired).toBe(true);
      expect((await store.acquireLease("sync:t2", "run-x", 10_000)).acquired).toBe(true);
    });

    it("fences: a batch from a runner that lost its lease is refused whole (nothing recorded, no checkpoint)", async () => {
      const { store, clock } = await setup();
      const a = await store.acquireLease("sync:t1", "run-a", 1_000);
      if (!a.acquired) throw new Error("unreachable");
      await store.commitBatch({
        tenant: "t1",
        entries: [entry()],
        synced: [],
        checkpoint: { name: "source", value: 1 },
        fence: a.lease,
      });
      clock.t += 2_000;
      await store.acquireLease("sync:t1", "run-b", 1_000);
      const err = await store
        .commitBatch({
          tenant: "t1",
          entries: [entry({ key: "late" })],
          synced: [synced({ key: "late" })],
          checkpoint: { name: "source", value: 2 },
          fence: a.lease,
        })
        .catch((e: unknown) => e);
      expect(isSyncError(err) && err.code).toBe("lease_lost");
      expect(await store.getCheckpoint("t1", "source")).toBe(1);
      expect(await store.queryAudit({ tenant: "t1", keys: ["late"] })).toHaveLength(0);
      expect((await store.getSynced("t1", "company", ["late"])).size).toBe(0);
      await expect(store.saveCheckpoint("t1", "activities", "x", a.lease)).rejects.toMatchObject({
        code: "lease_lost",
      });
    });

    it("records runs: start, finish with summary, newest first", async () => {
      const { store } = await setup();
      await store.startRun({ tenant: "t1", runId: "r1", trigger: "manual", status: "running", startedAt: 1 });
      await store.startRun({ tenant: "t1", runId: "r2", trigger: "replay", status: "running", startedAt: 2 });
      await store.finishRun("t1", "r1", { status: "completed", finishedAt: 5, summary: { ok: true } });
      expect(await store.getRun("t1", "r1")).toMatchObject({
        status: "completed",
        finishedAt: 5,
        summary: { ok: true },
      });
      expect((await store.listRuns("t1")).map((r) => r.runId)).toEqual(["r2", "r1"]);
      expect(await store.listRuns("t1", { limit: 1 })).toHaveLength(1);
      expect(await store.getRun("t1", "nope")).toBeUndefined();
    });

    it("upserts account contexts by externalCompanyId", async () => {
      const { store } = await setup();
      const ctx = {
        externalCompanyId: "S.C1",
        opportunities: [],
        openOpportunities: { count: 1, amount: 10 },
        wonOpportunities: { count: 0, amount: 0 },
        activityCounts: { "Visit Webpage": 2 },
        updatedAt: 1,
      };
      await store.putAccountContexts("t1", [ctx]);
      await store.putAccountContexts("t1", [{ ...ctx, openOpportunities: { count: 2, amount: 30 } }]);
      expect((await store.getAccountContext("t1", "S.C1"))?.openOpportunities).toEqual({ count: 2, amount: 30 });
      expect(await store.getAccountContext("t2", "S.C1")).toBeUndefined();
    });
  });
}
