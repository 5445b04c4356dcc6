import { describe, expect, it } from "vitest";
import { withLease } from "../src/engine/lease-keeper.js";
import {
  type AuditStore,
  arraySource,
  type CustomerSource,
  createMemoryStore,
  createSync,
  isSyncError,
  qadCustomerSource,
  type RunOutcome,
  type SourceItem,
  SyncConfigError,
  type SyncOptions,
} from "../src/index.js";
import { customers } from "./support/customers.js";
import { FakeGateway } from "./support/fake-gateway.js";

const silent = { debug() {}, info() {}, warn() {}, error() {} };

const setup = (opts: Partial<SyncOptions> = {}) => {
  const marketo = new FakeGateway();
  const store = createMemoryStore();
  const sync = createSync({ source: arraySource(customers(3)), marketo, store, readBack: false, ...opts });
  return { marketo, store, sync };
};

/** The error thrown (synchronously or as a rejection), asserted to be a SyncConfigError. */
const configError = async (f: () => unknown): Promise<SyncConfigError> => {
  let thrown: unknown;
  try {
    await f();
  } catch (e) {
    thrown = e;
  }
  expect(thrown).toBeInstanceOf(SyncConfigError);
  const e = thrown as SyncConfigError;
  expect(isSyncError(e)).toBe(true);
  expect(e.code).toBe("config");
  expect(e.retryable).toBe(false);
  return e;
};

const paths = (e: SyncConfigError) => e.issues.map((i) => i.path).sort();

/** True when nobody holds the tenant pair's lease (a probe acquires and releases it). */
const leaseFree = async (store: AuditStore, tenant = "default") => {
  const got = await store.acquireLease(`sync:${tenant}`, "probe", 1_000);
  if (got.acquired) await store.releaseLease(got.lease);
  return got.acquired;
};

const summaryOf = (o: RunOutcome) => {
  if (o.status === "alreadyRunning") throw new Error("unexpected alreadyRunning");
  return o.summary;
};

describe("createSync validates its options at the edge, all problems at once", () => {
  it("createSync({}) names source, marketo and store, each with what is expected", async () => {
    const e = await configError(() => createSync({} as never));
    expect(paths(e)).toEqual(["marketo", "source", "store"]);
    expect(e.message).toMatch(/^createSync: 3 problems: /);
    expect(e.message).toMatch(/source: expected a CustomerSource .*got nothing/);
    expect(e.message).toMatch(/marketo: expected a MarketoGateway/);
    expect(e.message).toMatch(/store: expected an AuditStore/);
  });

  it("createSync() without an options object is a SyncConfigError, not a TypeError", async () => {
    const e = await configError(() => createSync(undefined as never));
    expect(e.message).toMatch(/expected an options object/);
  });

  it("wrong option types, zero sizes, unknown options and bad nested options are all listed", async () => {
    const marketo = new FakeGateway();
    const e = await configError(() =>
      createSync({
        source: arraySource([]),
        marketo,
        store: createMemoryStore(),
        batchSize: 0,
        readAhead: "16",
        tenant: 5,
        namedAccountNameConflicts: "rename",
        lease: { ttlMs: 1_000, renewEveryMs: 5_000 },
        readBack: { flushEvery: 0, bulkFirstPul: true },
        carryForward: { maxAttempts: 1.5 },
        logger: { info() {} },
        batchsize: 10,
      } as never),
    );
    expect(paths(e)).toEqual([
      "batchSize",
      "batchsize",
      "carryForward.maxAttempts",
      "lease.renewEveryMs",
      "logger",
      "namedAccountNameConflicts",
      "readAhead",
      "readBack.bulkFirstPul",
      "readBack.flushEvery",
      "tenant",
    ]);
    const by = Object.fromEntries(e.issues.map((i) => [i.path, i.message]));
    expect(by.batchSize).toBe("expected a positive integer, got 0");
    expect(by.readAhead).toBe("expected a positive integer, got a string");
    expect(by.batchsize).toBe("unknown option");
    expect(by["readBack.bulkFirstPul"]).toBe("unknown option");
    expect(by["lease.renewEveryMs"]).toMatch(/less than lease.ttlMs \(1000\)/);
    expect(by.logger).toMatch(/missing methods debug\(\), warn\(\), error\(\)/);
    expect(e.message).toContain("10 problems");
  });

  it("a marketo gateway missing methods says which", async () => {
    const e = await configError(() =>
      createSync({ source: arraySource([]), marketo: { usage() {} }, store: createMemoryStore() } as never),
    );
    expect(e.issues).toHaveLength(1);
    expect(e.issues[0]?.message).toMatch(/missing methods capability\(\), syncCompanies\(\)/);
  });

  it("valid options still create a sync (readBack: false, every documented option)", () => {
    const sync = createSync({
      source: arraySource([]),
      marketo: new FakeGateway(),
      store: createMemoryStore(),
      tenant: "acme",
      batchSize: 500,
      batchConcurrency: 1,
      readAhead: 2,
      lease: { ttlMs: 10_000 },
      readBack: { opportunities: false, bulkFirstPull: { minLeads: 10 }, progressEveryMs: 500 },
      namedAccountNameConflicts: "skip",
      describeFields: false,
      describeTtlMs: 0,
      isFatal: () => false,
      carryForward: { maxAttempts: 3, baseDelayMs: 0, maxDelayMs: 10 },
      readOnlyRecheckMs: 0,
      retention: { keepPerRecord: 2 },
      logger: silent,
      clock: { now: () => 0 },
      sleep: async () => {},
      keyOf: () => "k",
    });
    expect(sync.tenant).toBe("acme");
  });
});

describe("run options and replay selectors are checked before the lease is taken", () => {
  it('runOnce({ signal: "x" }) throws SyncConfigError, takes no lease, records no run; the next run works', async () => {
    const { store, sync } = setup();
    const started: unknown[] = [];
    sync.on("runStarted", (r) => started.push(r));
    const e = await configError(() => sync.runOnce({ signal: "x" } as never));
    expect(e.issues).toEqual([{ path: "signal", message: "expected an AbortSignal, got a string" }]);
    expect(await leaseFree(store)).toBe(true);
    expect(started).toEqual([]);
    expect(await store.listRuns("default")).toEqual([]);
    await sync.stop();
    const next = await sync.runOnce();
    expect(next.status).toBe("completed");
  });

  it("runOnce with an unknown option names it", async () => {
    const { sync } = setup();
    const e = await configError(() => sync.runOnce({ dryrun: true } as never));
    expect(e.issues).toEqual([{ path: "dryrun", message: "unknown option" }]);
  });

  it('replay({ keys: "a" }) and other bad selectors list every problem, before the lease', async () => {
    const { store, sync } = setup();
    const e = await configError(() =>
      sync.replay({ keys: "a", kinds: ["company", "contact"], outcomes: ["created"], carried: "dead" } as never),
    );
    expect(paths(e)).toEqual(["selector.carried", "selector.keys", "selector.kinds.1", "selector.outcomes.0"]);
    expect(e.message).toMatch(/^replay: 4 problems: /);
    expect(e.issues.find((i) => i.path === "selector.keys")?.message).toBe(
      "expected an array of record keys (strings), got a string",
    );
    expect(await leaseFree(store)).toBe(true);
    const bad = await configError(() => sync.replay({}, { signal: 1 } as never));
    expect(paths(bad)).toEqual(["options.signal"]);
  });

  it('refreshAccountContexts("x") and accountContext(42) are typed errors naming the argument', async () => {
    const { sync } = setup();
    const e1 = await configError(() => sync.refreshAccountContexts("x" as never));
    expect(e1.issues).toEqual([
      { path: "accounts", message: "expected an array of externalCompanyIds (strings), got a string" },
    ]);
    const e2 = await configError(() => sync.refreshAccountContexts([], { flushEvery: -1, signal: {} } as never));
    expect(paths(e2)).toEqual(["options.flushEvery", "options.signal"]);
    const e3 = await configError(() => sync.accountContext(42 as never));
    expect(e3.issues).toEqual([{ path: "externalCompanyId", message: "expected a non-empty string, got 42" }]);
  });

  it('schedule("not a cron") is a SyncConfigError listing the cron and option problems, and schedules nothing', async () => {
    const { sync } = setup();
    const e = await configError(() => sync.schedule("not a cron"));
    expect(e.issues.map((i) => i.path)).toEqual(["cron"]);
    expect(e.message).toMatch(/cron: expected a cron expression .*five or six/);
    const e2 = await configError(() =>
      sync.schedule("61 * * * *", { timezone: "Mars/Olympus", onRun: 3, runImmediatly: true } as never),
    );
    expect(paths(e2)).toEqual(["cron", "options.onRun", "options.runImmediatly", "options.timezone"]);
    await configError(() => sync.schedule(42 as never));
  });
});

describe("qadCustomerSource options", () => {
  const qad = { customers: { changes: () => ({}) } } as never;

  it("pageSize: 0 is refused when the source is made, naming the option", async () => {
    const e = await configError(() => qadCustomerSource(qad, { pageSize: 0 }));
    expect(e.issues).toEqual([
      { path: "options.pageSize", message: "expected a positive integer (rows per QAD page), got 0" },
    ]);
    const e2 = await configError(() =>
      qadCustomerSource(qad, { pageSize: 2.5, overlapSeconds: -1, since: new Date("nope") } as never),
    );
    expect(paths(e2)).toEqual(["options.overlapSeconds", "options.pageSize", "options.since"]);
  });
});

describe("the lease is released whatever happens after it is taken", () => {
  const leaseOptions = (store: AuditStore) => ({
    store,
    name: "sync:default",
    ttlMs: 60_000,
    renewEveryMs: 20_000,
    sleep: (_ms: number, signal?: AbortSignal) =>
      new Promise<void>((_, reject) => signal?.addEventListener("abort", () => reject(new Error("aborted")))),
    logger: silent,
  });

  it("a signal that is not an AbortSignal (a direct caller of the keeper) still releases the lease", async () => {
    const store = createMemoryStore();
    await expect(
      withLease(
        leaseOptions(store),
        "me",
        "x" as never,
        () => {},
        async () => 1,
      ),
    ).rejects.toThrow();
    expect(await leaseFree(store)).toBe(true);
  });

  it("a body or onStart that throws releases the lease", async () => {
    const store = createMemoryStore();
    await expect(
      withLease(
        leaseOptions(store),
        "me",
        undefined,
        () => {
          throw new Error("onStart broke");
        },
        async () => 1,
      ),
    ).rejects.toThrow("onStart broke");
    expect(await leaseFree(store)).toBe(true);
  });

  it("stop() ends a run blocked in its source and frees the lease", async () => {
    let reached!: () => void;
    const inSource = new Promise<void>((r) => {
      reached = r;
    });
    const source: CustomerSource = {
      read: (_from, o) => ({
        checkpoint: () => null,
        async *[Symbol.asyncIterator](): AsyncIterator<SourceItem> {
          reached();
          await new Promise((_, reject) => o?.signal?.addEventListener("abort", () => reject(o.signal?.reason)));
        },
      }),
    };
    const { store, sync } = setup({ source });
    const run = sync.runOnce();
    await inSource;
    expect(await leaseFree(store)).toBe(false);
    await sync.stop();
    expect((await run).status).toBe("stopped");
    expect(await leaseFree(store)).toBe(true);
  });
});

describe("a failing source ends the run as failed, with its reason; runOnce resolves", () => {
  const expectFailedRun = async (source: CustomerSource, reason: RegExp) => {
    const { store, sync } = setup({ source, batchSize: 2 });
    const outcome = await sync.runOnce();
    expect(outcome.status).toBe("failed");
    const summary = summaryOf(outcome);
    expect(summary.error?.message).toMatch(reason);
    const run = await store.getRun("default", summary.runId);
    expect(run?.status).toBe("failed");
    expect(await leaseFree(store)).toBe(true);
    return { summary, store };
  };

  it("read() throws", async () => {
    await expectFailedRun(
      {
        read() {
          throw new Error("QAD is down for maintenance");
        },
      },
      /QAD is down for maintenance/,
    );
  });

  it("the iterator throws mid-way: what was read is recorded, no checkpoint saved", async () => {
    const { summary, store } = await expectFailedRun(
      {
        read: () => ({
          checkpoint: () => 1,
          async *[Symbol.asyncIterator](): AsyncIterator<SourceItem> {
            for (const c of customers(3)) yield { type: "record", record: c };
            throw new Error("connection reset mid-page");
          },
        }),
      },
      /connection reset mid-page/,
    );
    expect(summary.outcomes.company.created).toBe(3);
    expect(await store.getCheckpoint("default", "source")).toBeUndefined();
  });

  it("the source's checkpoint() throws at the end", async () => {
    await expectFailedRun(
      {
        read: () => ({
          checkpoint: () => {
            throw new Error("checkpoint not serialisable");
          },
          async *[Symbol.asyncIterator](): AsyncIterator<SourceItem> {
            yield { type: "record", record: customers(1)[0] };
          },
        }),
      },
      /checkpoint not serialisable/,
    );
  });
});
