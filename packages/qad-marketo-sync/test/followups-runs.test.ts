import { describe, expect, it } from "vitest";
import { type AuditStore, arraySource, createMemoryStore, createSync, SyncError } from "../src/index.js";
import { customers } from "./support/customers.js";
import { FakeGateway } from "./support/fake-gateway.js";

/** A memory store whose `startRun` throws while `broken` is true (everything else works). */
const brokenStartStore = () => {
  const inner = createMemoryStore();
  const state = { broken: true };
  const store: AuditStore = {
    ...inner,
    async startRun(run) {
      if (state.broken) throw new SyncError("store", "disk full while recording the run", { retryable: true });
      return inner.startRun(run);
    },
  };
  return { store, inner, state };
};

describe("a store that cannot record the start of a run", () => {
  it("runOnce resolves failed with the reason, writes nothing, releases the lease", async () => {
    const { store, inner, state } = brokenStartStore();
    const marketo = new FakeGateway();
    const sync = createSync({ source: arraySource(customers(3)), marketo, store, readBack: false });
    const finished: unknown[] = [];
    sync.on("runFinished", (s) => finished.push(s));
    const o = await sync.runOnce();
    if (o.status === "alreadyRunning") throw new Error("the lease was left held");
    expect(o.status).toBe("failed");
    expect(o.summary.error?.code).toBe("store");
    expect(o.summary.error?.retryable).toBe(true);
    expect(o.summary.error?.message).toBe("the run record could not be written: disk full while recording the run");
    expect(finished).toHaveLength(1);
    expect(marketo.writeCalls()).toBe(0);
    expect(await inner.queryAudit({ tenant: "default" })).toHaveLength(0);
    expect(await inner.getCheckpoint("default", "source")).toBeUndefined();
    // The lease is free: a second runner takes it at once.
    const lease = await inner.acquireLease("sync:default", "someone-else", 60_000);
    expect(lease.acquired).toBe(true);
    if (lease.acquired) await inner.releaseLease(lease.lease);
    // Once the store works again, the next run does the work.
    state.broken = false;
    const next = await sync.runOnce();
    expect(next.status).toBe("completed");
    expect(marketo.companies.size).toBe(3);
  });

  it("replay resolves failed the same way", async () => {
    const { store, inner } = brokenStartStore();
    const sync = createSync({ source: arraySource([]), marketo: new FakeGateway(), store, readBack: false });
    const o = await sync.replay({ keys: ["SET.C1"] });
    if (o.status === "alreadyRunning") throw new Error("the lease was left held");
    expect(o.status).toBe("failed");
    expect(o.summary.error?.message).toContain("the run record could not be written");
    expect((await inner.acquireLease("sync:default", "someone-else", 60_000)).acquired).toBe(true);
  });
});
