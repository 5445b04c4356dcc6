import { describe, expect, it } from "vitest";
import { arraySource, createMemoryStore, createSync, type GatewayCapability, type RunOutcome } from "../src/index.js";
import { customers } from "./support/customers.js";
import { FakeError, FakeGateway } from "./support/fake-gateway.js";

const summaryOf = (o: RunOutcome) => {
  if (o.status === "alreadyRunning") throw new Error("unexpected alreadyRunning");
  return o.summary;
};

describe("read-only fallback (CRM-synced instance)", () => {
  it("probed read-only: never writes companies, reads them, keeps writing leads and named accounts", async () => {
    const marketo = new FakeGateway();
    marketo.probeReadOnly.add("companies");
    // One company already exists in Marketo (owned by the CRM sync).
    marketo.companies.set("SET.C2", { id: 99, externalCompanyId: "SET.C2", company: "From Salesforce" });
    const store = createMemoryStore();
    const caps: GatewayCapability[] = [];
    const sync = createSync({ source: arraySource(customers(5)), marketo, store, readBack: false });
    sync.on("capability", (c) => caps.push(c));
    const outcome = await sync.runOnce();
    const s = summaryOf(outcome);
    expect(outcome.status).toBe("completed");
    expect(marketo.calls.filter((c) => c.op === "sync:companies")).toHaveLength(0);
    expect(marketo.calls.filter((c) => c.op === "get:companies")).toEqual([{ op: "get:companies", size: 5 }]);
    expect(s.outcomes.company.skipped).toBe(5);
    expect(s.outcomes.lead.created).toBe(5);
    expect(s.outcomes.namedAccount.created).toBe(5);
    expect(s.readOnly).toEqual([{ object: "companies", reason: "CRM Enabled (Salesforce)" }]);
    expect(caps.find((c) => c.object === "companies")).toMatchObject({ writable: false, source: "probe" });
    const rows = await store.queryAudit({ tenant: "default", kinds: ["company"] });
    expect(rows).toHaveLength(5);
    for (const r of rows) expect(r.reasons[0]?.code).toBe("read_only");
    expect(rows.find((r) => r.key === "SET.C2")).toMatchObject({ marketoId: "99" });
    expect(rows.find((r) => r.key === "SET.C2")?.reasons[0]?.message).toMatch(/exists in Marketo \(id 99\)/);
    expect(rows.find((r) => r.key === "SET.C1")?.reasons[0]?.message).toMatch(/does not exist in Marketo yet/);
  });

  it("per-record 1018 mid-run flips companies to read-only: later batches read instead of writing", async () => {
    const marketo = new FakeGateway();
    marketo.recordLevel1018.add("companies");
    const store = createMemoryStore();
    const sync = createSync({
      source: arraySource(customers(700)),
      marketo,
      store,
      readBack: false,
      batchConcurrency: 1,
    });
    const s = summaryOf(await sync.runOnce());
    // Only the first batch tried to write companies; the next two read them.
    expect(marketo.calls.filter((c) => c.op === "sync:companies")).toHaveLength(1);
    expect(marketo.calls.filter((c) => c.op === "get:companies").map((c) => c.size)).toEqual([300, 300, 100]);
    expect(s.outcomes.company.skipped).toBe(700);
    expect(s.outcomes.lead.created).toBe(700);
    expect(s.readOnly).toEqual([{ object: "companies", reason: "CRM Enabled" }]);
    expect(s.status).toBe("completed");
  });

  it("request-level 1018 is handled like the per-record one, and the run does not fail", async () => {
    const marketo = new FakeGateway();
    marketo.requestLevel1018.add("companies");
    const sync = createSync({
      source: arraySource(customers(3)),
      marketo,
      store: createMemoryStore(),
      readBack: false,
    });
    const s = summaryOf(await sync.runOnce());
    expect(s.status).toBe("completed");
    expect(s.outcomes.company).toMatchObject({ skipped: 3, failed: 0 });
    expect(s.outcomes.lead.created).toBe(3);
  });

  it("request-level 1018 flips companies read-only for the rest of the run: one company write call", async () => {
    const marketo = new FakeGateway();
    marketo.requestLevel1018.add("companies");
    const sync = createSync({
      source: arraySource(customers(700)),
      marketo,
      store: createMemoryStore(),
      readBack: false,
      batchConcurrency: 1,
    });
    const s = summaryOf(await sync.runOnce());
    expect(marketo.calls.filter((c) => c.op === "sync:companies")).toHaveLength(1);
    expect(marketo.calls.filter((c) => c.op === "get:companies").map((c) => c.size)).toEqual([300, 300, 100]);
    expect(s.readOnly).toEqual([{ object: "companies", reason: "fake 1018" }]);
    expect(s.outcomes.company).toMatchObject({ skipped: 700, failed: 0 });
    expect(s.status).toBe("completed");
  });

  it("a failed probe assumes writable and lets Marketo's answer decide", async () => {
    const marketo = new FakeGateway();
    marketo.capability = async () => {
      throw new FakeError("502", true);
    };
    const sync = createSync({
      source: arraySource(customers(2)),
      marketo,
      store: createMemoryStore(),
      readBack: false,
    });
    const s = summaryOf(await sync.runOnce());
    expect(s.outcomes.company.created).toBe(2);
  });
});
