/**
 * The behaviour every {@link AuditStore} must have, as a test suite a store's own test file runs.
 *
 * @module
 */

import { isSyncError } from "../errors.js";
import type { AuditStore, CarriedRecord, RecordRef, SyncedState } from "../store/audit-store.js";
import { carriedRecord as carried, auditEntry as entry, runRecord as run, syncedState as synced } from "./fixtures.js";
import type { ContractTestApi } from "./test-api.js";

/** The controllable clock handed to a store factory: the suite moves `t` to expire leases. */
export interface ContractClock {
  /** Current time (ms since epoch), as the store must read it. */
  now(): number;
}

/**
 * Makes a fresh, empty store reading time from `clock` (lease expiry and fencing use the store clock). Called once per
 * test; the caller closes what it made (e.g. in its own `afterAll`).
 */
export type MakeAuditStore = (clock: ContractClock) => Promise<AuditStore> | AuditStore;

const never = (what: string): never => {
  throw new Error(`contract: ${what}`);
};

const refsOf = (rows: CarriedRecord[]): string[] => rows.map((r) => `${r.kind}:${r.key}`);

/**
 * Registers the {@link AuditStore} contract suite with the caller's test framework. Every implementation must pass
 * it. Rules it pins down beyond the interface's own documentation:
 *
 * - audit rows come back in recording order, and re-recording a row (same run, kind and key) keeps its place;
 * - `listCarried` orders by kind, then key, comparing strings by code point (SQL: binary / `COLLATE "C"`);
 * - a carry `clear` and `put` of one batch apply clears first, so a record both cleared and put stays carried;
 * - `prune` ranks a record's (kind, key) audit rows newest first by `at`, then by recording order; the newest row is
 *   always kept, as is every row of a carried record or of a `running` run; a row is deleted when it is older than
 *   `now - maxAgeMs` or ranks past `keepPerRecord`; a run is deleted when it is not running, it ended (or, never
 *   finished, started) before `now - maxAgeMs`, and no audit row of it remains; `keepPerRecord` alone deletes no run.
 * - paging input is checked, never bent: a `limit` is a whole number ≥ 0 (0 answers nothing) and a keyset cursor
 *   holds strings; anything else is a rejected promise with a `SyncConfigError` (code `config`), in every store alike.
 *
 * @param name - Shown in the suite title.
 * @param makeStore - A fresh, empty store per test.
 * @param t - The test API: `{ describe, it, expect }` from vitest or jest.
 * @example
 * import { describe, expect, it } from "vitest";
 * import { runAuditStoreContract } from "@ml/qad-marketo-sync/testing";
 * runAuditStoreContract("memory", (clock) => createMemoryStore({ clock }), { describe, it, expect });
 */
export function runAuditStoreContract(name: string, makeStore: MakeAuditStore, t: ContractTestApi): void {
  const { describe, it, expect } = t;
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

    it("upserts audit rows by (run, kind, key): recording a batch twice keeps one row per record, in place", async () => {
      const { store } = await setup();
      await store.commitBatch({ tenant: "t1", entries: [entry(), entry({ kind: "namedAccount" })], synced: [] });
      await store.commitBatch({ tenant: "t1", entries: [entry({ outcome: "updated" })], synced: [] });
      const rows = await store.queryAudit({ tenant: "t1" });
      expect(rows.map((r) => [r.kind, r.outcome])).toEqual([
        ["company", "updated"],
        ["namedAccount", "created"],
      ]);
      await store.commitBatch({ tenant: "t1", entries: [entry({ runId: "r2" })], synced: [] });
      expect(await store.queryAudit({ tenant: "t1" })).toHaveLength(3);
    });

    it("filters audit rows by run, keys, kinds, outcomes and since, in recording order, with a limit", async () => {
      const { store } = await setup();
      await store.commitBatch({
        tenant: "t1",
        entries: [
          entry({ key: "a", outcome: "failed", at: 10 }),
          entry({ key: "b", outcome: "skipped", kind: "lead", at: 20 }),
          entry({ key: "c", outcome: "created", at: 30 }),
          entry({ key: "d", outcome: "failed", runId: "r2", at: 40 }),
        ],
        synced: [],
      });
      const keys = async (q: Parameters<AuditStore["queryAudit"]>[0]) => (await store.queryAudit(q)).map((r) => r.key);
      expect(await keys({ tenant: "t1", runId: "r1" })).toEqual(["a", "b", "c"]);
      expect(await keys({ tenant: "t1", outcomes: ["failed"] })).toEqual(["a", "d"]);
      expect(await keys({ tenant: "t1", kinds: ["lead"] })).toEqual(["b"]);
      expect(await keys({ tenant: "t1", keys: ["c", "d"] })).toEqual(["c", "d"]);
      expect(await keys({ tenant: "t1", since: 20 })).toEqual(["b", "c", "d"]);
      expect(await keys({ tenant: "t1", since: 21, runId: "r1" })).toEqual(["c"]);
      expect(await keys({ tenant: "t1", since: 41 })).toEqual([]);
      expect(await keys({ tenant: "t1", outcomes: ["failed"], since: 5, limit: 1 })).toEqual(["a"]);
      expect(await keys({ tenant: "t1", limit: 2 })).toEqual(["a", "b"]);
      expect(await store.queryAudit({ tenant: "other" })).toHaveLength(0);
    });

    it("keeps audit payloads and errors intact (JSON round trip) and isolated from later caller mutation", async () => {
      const { store } = await setup();
      const e = entry({
        outcome: "failed",
        reasons: [{ code: "1004", message: "not found" }],
        error: { code: "606", message: "rate", retryable: true, requestId: "x#1" },
        marketoId: "42",
        replayOf: "r0",
      });
      await store.commitBatch({ tenant: "t1", entries: [e], synced: [] });
      const p = e.payload ?? never("payload");
      p.company = "mutated";
      const [row] = await store.queryAudit({ tenant: "t1" });
      expect(row?.payload?.company).toBe("Acme");
      expect(row).toMatchObject({
        tenant: "t1",
        outcome: "failed",
        reasons: [{ code: "1004", message: "not found" }],
        error: { code: "606", message: "rate", retryable: true, requestId: "x#1" },
        marketoId: "42",
        replayOf: "r0",
        hash: "h1",
        at: 1,
      });
      if (row?.payload) row.payload.company = "mutated again";
      expect((await store.queryAudit({ tenant: "t1" }))[0]?.payload?.company).toBe("Acme");
    });

    it("upserts synced state by (kind, key) and returns only known keys", async () => {
      const { store } = await setup();
      await store.commitBatch({
        tenant: "t1",
        entries: [],
        synced: [
          synced(),
          synced({ kind: "lead", key: "a@b.co", companyKey: "S.C1" }),
          synced({ kind: "namedAccount", key: "S.C1", marketoId: undefined, marketoGUID: "g-1", name: "Acme" }),
        ],
      });
      await store.commitBatch({ tenant: "t1", entries: [], synced: [synced({ hash: "h2" })] });
      const got = await store.getSynced("t1", "company", ["S.C1", "missing"]);
      expect([...got.keys()]).toEqual(["S.C1"]);
      expect(got.get("S.C1")).toMatchObject({ hash: "h2", marketoId: 7, runId: "r1", at: 1 });
      const leads: SyncedState[] = [];
      for await (const s of store.listSynced("t1", "lead")) leads.push(s);
      expect(leads.map((s) => [s.key, s.companyKey])).toEqual([["a@b.co", "S.C1"]]);
      const na = (await store.getSynced("t1", "namedAccount", ["S.C1"])).get("S.C1");
      expect(na).toMatchObject({ marketoGUID: "g-1", name: "Acme" });
      expect(na?.marketoId).toBeUndefined();
      expect((await store.getSynced("t2", "company", ["S.C1"])).size).toBe(0);
    });

    it("lists every synced row of a kind exactly once, beyond any page size", async () => {
      const { store } = await setup();
      const n = 2_345;
      const rows = Array.from({ length: n }, (_, i) => synced({ key: `k${String(i).padStart(5, "0")}`, marketoId: i }));
      for (let i = 0; i < n; i += 1_000) {
        await store.commitBatch({ tenant: "t1", entries: [], synced: rows.slice(i, i + 1_000) });
      }
      await store.commitBatch({ tenant: "t1", entries: [], synced: [synced({ kind: "lead", key: "x@y.co" })] });
      await store.commitBatch({ tenant: "t2", entries: [], synced: [synced({ key: "other" })] });
      const seen = new Set<string>();
      let count = 0;
      for await (const s of store.listSynced("t1", "company")) {
        seen.add(s.key);
        count++;
      }
      expect(count).toBe(n);
      expect(seen.size).toBe(n);
      expect(seen.has("other")).toBe(false);
    });

    it("answers the synced named account holding each normalised name: renames move it, other kinds and tenants do not count", async () => {
      const { store } = await setup();
      const na = (key: string, name: string) => synced({ kind: "namedAccount", key, name, marketoGUID: `g-${key}` });
      expect((await store.namedAccountKeys("t1", [])).size).toBe(0);
      await store.commitBatch({
        tenant: "t1",
        entries: [],
        synced: [
          na("S.C1", "  Acme Corp "),
          na("S.C2", "ÉCOLE Über"),
          na("S.C3", "Old Name"),
          synced({ kind: "company", key: "S.C9", name: "company names are not claimed" }),
        ],
      });
      await store.commitBatch({ tenant: "t2", entries: [], synced: [na("S.T2", "Other Tenant")] });
      const got = await store.namedAccountKeys("t1", [
        "acme corp",
        "école über",
        "old name",
        "company names are not claimed",
        "other tenant",
        "missing",
      ]);
      expect(Object.fromEntries(got)).toEqual({ "acme corp": "S.C1", "école über": "S.C2", "old name": "S.C3" });
      // Names are compared as given: the caller normalises (an unnormalised name matches nothing).
      expect((await store.namedAccountKeys("t1", ["Acme Corp"])).size).toBe(0);

      // A rename frees the old name and claims the new one.
      await store.commitBatch({ tenant: "t1", entries: [], synced: [na("S.C3", "New Name")] });
      const renamed = await store.namedAccountKeys("t1", ["old name", "new name"]);
      expect(Object.fromEntries(renamed)).toEqual({ "new name": "S.C3" });

      // Several rows holding one name (written before names were claimed): the smallest key answers.
      await store.commitBatch({
        tenant: "t1",
        entries: [],
        synced: [na("S.B0", "ACME CORP"), na("S.D0", "acme corp")],
      });
      expect((await store.namedAccountKeys("t1", ["acme corp"])).get("acme corp")).toBe("S.B0");
      // A named account written without a name holds none.
      await store.commitBatch({ tenant: "t1", entries: [], synced: [synced({ kind: "namedAccount", key: "S.B0" })] });
      expect((await store.namedAccountKeys("t1", ["acme corp"])).get("acme corp")).toBe("S.C1");
    });

    it("looks up many named-account names at once, across batches", async () => {
      const { store } = await setup();
      const n = 1_200;
      const rows = Array.from({ length: n }, (_, i) =>
        synced({ kind: "namedAccount", key: `k${String(i).padStart(5, "0")}`, name: `Name ${i}` }),
      );
      for (let i = 0; i < n; i += 500) {
        await store.commitBatch({ tenant: "t1", entries: [], synced: rows.slice(i, i + 500) });
      }
      const asked = Array.from({ length: 2 * n }, (_, i) => `name ${i}`);
      const got = await store.namedAccountKeys("t1", asked);
      expect(got.size).toBe(n);
      expect(got.get("name 0")).toBe("k00000");
      expect(got.get(`name ${n - 1}`)).toBe(`k${String(n - 1).padStart(5, "0")}`);
      expect(got.has(`name ${n}`)).toBe(false);
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
      await store.saveCheckpoint("t1", "activities", "tok-3");
      expect(await store.getCheckpoint("t1", "activities")).toBe("tok-3");
      expect(await store.getCheckpoint("t2", "source")).toBeUndefined();
    });

    it("leases: one holder at a time, renewal, release, takeover after expiry with a higher token", async () => {
      const { store, clock } = await setup();
      const a = await store.acquireLease("sync:t1", "run-a", 10_000);
      if (!a.acquired) return never("first acquisition refused");
      expect(a.lease).toMatchObject({ name: "sync:t1", owner: "run-a", expiresAt: 11_000 });
      const b = await store.acquireLease("sync:t1", "run-b", 10_000);
      expect(b).toEqual({ acquired: false, holder: "run-a", expiresAt: 11_000 });
      clock.t = 9_000;
      const renewed = (await store.renewLease(a.lease, 10_000)) ?? never("renewal refused");
      expect(renewed).toMatchObject({ owner: "run-a", token: a.lease.token, expiresAt: 19_000 });
      clock.t = 19_001;
      const c = await store.acquireLease("sync:t1", "run-c", 10_000);
      if (!c.acquired) return never("takeover after expiry refused");
      expect(c.lease.token).toBeGreaterThan(a.lease.token);
      expect(await store.renewLease(renewed, 10_000)).toBeUndefined();
      await store.releaseLease(a.lease); // stale release must not free c's lease
      expect((await store.acquireLease("sync:t1", "run-d", 10_000)).acquired).toBe(false);
      await store.releaseLease(c.lease);
      expect(await store.renewLease(c.lease, 10_000)).toBeUndefined();
      const d = await store.acquireLease("sync:t1", "run-d", 10_000);
      if (!d.acquired) return never("acquisition after release refused");
      expect(d.lease.token).toBeGreaterThan(c.lease.token);
      expect((await store.acquireLease("sync:t2", "run-x", 10_000)).acquired).toBe(true);
    });

    it("fences: a batch from a runner that lost its lease is refused whole (nothing recorded, no carry, no checkpoint)", async () => {
      const { store, clock } = await setup();
      const a = await store.acquireLease("sync:t1", "run-a", 1_000);
      if (!a.acquired) return never("acquisition refused");
      await store.commitBatch({
        tenant: "t1",
        entries: [entry()],
        synced: [],
        checkpoint: { name: "source", value: 1 },
        carry: { put: [carried({ key: "kept" })] },
        fence: a.lease,
      });
      expect((await store.getCarried("t1", "company", ["kept"])).size).toBe(1);
      clock.t += 2_000;
      await store.acquireLease("sync:t1", "run-b", 1_000);
      const err = await store
        .commitBatch({
          tenant: "t1",
          entries: [entry({ key: "late" })],
          synced: [synced({ key: "late" })],
          checkpoint: { name: "source", value: 2 },
          carry: { put: [carried({ key: "late" })], clear: [{ kind: "company", key: "kept" }] },
          fence: a.lease,
        })
        .catch((e: unknown) => e);
      expect(isSyncError(err) && err.code).toBe("lease_lost");
      expect(await store.getCheckpoint("t1", "source")).toBe(1);
      expect(await store.queryAudit({ tenant: "t1", keys: ["late"] })).toHaveLength(0);
      expect((await store.getSynced("t1", "company", ["late"])).size).toBe(0);
      expect([...(await store.getCarried("t1", "company", ["late", "kept"])).keys()]).toEqual(["kept"]);
      await expect(store.saveCheckpoint("t1", "activities", "x", a.lease)).rejects.toMatchObject({
        code: "lease_lost",
      });
      expect(await store.getCheckpoint("t1", "activities")).toBeUndefined();
    });

    it("records runs: start, finish with summary (degraded too), newest first", async () => {
      const { store } = await setup();
      await store.startRun(run({ runId: "r1", startedAt: 1 }));
      await store.startRun(run({ runId: "r2", trigger: "replay", startedAt: 2 }));
      await store.startRun(run({ runId: "r3", trigger: "schedule", startedAt: 3 }));
      await store.finishRun("t1", "r1", { status: "completed", finishedAt: 5, summary: { ok: true } });
      await store.finishRun("t1", "r3", {
        status: "degraded",
        finishedAt: 6,
        summary: { carried: { pending: 2, dead: 0 } },
      });
      expect(await store.getRun("t1", "r1")).toMatchObject({
        status: "completed",
        trigger: "manual",
        startedAt: 1,
        finishedAt: 5,
        summary: { ok: true },
      });
      expect(await store.getRun("t1", "r3")).toMatchObject({
        status: "degraded",
        trigger: "schedule",
        summary: { carried: { pending: 2, dead: 0 } },
      });
      const r2 = await store.getRun("t1", "r2");
      expect(r2).toMatchObject({ status: "running", trigger: "replay" });
      expect(r2?.finishedAt).toBeUndefined();
      expect((await store.listRuns("t1")).map((r) => r.runId)).toEqual(["r3", "r2", "r1"]);
      expect((await store.listRuns("t1", { limit: 1 })).map((r) => r.runId)).toEqual(["r3"]);
      expect(await store.getRun("t1", "nope")).toBeUndefined();
      expect(await store.listRuns("t2")).toEqual([]);
    });

    it("carries records in the batch: upsert by (kind, key), full round trip, clear, per tenant", async () => {
      const { store } = await setup();
      const first = carried({ key: "a", error: { code: "606", message: "rate", retryable: true } });
      await store.commitBatch({
        tenant: "t1",
        entries: [entry({ key: "a", outcome: "failed" })],
        synced: [],
        carry: { put: [first, carried({ kind: "namedAccount", key: "a", cause: "read_only" })] },
      });
      expect((await store.getCarried("t1", "company", ["a", "missing"])).get("a")).toEqual(first);
      expect([...(await store.getCarried("t1", "company", ["a", "missing"])).keys()]).toEqual(["a"]);

      const newer = carried({
        key: "a",
        payload: { externalCompanyId: "a", company: "Newer" },
        hash: "h2",
        attempts: 2,
        lastAt: 300,
        nextAt: 700,
        runId: "r2",
        reasons: [{ code: "1018", message: "read-only" }],
      });
      await store.commitBatch({ tenant: "t1", entries: [], synced: [], carry: { put: [newer] } });
      const got = (await store.getCarried("t1", "company", ["a"])).get("a");
      expect(got).toEqual(newer);
      expect(got?.error).toBeUndefined();
      expect((await store.getCarried("t1", "namedAccount", ["a"])).get("a")?.cause).toBe("read_only");
      expect((await store.getCarried("t2", "company", ["a"])).size).toBe(0);

      await store.commitBatch({
        tenant: "t1",
        entries: [entry({ key: "a", runId: "r3", outcome: "updated" })],
        synced: [synced({ key: "a" })],
        carry: {
          clear: [
            { kind: "company", key: "a" },
            { kind: "lead", key: "never-carried" },
          ],
        },
      });
      expect((await store.getCarried("t1", "company", ["a"])).size).toBe(0);
      expect((await store.getCarried("t1", "namedAccount", ["a"])).size).toBe(1);
      expect(await store.countCarried("t1")).toEqual({ pending: 1, dead: 0 });
    });

    it("returns carried records as copies: mutating one does not change the store", async () => {
      const { store } = await setup();
      const c = carried({ key: "a" });
      await store.commitBatch({ tenant: "t1", entries: [], synced: [], carry: { put: [c] } });
      c.payload.company = "mutated";
      const got = (await store.getCarried("t1", "company", ["a"])).get("a") ?? never("missing");
      expect(got.payload.company).toBe("Acme");
      got.payload.company = "mutated again";
      expect((await store.listCarried({ tenant: "t1" }))[0]?.payload.company).toBe("Acme");
    });

    it("lists carried records by (kind, key) with state, cause, due, kind and key filters, keyset paging and a limit", async () => {
      const { store } = await setup();
      await store.commitBatch({
        tenant: "t1",
        entries: [],
        synced: [],
        carry: {
          put: [
            carried({ kind: "namedAccount", key: "a", nextAt: 100 }),
            carried({ kind: "company", key: "c", nextAt: 300, cause: "read_only", attempts: 0 }),
            carried({ kind: "lead", key: "x@y.co", nextAt: 50, state: "dead", attempts: 5 }),
            carried({ kind: "company", key: "a", nextAt: 200 }),
            carried({ kind: "company", key: "b", nextAt: 100, state: "dead", attempts: 5 }),
            carried({ kind: "salesPerson", key: "sp1", nextAt: 400 }),
          ],
        },
      });
      await store.commitBatch({ tenant: "t2", entries: [], synced: [], carry: { put: [carried({ key: "z" })] } });
      const list = async (q: Omit<Parameters<AuditStore["listCarried"]>[0], "tenant">) =>
        refsOf(await store.listCarried({ tenant: "t1", ...q }));
      const all = ["company:a", "company:b", "company:c", "lead:x@y.co", "namedAccount:a", "salesPerson:sp1"];
      expect(await list({})).toEqual(all);
      expect(await list({ state: "dead" })).toEqual(["company:b", "lead:x@y.co"]);
      expect(await list({ state: "pending" })).toEqual(["company:a", "company:c", "namedAccount:a", "salesPerson:sp1"]);
      expect(await list({ causes: ["read_only"] })).toEqual(["company:c"]);
      expect(await list({ causes: ["failed", "read_only"], state: "pending" })).toHaveLength(4);
      expect(await list({ dueBy: 100 })).toEqual(["company:b", "lead:x@y.co", "namedAccount:a"]);
      expect(await list({ dueBy: 99 })).toEqual(["lead:x@y.co"]);
      expect(await list({ state: "pending", dueBy: 300 })).toEqual(["company:a", "company:c", "namedAccount:a"]);
      expect(await list({ kinds: ["company", "salesPerson"] })).toEqual([
        "company:a",
        "company:b",
        "company:c",
        "salesPerson:sp1",
      ]);
      expect(await list({ keys: ["a", "sp1"] })).toEqual(["company:a", "namedAccount:a", "salesPerson:sp1"]);
      expect(await list({ keys: ["a"], kinds: ["namedAccount"] })).toEqual(["namedAccount:a"]);
      expect(await list({ after: { kind: "company", key: "b" } })).toEqual(all.slice(2));
      expect(await list({ after: { kind: "company", key: "zzz" } })).toEqual(all.slice(3));
      expect(await list({ after: { kind: "lead", key: "x@y.co" }, state: "pending" })).toEqual([
        "namedAccount:a",
        "salesPerson:sp1",
      ]);
      expect(await list({ limit: 2 })).toEqual(all.slice(0, 2));
      expect(await list({ limit: 0 })).toEqual([]);

      const paged: string[] = [];
      let after: RecordRef | undefined;
      for (;;) {
        const page = await store.listCarried({ tenant: "t1", after, limit: 4 });
        paged.push(...refsOf(page));
        const last = page.at(-1);
        if (page.length < 4 || !last) break;
        after = { kind: last.kind, key: last.key };
      }
      expect(paged).toEqual(all);
      expect(refsOf(await store.listCarried({ tenant: "t2" }))).toEqual(["company:z"]);
      expect(await store.listCarried({ tenant: "t3" })).toEqual([]);
    });

    it("refuses invalid paging input (limit, cursor) with a SyncConfigError, never bending it; limit 0 answers nothing", async () => {
      const { store } = await setup();
      await store.startRun(run({ runId: "r1" }));
      await store.commitBatch({ tenant: "t1", entries: [entry()], synced: [], carry: { put: [carried()] } });
      const refused = async (what: string, call: () => Promise<unknown>) => {
        // A rejection (never a synchronous throw), typed: code `config`, not retryable.
        const err = await call().then(
          () => never(`${what} accepted invalid paging input`),
          (e: unknown) => e,
        );
        expect(isSyncError(err) && [err.code, err.retryable, err.name]).toEqual(["config", false, "SyncConfigError"]);
      };
      for (const limit of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, "2"] as unknown as number[]) {
        await refused(`queryAudit limit ${String(limit)}`, () => store.queryAudit({ tenant: "t1", limit }));
        await refused(`listCarried limit ${String(limit)}`, () => store.listCarried({ tenant: "t1", limit }));
        await refused(`listRuns limit ${String(limit)}`, () => store.listRuns("t1", { limit }));
      }
      for (const after of [{ kind: "company" }, { kind: 1, key: "a" }, "company:a", null] as unknown as RecordRef[]) {
        await refused("listCarried after", () => store.listCarried({ tenant: "t1", after }));
      }
      expect(await store.queryAudit({ tenant: "t1", limit: 0 })).toEqual([]);
      expect(await store.listCarried({ tenant: "t1", limit: 0 })).toEqual([]);
      expect(await store.listRuns("t1", { limit: 0 })).toEqual([]);
      expect(await store.queryAudit({ tenant: "t1", limit: 1 })).toHaveLength(1);
      expect(await store.listRuns("t1", { limit: 1 })).toHaveLength(1);
    });

    it("counts carried records per state", async () => {
      const { store } = await setup();
      expect(await store.countCarried("t1")).toEqual({ pending: 0, dead: 0 });
      await store.commitBatch({
        tenant: "t1",
        entries: [],
        synced: [],
        carry: {
          put: [
            carried({ key: "a" }),
            carried({ key: "b" }),
            carried({ key: "c", state: "dead" }),
            carried({ kind: "lead", key: "a", cause: "read_only" }),
          ],
        },
      });
      await store.commitBatch({ tenant: "t2", entries: [], synced: [], carry: { put: [carried({ key: "z" })] } });
      expect(await store.countCarried("t1")).toEqual({ pending: 3, dead: 1 });
      await store.commitBatch({
        tenant: "t1",
        entries: [],
        synced: [],
        carry: { put: [carried({ key: "a", state: "dead" })], clear: [{ kind: "company", key: "b" }] },
      });
      expect(await store.countCarried("t1")).toEqual({ pending: 1, dead: 2 });
      expect(await store.countCarried("t2")).toEqual({ pending: 1, dead: 0 });
    });

    it("prunes by age: old rows and old finished runs go; each record's newest row and running runs stay", async () => {
      const { store } = await setup();
      const finished = async (runId: string, startedAt: number, finishedAt: number) => {
        await store.startRun(run({ runId, startedAt }));
        await store.finishRun("t1", runId, { status: "completed", finishedAt, summary: {} });
      };
      await finished("r0", 40, 50); // no rows, old: deleted
      await finished("r1", 90, 100);
      await finished("r2", 190, 200);
      await store.startRun(run({ runId: "r4", startedAt: 150 })); // still running
      await finished("r3", 890, 900);
      await finished("r5", 100, 600); // no rows, but ended after the cutoff: kept
      await store.commitBatch({
        tenant: "t1",
        entries: [
          entry({ key: "A", runId: "r1", at: 100 }),
          entry({ key: "B", runId: "r1", at: 100 }),
          entry({ key: "E", runId: "r4", at: 150 }),
          entry({ key: "A", runId: "r2", at: 200 }),
          entry({ key: "C", runId: "r2", at: 200 }),
          entry({ key: "A", runId: "r3", at: 900 }),
          entry({ key: "C", runId: "r3", at: 900 }),
          entry({ key: "E", runId: "r3", at: 900 }),
        ],
        synced: [],
      });
      await store.commitBatch({ tenant: "t2", entries: [entry({ tenant: "t2", key: "A", at: 1 })], synced: [] });
      await store.commitBatch({
        tenant: "t2",
        entries: [entry({ tenant: "t2", key: "A", runId: "r2", at: 2 })],
        synced: [],
      });

      const rows = async () => (await store.queryAudit({ tenant: "t1" })).map((r) => `${r.key}@${r.runId}`);
      expect(await store.prune("t1", { maxAgeMs: 500 }, 1_000)).toEqual({ auditRows: 3, runs: 2 });
      expect(await rows()).toEqual(["B@r1", "E@r4", "A@r3", "C@r3", "E@r3"]);
      expect((await store.listRuns("t1")).map((r) => r.runId).sort()).toEqual(["r1", "r3", "r4", "r5"]);
      expect(await store.queryAudit({ tenant: "t2" })).toHaveLength(2);
      expect(await store.prune("t1", { maxAgeMs: 500 }, 1_000)).toEqual({ auditRows: 0, runs: 0 });

      await store.finishRun("t1", "r4", { status: "failed", finishedAt: 160, summary: {} });
      expect(await store.prune("t1", { maxAgeMs: 500 }, 1_000)).toEqual({ auditRows: 1, runs: 1 });
      expect(await rows()).toEqual(["B@r1", "A@r3", "C@r3", "E@r3"]);
      expect(await store.getRun("t1", "r4")).toBeUndefined();
      expect(await store.prune("t1", {}, 1_000_000)).toEqual({ auditRows: 0, runs: 0 });
    });

    it("prunes by rows per record, newest by time kept, and with an age limit either rule deletes", async () => {
      const { store } = await setup();
      for (const [runId, at] of [
        ["r3", 30],
        ["r1", 10],
        ["r5", 50],
        ["r2", 20],
        ["r4", 40],
      ] as const) {
        await store.startRun(run({ runId, startedAt: at }));
        await store.finishRun("t1", runId, { status: "completed", finishedAt: at, summary: {} });
        await store.commitBatch({ tenant: "t1", entries: [entry({ key: "A", runId, at })], synced: [] });
      }
      await store.commitBatch({
        tenant: "t1",
        entries: [
          entry({ kind: "lead", key: "L", runId: "r1", at: 10 }),
          entry({ kind: "lead", key: "L", runId: "r2", at: 20 }),
        ],
        synced: [],
      });
      const rows = async () => (await store.queryAudit({ tenant: "t1" })).map((r) => `${r.key}@${r.runId}`);
      expect(await store.prune("t1", { keepPerRecord: 2 }, 1_000)).toEqual({ auditRows: 3, runs: 0 });
      expect(await rows()).toEqual(["A@r5", "A@r4", "L@r1", "L@r2"]);
      expect(await store.listRuns("t1")).toHaveLength(5);
      // now - maxAgeMs = 45: A@r4 is within the 5 kept rows but too old; L@r1 too; each record's newest stays.
      expect(await store.prune("t1", { keepPerRecord: 5, maxAgeMs: 955 }, 1_000)).toEqual({ auditRows: 2, runs: 3 });
      expect(await rows()).toEqual(["A@r5", "L@r2"]);
      expect((await store.listRuns("t1")).map((r) => r.runId).sort()).toEqual(["r2", "r5"]);
      expect(await store.prune("t1", { keepPerRecord: 1, maxAgeMs: 0 }, 1_000)).toEqual({ auditRows: 0, runs: 0 });
    });

    it("prune keeps every audit row of a carried record until it is no longer carried", async () => {
      const { store } = await setup();
      const rowsOf = (key: string) =>
        [100, 200, 900].map((at, i) => entry({ key, runId: `r${i + 1}`, at, outcome: "failed" }));
      await store.commitBatch({
        tenant: "t1",
        entries: [...rowsOf("D"), ...rowsOf("F"), ...rowsOf("G").map((e) => ({ ...e, kind: "lead" as const }))],
        synced: [],
        // a carried company D does not protect the lead G, nor a carried lead F the company F
        carry: { put: [carried({ key: "D" }), carried({ kind: "lead", key: "F" })] },
      });
      expect(await store.prune("t1", { maxAgeMs: 500, keepPerRecord: 1 }, 1_000)).toEqual({ auditRows: 4, runs: 0 });
      expect((await store.queryAudit({ tenant: "t1", keys: ["D"] })).map((r) => r.at)).toEqual([100, 200, 900]);
      expect((await store.queryAudit({ tenant: "t1", keys: ["F", "G"] })).map((r) => r.at)).toEqual([900, 900]);
      await store.commitBatch({
        tenant: "t1",
        entries: [],
        synced: [],
        carry: { clear: [{ kind: "company", key: "D" }] },
      });
      expect(await store.prune("t1", { keepPerRecord: 1 }, 1_000)).toEqual({ auditRows: 2, runs: 0 });
      expect((await store.queryAudit({ tenant: "t1", keys: ["D"] })).map((r) => r.at)).toEqual([900]);
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
      expect(await store.getAccountContext("t1", "S.C1")).toEqual({
        ...ctx,
        openOpportunities: { count: 2, amount: 30 },
      });
      expect(await store.getAccountContext("t2", "S.C1")).toBeUndefined();
    });
  });
}
