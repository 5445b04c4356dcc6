import { customerSchema, QadClient } from "@ml/qad-client";
import { QadSimStore, startQadSimulator } from "@ml/qad-client/testing";
import { describe, expect, it } from "vitest";

describe("simulator", () => {
  it("generates deterministic data per seed, with awkward rows", () => {
    const now = () => Date.parse("2026-03-02T09:00:00Z");
    const a = new QadSimStore({ customers: 200, seed: 9, now });
    const b = new QadSimStore({ customers: 200, seed: 9, now });
    const c = new QadSimStore({ customers: 200, seed: 10, now });
    expect(a.customers()).toEqual(b.customers());
    expect(a.customers()).not.toEqual(c.customers());
    const rows = a.customers();
    for (const r of rows) expect(customerSchema.safeParse(r).success).toBe(true);
    expect(rows.some((r) => /[^\x00-\x7f]/.test(r.name))).toBe(true);
    expect(rows.some((r) => r.name.length > 250 || (r.address.street1?.length ?? 0) > 200)).toBe(true);
    expect(rows.some((r) => r.email === undefined && r.telephone === undefined && r.contacts.length === 0)).toBe(true);
    // Sorted by sharedSetCode then customerCode.
    const keys = rows.map((r) => `${r.sharedSetCode}\u0000${r.customerCode}`);
    expect([...keys].sort()).toEqual(keys);
  });

  it("stamps every change from the simulator clock with a new concurrencyHash", () => {
    let t = Date.parse("2026-03-02T09:00:00Z");
    const s = new QadSimStore({ customers: 3, now: () => t });
    const before = s.customer("C000001")!;
    t += 61_000;
    s.touch("C000001");
    const after = s.customer("C000001")!;
    expect(after.lastModified).toEqual({ date: "2026-03-02", time: 9 * 3600 + 61 });
    expect(after.concurrencyHash).not.toBe(before.concurrencyHash);
    expect({ ...after, lastModified: 0, concurrencyHash: 0 }).toEqual({
      ...before,
      lastModified: 0,
      concurrencyHash: 0,
    });
    s.corrupt("C000002", "missingCustomerCode");
    expect(s.rows()).toHaveLength(3);
    expect(s.customers()).toHaveLength(2);
    expect(s.customer("C000002")).toBeUndefined();
    expect(s.row("C000002")?.customerCode).toBeUndefined();
    s.remove("C000003");
    expect(s.rows()).toHaveLength(2);
    expect(() => s.update("C000404", {})).toThrow(/No customer/);
  });

  it("tokens expire on the simulator clock; seeded fault probabilities are reproducible", async () => {
    let t = Date.parse("2026-03-02T09:00:00Z");
    const sim = await startQadSimulator({ customers: 5, clock: { now: () => t }, tokenTtlMs: 60_000 });
    try {
      const res = await fetch(`${sim.tenantUrl}/oauth/token`, {
        method: "POST",
        body: new URLSearchParams({
          client_id: sim.credentials.clientId,
          grant_type: "password",
          username: sim.credentials.username,
          password: sim.credentials.password,
        }),
      });
      const { access_token: token, expires_in } = (await res.json()) as { access_token: string; expires_in: number };
      expect(expires_in).toBe(60);
      const sc = () =>
        fetch(`${sim.tenantUrl}/api/qracore/securityControl`, { headers: { authorization: `Bearer ${token}` } });
      expect((await sc()).status).toBe(200);
      t += 61_000;
      expect((await sc()).status).toBe(401);
      // The QXtend face is mounted on the same server.
      const qx = await fetch(sim.qxtendUrl, { method: "POST", headers: { "content-type": "text/xml" }, body: "<x/>" });
      expect(qx.status).not.toBe(404);
    } finally {
      await sim.close();
    }

    const hits = async (seed: number) => {
      const s = await startQadSimulator({ customers: 1, seed });
      try {
        const qad = new QadClient({ ...s.clientOptions, retry: { maxRetries: 0 } });
        s.faults.inject({ kind: "serverError", times: 100, probability: 0.5, path: "securityControl" });
        const out: boolean[] = [];
        for (let i = 0; i < 16; i++)
          out.push(
            await qad.get("api/qracore/securityControl").then(
              () => true,
              () => false,
            ),
          );
        return out;
      } finally {
        await s.close();
      }
    };
    const first = await hits(3);
    expect(await hits(3)).toEqual(first);
    expect(first.filter((x) => !x).length).toBeGreaterThan(2);
    expect(first.filter((x) => x).length).toBeGreaterThan(2);
  });

  it("sends workspace header and domainCode/domainContext when configured", async () => {
    const sim = await startQadSimulator({ customers: 3 });
    try {
      const qad = new QadClient({ ...sim.clientOptions, domainCode: "10USA", domainContext: "10USA" });
      for await (const _ of qad.customers.list()) {
        // drain
      }
      const last = sim.inspect().lastRequestByPath["api/qracore/browses"]!;
      expect(last.query.domainCode).toBe("10USA");
      expect(last.query.domainContext).toBe("10USA");
      expect(last.headers["x-qad-workspace-id"]).toBe("10USA_10USACO");
      // Not on the token call.
      expect(sim.inspect().lastRequestByPath["oauth/token"]!.query.domainCode).toBeUndefined();
    } finally {
      await sim.close();
    }
  });
});
