import { afterEach, describe, expect, it } from "vitest";
import type { DryRunItem } from "../src/index.js";
import { type SimEnv, simEnv, summaryOf, validCustomers } from "./support/sim-env.js";

let open: SimEnv[] = [];
afterEach(async () => {
  for (const e of open) await e.close();
  open = [];
});
const env = async (customers: number) => {
  const e = await simEnv({ customers });
  open.push(e);
  return e;
};

describe("dry run over the simulators", () => {
  it("a first sync: zero writes anywhere, and the real run then does what the dry run said", async () => {
    const e = await env(650);
    const customers = validCustomers(e.qadSim);
    const report = await e.sync.dryRun();
    expect(report.status).toBe("completed");

    // Nothing written: no Marketo write call, no run, no checkpoint, no synced state, no audit row.
    expect(e.writeCount()).toBe(0);
    expect(await e.store.listRuns("default")).toHaveLength(0);
    expect(await e.store.getCheckpoint("default", "source")).toBeUndefined();
    expect((await e.store.getSynced("default", "company", [customers[0]!.key])).size).toBe(0);
    expect(await e.store.queryAudit({ tenant: "default" })).toHaveLength(0);
    expect(e.mkSim.inspect().records).toMatchObject({ companies: 0, namedAccounts: 0, leads: 0 });

    const t = report.totals;
    expect(t.byKind.company.create).toBe(customers.length);
    expect(t.byKind.namedAccount.create).toBe(customers.length);
    expect(t.byKind.company.update + t.byKind.company.unchanged).toBe(0);
    expect(t.calls.companies).toBe(3);
    expect(t.calls.namedAccounts).toBe(3);
    expect(t.calls.leads).toBe(Math.ceil(t.byKind.lead.create / 300));
    expect(t.calls.writes).toBe(t.calls.companies + t.calls.namedAccounts + t.calls.leads + t.calls.salesPersons);
    expect(t.calls.reads).toBeGreaterThan(0); // capability probes and describe, which a real run makes too
    expect(report.items?.length).toBe(
      Object.values(t.byKind).reduce((n, a) => n + a.create + a.update + a.unchanged + a.reject + a.skip, 0),
    );
    const one = report.items?.find((i) => i.kind === "company" && i.key === customers[0]!.key);
    expect(one).toMatchObject({
      action: "create",
      payload: { externalCompanyId: customers[0]!.key, company: customers[0]!.name },
    });

    const run = summaryOf(await e.sync.runOnce());
    expect(run.status).toBe("completed");
    expect(run.outcomes.company.created).toBe(t.byKind.company.create);
    expect(run.outcomes.namedAccount.created).toBe(t.byKind.namedAccount.create);
    expect(run.outcomes.lead.created).toBe(t.byKind.lead.create);
    expect(run.outcomes.customer.rejected).toBe(t.byKind.customer.reject);
    expect(run.outcomes.lead.skipped + run.outcomes.lead.rejected).toBe(t.byKind.lead.skip + t.byKind.lead.reject);
    expect(run.marketoWriteCalls).toBe(t.calls.writes);
  });

  it("after edits: would-update with the changed fields (old and new), unchanged otherwise; the real run agrees", async () => {
    const e = await env(120);
    summaryOf(await e.sync.runOnce());
    const writesBefore = e.writeCount();
    const [a, b] = validCustomers(e.qadSim);
    e.qadSim.advanceTime(60_000);
    e.qadSim.data.update(a!.customerCode, { telephone: "+1-999-555-0000" } as never);
    e.qadSim.data.update(b!.customerCode, { name: `${b!.name} Renamed` } as never);

    const items: DryRunItem[] = [];
    const report = await e.sync.dryRun({ onItem: (i) => void items.push(i) });
    expect(report.items).toBeUndefined(); // streamed, not kept
    expect(e.writeCount()).toBe(writesBefore);
    expect(report.totals.byKind.company.update).toBe(2);
    expect(report.totals.byKind.namedAccount.update).toBe(1);
    expect(report.totals.byKind.company.create).toBe(0);

    const phone = items.find((i) => i.kind === "company" && i.key === a!.key);
    expect(phone?.action).toBe("update");
    expect(phone?.changes).toEqual([
      { field: "mainPhone", old: a!.telephone ?? undefined, new: "+1-999-555-0000", oldKnown: true },
    ]);
    const renamed = items.find((i) => i.kind === "namedAccount" && i.key === b!.key);
    expect(renamed?.changes).toEqual([{ field: "name", old: b!.name, new: `${b!.name} Renamed`, oldKnown: true }]);
    // The rename goes by GUID: one named-account call.
    expect(report.totals.calls.namedAccounts).toBe(1);

    const run = summaryOf(await e.sync.runOnce());
    expect(run.outcomes.company.updated).toBe(report.totals.byKind.company.update);
    expect(run.outcomes.namedAccount.updated).toBe(report.totals.byKind.namedAccount.update);
    expect(run.outcomes.lead.updated).toBe(report.totals.byKind.lead.update);
    expect(run.marketoWriteCalls).toBe(report.totals.calls.writes);

    // Nothing left to do: an unchanged re-plan.
    const again = await e.sync.dryRun();
    expect(again.totals.calls.writes).toBe(0);
    expect(again.totals.byKind.company.update + again.totals.byKind.company.create).toBe(0);
  });
});
