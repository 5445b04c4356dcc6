import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { MarketoClient } from "@ml/marketo-client";
import { type MarketoSimulator, startMarketoSimulator } from "@ml/marketo-client/testing";
import { QadClient, type QadClientOptions } from "@ml/qad-client";
import { type QadSimulator, startQadSimulator } from "@ml/qad-client/testing";
import { afterEach, describe, expect, it } from "vitest";
import { type DoctorCheckId, type DoctorReport, doctor, formatDoctorReport } from "../src/doctor/index.js";
import { extendMapping } from "../src/index.js";

const noSleep = async () => {};
let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

async function sims(o: { crmSync?: boolean } = {}): Promise<{ qadSim: QadSimulator; mkSim: MarketoSimulator }> {
  const qadSim = await startQadSimulator({ customers: 40, seed: 5 });
  const mkSim = await startMarketoSimulator({ timeScale: 0.01, latencyMs: 0, crmSync: o.crmSync ?? false });
  cleanup.push(
    () => qadSim.close(),
    () => mkSim.close(),
  );
  return { qadSim, mkSim };
}

const qadClient = (sim: QadSimulator, extra: Partial<QadClientOptions> = {}) =>
  new QadClient({ ...sim.clientOptions, sleep: noSleep, ...extra } as QadClientOptions);

/** The default mapping with sales persons mapped, so every check has something to check. */
const withSalesPersons = extendMapping({
  salesPerson: (c) => (c.salespersonCode ? { externalSalesPersonId: c.salespersonCode } : undefined),
});

const byId = (r: DoctorReport) =>
  Object.fromEntries(r.checks.map((c) => [c.id, c])) as Record<DoctorCheckId, DoctorReport["checks"][number]>;
const statuses = (r: DoctorReport) => Object.fromEntries(r.checks.map((c) => [c.id, c.status]));

describe("doctor against the simulators", () => {
  it("healthy systems: every check passes", async () => {
    const { qadSim, mkSim } = await sims();
    const report = await doctor({
      qad: qadClient(qadSim),
      marketo: new MarketoClient({ ...mkSim.clientOptions }),
      mapping: withSalesPersons,
      customers: 5000,
    });
    const lines = formatDoctorReport(report);
    expect(
      report.checks.filter((c) => c.status !== "pass"),
      lines.join("\n"),
    ).toEqual([]);
    expect(report.worst).toBe("pass");
    expect(report.checks).toHaveLength(15);
    const c = byId(report);
    expect(c["qad.protocol"].data).toEqual({ protocol: "rest" });
    expect(c["qad.paths"].detail).toContain("API description");
    expect(c["qad.sample"].data?.rows).toBe(40);
    // Optional defaults the simulator does not describe are named, with the steps to add them, but do not fail.
    expect(c["marketo.fields.companies"].detail).toContain("qadCurrencyCode");
    expect(c["marketo.fields.companies"].fix).toContain("API name qadCurrencyCode");
    // 5000 customers: 17 batches each of companies, named accounts and sales persons, plus leads, reads and setup.
    const cost = c["marketo.cost"].data!;
    expect(cost.writes).toBe(17 * 3 + Math.ceil((cost.leads as number) / 300));
    expect(c["marketo.cost"].detail).toMatch(/about [\d,]+ calls for 5,000 customers/);
    // The simulator's window is scaled; the estimate also states Marketo's real ceiling.
    expect(c["marketo.cost"].detail).toMatch(/at Marketo's 100 calls \/ 20 s: \d+ (s|min)/);
    expect(lines[0]).toMatch(/^PASS {2}qad\.reach {2,}QAD tenant reachable: /);
    expect(lines.at(-1)).toBe("worst: PASS (0 fail, 0 warn, 15 pass, 0 skip)");
  });

  it("CRM-synced Marketo: warns on each read-only object with what it means", async () => {
    const { qadSim, mkSim } = await sims({ crmSync: true });
    const report = await doctor({
      qad: qadClient(qadSim),
      marketo: new MarketoClient({ ...mkSim.clientOptions }),
      customers: 600,
    });
    const c = byId(report);
    for (const id of ["marketo.crm.companies", "marketo.crm.opportunities", "marketo.crm.salesPersons"] as const) {
      expect(c[id].status, id).toBe("warn");
      expect(c[id].detail).toContain("read-only");
    }
    expect(c["marketo.crm.companies"].detail).toContain("reads them instead of writing them");
    expect(c["marketo.crm.salesPersons"].detail).toContain("the mapping writes none");
    // Companies are read, not written: 2 batches of named accounts plus leads are the only writes.
    expect(c["marketo.cost"].data?.writes).toBe(2 + Math.ceil((c["marketo.cost"].data?.leads as number) / 300));
    expect(report.worst).toBe("warn");
    expect(report.checks.some((x) => x.status === "fail")).toBe(false);
  });

  it("a mapped field the instance lacks fails with the admin steps to create it", async () => {
    const { qadSim, mkSim } = await sims();
    const mapping = extendMapping({
      company: { qadSegment: "customerTypeCode", qadCreditLimit: (c) => (c.custom.fixedCreditLimit as number) ?? 1000 },
    });
    const report = await doctor({
      qad: qadClient(qadSim),
      marketo: new MarketoClient({ ...mkSim.clientOptions }),
      mapping,
    });
    const f = byId(report)["marketo.fields.companies"];
    expect(f.status).toBe("fail");
    expect(f.detail).toContain("qadSegment");
    expect(f.data?.missingMapped).toEqual(["qadSegment", "qadCreditLimit"]);
    expect(f.fix).toContain(
      'Admin → Field Management → New Custom Field: object Company, type String, name "QAD Segment", API name qadSegment',
    );
    expect(f.fix).toContain('type Integer, name "QAD Credit Limit", API name qadCreditLimit');
    expect(byId(report)["marketo.fields.leads"].status).toBe("pass");
    expect(report.worst).toBe("fail");
    expect(byId(report)["marketo.cost"].status).toBe("skip"); // no customer count given
  });

  it("little quota left: warns under 20 %, and a first sync larger than what is left warns", async () => {
    const { qadSim, mkSim } = await sims();
    mkSim.setDailyUsed(42_000);
    const report = await doctor({
      qad: qadClient(qadSim),
      marketo: new MarketoClient({ ...mkSim.clientOptions }),
      customers: 1_000_000,
    });
    const c = byId(report);
    expect(c["marketo.quota"].status).toBe("warn");
    expect(c["marketo.quota"].detail).toMatch(/^42,0\d\d of 50,000 calls used today, [78],\d{3} left \(16 %\)/);
    expect(c["marketo.cost"].status).toBe("warn");
    expect(c["marketo.cost"].fix).toContain("stop at today's budget");
  });

  it("unreachable QAD (closed port) fails its lines and the Marketo checks still run", async () => {
    const { qadSim, mkSim } = await sims();
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, "127.0.0.1", r));
    const { port } = closed.address() as AddressInfo;
    await new Promise<void>((r) => closed.close(() => r()));
    const report = await doctor({
      qad: qadClient(qadSim, { tenantUrl: `http://127.0.0.1:${port}/clouderp` }),
      marketo: new MarketoClient({ ...mkSim.clientOptions }),
      customers: 100,
    });
    const s = statuses(report);
    expect(s["qad.reach"]).toBe("fail");
    expect(byId(report)["qad.reach"].detail).toContain("ECONNREFUSED");
    expect(["qad.auth", "qad.protocol", "qad.paths", "qad.sample"].map((id) => s[id])).toEqual([
      "skip",
      "skip",
      "skip",
      "skip",
    ]);
    expect(s["marketo.auth"]).toBe("pass");
    expect(s["marketo.quota"]).toBe("pass");
    expect(s["marketo.fields.leads"]).toBe("pass");
    expect(byId(report)["marketo.cost"].detail).toContain("1 per customer: no sample");
    expect(report.worst).toBe("fail");

    // The same over QXtend: the one-row query is the first contact.
    const qx = qadSim.clientOptions.qxtend!;
    const overQxtend = await doctor({
      qad: qadClient(qadSim, {
        protocol: "qxtend",
        qxtend: { ...qx, url: `http://127.0.0.1:${port}/qxi/services/QdocWebService` },
      }),
      marketo: new MarketoClient({ ...mkSim.clientOptions }),
    });
    expect(byId(overQxtend)["qad.reach"].status).toBe("fail");
    expect(byId(overQxtend)["qad.reach"].detail).toContain("ECONNREFUSED");
    expect(byId(overQxtend)["qad.auth"].status).toBe("skip");
    expect(byId(overQxtend)["marketo.auth"].status).toBe("pass");
  });

  it("wrong Marketo secret: auth fails, dependants skip, and no secret appears anywhere", async () => {
    const { qadSim, mkSim } = await sims();
    const wrong = "wrong-secret-4f9a1c77e2";
    const report = await doctor({
      qad: qadClient(qadSim),
      marketo: new MarketoClient({ ...mkSim.clientOptions, clientSecret: wrong }),
      customers: 100,
    });
    const c = byId(report);
    expect(c["marketo.auth"].status).toBe("fail");
    expect(c["marketo.auth"].code).toBe("AUTH");
    expect(c["marketo.auth"].fix).toContain("clientSecret");
    for (const id of ["marketo.quota", "marketo.crm.companies", "marketo.fields.companies"] as const) {
      expect(c[id].status, id).toBe("skip");
    }
    expect(c["qad.sample"].status).toBe("pass");
    const text = JSON.stringify(report) + formatDoctorReport(report).join("\n");
    for (const secret of [wrong, mkSim.clientSecret, qadSim.credentials.password, qadSim.credentials.clientSecret]) {
      expect(text).not.toContain(secret);
    }
  });

  it("wrong QAD password: reach passes, auth fails with the code, the rest of QAD skips", async () => {
    const { qadSim, mkSim } = await sims();
    const password = "not-the-password-81b2";
    const base = qadSim.clientOptions.auth as { kind: "password"; clientId: string; username: string };
    const report = await doctor({
      qad: qadClient(qadSim, { auth: { ...base, kind: "password", password } }),
      marketo: new MarketoClient({ ...mkSim.clientOptions }),
    });
    const c = byId(report);
    expect(c["qad.reach"].status).toBe("pass");
    expect(c["qad.auth"].status).toBe("fail");
    expect(c["qad.auth"].code).toBe("auth");
    expect(c["qad.paths"].status).toBe("skip");
    expect(c["qad.sample"].status).toBe("skip");
    expect(JSON.stringify(report)).not.toContain(password);
  });

  it("paths the instance does not publish: entity path warns, browse path fails", async () => {
    const { qadSim, mkSim } = await sims();
    const marketo = new MarketoClient({ ...mkSim.clientOptions });
    const entity = await doctor({
      qad: qadClient(qadSim, { entities: { customers: { path: "api/erp/customerV9s" } } }),
      marketo,
    });
    expect(byId(entity)["qad.paths"].status).toBe("warn");
    expect(byId(entity)["qad.paths"].data?.missing).toEqual(["api/erp/customerV9s"]);
    expect(byId(entity)["qad.sample"].status).toBe("pass");
    const browse = await doctor({
      qad: qadClient(qadSim, { browse: { path: "api/qracore/browsez" } } as Partial<QadClientOptions>),
      marketo,
    });
    expect(byId(browse)["qad.paths"].status).toBe("fail");
    expect(byId(browse)["qad.paths"].detail).toContain(
      "api/qracore/browsez (browse: not published in the instance's API description)",
    );
    expect(byId(browse)["qad.sample"].status).toBe("fail");
    expect(byId(browse)["qad.sample"].code).toBe("unsafe_path");
  });

  it("QXtend-only site: protocol auto falls back and the checks pass over QXtend", async () => {
    const { qadSim, mkSim } = await sims();
    const origin = new URL(qadSim.tenantUrl).origin;
    const report = await doctor({
      // No REST API under this base path (404 everywhere), as on an on-prem QAD Enterprise Edition.
      qad: qadClient(qadSim, { tenantUrl: `${origin}/qad-central`, protocol: "auto" }),
      marketo: new MarketoClient({ ...mkSim.clientOptions }),
      customers: 100,
    });
    const c = byId(report);
    expect(c["qad.protocol"].status).toBe("pass");
    expect(c["qad.protocol"].data).toEqual({ protocol: "qxtend" });
    expect(c["qad.protocol"].detail).toContain("REST not there: HTTP 404");
    expect(c["qad.auth"].detail).toContain("one-row query");
    expect(c["qad.paths"].detail).toContain("Query Service profile answered");
    expect(c["qad.sample"].status).toBe("pass");
    expect(c["qad.sample"].detail).toContain("over QXtend");
    expect(report.worst).toBe("pass");
  });

  it("a hanging QAD fails on its own time limit while Marketo is checked", async () => {
    const { qadSim, mkSim } = await sims();
    const hang = createServer(() => {}); // accepts, never answers
    await new Promise<void>((r) => hang.listen(0, "127.0.0.1", r));
    cleanup.push(
      () =>
        new Promise<void>((r) => {
          hang.closeAllConnections();
          hang.close(() => r());
        }),
    );
    const { port } = hang.address() as AddressInfo;
    const report = await doctor({
      qad: qadClient(qadSim, { tenantUrl: `http://127.0.0.1:${port}/clouderp` }),
      marketo: new MarketoClient({ ...mkSim.clientOptions }),
      timeouts: { "qad.reach": 200 },
    });
    const c = byId(report);
    expect(c["qad.reach"].status).toBe("fail");
    expect(c["qad.reach"].code).toBe("TIMEOUT");
    expect(c["qad.auth"].status).toBe("skip");
    expect(c["marketo.auth"].status).toBe("pass");
    expect(c["marketo.fields.companies"].status).toBe("pass");
  });

  it("a cancelled doctor skips what had not finished", async () => {
    const { qadSim, mkSim } = await sims();
    const ac = new AbortController();
    ac.abort();
    const report = await doctor({
      qad: qadClient(qadSim),
      marketo: new MarketoClient({ ...mkSim.clientOptions }),
      signal: ac.signal,
    });
    expect(report.checks.every((c) => c.status === "skip")).toBe(true);
    expect(report.worst).toBe("skip");
  });
});
