import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AuditEntry, isSyncError, type Lease } from "../src/index.js";
import { createPostgresStore, type PostgresStore } from "../src/postgres/index.js";
import { auditQuery, carriedQuery, namedAccountKeysQuery, type Statement, tables } from "../src/postgres/sql.js";
import { runAuditStoreContract, runSecretStoreContract } from "../src/testing/index.js";
import { createScratchDatabase, hasPostgres, type ScratchDatabase } from "./support/postgres.js";

const t = { describe, it, expect };

const entry = (over: Partial<AuditEntry> = {}): AuditEntry => ({
  tenant: "t1",
  runId: "r1",
  key: "k1",
  kind: "company",
  outcome: "created",
  sourceKey: "k1",
  reasons: [],
  payload: { externalCompanyId: "k1", company: "Acme" },
  hash: "h1",
  at: 1,
  ...over,
});

/** A clock several stores share, as the one clock of a test database. */
const manualClock = (t0 = 1_000) => ({
  t: t0,
  now() {
    return this.t;
  },
});

describe.skipIf(!hasPostgres)("PostgreSQL store", () => {
  let db: ScratchDatabase;
  let pool: pg.Pool;
  const pools: pg.Pool[] = [];
  const stores: PostgresStore[] = [];
  let schemas = 0;
  const freshSchema = () => `s${++schemas}`;
  const newPool = (applicationName: string, max = 10) => {
    const p = new pg.Pool({ connectionString: db.url, max, application_name: applicationName });
    // The scratch database is dropped WITH (FORCE) at the end: connections still closing then get a FATAL 57P01.
    p.on("error", () => {});
    pools.push(p);
    return p;
  };
  const newStore = (options: Parameters<typeof createPostgresStore>[0]) => {
    const s = createPostgresStore(options);
    stores.push(s);
    return s;
  };

  beforeAll(async () => {
    db = await createScratchDatabase("mlpgstore");
    pool = newPool("contract");
  });
  afterAll(async () => {
    for (const s of stores) await s.close();
    for (const p of pools) await p.end();
    await db?.drop();
  });

  // Each contract test gets a fresh, empty store: its own schema in the file's scratch database.
  runAuditStoreContract("postgres", (clock) => newStore({ pool, schema: freshSchema(), clock }), t);
  runSecretStoreContract("postgres", () => newStore({ pool, schema: freshSchema() }), t);

  describe("leases across pools (the database clock)", () => {
    it("many concurrent acquisitions from two pools: exactly one acquires, the others name the holder", async () => {
      const schema = freshSchema();
      const a = newStore({ pool: newPool("lease-a"), schema });
      const b = newStore({ pool: newPool("lease-b"), schema });
      await Promise.all([a.migrate(), b.migrate()]);
      const attempts = Array.from({ length: 40 }, (_, i) =>
        (i % 2 === 0 ? a : b).acquireLease("sync:t1", `run-${i}`, 60_000),
      );
      const results = await Promise.all(attempts);
      const won = results.flatMap((r) => (r.acquired ? [r.lease] : []));
      expect(won).toHaveLength(1);
      const winner = won[0] as Lease;
      expect(winner.token).toBe(1);
      for (const r of results) {
        if (!r.acquired) expect(r).toEqual({ acquired: false, holder: winner.owner, expiresAt: winner.expiresAt });
      }
      // Released through one pool, the next acquisition (through the other) gets a higher token.
      await a.releaseLease(winner);
      const next = await b.acquireLease("sync:t1", "run-next", 60_000);
      expect(next.acquired && next.lease.token).toBe(2);
    });

    it("expiry is computed on the database server's clock", async () => {
      const store = newStore({ pool, schema: freshSchema() });
      await store.migrate();
      const dbNow = async () =>
        Number((await pool.query("SELECT floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint AS n")).rows[0].n);
      const before = await dbNow();
      const got = await store.acquireLease("sync:t1", "run-a", 30_000);
      const after = await dbNow();
      if (!got.acquired) throw new Error("not acquired");
      expect(got.lease.expiresAt).toBeGreaterThanOrEqual(before + 30_000);
      expect(got.lease.expiresAt).toBeLessThanOrEqual(after + 30_000);
    });
  });

  describe("fencing across pools", () => {
    it("a batch from a runner whose lease another pool took over is refused whole", async () => {
      const schema = freshSchema();
      const clock = manualClock();
      const a = newStore({ pool: newPool("fence-a"), schema, clock });
      const b = newStore({ pool: newPool("fence-b"), schema, clock });
      const la = await a.acquireLease("sync:t1", "run-a", 1_000);
      if (!la.acquired) throw new Error("a not acquired");
      await a.commitBatch({ tenant: "t1", entries: [entry()], synced: [], fence: la.lease });
      clock.t += 2_000;
      const lb = await b.acquireLease("sync:t1", "run-b", 1_000);
      if (!lb.acquired) throw new Error("b not acquired");
      expect(lb.lease.token).toBeGreaterThan(la.lease.token);
      const refused = await a
        .commitBatch({
          tenant: "t1",
          entries: [entry({ key: "late" })],
          synced: [],
          checkpoint: { name: "source", value: "late" },
          carry: { clear: [{ kind: "company", key: "k1" }] },
          fence: la.lease,
        })
        .catch((e: unknown) => e);
      expect(isSyncError(refused) && refused.code).toBe("lease_lost");
      expect(await b.queryAudit({ tenant: "t1", keys: ["late"] })).toHaveLength(0);
      expect(await b.getCheckpoint("t1", "source")).toBeUndefined();
      expect(await a.renewLease(la.lease, 1_000)).toBeUndefined();
      await b.commitBatch({ tenant: "t1", entries: [entry({ key: "b" })], synced: [], fence: lb.lease });
      expect((await a.queryAudit({ tenant: "t1" })).map((r) => r.key)).toEqual(["k1", "b"]);
    });

    it("a takeover cannot interleave with a batch in flight: it waits until the batch is committed", async () => {
      const schema = freshSchema();
      const clock = manualClock();
      const poolA = newPool("interleave-a");
      const poolB = newPool("interleave-b");
      const a = newStore({ pool: poolA, schema, clock });
      const b = newStore({ pool: poolB, schema, clock });
      const la = await a.acquireLease("sync:t1", "run-a", 1_000);
      if (!la.acquired) throw new Error("a not acquired");
      await a.commitBatch({ tenant: "t1", entries: [entry()], synced: [], fence: la.lease });

      // Hold a row lock on the audit row the next batch upserts, so that batch stops after its fence check.
      const blocker = await pool.connect();
      const waiting = async (applicationName: string) =>
        (
          await pool.query(
            "SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock'",
            [applicationName],
          )
        ).rows[0].n > 0;
      const until = async (what: string, condition: () => Promise<boolean>) => {
        for (let i = 0; i < 500; i++) {
          if (await condition()) return;
          await new Promise((r) => setTimeout(r, 10));
        }
        throw new Error(`timed out waiting for ${what}`);
      };
      try {
        await blocker.query("BEGIN");
        await blocker.query(`SELECT 1 FROM ${schema}.ml_audit WHERE key = 'k1' FOR UPDATE`);
        clock.t = 1_500; // a's lease is still valid when its batch checks the fence
        const batch = a.commitBatch({
          tenant: "t1",
          entries: [entry({ outcome: "updated" }), entry({ key: "k2" })],
          synced: [],
          fence: la.lease,
        });
        let batchDone = false;
        void batch.then(
          () => {
            batchDone = true;
          },
          () => {
            batchDone = true;
          },
        );
        await until("the batch to wait on the audit row", () => waiting("interleave-a"));
        clock.t = 5_000; // a's lease has expired: b may take it over, but only after the batch in flight
        let takeoverDone = false;
        const takeover = b.acquireLease("sync:t1", "run-b", 1_000).finally(() => {
          takeoverDone = true;
        });
        await until("the takeover to wait on the lease row (or to finish, which is the bug)", async () => {
          if (takeoverDone) throw new Error("the takeover went through while a fenced batch was in flight");
          return waiting("interleave-b");
        });
        expect(batchDone).toBe(false);
        await blocker.query("ROLLBACK");
        await batch;
        const lb = await takeover;
        expect(lb.acquired && lb.lease.token).toBe(la.lease.token + 1);
        expect((await b.queryAudit({ tenant: "t1" })).map((r) => [r.key, r.outcome])).toEqual([
          ["k1", "updated"],
          ["k2", "created"],
        ]);
        await expect(
          a.commitBatch({ tenant: "t1", entries: [entry({ key: "k3" })], synced: [], fence: la.lease }),
        ).rejects.toMatchObject({ code: "lease_lost" });
      } finally {
        await blocker.query("ROLLBACK").catch(() => {});
        blocker.release();
      }
    });
  });

  describe("round trips", () => {
    it("a batch of 300 records with synced state, carry and checkpoint is a handful of statements", async () => {
      const counted = newPool("counted");
      let statements = 0;
      counted.on("connect", (client) => {
        const original = client.query.bind(client) as (...args: unknown[]) => unknown;
        (client as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
          statements++;
          return original(...args);
        };
      });
      const store = newStore({ pool: counted, schema: freshSchema() });
      await store.migrate();
      const n = 300;
      const keys = Array.from({ length: n }, (_, i) => `k${i}`);
      statements = 0;
      await store.commitBatch({
        tenant: "t1",
        entries: keys.map((key) => entry({ key })),
        synced: keys.map((key) => ({ kind: "company" as const, key, hash: "h", marketoId: 1, runId: "r1", at: 1 })),
        carry: {
          clear: keys.map((key) => ({ kind: "company" as const, key })),
          put: keys.slice(0, 10).map((key) => ({
            kind: "company" as const,
            key,
            sourceKey: key,
            payload: { externalCompanyId: key },
            hash: "h",
            cause: "failed" as const,
            state: "pending" as const,
            attempts: 1,
            firstAt: 1,
            lastAt: 1,
            nextAt: 2,
            runId: "r1",
            reasons: [],
          })),
        },
        checkpoint: { name: "source", value: { keys: keys.length } },
      });
      // BEGIN, audit, synced, checkpoint, carry clear, carry put, COMMIT.
      expect(statements).toBeLessThanOrEqual(7);
      expect(await store.queryAudit({ tenant: "t1" })).toHaveLength(n);
      expect((await store.getSynced("t1", "company", keys)).size).toBe(n);
      expect(await store.countCarried("t1")).toEqual({ pending: 10, dead: 0 });

      // listSynced reads in keyset pages: 300 rows at 1000 a page is one statement.
      statements = 0;
      let seen = 0;
      for await (const _ of store.listSynced("t1", "company")) seen++;
      expect(seen).toBe(n);
      expect(statements).toBe(1);
    });

    it("listSynced pages with the configured page size, in key order", async () => {
      const counted = newPool("paged");
      let statements = 0;
      counted.on("connect", (client) => {
        const original = client.query.bind(client) as (...args: unknown[]) => unknown;
        (client as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
          statements++;
          return original(...args);
        };
      });
      const store = newStore({ pool: counted, schema: freshSchema(), pageSize: 7 });
      await store.migrate();
      const keys = Array.from({ length: 50 }, (_, i) => `k${String(i).padStart(2, "0")}`);
      await store.commitBatch({
        tenant: "t1",
        entries: [],
        synced: [...keys].reverse().map((key) => ({ kind: "lead" as const, key, hash: "h", runId: "r1", at: 1 })),
      });
      statements = 0;
      const got: string[] = [];
      for await (const s of store.listSynced("t1", "lead")) got.push(s.key);
      expect(got).toEqual(keys);
      expect(statements).toBe(8); // 7 full pages of 7, then the last row
    });
  });

  describe("indexed queries (no sequential scans)", () => {
    const planNodes = (plan: unknown): { type: string; index?: string }[] => {
      const out: { type: string; index?: string }[] = [];
      const walk = (node: Record<string, unknown>) => {
        const n: { type: string; index?: string } = { type: String(node["Node Type"]) };
        if (typeof node["Index Name"] === "string") n.index = node["Index Name"];
        out.push(n);
        for (const child of (node.Plans as Record<string, unknown>[] | undefined) ?? []) walk(child);
      };
      walk((plan as { Plan: Record<string, unknown> }[])[0]?.Plan ?? {});
      return out;
    };
    const explain = async (s: Statement) => {
      const client = await pool.connect();
      try {
        const r = await client.query(`EXPLAIN (FORMAT JSON) ${s.text}`, s.values);
        return planNodes(r.rows[0]["QUERY PLAN"]);
      } finally {
        client.release();
      }
    };
    let schema: string;

    beforeAll(async () => {
      schema = freshSchema();
      const store = newStore({ pool, schema });
      await store.migrate();
      // 60 runs x 1,000 records of tenant t1 (1% failed), plus another tenant; 60,000 carried records (1% dead).
      await pool.query(`
        INSERT INTO ${schema}.ml_audit (tenant, run_id, kind, key, outcome, source_key, reasons, payload, hash, at)
        SELECT CASE WHEN r % 10 = 9 THEN 't2' ELSE 't1' END, 'r' || r, 'company', 'k' || k,
               CASE WHEN (r * 1000 + k) % 100 = 0 THEN 'failed' ELSE 'unchanged' END, 'k' || k, '[]',
               jsonb_build_object('externalCompanyId', 'k' || k), 'h', r * 1000 + k
        FROM generate_series(0, 59) r, generate_series(0, 999) k`);
      await pool.query(`
        INSERT INTO ${schema}.ml_carried (tenant, kind, key, source_key, payload, hash, cause, state, attempts,
                                          first_at, last_at, next_at, run_id, reasons)
        SELECT 't1', CASE WHEN i % 2 = 0 THEN 'company' ELSE 'lead' END, 'k' || i, 'k' || i, '{}', 'h', 'failed',
               CASE WHEN i % 100 = 0 THEN 'dead' ELSE 'pending' END, 1, i, i, i, 'r1', '[]'
        FROM generate_series(0, 59999) i`);
      // 60,000 synced named accounts of t1 (names normalised as the store writes them), and companies without names.
      await pool.query(`
        INSERT INTO ${schema}.ml_synced (tenant, kind, key, hash, name, name_norm, run_id, at)
        SELECT 't1', CASE WHEN i % 2 = 0 THEN 'namedAccount' ELSE 'company' END, 'k' || i, 'h',
               CASE WHEN i % 2 = 0 THEN 'Name ' || i END, CASE WHEN i % 2 = 0 THEN 'name ' || i END, 'r1', i
        FROM generate_series(0, 119999) i`);
      await pool.query(`ANALYZE ${schema}.ml_synced`);
      await pool.query(`ANALYZE ${schema}.ml_audit`);
      await pool.query(`ANALYZE ${schema}.ml_carried`);
    });

    const cases: [string, (tb: ReturnType<typeof tables>) => Statement, string[]][] = [
      ["audit by run", (tb) => auditQuery(tb, { tenant: "t1", runId: "r7" }), ["ml_audit_run", "ml_audit_pkey"]],
      ["audit by key", (tb) => auditQuery(tb, { tenant: "t1", keys: ["k17", "k18"] }), ["ml_audit_key"]],
      ["audit by outcome", (tb) => auditQuery(tb, { tenant: "t1", outcomes: ["failed"] }), ["ml_audit_outcome"]],
      ["audit since a time", (tb) => auditQuery(tb, { tenant: "t1", since: 58_500 }), ["ml_audit_at"]],
      [
        "audit by outcome since a time",
        (tb) => auditQuery(tb, { tenant: "t1", outcomes: ["failed"], since: 50_000 }),
        ["ml_audit_outcome", "ml_audit_at"],
      ],
      [
        "carried by state, due",
        (tb) => carriedQuery(tb, { tenant: "t1", state: "pending", dueBy: 300 }),
        ["ml_carried_due"],
      ],
      [
        "named-account keys by normalised name",
        (tb) => namedAccountKeysQuery(tb, "t1", ["name 10", "name 20", "missing"]),
        ["ml_synced_name"],
      ],
      ["carried dead letters", (tb) => carriedQuery(tb, { tenant: "t1", state: "dead" }), ["ml_carried_due"]],
      [
        "carried by kind and key",
        (tb) => carriedQuery(tb, { tenant: "t1", kinds: ["lead"], keys: ["k1", "k3"] }),
        ["ml_carried_pkey"],
      ],
      [
        "carried page after a cursor",
        (tb) => carriedQuery(tb, { tenant: "t1", after: { kind: "lead", key: "k59000" }, limit: 100 }),
        ["ml_carried_pkey"],
      ],
    ];
    for (const [name, build, indexes] of cases) {
      it(`${name} uses ${indexes.join(" or ")}`, async () => {
        const nodes = await explain(build(tables(schema)));
        expect(nodes.filter((n) => n.type === "Seq Scan")).toEqual([]);
        const used = nodes.flatMap((n) => (n.index ? [n.index] : []));
        expect(used.length).toBeGreaterThan(0);
        expect(used.filter((i) => !indexes.includes(i))).toEqual([]);
      });
    }
  });

  describe("retention in SQL", () => {
    it("prunes old rows beyond the policy, keeping newest, carried and running rows", async () => {
      const store = newStore({ pool, schema: freshSchema() });
      await store.startRun({ tenant: "t1", runId: "ancient", trigger: "manual", status: "running", startedAt: 0 });
      await store.finishRun("t1", "ancient", { status: "failed", finishedAt: 0, summary: {} });
      await store.startRun({ tenant: "t1", runId: "old", trigger: "manual", status: "running", startedAt: 1 });
      await store.finishRun("t1", "old", { status: "completed", finishedAt: 2, summary: {} });
      await store.startRun({ tenant: "t1", runId: "live", trigger: "manual", status: "running", startedAt: 3 });
      await store.startRun({ tenant: "t1", runId: "new", trigger: "manual", status: "running", startedAt: 5 });
      await store.finishRun("t1", "new", { status: "completed", finishedAt: 6, summary: {} });
      await store.commitBatch({
        tenant: "t1",
        entries: [
          entry({ runId: "ancient", key: "a", at: 0 }),
          entry({ runId: "old", key: "a", at: 1 }),
          entry({ runId: "old", key: "b", at: 1 }),
          entry({ runId: "old", key: "c", at: 1 }),
          entry({ runId: "live", key: "a", at: 3 }),
          entry({ runId: "new", key: "a", at: 5 }),
          entry({ runId: "new", key: "b", at: 5 }),
          entry({ runId: "new", key: "c", at: 5 }),
        ],
        synced: [],
        carry: {
          put: [
            {
              kind: "company",
              key: "c",
              sourceKey: "c",
              payload: {},
              hash: "h",
              cause: "failed",
              state: "pending",
              attempts: 1,
              firstAt: 5,
              lastAt: 5,
              nextAt: 6,
              runId: "new",
              reasons: [],
            },
          ],
        },
      });
      const result = await store.prune("t1", { maxAgeMs: 1_000 }, 1_004);
      // Deleted: a of the ancient run, a and b of the old run (c is carried, a of the live run is kept); then the
      // ancient run (the old one still has a row).
      expect(result).toEqual({ auditRows: 3, runs: 1 });
      const rows = await store.queryAudit({ tenant: "t1" });
      expect(rows.map((r) => `${r.runId}:${r.key}`)).toEqual(["old:c", "live:a", "new:a", "new:b", "new:c"]);
      expect(await store.getRun("t1", "ancient")).toBeUndefined();
      expect(await store.getRun("t1", "old")).toBeDefined();
      expect(await store.getRun("t1", "live")).toBeDefined();
    });
  });

  describe("lifecycle and errors", () => {
    it("close() ends a pool the store created and leaves a pool passed in open", async () => {
      const own = createPostgresStore({ connectionString: db.url, schema: freshSchema() });
      await own.getCheckpoint("t1", "source"); // lazily migrates
      await own.close();
      await own.close();
      await expect(own.getCheckpoint("t1", "source")).rejects.toMatchObject({ code: "store" });
      const shared = newPool("shared");
      const borrowed = createPostgresStore({ pool: shared, schema: freshSchema() });
      await borrowed.getCheckpoint("t1", "source");
      await borrowed.close();
      expect((await shared.query("SELECT 1 AS one")).rows[0].one).toBe(1);
    });

    it("an unreachable server is a retryable store error", async () => {
      const store = createPostgresStore({ connectionString: "postgres://postgres@127.0.0.1:1/none" });
      try {
        const err = await store.getCheckpoint("t1", "source").catch((e: unknown) => e);
        expect(isSyncError(err) && { code: err.code, retryable: err.retryable }).toEqual({
          code: "store",
          retryable: true,
        });
      } finally {
        await store.close();
      }
    });

    it("needs a pool or a connection string", () => {
      expect(() => createPostgresStore({})).toThrow(/pool|connectionString/);
    });
  });
});
