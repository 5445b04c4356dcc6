import { describe, expect, it } from "vitest";
import { arraySource, createMemoryStore, createSync, isSyncError, type RunOutcome } from "../src/index.js";
import { customer, customers } from "./support/customers.js";
import { FakeError, FakeGateway } from "./support/fake-gateway.js";

const DAY = 86_400_000;
const statusOf = (o: RunOutcome) => o.status;

describe("audit retention through the engine", () => {
  it("prunes after each run by the policy, keeping each record's newest row and carried records' rows", async () => {
    const clock = {
      t: Date.UTC(2026, 10, 1),
      now() {
        return this.t;
      },
    };
    const store = createMemoryStore({ clock });
    const marketo = new FakeGateway();
    let rows = customers(3);
    const source = { read: (_from: unknown, o?: { signal?: AbortSignal }) => arraySource(rows).read(undefined, o) };
    const sync = createSync({
      source,
      marketo,
      store,
      clock,
      readBack: false,
      retention: { maxAgeMs: 7 * DAY },
      carryForward: { baseDelayMs: 1, maxDelayMs: 1 },
    });
    expect(statusOf(await sync.runOnce())).toBe("completed");
    // Ten days later C2 changes and its company write fails (carried); C1 and C3 are unchanged.
    clock.t += 10 * DAY;
    rows = [customer(1), customer(2, { name: "Two renamed" }), customer(3)];
    marketo.failNext.set("companies", [new FakeError("502", true)]);
    const second = await sync.runOnce();
    expect(statusOf(second)).toBe("degraded");
    const company = await store.queryAudit({ tenant: "default", kinds: ["company"] });
    // C1 and C3: the first run's rows are older than 7 days and not the newest: pruned, the newest (unchanged)
    // kept. C2: carried, so every row is kept however old.
    const byKey = (k: string) => company.filter((r) => r.key === k).map((r) => r.outcome);
    expect(byKey("SET.C1")).toEqual(["unchanged"]);
    expect(byKey("SET.C3")).toEqual(["unchanged"]);
    expect(byKey("SET.C2").sort()).toEqual(["created", "failed"]);
    expect((await sync.carried()).map((c) => c.key)).toContain("SET.C2");
  });

  it("prune() on demand takes a policy, and without one is a typed configuration error", async () => {
    const store = createMemoryStore();
    const sync = createSync({ source: arraySource(customers(2)), marketo: new FakeGateway(), store, readBack: false });
    await sync.runOnce();
    expect(await sync.prune({ keepPerRecord: 1 })).toMatchObject({ auditRows: 0 });
    const err = await sync.prune().catch((e: unknown) => e);
    expect(isSyncError(err) && err.code).toBe("config");
  });
});
