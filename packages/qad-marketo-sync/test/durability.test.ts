import { describe, expect, it } from "vitest";
import {
  type AuditStore,
  arraySource,
  createMemoryStore,
  createSync,
  extendMapping,
  type RunOutcome,
} from "../src/index.js";
import { customers } from "./support/customers.js";
import { FakeError, FakeGateway } from "./support/fake-gateway.js";

const summaryOf = (o: RunOutcome) => {
  if (o.status === "alreadyRunning") throw new Error("unexpected alreadyRunning");
  return o.summary;
};

describe("failures and the checkpoint", () => {
  it("a failed write call fails its records (with the error), not the run; other kinds still land", async () => {
    const marketo = new FakeGateway();
    marketo.failNext.set("companies", [new FakeError("502", true)]);
    const store = createMemoryStore();
    const sync = createSync({
      source: arraySource(customers(400)),
      marketo,
      store,
      readBack: false,
      batchConcurrency: 1,
    });
    const s = summaryOf(await sync.runOnce());
    // Read to the end with some writes failed: degraded (not completed), the failed records carried forward.
    expect(s.status).toBe("degraded");
    expect(s.outcomes.company).toMatchObject({ failed: 300, created: 100 });
    expect(s.outcomes.namedAccount.created).toBe(400);
    const failed = await store.queryAudit({ tenant: "default", outcomes: ["failed"] });
    expect(failed).toHaveLength(300);
    expect(failed[0]?.error).toEqual({ code: "502", message: "fake 502", retryable: true });
    expect(failed[0]?.payload?.externalCompanyId).toBe("SET.C1");
    expect(await store.getCheckpoint("default", "source")).toBe(400);
  });

  it("Marketo's per-record skip reasons are recorded as skipped", async () => {
    const marketo = new FakeGateway();
    marketo.skipKeys.set("SET.C2", { code: "1006", message: "Field 'qadRegion' not found" });
    const store = createMemoryStore();
    const sync = createSync({ source: arraySource(customers(3)), marketo, store, readBack: false });
    const s = summaryOf(await sync.runOnce());
    expect(s.outcomes.company).toMatchObject({ created: 2, skipped: 1 });
    const [row] = await store.queryAudit({ tenant: "default", outcomes: ["skipped"], kinds: ["company"] });
    expect(row).toMatchObject({ key: "SET.C2", reasons: [{ code: "1006", message: "Field 'qadRegion' not found" }] });
  });

  it("advances the checkpoint only with durably recorded batches: a store failure keeps the last good one", async () => {
    const marketo = new FakeGateway();
    const inner = createMemoryStore();
    let commits = 0;
    const store: AuditStore = {
      ...inner,
      listSynced: inner.listSynced,
      async commitBatch(b) {
        commits++;
        if (commits === 2) throw new Error("disk full");
        return inner.commitBatch(b);
      },
    };
    const sync = createSync({
      source: arraySource(customers(900)),
      marketo,
      store,
      readBack: false,
      batchConcurrency: 1,
    });
    const outcome = await sync.runOnce();
    const s = summaryOf(outcome);
    expect(outcome.status).toBe("failed");
    expect(s.error?.message).toBe("disk full");
    expect(await inner.getCheckpoint("default", "source")).toBe(300);
    // The next run resumes after batch 1 and re-writes batch 2 idempotently (createOrUpdate): no duplicates.
    commits = 10;
    const s2 = summaryOf(await sync.runOnce());
    expect(s2.status).toBe("completed");
    expect(s2.sourceItems).toBe(600);
    expect(marketo.companies.size).toBe(900);
    expect(await inner.getCheckpoint("default", "source")).toBe(900);
  });

  it("batchConcurrency 2: a batch whose commit fails slowly while the next commits never has its records skipped", async () => {
    const marketo = new FakeGateway();
    const inner = createMemoryStore();
    let failFirst = true;
    const store: AuditStore = {
      ...inner,
      listSynced: inner.listSynced,
      async commitBatch(b) {
        if (failFirst && b.entries.some((e) => e.key === "SET.C1")) {
          failFirst = false;
          // Slow: the next batch has finished its Marketo calls and would commit meanwhile if it could.
          await new Promise((r) => setTimeout(r, 30));
          throw new Error("disk full");
        }
        return inner.commitBatch(b);
      },
    };
    const sync = createSync({
      source: arraySource(customers(600)),
      marketo,
      store,
      readBack: false,
      batchConcurrency: 2,
      mapping: extendMapping({ lead: false }),
    });
    const first = await sync.runOnce();
    expect(first.status).toBe("failed");
    // Batch 1 is not recorded, so no checkpoint may cover it, whatever batch 2 did.
    expect(await inner.getCheckpoint("default", "source")).toBeUndefined();
    expect(await inner.queryAudit({ tenant: "default", keys: ["SET.C301"] })).toEqual([]);
    const second = summaryOf(await sync.runOnce());
    expect(second.status).toBe("completed");
    expect(second.sourceItems).toBe(600);
    expect(await inner.getCheckpoint("default", "source")).toBe(600);
    const recorded = await inner.queryAudit({ tenant: "default", kinds: ["company"], runId: second.runId });
    expect(recorded).toHaveLength(600);
  });

  it("a fatal error (daily quota) stops the run after recording its batch; the rest waits for the next run", async () => {
    const marketo = new FakeGateway();
    marketo.failNext.set("companies", [new FakeError("607", false, "MarketoQuotaExceededError")]);
    const store = createMemoryStore();
    const sync = createSync({
      source: arraySource(customers(1200)),
      marketo,
      store,
      readBack: false,
      batchConcurrency: 1,
    });
    const s = summaryOf(await sync.runOnce());
    expect(s.status).toBe("failed");
    expect(s.error?.code).toBe("607");
    expect(s.outcomes.company.failed).toBe(300);
    // Leads of that batch were not attempted after the fatal error.
    expect(s.outcomes.lead.failed).toBe(300);
    const cp = (await store.getCheckpoint("default", "source")) as number;
    expect(cp).toBeLessThan(1200);
    expect(s.sourceItems).toBe(cp);
  });

  it("a source that throws fails the run but keeps what was recorded", async () => {
    const marketo = new FakeGateway();
    const store = createMemoryStore();
    const records = customers(350);
    const sync = createSync({
      source: {
        read(from) {
          const inner = arraySource(records).read(from);
          return {
            checkpoint: inner.checkpoint,
            async *[Symbol.asyncIterator]() {
              let i = 0;
              for await (const x of inner) {
                if (++i === 320) throw Object.assign(new Error("QAD session expired"), { code: "auth" });
                yield x;
              }
            },
          };
        },
      },
      marketo,
      store,
      readBack: false,
    });
    const s = summaryOf(await sync.runOnce());
    expect(s.status).toBe("failed");
    expect(s.error).toMatchObject({ code: "auth", message: "QAD session expired" });
    expect(s.outcomes.company.created).toBe(319);
    // The partial batch was recorded but earns no checkpoint: the read failed after it.
    expect(await store.getCheckpoint("default", "source")).toBe(300);
  });
});
