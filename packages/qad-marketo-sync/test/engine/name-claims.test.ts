import { describe, expect, it } from "vitest";
import { NameClaims } from "../../src/engine/name-claims.js";
import { type AuditEntry, type AuditStore, createMemoryStore, createSync, type SyncOptions } from "../../src/index.js";
import { customer } from "../support/customers.js";
import { FakeError, FakeGateway } from "../support/fake-gateway.js";

const written = (key: string, outcome: AuditEntry["outcome"] = "created"): AuditEntry => ({
  tenant: "t1",
  runId: "r1",
  key,
  kind: "namedAccount",
  outcome,
  sourceKey: key,
  reasons: [],
  at: 1,
});

const naSynced = (key: string, name: string) => ({
  kind: "namedAccount" as const,
  key,
  hash: `h-${key}`,
  name,
  marketoGUID: `g-${key}`,
  runId: "r1",
  at: 1,
});

/** A memory store whose name lookups wait until the test lets them answer (with what the store held when asked). */
function slowLookups(inner: AuditStore) {
  const waiting: (() => void)[] = [];
  const store: AuditStore = {
    ...inner,
    listSynced: inner.listSynced,
    async namedAccountKeys(tenant, names) {
      const answer = await inner.namedAccountKeys(tenant, names); // read now: a query that ran before a commit
      await new Promise<void>((r) => waiting.push(r));
      return answer;
    },
  };
  const answerNext = async () => {
    for (let i = 0; i < 100 && waiting.length === 0; i++) await Promise.resolve();
    const next = waiting.shift();
    if (!next) throw new Error("no lookup is waiting");
    next();
  };
  return { store, answerNext };
}

describe("NameClaims", () => {
  it("a batch sees the names claimed by batches not yet committed, then the store answers for them", async () => {
    const store = createMemoryStore();
    await store.commitBatch({ tenant: "t1", entries: [], synced: [naSynced("S.OLD", "Old Owner")] });
    const claims = new NameClaims(store, "t1");
    const one = await claims.open(1, ["acme", "old owner"]);
    expect(one.view.owner("old owner")).toBe("S.OLD");
    expect(one.view.owner("acme")).toBeUndefined();
    one.view.claim("acme", "S.C1");
    one.done();

    const two = await claims.open(2, ["acme"]);
    expect(two.view.owner("acme")).toBe("S.C1");
    two.done();
    expect(claims.size).toBe(1);

    await store.commitBatch({ tenant: "t1", entries: [], synced: [naSynced("S.C1", "Acme")] });
    claims.committed(1, [written("S.C1")]);
    expect(claims.size).toBe(0); // left to the store
    const three = await claims.open(3, ["acme"]);
    expect(three.view.owner("acme")).toBe("S.C1");
    three.done();
  });

  it("a claim committed while a lookup is in flight still counts for that lookup (its answer may predate the commit)", async () => {
    const inner = createMemoryStore();
    const { store, answerNext } = slowLookups(inner);
    const claims = new NameClaims(store, "t1");
    const opening = claims.open(1, ["acme"]);
    await answerNext();
    const one = await opening;
    one.view.claim("acme", "S.C1");
    one.done();

    const second = claims.open(2, ["acme"]); // reads the store now: nothing there yet
    await inner.commitBatch({ tenant: "t1", entries: [], synced: [naSynced("S.C1", "Acme")] });
    claims.committed(1, [written("S.C1")]);
    expect(claims.size).toBe(1); // kept for the lookup that started before the commit
    await answerNext();
    const two = await second;
    expect(two.view.owner("acme")).toBe("S.C1");
    two.done();
    expect(claims.size).toBe(0);
  });

  it("hands out views one at a time, in the order asked, whatever order the store answers in", async () => {
    const claims = new NameClaims(createMemoryStore(), "t1");
    const order: number[] = [];
    const first = claims.open(1, ["acme"]);
    const second = claims.open(2, ["acme"]).then((v) => {
      order.push(2);
      return v;
    });
    const one = await first;
    order.push(1);
    for (let i = 0; i < 20; i++) await Promise.resolve();
    expect(order).toEqual([1]); // the second waits for the first's claims
    one.view.claim("acme", "S.C1");
    one.done();
    const two = await second;
    expect(order).toEqual([1, 2]);
    expect(two.view.owner("acme")).toBe("S.C1");
    two.done();
  });

  it("a name whose write failed or was skipped stays claimed for the rest of the run", async () => {
    const claims = new NameClaims(createMemoryStore(), "t1");
    const one = await claims.open(1, ["acme", "beta"]);
    one.view.claim("acme", "S.C1");
    one.view.claim("beta", "S.C2");
    one.done();
    claims.committed(1, [written("S.C1", "failed"), written("S.C2", "skipped")]);
    const two = await claims.open(2, ["acme", "beta"]);
    expect([two.view.owner("acme"), two.view.owner("beta")]).toEqual(["S.C1", "S.C2"]);
    two.done();
    expect(claims.size).toBe(2);
  });
});

const run = async (records: unknown[], opts: Partial<SyncOptions>, marketo = new FakeGateway()) => {
  const store = createMemoryStore();
  const sync = createSync({ source: { read: () => arraySourceOf(records) }, marketo, store, readBack: false, ...opts });
  const outcome = await sync.runOnce();
  if (outcome.status === "alreadyRunning") throw new Error("unexpected alreadyRunning");
  return { marketo, store, summary: outcome.summary };
};

async function* items(records: unknown[]) {
  for (const record of records) yield { type: "record" as const, record };
}
const arraySourceOf = (records: unknown[]) => Object.assign(items(records), { checkpoint: () => records.length });

describe("named-account names across the batches of a run", () => {
  // Conflicts spread over batches of two, planned three at a time: the first in source order keeps a name (the
  // source schema trims names; the claim compares them case-insensitively).
  const twins = [
    customer(1, { name: "Acme" }),
    customer(2, { name: "Beta" }),
    customer(3, { name: "Gamma" }),
    customer(4, { name: "ACME" }),
    customer(5, { name: " beta " }),
    customer(6, { name: "Delta" }),
    customer(7, { name: "Acme (SET.C4)" }),
    customer(8, { name: "acme " }),
    customer(9, { name: "Gamma" }),
  ];
  const expected = [
    "ACME (SET.C4)",
    "Acme",
    "Acme (SET.C4) (SET.C7)",
    "Beta",
    "Delta",
    "Gamma",
    "Gamma (SET.C9)",
    "beta (SET.C5)",
    "acme (SET.C8)",
  ].sort();

  it("concurrent batches resolve conflicts exactly as one batch at a time does, and a second run changes nothing", async () => {
    for (const batchConcurrency of [1, 3]) {
      const { marketo, store, summary } = await run(twins, { batchSize: 2, batchConcurrency, readAhead: 4 });
      expect(summary.outcomes.namedAccount.created).toBe(9);
      expect([...marketo.namedAccounts.keys()].sort()).toEqual(expected);
      const again = createSync({ source: { read: () => arraySourceOf(twins) }, marketo, store, readBack: false });
      const second = await again.runOnce();
      if (second.status === "alreadyRunning") throw new Error("unexpected alreadyRunning");
      expect(second.summary.outcomes.namedAccount.unchanged).toBe(9);
    }
  });

  it("skip: a later batch's customer with a taken name is skipped, naming the owner", async () => {
    const { marketo, store, summary } = await run(twins, {
      batchSize: 2,
      batchConcurrency: 3,
      namedAccountNameConflicts: "skip",
    });
    expect(summary.outcomes.namedAccount).toMatchObject({ created: 5, skipped: 4 });
    expect([...marketo.namedAccounts.keys()].sort()).toEqual(["Acme", "Acme (SET.C4)", "Beta", "Delta", "Gamma"]);
    const skipped = await store.queryAudit({ tenant: "default", kinds: ["namedAccount"], outcomes: ["skipped"] });
    expect(skipped.map((e) => [e.key, e.reasons[0]?.message])).toEqual([
      ["SET.C4", 'named account "ACME" belongs to SET.C1'],
      ["SET.C5", 'named account "beta" belongs to SET.C2'],
      ["SET.C8", 'named account "acme" belongs to SET.C1'],
      ["SET.C9", 'named account "Gamma" belongs to SET.C3'],
    ]);
  });

  it("a name whose write failed in an earlier batch is not given to a later customer in the same run", async () => {
    const marketo = new FakeGateway();
    marketo.failNext.set("namedAccounts", [new FakeError("502", true)]);
    const { summary } = await run(
      [customer(1, { name: "Acme" }), customer(2, { name: "acme" })],
      {
        batchSize: 1,
        batchConcurrency: 1,
      },
      marketo,
    );
    expect(summary.outcomes.namedAccount).toMatchObject({ failed: 1, created: 1 });
    expect([...marketo.namedAccounts.keys()]).toEqual(["acme (SET.C2)"]);
  });
});
