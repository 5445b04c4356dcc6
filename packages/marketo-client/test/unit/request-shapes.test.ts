import { MarketoClient } from "@ml/marketo-client";
import { HttpResponse, http } from "msw";
import { setupServer } from "msw/node";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";

// Paths, parameters and bodies as marketo-openapi.json describes them.
const BASE = "http://127.0.0.1:1";
const server = setupServer();
beforeAll(() => server.listen({ onUnhandledRequest: "error" }));
afterEach(() => server.resetHandlers());
afterAll(() => server.close());

const seen: { method: string; url: URL; body: unknown }[] = [];
function capture(
  method: "get" | "post",
  path: string,
  result: unknown[] = [{ seq: 0, status: "created", id: 1 }],
  extra = {},
) {
  return http[method](`${BASE}/rest${path}`, async ({ request }) => {
    const text = await request.text();
    seen.push({ method: request.method, url: new URL(request.url), body: text ? JSON.parse(text) : undefined });
    return HttpResponse.json({ success: true, requestId: "r#1", result, ...extra });
  });
}

const mk = () =>
  new MarketoClient({
    baseUrls: { rest: `${BASE}/rest`, identity: `${BASE}/identity`, bulk: `${BASE}/bulk` },
    allowHttp: true,
    network: { allowLoopback: true },
    clientId: "cid",
    clientSecret: "sec",
    usageSync: false,
  });

afterEach(() => {
  seen.length = 0;
});

describe("request shapes", () => {
  it("companies sync: {action, dedupeBy, input}; named accounts send dedupeBy with updateOnly only", async () => {
    server.use(
      http.post(`${BASE}/identity/oauth/token`, () =>
        HttpResponse.json({ access_token: "t", token_type: "bearer", expires_in: 3600 }),
      ),
      capture("post", "/v1/companies.json"),
      capture("post", "/v1/namedaccounts.json", [{ seq: 0, status: "created", marketoGUID: "g" }]),
    );
    const c = mk();
    await c.companies.sync({ input: [{ externalCompanyId: "A" }] });
    await c.namedAccounts.sync({ input: [{ name: "N" }] });
    await c.namedAccounts.sync({ action: "updateOnly", input: [{ name: "N" }] });
    expect(seen.map((s) => s.body)).toEqual([
      { action: "createOrUpdate", dedupeBy: "dedupeFields", input: [{ externalCompanyId: "A" }] },
      { action: "createOrUpdate", input: [{ name: "N" }] },
      { action: "updateOnly", dedupeBy: "dedupeFields", input: [{ name: "N" }] },
    ]);
  });

  it("leads sync carries lookupField and partitionName; delete sends ids", async () => {
    server.use(
      http.post(`${BASE}/identity/oauth/token`, () =>
        HttpResponse.json({ access_token: "t", token_type: "bearer", expires_in: 3600 }),
      ),
      capture("post", "/v1/leads.json"),
      capture("post", "/v1/leads/delete.json", [{ seq: 0, status: "deleted", id: 7 }]),
    );
    const c = mk();
    await c.leads.sync({ lookupField: "externalCompanyId", partitionName: "EU", input: [{ externalCompanyId: "X" }] });
    await c.leads.delete({ input: [{ id: 7 }] });
    expect(seen[0]!.body).toEqual({
      action: "createOrUpdate",
      lookupField: "externalCompanyId",
      partitionName: "EU",
      input: [{ externalCompanyId: "X" }],
    });
    expect(seen[1]!.body).toEqual({ input: [{ id: 7 }] });
  });

  it("reads: filterType, comma-separated filterValues and fields, batchSize, nextPageToken", async () => {
    server.use(
      http.post(`${BASE}/identity/oauth/token`, () =>
        HttpResponse.json({ access_token: "t", token_type: "bearer", expires_in: 3600 }),
      ),
      capture("get", "/v1/opportunities.json", [{ seq: 0, marketoGUID: "g" }]),
    );
    await mk()
      .opportunities.get({
        filterType: "externalCompanyId",
        filterValues: ["a", "b"],
        fields: ["name", "amount"],
        batchSize: 50,
        nextPageToken: "TOK",
      })
      .toArray();
    const q = seen[0]!.url.searchParams;
    expect([
      q.get("filterType"),
      q.get("filterValues"),
      q.get("fields"),
      q.get("batchSize"),
      q.get("nextPageToken"),
    ]).toEqual(["externalCompanyId", "a,b", "name,amount", "50", "TOK"]);
    expect(q.has("access_token")).toBe(false);
  });

  it("activities: pagingtoken sinceDatetime ISO; list with activityTypeIds and leadIds comma-separated", async () => {
    server.use(
      http.post(`${BASE}/identity/oauth/token`, () =>
        HttpResponse.json({ access_token: "t", token_type: "bearer", expires_in: 3600 }),
      ),
      capture("get", "/v1/activities/pagingtoken.json", [], { nextPageToken: "P1" }),
      capture("get", "/v1/activities.json", [], { nextPageToken: "P2", moreResult: false }),
    );
    const c = mk();
    const token = await c.activities.pagingToken(new Date("2026-01-02T03:04:05Z"));
    expect(token).toBe("P1");
    await c.activities.list({ nextPageToken: token, activityTypeIds: [1, 12], leadIds: [5, 6] }).toArray();
    expect(seen[0]!.url.searchParams.get("sinceDatetime")).toBe("2026-01-02T03:04:05.000Z");
    const q = seen[1]!.url.searchParams;
    expect([q.get("nextPageToken"), q.get("activityTypeIds"), q.get("leadIds")]).toEqual(["P1", "1,12", "5,6"]);
  });
});
