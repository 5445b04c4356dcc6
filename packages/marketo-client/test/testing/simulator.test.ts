import { type MarketoSimulator, startMarketoSimulator } from "@ml/marketo-client/testing";
import { afterEach, describe, expect, it } from "vitest";

let sim: MarketoSimulator | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

async function token(s: MarketoSimulator, how: "GET" | "POST" | "FORM" = "GET", secret = s.clientSecret) {
  const params = new URLSearchParams({
    grant_type: "client_credentials",
    client_id: s.clientId,
    client_secret: secret,
  });
  const url = `${s.baseUrls.identity}/oauth/token`;
  const res =
    how === "GET"
      ? await fetch(`${url}?${params}`)
      : how === "POST"
        ? await fetch(`${url}?${params}`, { method: "POST" })
        : await fetch(url, { method: "POST", body: params });
  return { status: res.status, body: (await res.json()) as { access_token: string; expires_in: number } };
}

async function call(s: MarketoSimulator, t: string, path: string, init: RequestInit = {}) {
  const res = await fetch(`${s.url}${path}`, {
    ...init,
    headers: { authorization: `Bearer ${t}`, ...(init.headers ?? {}) },
  });
  const text = await res.text();
  let json: { success?: boolean; errors?: { code: string }[]; result?: unknown[] } | undefined;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, text, json, type: res.headers.get("content-type") ?? "" };
}

describe("Marketo simulator (raw HTTP)", () => {
  it("identity: GET, POST and form body; the same token until expiry with a falling expires_in; 401 on bad secret", async () => {
    sim = await startMarketoSimulator({ tokenLifeSeconds: 3 });
    const a = await token(sim, "GET");
    const b = await token(sim, "POST");
    const c = await token(sim, "FORM");
    expect(a.status).toBe(200);
    expect(b.body.access_token).toBe(a.body.access_token);
    expect(c.body.access_token).toBe(a.body.access_token);
    expect(a.body.expires_in).toBeLessThanOrEqual(3);
    expect((await token(sim, "GET", "wrong")).status).toBe(401);
    sim.tokens.expireAll();
    const d = await token(sim);
    expect(d.body.access_token).not.toBe(a.body.access_token);
    expect(sim.inspect().tokenRequests).toBe(5);
    expect(sim.inspect().tokensIssued).toBe(2);
  });

  it("envelope: HTTP 200 + success:false for 600/601/602", async () => {
    sim = await startMarketoSimulator();
    const t = (await token(sim)).body.access_token;
    const missing = await fetch(`${sim.url}/rest/v1/stats/usage.json`).then((r) => r.json());
    expect(missing).toMatchObject({ success: false, errors: [{ code: "600" }] });
    expect((await call(sim, "bogus", "/rest/v1/stats/usage.json")).json?.errors?.[0]?.code).toBe("601");
    sim.tokens.expireAll();
    const expired = await call(sim, t, "/rest/v1/stats/usage.json");
    expect(expired.status).toBe(200);
    expect(expired.json?.errors?.[0]?.code).toBe("602");
  });

  it("limits: 606 past 100 calls per sliding window, 615 past 10 concurrent — and they are inspected as violations", async () => {
    sim = await startMarketoSimulator({ timeScale: 0.05, latencyMs: 2_000 }); // all 30 arrive while 10 are held
    const t = (await token(sim)).body.access_token;
    const answers = await Promise.all(Array.from({ length: 30 }, () => call(sim!, t, "/rest/v1/stats/usage.json")));
    const codes = answers.map((a) => a.json?.errors?.[0]?.code ?? "ok");
    expect(codes.filter((c) => c === "ok")).toHaveLength(10);
    expect(codes.filter((c) => c === "615")).toHaveLength(20);
    await sim.close();
    sim = await startMarketoSimulator({ timeScale: 0.05, latencyMs: 0 });
    const t2 = (await token(sim)).body.access_token;
    const seq: string[] = [];
    for (let i = 0; i < 105; i++) {
      const r = await call(sim, t2, "/rest/v1/stats/usage.json");
      seq.push(r.json?.errors?.[0]?.code ?? "ok");
    }
    expect(seq.filter((c) => c === "ok").length).toBeLessThanOrEqual(100);
    expect(seq.filter((c) => c === "606").length).toBeGreaterThanOrEqual(5);
    expect(sim.inspect().violations["606"]).toBe(seq.filter((c) => c === "606").length);
  });

  it("daily quota: 607 past the quota; stats/usage.json reports the count", async () => {
    sim = await startMarketoSimulator({ dailyQuota: 3 });
    const t = (await token(sim)).body.access_token;
    const usage = await call(sim, t, "/rest/v1/stats/usage.json");
    expect(usage.json?.result?.[0]).toMatchObject({ total: 0 });
    await call(sim, t, "/rest/v1/stats/usage.json");
    await call(sim, t, "/rest/v1/stats/usage.json");
    expect((await call(sim, t, "/rest/v1/stats/usage.json")).json?.errors?.[0]?.code).toBe("607");
    expect(sim.inspect().violations["607"]).toBe(1);
  });

  it("414 for GET URIs over 8 KB; _method=GET with a form body works; 413 for bodies over 1 MB", async () => {
    sim = await startMarketoSimulator();
    const t = (await token(sim)).body.access_token;
    const values = Array.from({ length: 300 }, (_, i) => `V${i}-${"x".repeat(30)}`).join(",");
    const long = await call(sim, t, `/rest/v1/companies.json?filterType=externalCompanyId&filterValues=${values}`);
    expect(long.status).toBe(414);
    const post = await call(sim, t, "/rest/v1/companies.json?_method=GET", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ filterType: "externalCompanyId", filterValues: values }).toString(),
    });
    expect(post.json).toMatchObject({ success: true });
    const big = await call(sim, t, "/rest/v1/companies.json", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ input: [{ externalCompanyId: "a", n: "x".repeat(1_100_000) }] }),
    });
    expect(big.status).toBe(413);
  });

  it("faults: probability with a seed repeats exactly; HTML, empty and 502 bodies", async () => {
    const pattern = async (seed: number) => {
      const s = await startMarketoSimulator({ seed });
      const t = (await token(s)).body.access_token;
      s.faults.inject({ code: 608, probability: 0.3 });
      const out: string[] = [];
      for (let i = 0; i < 30; i++)
        out.push((await call(s, t, "/rest/v1/stats/usage.json")).json?.errors?.[0]?.code ?? "ok");
      await s.close();
      return out.join(",");
    };
    const first = await pattern(7);
    expect(await pattern(7)).toBe(first);
    expect(first).toContain("608");
    expect(first).toContain("ok");

    sim = await startMarketoSimulator();
    const t = (await token(sim)).body.access_token;
    sim.faults.inject({ code: "html" });
    sim.faults.inject({ code: "empty" });
    sim.faults.inject({ code: 502 });
    const html = await call(sim, t, "/rest/v1/stats/usage.json");
    const empty = await call(sim, t, "/rest/v1/stats/usage.json");
    const bad = await call(sim, t, "/rest/v1/stats/usage.json");
    expect([html.status, html.type]).toEqual([200, "text/html"]);
    expect([empty.status, empty.text]).toEqual([200, ""]);
    expect(bad.status).toBe(502);
    expect(sim.inspect().faultsFired).toBe(3);
  });

  it("CRM read-only mode: 1018 per record by default, describe says updateable:false, describe2 crmManaged", async () => {
    sim = await startMarketoSimulator({ crmSync: true });
    const t = (await token(sim)).body.access_token;
    const post = (path: string, body: unknown) =>
      call(sim!, t, path, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      });
    const r = await post("/rest/v1/companies.json", { input: [{ externalCompanyId: "A" }] });
    expect(r.json?.result).toEqual([
      { seq: 0, status: "skipped", reasons: [{ code: "1018", message: "CRM Enabled" }] },
    ]);
    const leads = await post("/rest/v1/leads.json", { input: [{ email: "a@b.co" }] });
    expect(leads.json?.result?.[0]).toMatchObject({ status: "created" });
    const d = await call(sim, t, "/rest/v1/salespersons/describe.json");
    const fields = (d.json!.result![0] as { fields: { updateable: boolean }[] }).fields;
    expect(fields.every((f) => f.updateable === false)).toBe(true);
    const d2 = await call(sim, t, "/rest/v1/leads/describe2.json");
    expect((d2.json!.result![0] as { fields: { crmManaged: boolean }[] }).fields.some((f) => f.crmManaged)).toBe(true);
    sim.setCrmSync(true, "response");
    expect(
      (await post("/rest/v1/opportunities.json", { input: [{ externalOpportunityId: "O" }] })).json?.errors?.[0]?.code,
    ).toBe("1018");
  });

  it("seeding and inspection: data API, calls per endpoint, duplicates", async () => {
    sim = await startMarketoSimulator();
    sim.data.salesPersons.seed([{ externalSalesPersonId: "SP1", email: "s@x.co" }]);
    const [lead] = sim.data.leads.seed([{ email: "l@x.co", externalCompanyId: "C1" }]);
    sim.data.opportunities.seed([
      { externalOpportunityId: "O1", externalCompanyId: "C1", externalSalesPersonId: "SP1" },
    ]);
    sim.data.activities.seed([{ leadId: lead!.id, activityTypeId: 1, primaryAttributeValue: "/pricing" }]);
    expect(sim.inspect().records).toMatchObject({ salesPersons: 1, leads: 1, opportunities: 1, activities: 1 });
    // A duplicate seeded on purpose is reported.
    sim.data.companies.seed([{ externalCompanyId: "DUP" }, { externalCompanyId: "dup" }]);
    expect(sim.inspect().duplicates.companies).toBe(1);
    const t = (await token(sim)).body.access_token;
    await call(sim, t, "/rest/v1/opportunities.json?filterType=externalCompanyId&filterValues=C1");
    expect(sim.inspect().callsByEndpoint).toEqual({ "GET /rest/v1/opportunities.json": 1 });
  });
});
