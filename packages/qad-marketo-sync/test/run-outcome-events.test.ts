import { describe, expect, expectTypeOf, it } from "vitest";
import {
  type ActivityInfo,
  type ActivityRead,
  arraySource,
  createMemoryStore,
  createSync,
  type RunOutcome,
  type ScheduleOptions,
  type SyncEvents,
  type SyncOptions,
} from "../src/index.js";
import { customers } from "./support/customers.js";
import { FakeGateway } from "./support/fake-gateway.js";

const summaryOf = (o: RunOutcome) => {
  if (o.status === "alreadyRunning") throw new Error("unexpected alreadyRunning");
  return o.summary;
};

/** A logger that keeps its error lines. */
const recordingLogger = () => {
  const errors: { obj: unknown; msg?: string | undefined }[] = [];
  let onError: (() => void) | undefined;
  return {
    errors,
    nextError: () =>
      new Promise<void>((r) => {
        onError = r;
      }),
    logger: {
      debug() {},
      info() {},
      warn() {},
      error(obj: unknown, msg?: string) {
        errors.push({ obj, msg });
        onError?.();
      },
    },
  };
};

describe("schedule onRun is typed with the run outcome and its errors are caught", () => {
  it("onRun receives a RunOutcome (type)", () => {
    expectTypeOf<Parameters<NonNullable<ScheduleOptions["onRun"]>>[0]>().toEqualTypeOf<RunOutcome>();
  });

  it("an async onRun that rejects is caught and logged, and the outcome reached it", async () => {
    const { logger, errors, nextError } = recordingLogger();
    const sync = createSync({
      source: arraySource(customers(2)),
      marketo: new FakeGateway(),
      store: createMemoryStore(),
      readBack: false,
      logger,
    });
    const seen: RunOutcome[] = [];
    const logged = nextError();
    // Once a year: only runImmediately fires within the test.
    const s = sync.schedule("0 0 1 1 *", {
      runImmediately: true,
      onRun: async (outcome) => {
        seen.push(outcome);
        throw new Error("dashboard down");
      },
    });
    await logged;
    s.stop();
    expect(seen.map((o) => o.status)).toEqual(["completed"]);
    expect(errors).toHaveLength(1);
    expect(errors[0]?.msg).toBe("schedule onRun threw");
    expect(errors[0]?.obj).toMatchObject({ err: { message: "dashboard down" } });
  });

  it("a synchronous throw in onRun is logged as an onRun failure, not as a failed run", async () => {
    const { logger, errors, nextError } = recordingLogger();
    const sync = createSync({
      source: arraySource(customers(1)),
      marketo: new FakeGateway(),
      store: createMemoryStore(),
      readBack: false,
      logger,
    });
    const logged = nextError();
    const s = sync.schedule("0 0 1 1 *", {
      runImmediately: true,
      onRun: () => {
        throw new Error("boom");
      },
    });
    await logged;
    s.stop();
    expect(errors.map((e) => e.msg)).toEqual(["schedule onRun threw"]);
  });
});

describe("the capability event fires on a change, not on every run", () => {
  it("first answer, then nothing while unchanged (also in a new process on the same store), then the change", async () => {
    const marketo = new FakeGateway();
    const store = createMemoryStore();
    const make = () =>
      createSync({ source: arraySource(customers(2)), marketo, store, readBack: false, readOnlyRecheckMs: 0 });
    const events: SyncEvents["capability"][] = [];
    const sync = make();
    sync.on("capability", (c) => events.push(c));
    summaryOf(await sync.runOnce());
    expect(events.map((c) => [c.object, c.writable, c.previous])).toEqual([
      ["companies", true, undefined],
      ["opportunities", true, undefined],
    ]);
    events.length = 0;
    summaryOf(await sync.runOnce());
    expect(events).toEqual([]);
    // A restarted process loads the answers from the store: still no change.
    const restarted = make();
    restarted.on("capability", (c) => events.push(c));
    summaryOf(await restarted.runOnce());
    expect(events).toEqual([]);
    // The CRM sync takes companies over: one event, writable → read-only.
    marketo.probeReadOnly.add("companies");
    summaryOf(await restarted.runOnce());
    expect(events).toMatchObject([{ object: "companies", writable: false, previous: true, source: "probe" }]);
    events.length = 0;
    summaryOf(await restarted.runOnce());
    expect(events).toEqual([]);
    // And back.
    marketo.probeReadOnly.delete("companies");
    summaryOf(await restarted.runOnce());
    expect(events).toMatchObject([{ object: "companies", writable: true, previous: false }]);
  });

  it("a 1018 mid-run on a writable object is a change (emitted once)", async () => {
    const marketo = new FakeGateway();
    marketo.recordLevel1018.add("companies");
    const store = createMemoryStore();
    const sync = createSync({ source: arraySource(customers(4)), marketo, store, readBack: false, batchSize: 1 });
    const events: SyncEvents["capability"][] = [];
    sync.on("capability", (c) => events.push(c));
    summaryOf(await sync.runOnce());
    const companies = events.filter((c) => c.object === "companies");
    expect(companies.map((c) => [c.writable, c.source, c.previous])).toEqual([
      [true, "probe", undefined],
      [false, "1018", true],
    ]);
  });
});

describe("accountContext of a known account with no activity", () => {
  it("is an empty context for a synced account, undefined for an unknown one", async () => {
    const sync = createSync({
      source: arraySource(customers(2)),
      marketo: new FakeGateway(),
      store: createMemoryStore(),
      readBack: false,
    });
    summaryOf(await sync.runOnce());
    expect(await sync.accountContext("SET.C1")).toMatchObject({
      externalCompanyId: "SET.C1",
      opportunities: [],
      openOpportunities: { count: 0, amount: 0 },
      wonOpportunities: { count: 0, amount: 0 },
      activityCounts: {},
    });
    expect(await sync.accountContext("SET.NOPE")).toBeUndefined();
  });
});

describe("read-back progress and the activity first pull", () => {
  /** A gateway whose bulk extract counts its calls. */
  const withBulk = () => {
    const marketo = new FakeGateway();
    const bulk = { calls: 0 };
    marketo.extractActivities = async function* () {
      bulk.calls++;
      yield* [] as ActivityInfo[];
    };
    return { marketo, bulk };
  };
  const run = async (marketo: FakeGateway, readBack: SyncOptions["readBack"], n = 2) => {
    const sync = createSync({ source: arraySource(customers(n)), marketo, store: createMemoryStore(), readBack });
    const progress: SyncEvents["readBackProgress"][] = [];
    sync.on("readBackProgress", (p) => progress.push(p));
    const summary = summaryOf(await sync.runOnce());
    return { sync, progress, summary };
  };

  it("the bulk first pull is off by default: paged activities instead", async () => {
    const { marketo, bulk } = withBulk();
    await run(marketo, {});
    expect(bulk.calls).toBe(0);
    expect(marketo.calls.some((c) => c.op === "get:activities")).toBe(true);
  });

  it("bulkFirstPull: true uses it; { minLeads } only once that many synced leads are known", async () => {
    const a = withBulk();
    await run(a.marketo, { bulkFirstPull: true });
    expect(a.bulk.calls).toBe(1);
    const b = withBulk();
    await run(b.marketo, { bulkFirstPull: { minLeads: 3 } }, 2);
    expect(b.bulk.calls).toBe(0);
    const c = withBulk();
    await run(c.marketo, { bulkFirstPull: { minLeads: 3 } }, 3);
    expect(c.bulk.calls).toBe(1);
  });

  it("emits readBackProgress at each phase, per page of opportunities, every 300 activities, and at the end", async () => {
    const marketo = new FakeGateway();
    const store = createMemoryStore();
    const sync = createSync({ source: arraySource(customers(301)), marketo, store });
    summaryOf(await sync.runOnce());
    const leadId = marketo.leads.get("pat1@customer1.example")?.id as number;
    for (let i = 1; i <= 650; i++) {
      marketo.activityLog.push({ id: String(i), leadId, activityDate: "2026-11-20T10:00:00Z", activityTypeId: 1 });
    }
    const progress: SyncEvents["readBackProgress"][] = [];
    sync.on("readBackProgress", (p) => progress.push(p));
    const accounts = customers(301).map((c) => `${c.sharedSetCode}.${c.customerCode}`);
    const r = await sync.refreshAccountContexts(accounts, { flushEvery: 10_000 });
    expect(r.activities).toBe(650);
    const compact = progress.map((p) => [p.phase, p.accounts.done, p.activities]);
    expect(compact).toEqual([
      ["opportunities", 0, 0],
      ["opportunities", 300, 0],
      ["opportunities", 301, 0],
      ["activities", 301, 0],
      ["activities", 301, 300],
      ["activities", 301, 600],
      // the contexts saved at the end of the activities
      ["activities", 301, 650],
      ["done", 301, 650],
    ]);
    expect(progress.at(-1)).toMatchObject({ tenant: "default", accounts: { total: 301 }, activitiesMatched: 650 });
    expect(progress[0]?.runId).toBeUndefined();
  });

  it("a slow phase is never silent: a heartbeat every progressEveryMs (injected sleep) while a page is awaited", async () => {
    const marketo = new FakeGateway();
    // Sleeps resolve when the test says so; lease renewals and the heartbeat both wait on them.
    const sleepers: { ms: number; resolve: () => void }[] = [];
    const sleep = (ms: number, signal?: AbortSignal) =>
      new Promise<void>((resolve, reject) => {
        sleepers.push({ ms, resolve });
        signal?.addEventListener("abort", () => reject(new Error("aborted")), { once: true });
      });
    let releasePage!: () => void;
    const pageAwaited = new Promise<void>((r) => {
      releasePage = r;
    });
    let pageRequested!: () => void;
    const requested = new Promise<void>((r) => {
      pageRequested = r;
    });
    marketo.activities = (): ActivityRead => ({
      token: () => undefined,
      async *[Symbol.asyncIterator]() {
        pageRequested();
        await pageAwaited;
        yield* [] as ActivityInfo[];
      },
    });
    const sync = createSync({
      source: arraySource(customers(1)),
      marketo,
      store: createMemoryStore(),
      sleep,
      readBack: false,
    });
    const progress: SyncEvents["readBackProgress"][] = [];
    sync.on("readBackProgress", (p) => progress.push(p));
    const running = sync.refreshAccountContexts([], { opportunities: false, progressEveryMs: 1_500 });
    await requested;
    const beats = () => sleepers.filter((s) => s.ms === 1_500);
    expect(beats()).toHaveLength(1);
    const before = progress.length;
    beats()[0]?.resolve();
    await new Promise((r) => setImmediate(r));
    expect(progress.length).toBe(before + 1);
    expect(progress.at(-1)?.phase).toBe("activities");
    releasePage();
    await running;
    expect(progress.at(-1)?.phase).toBe("done");
  });
});
