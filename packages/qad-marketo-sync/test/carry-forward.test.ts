import { describe, expect, it } from "vitest";
import { arraySource, createMemoryStore, createSync, type RunOutcome } from "../src/index.js";
import { customers } from "./support/customers.js";
import { FakeError, FakeGateway } from "./support/fake-gateway.js";

const summaryOf = (o: RunOutcome) => {
  if (o.status === "alreadyRunning") throw new Error("unexpected alreadyRunning");
  return o.summary;
};

const MIN = 60_000;

function setup(n: number, opts: { maxAttempts?: number; readOnlyRecheckMs?: number } = {}) {
  let t = 1_000_000;
  const clock = { now: () => t };
  const marketo = new FakeGateway();
  const store = createMemoryStore({ clock });
  const records = customers(n);
  const make = () =>
    createSync({
      source: arraySource(records),
      marketo,
      store,
      readBack: false,
      clock,
      carryForward: { maxAttempts: opts.maxAttempts ?? 3, baseDelayMs: MIN, maxDelayMs: 4 * MIN },
      ...(opts.readOnlyRecheckMs !== undefined ? { readOnlyRecheckMs: opts.readOnlyRecheckMs } : {}),
    });
  return { marketo, store, records, make, advance: (ms: number) => (t += ms), now: () => t };
}

describe("carry forward", () => {
  it("failed records are carried in the batch commit and written by the next due run, without replay", async () => {
    const e = setup(5);
    const sync = e.make();
    e.marketo.failNext.set("companies", [new FakeError("502", true)]);
    const first = summaryOf(await sync.runOnce());
    expect(first.status).toBe("degraded");
    expect(first.carried).toEqual({ retried: 0, written: 0, pending: 5, dead: 0 });
    const carried = await sync.carried();
    expect(carried.map((c) => [c.kind, c.key, c.attempts, c.nextAt - e.now()])).toEqual(
      customers(5).map((c) => ["company", `SET.${c.customerCode}`, 1, MIN]),
    );
    // The checkpoint moved on: the records are carried, not re-read.
    expect(await e.store.getCheckpoint("default", "source")).toBe(5);

    // Not due yet: nothing retried.
    const early = summaryOf(await sync.runOnce());
    expect(early.carried).toMatchObject({ retried: 0, pending: 5 });
    e.advance(MIN);
    const later = summaryOf(await sync.runOnce());
    expect(later.status).toBe("completed");
    expect(later.carried).toEqual({ retried: 5, written: 5, pending: 0, dead: 0 });
    expect(later.outcomes.company.created).toBe(5);
    expect(e.marketo.companies.size).toBe(5);
    const rows = await e.store.queryAudit({ tenant: "default", runId: later.runId, kinds: ["company"] });
    expect(rows[0]?.reasons[0]?.code).toBe("carried_forward");
    // Written once: a further run sends nothing.
    e.advance(10 * MIN);
    const writes = e.marketo.writeCalls();
    expect(summaryOf(await sync.runOnce()).carried.retried).toBe(0);
    expect(e.marketo.writeCalls()).toBe(writes);
  });

  it("grows the delay between attempts and dead-letters after maxAttempts; replay takes dead ones", async () => {
    const e = setup(1, { maxAttempts: 3 });
    const sync = e.make();
    const fail = () => e.marketo.failNext.set("companies", [new FakeError("502", true)]);
    fail();
    summaryOf(await sync.runOnce());
    const delays: number[] = [];
    for (let i = 0; i < 2; i++) {
      const [c] = await sync.carried();
      delays.push(c!.nextAt - e.now());
      e.advance(c!.nextAt - e.now());
      fail();
      summaryOf(await sync.runOnce());
    }
    expect(delays).toEqual([MIN, 2 * MIN]);
    const [dead] = await sync.carried({ state: "dead" });
    expect(dead).toMatchObject({ key: "SET.C1", attempts: 3, state: "dead", error: { code: "502" } });
    e.advance(60 * MIN);
    const s = summaryOf(await sync.runOnce());
    expect(s.carried).toMatchObject({ retried: 0, pending: 0, dead: 1 });
    const r = summaryOf(await sync.replay({ carried: ["dead"] }));
    expect(r.outcomes.company.created).toBe(1);
    expect(r.carried.dead).toBe(0);
  });

  it("a newer write supersedes a carried payload: the stale one is never sent", async () => {
    const e = setup(2);
    const sync = e.make();
    e.marketo.failNext.set("companies", [new FakeError("502", true)]);
    summaryOf(await sync.runOnce());
    // A manual replay writes both; the carried rows are cleared with it.
    summaryOf(await sync.replay());
    expect(await sync.carried()).toEqual([]);
    e.advance(MIN);
    const calls = e.marketo.writeCalls();
    summaryOf(await sync.runOnce());
    expect(e.marketo.writeCalls()).toBe(calls);
  });

  it("a fresh source record of a carried key in the same run supersedes the carried payload", async () => {
    const e = setup(1);
    const records = e.records;
    const marketo = e.marketo;
    const sync = createSync({
      source: { read: () => arraySource(records).read(undefined) },
      marketo,
      store: e.store,
      readBack: false,
      clock: { now: () => e.now() },
      carryForward: { baseDelayMs: MIN, maxDelayMs: 4 * MIN },
    });
    marketo.failNext.set("companies", [new FakeError("502", true)]);
    summaryOf(await sync.runOnce());
    records[0] = { ...records[0]!, telephone: "+1 333" };
    // Not due, but the source brings the record again with a newer payload, which fails too: it replaces the row.
    marketo.failNext.set("companies", [new FakeError("502", true)]);
    summaryOf(await sync.runOnce());
    const [c] = await sync.carried();
    expect(c?.payload.mainPhone).toBe("+1 333");
    expect(c?.attempts).toBe(1);
    // The next run writes it from the source (the retry sees the newer payload), and clears the row.
    e.advance(MIN);
    summaryOf(await sync.runOnce());
    expect(marketo.companies.get("SET.C1")?.mainPhone).toBe("+1 333");
    expect(await sync.carried()).toEqual([]);
  });

  it("records skipped as read-only are carried and written once a re-probe after the TTL finds companies writable", async () => {
    const e = setup(3, { readOnlyRecheckMs: 30 * MIN });
    e.marketo.probeReadOnly.add("companies");
    const sync = e.make();
    const first = summaryOf(await sync.runOnce());
    expect(first.outcomes.company.skipped).toBe(3);
    expect((await sync.carried()).map((c) => c.cause)).toEqual(["read_only", "read_only", "read_only"]);
    e.marketo.probeReadOnly.delete("companies");
    // Within the TTL the saved answer stands: nothing retried, no probe.
    e.advance(10 * MIN);
    const within = summaryOf(await sync.runOnce());
    expect(within.carried.retried).toBe(0);
    expect(e.marketo.capabilityRequests.filter((r) => r.refresh)).toEqual([]);
    // After the TTL: probed again with refresh, written, cleared. Read-only never counted as an attempt.
    e.advance(30 * MIN);
    const after = summaryOf(await sync.runOnce());
    expect(e.marketo.capabilityRequests.some((r) => r.object === "companies" && r.refresh)).toBe(true);
    expect(after.carried).toEqual({ retried: 3, written: 3, pending: 0, dead: 0 });
    expect(e.marketo.companies.size).toBe(3);
  });

  it("a restarted process keeps the probe time from the store and re-probes once it is old", async () => {
    const e = setup(2, { readOnlyRecheckMs: 30 * MIN });
    e.marketo.probeReadOnly.add("companies");
    summaryOf(await e.make().runOnce());
    e.marketo.probeReadOnly.delete("companies");
    e.advance(5 * MIN);
    // A new engine (a restart) with the same store: the saved read-only answer is still fresh.
    const restarted = e.make();
    expect(summaryOf(await restarted.runOnce()).carried.retried).toBe(0);
    e.advance(30 * MIN);
    const again = e.make();
    const s = summaryOf(await again.runOnce());
    expect(s.carried.written).toBe(2);
    expect(e.marketo.companies.size).toBe(2);
  });
});
