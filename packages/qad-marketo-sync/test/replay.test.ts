import { describe, expect, it } from "vitest";
import { arraySource, createMemoryStore, createSync, type RunOutcome } from "../src/index.js";
import { customers } from "./support/customers.js";
import { FakeError, FakeGateway } from "./support/fake-gateway.js";

const summaryOf = (o: RunOutcome) => {
  if (o.status === "alreadyRunning") throw new Error("unexpected alreadyRunning");
  return o.summary;
};

describe("replay", () => {
  it("re-drives all failures of a run, idempotently: a second replay writes nothing", async () => {
    const marketo = new FakeGateway();
    marketo.failNext.set("companies", [new FakeError("611", true)]);
    marketo.failNext.set("leads", [new FakeError("604", true)]);
    const store = createMemoryStore();
    const sync = createSync({ source: arraySource(customers(10)), marketo, store, readBack: false });
    const first = summaryOf(await sync.runOnce());
    expect(first.outcomes.company.failed).toBe(10);
    expect(first.outcomes.lead.failed).toBe(10);
    expect(marketo.companies.size).toBe(0);

    const r1 = await sync.replay({ runId: first.runId });
    const s1 = summaryOf(r1);
    expect(r1.status).toBe("completed");
    expect(s1.trigger).toBe("replay");
    expect(s1.outcomes.company.created).toBe(10);
    expect(s1.outcomes.lead.created).toBe(10);
    expect(marketo.companies.size).toBe(10);
    const replayed = await store.queryAudit({ tenant: "default", runId: s1.runId });
    expect(replayed.every((e) => e.replayOf === first.runId)).toBe(true);

    const writesBefore = marketo.writeCalls();
    const s2 = summaryOf(await sync.replay({ runId: first.runId }));
    expect(marketo.writeCalls()).toBe(writesBefore);
    expect(s2.outcomes.company.unchanged).toBe(10);
    expect(s2.outcomes.lead.unchanged).toBe(10);
    expect(marketo.companies.size).toBe(10);
    expect(marketo.leads.size).toBe(10);
  });

  it("replays one record by key, and never overwrites a newer write with a stale payload", async () => {
    const records = customers(3);
    const marketo = new FakeGateway();
    marketo.failNext.set("companies", [new FakeError("502", true)]);
    const store = createMemoryStore();
    const sync = createSync({
      source: { read: () => arraySource(records).read(undefined) },
      marketo,
      store,
      readBack: false,
    });
    const first = summaryOf(await sync.runOnce());
    expect(first.outcomes.company.failed).toBe(3);

    const one = summaryOf(await sync.replay({ keys: ["SET.C1"], kinds: ["company"] }));
    expect(one.outcomes.company.created).toBe(1);
    expect([...marketo.companies.keys()]).toEqual(["SET.C1"]);

    // C2 changes in QAD and a new run writes it; replaying the old failure must not restore the old phone.
    records[1] = { ...records[1]!, telephone: "+1 000" };
    summaryOf(await sync.runOnce());
    expect(marketo.companies.get("SET.C2")?.mainPhone).toBe("+1 000");
    const stale = summaryOf(await sync.replay({ runId: first.runId, kinds: ["company"] }));
    expect(stale.outcomes.company.created + stale.outcomes.company.updated).toBe(0);
    expect(marketo.companies.get("SET.C2")?.mainPhone).toBe("+1 000");
  });

  it("a record that failed twice with different payloads is replayed with the newer payload, never the older", async () => {
    const records = customers(1);
    let t = 1_000;
    const marketo = new FakeGateway();
    marketo.failNext.set("companies", [new FakeError("502", true), new FakeError("502", true)]);
    const store = createMemoryStore();
    const sync = createSync({
      source: { read: () => arraySource(records).read(undefined) },
      marketo,
      store,
      readBack: false,
      clock: { now: () => t },
    });
    expect(summaryOf(await sync.runOnce()).outcomes.company.failed).toBe(1);
    records[0] = { ...records[0]!, telephone: "+1 222" };
    t += 1_000; // not yet due for a carry-forward retry (5 minutes)
    expect(summaryOf(await sync.runOnce()).outcomes.company.failed).toBe(1);
    t += 1_000;
    const r = summaryOf(await sync.replay({ kinds: ["company"] }));
    expect(r.outcomes.company.created).toBe(1);
    expect(marketo.companies.get("SET.C1")?.mainPhone).toBe("+1 222");
    expect(marketo.calls.filter((c) => c.op === "sync:companies")).toHaveLength(3);
  });

  it("replays records skipped by a CRM read-only instance once the instance is writable", async () => {
    const marketo = new FakeGateway();
    marketo.probeReadOnly.add("companies");
    const store = createMemoryStore();
    const sync = createSync({ source: arraySource(customers(4)), marketo, store, readBack: false });
    const first = summaryOf(await sync.runOnce());
    expect(first.outcomes.company.skipped).toBe(4);
    const still = summaryOf(await sync.replay({ runId: first.runId }));
    expect(still.outcomes.company.skipped).toBe(4);
    marketo.probeReadOnly.delete("companies");
    const now = summaryOf(await sync.replay({ runId: first.runId }));
    expect(now.outcomes.company.created).toBe(4);
    expect(marketo.companies.size).toBe(4);
  });
});
