import { MarketoClient } from "@ml/marketo-client";
import { startMarketoSimulator } from "@ml/marketo-client/testing";
import { afterEach, describe, expect, it } from "vitest";
import { arraySource, createMemoryStore, createSync, marketoGateway, type ReconcileOutcome } from "../src/index.js";
import { type SimEnv, simEnv, summaryOf, validCustomers } from "./support/sim-env.js";

let open: SimEnv[] = [];
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const e of open) await e.close();
  for (const c of closers.splice(0)) await c();
  open = [];
});

const report = (o: ReconcileOutcome) => {
  if (o.status === "alreadyRunning") throw new Error("unexpected alreadyRunning");
  return o;
};

/** A synced environment with three customers deleted in QAD afterwards. */
async function synced(customers = 120) {
  const e = await simEnv({ customers });
  open.push(e);
  expect(summaryOf(await e.sync.runOnce()).status).toBe("completed");
  const all = validCustomers(e.qadSim);
  const gone = all.filter((c) => c.isActive).slice(0, 3);
  for (const c of gone) e.qadSim.data.remove(c.customerCode);
  const inactive = all.filter((c) => !c.isActive);
  return { e, gone, inactive, all };
}

describe("reconcile over the simulators", () => {
  it("report (default): lists the customers gone from QAD, with audit rows, and calls Marketo not at all", async () => {
    const { e, gone, inactive, all } = await synced();
    const callsBefore = e.mkSim.inspect().totalCalls;
    const r = report(await e.sync.reconcile({ includeInactive: false }));
    expect(r.status).toBe("completed");
    expect(r.policy).toBe("report");
    expect(r.syncedKeys).toBe(all.length);
    expect(r.sourceKeys).toBeGreaterThanOrEqual(all.length - gone.length);
    expect(r.findings.map((f) => f.key).sort()).toEqual(gone.map((c) => c.key).sort());
    expect(r.findings.every((f) => f.why === "gone" && f.result === "reported")).toBe(true);
    expect(e.mkSim.inspect().totalCalls).toBe(callsBefore);
    const rows = await e.store.queryAudit({ tenant: "default", runId: r.runId });
    expect(rows).toHaveLength(gone.length);
    for (const row of rows) {
      expect(row).toMatchObject({ kind: "company", outcome: "skipped" });
      expect(row.reasons[0]?.code).toBe("gone_from_source");
    }
    // Inactive customers are found too unless turned off.
    const withInactive = report(await e.sync.reconcile());
    expect(withInactive.inactive).toBe(inactive.length);
    expect(withInactive.findings.filter((f) => f.why === "inactive")).toHaveLength(inactive.length);
  });

  it("markInactive: a dry run writes nothing; the real one writes the field once; a second one has nothing to do", async () => {
    const { e, gone } = await synced();
    const writes = e.writeCount();
    const dry = report(await e.sync.reconcile({ policy: "markInactive", includeInactive: false, dryRun: true }));
    expect(dry.findings.map((f) => f.result)).toEqual(gone.map(() => "wouldWrite"));
    expect(dry.writeCalls).toBe(1);
    expect(e.writeCount()).toBe(writes);
    expect(await e.store.queryAudit({ tenant: "default", runId: dry.runId })).toHaveLength(0);

    const r = report(await e.sync.reconcile({ policy: "markInactive", includeInactive: false }));
    expect(r.status).toBe("completed");
    expect(r.applied).toBe(gone.length);
    expect(r.findings.every((f) => f.result === "written")).toBe(true);
    expect(e.writeCount()).toBe(writes + 1);
    for (const c of gone) {
      const [company] = e.mkSim.data.companies.find("externalCompanyId", c.key);
      expect(String(company?.qadActive)).toBe("false");
    }
    const again = report(await e.sync.reconcile({ policy: "markInactive", includeInactive: false }));
    expect(again.alreadyDone).toBe(gone.length);
    expect(again.findings).toHaveLength(0);
    expect(e.writeCount()).toBe(writes + 1);
  });

  it("removeNamedAccount: the named accounts are gone in Marketo; the names are free again", async () => {
    const { e, gone, all } = await synced();
    const r = report(await e.sync.reconcile({ policy: "removeNamedAccount", includeInactive: false }));
    expect(r.status).toBe("completed");
    expect(r.findings.map((f) => f.result)).toEqual(gone.map(() => "removed"));
    expect(e.writes()["POST /rest/v1/namedaccounts/delete.json"]).toBe(1);
    for (const c of gone) expect(e.mkSim.data.namedAccounts.find("name", c.name)).toHaveLength(0);
    expect(e.mkSim.inspect().records.namedAccounts).toBe(all.length - gone.length);
    const state = await e.store.getSynced("default", "namedAccount", [gone[0]!.key]);
    expect(state.get(gone[0]!.key)).toMatchObject({ name: undefined, marketoGUID: undefined });
    const again = report(await e.sync.reconcile({ policy: "removeNamedAccount", includeInactive: false }));
    expect(again.alreadyDone).toBe(gone.length);
    expect(e.writes()["POST /rest/v1/namedaccounts/delete.json"]).toBe(1);
  });

  it("the guard holds the policy back when most records seem gone (a wrong source), and says why", async () => {
    const { e, all, gone } = await synced(30);
    for (const c of all) if (!gone.includes(c)) e.qadSim.data.remove(c.customerCode);
    const writes = e.writeCount();
    const r = report(await e.sync.reconcile({ policy: "removeNamedAccount" }));
    expect(r.status).toBe("failed");
    expect(r.error?.code).toBe("reconcile_guard");
    expect(r.findings.every((f) => f.result === "skipped")).toBe(true);
    expect(e.writeCount()).toBe(writes);
  });

  it("runOnce reconciles on its cadence (everyRuns), keeps the cadence in the store, and reports it in the summary", async () => {
    const { e, gone } = await synced();
    const sync = e.withOptions({ reconcile: { everyRuns: 2, policy: "report", includeInactive: false } });
    const first = summaryOf(await sync.runOnce());
    expect(first.reconcile).toBeUndefined();
    expect(await e.store.getCheckpoint("default", "reconcile")).toMatchObject({ runs: 1 });
    const second = summaryOf(await sync.runOnce());
    expect(second.reconcile).toMatchObject({ policy: "report", gone: gone.length, status: "completed" });
    expect(await e.store.getCheckpoint("default", "reconcile")).toMatchObject({ runs: 0 });
    const rows = await e.store.queryAudit({ tenant: "default", runId: second.runId, kinds: ["company"] });
    expect(rows.filter((x) => x.reasons[0]?.code === "gone_from_source")).toHaveLength(gone.length);
    expect(summaryOf(await sync.runOnce()).reconcile).toBeUndefined();
  });

  it("a dry run of the sync shows the reconcile too, with zero writes", async () => {
    const { e, gone } = await synced();
    const writes = e.writeCount();
    const d = await e.sync.dryRun({ reconcile: { policy: "removeNamedAccount", includeInactive: false } });
    expect(d.reconcile?.dryRun).toBe(true);
    expect(d.reconcile?.findings.map((f) => f.key).sort()).toEqual(gone.map((c) => c.key).sort());
    expect(d.reconcile?.findings.every((f) => f.result === "wouldRemove")).toBe(true);
    expect(e.writeCount()).toBe(writes);
  });

  it("a source without keys(): reconcile reads it whole and keys it by the mapping", async () => {
    const mkSim = await startMarketoSimulator({ timeScale: 0.01, latencyMs: 0 });
    closers.push(() => mkSim.close());
    const mk = new MarketoClient({ ...mkSim.clientOptions });
    const rows = Array.from({ length: 5 }, (_, i) => ({
      sharedSetCode: "SS1",
      customerCode: `C${i}`,
      name: `Customer ${i}`,
      isActive: true,
      address: {},
      contacts: [],
    }));
    const store = createMemoryStore();
    const first = createSync({ source: arraySource(rows), marketo: marketoGateway(mk), store, readBack: false });
    expect(summaryOf(await first.runOnce()).outcomes.company.created).toBe(5);
    const later = createSync({
      source: arraySource(rows.slice(1)),
      marketo: marketoGateway(mk),
      store,
      readBack: false,
    });
    const r = report(await later.reconcile());
    expect(r.findings.map((f) => f.key)).toEqual(["SS1.C0"]);
  });
});
