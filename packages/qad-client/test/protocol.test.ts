import { type AddressInfo, createServer } from "node:net";
import { collect } from "@ml/http-kernel/testing";
import { type Customer, QadAuthError, QadClient, QadConfigError, type QadInvalidRecord } from "@ml/qad-client";
import { type QadSimulator, startQadSimulator } from "@ml/qad-client/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

let sim: QadSimulator;
beforeAll(async () => {
  sim = await startQadSimulator({ customers: 30, seed: 4 });
});
afterAll(() => sim.close());

describe("protocol selection", () => {
  it("sim.clientOptions just works and defaults to REST", async () => {
    const qad = new QadClient({ ...sim.clientOptions });
    expect(await qad.protocol()).toBe("rest");
    expect(await collect(qad.customers.list())).toHaveLength(30);
  });

  it("protocol qxtend reads the same customers through the SOAP face", async () => {
    const qad = new QadClient({ ...sim.clientOptions, protocol: "qxtend" });
    expect(await qad.protocol()).toBe("qxtend");
    const viaSoap = await collect(qad.customers.list({ invalid: "emit" }));
    expect(viaSoap).toHaveLength(30);
    expect(sim.inspect().requestsByPath["qxi/services/QdocWebService"]).toBeGreaterThan(0);
    const codes = (xs: (Customer | QadInvalidRecord)[]) => xs.map((c) => (c as Customer).customerCode);
    expect(codes(viaSoap)).toEqual(sim.data.customers().map((c) => c.customerCode));
    // The same incremental machinery sits on top of either backend.
    const poll = qad.customers.changes(undefined, { invalid: "emit" });
    expect(await collect(poll)).toHaveLength(30);
    expect(poll.checkpoint().highWater).not.toBeNull();
  });

  it("auto uses REST when it answers, QXtend when it is not there, and surfaces refused credentials", async () => {
    const rest = new QadClient({ ...sim.clientOptions, protocol: "auto" });
    expect(await rest.protocol()).toBe("rest");
    // Nothing listening where REST should be (a port just released: connection refused) → QXtend.
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
    const { port } = probe.address() as AddressInfo;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const fallback = new QadClient({
      ...sim.clientOptions,
      tenantUrl: `http://127.0.0.1:${port}/clouderp`,
      protocol: "auto",
      retry: { maxRetries: 0 },
    });
    expect(await fallback.protocol()).toBe("qxtend");
    expect(await collect(fallback.customers.list({ invalid: "emit" }))).toHaveLength(30);
    // A REST face that refuses the credentials is a misconfiguration to see, not a reason to switch protocol.
    const wrong = new QadClient({
      ...sim.clientOptions,
      protocol: "auto",
      auth: { kind: "session", username: "nobody", password: "wrong" },
      retry: { maxRetries: 0 },
    });
    await expect(wrong.protocol()).rejects.toBeInstanceOf(QadAuthError);
  });

  it("bad qxtend options fail in the constructor (qxtend and auto), with no password in the message", () => {
    const password = "Pw-Very-Secret-42";
    const base = { ...sim.clientOptions.qxtend!, password };
    const bad = [
      { ...base, version: "" },
      { ...base, profiles: { customers: "not a name" } },
      { ...base, allowHttp: false, url: "http://qad.example.com/qxi/services/QdocWebService" }, // plain http off loopback
      { ...base, profiles: { glAccounts: "GlAccount" } }, // no default mapping for GL accounts
      { ...base, url: `http://mfg:${password}@127.0.0.1:1/qxi/services/QdocWebService` },
      { ...base, timeoutMs: -1 },
    ];
    for (const protocol of ["qxtend", "auto"] as const) {
      for (const qxtend of bad) {
        let caught: unknown;
        try {
          new QadClient({ ...sim.clientOptions, protocol, qxtend });
        } catch (e) {
          caught = e;
        }
        expect(caught, `${protocol} ${JSON.stringify({ ...qxtend, password: "-" })}`).toBeInstanceOf(QadConfigError);
        expect(String((caught as Error).message)).not.toContain(password);
        expect(JSON.stringify(caught)).not.toContain(password);
      }
    }
    // Valid options still construct without a request.
    const before = sim.inspect().requestsByPath["qxi/services/QdocWebService"] ?? 0;
    new QadClient({ ...sim.clientOptions, protocol: "qxtend", qxtend: base });
    expect(sim.inspect().requestsByPath["qxi/services/QdocWebService"] ?? 0).toBe(before);
  });

  it("qxtend/auto without qxtend options, or rest without auth, is a config error", () => {
    const { qxtend: _q, ...noQx } = sim.clientOptions;
    expect(() => new QadClient({ ...noQx, protocol: "qxtend" })).toThrow(QadConfigError);
    expect(() => new QadClient({ ...noQx, protocol: "auto" })).toThrow(QadConfigError);
    const { auth: _a, ...noAuth } = sim.clientOptions;
    expect(() => new QadClient({ ...noAuth, protocol: "rest" })).toThrow(/auth/);
    expect(() => new QadClient({ ...sim.clientOptions, pageSize: 0 })).toThrow(/pageSize/);
  });
});
