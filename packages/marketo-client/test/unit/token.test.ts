import { FakeTime, flush } from "@ml/http-kernel/testing";
import { MarketoAuthError, MarketoClient } from "@ml/marketo-client";
import { HttpResponse, http } from "msw";
import { setupServer } from "msw/node";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";

const BASE = "http://127.0.0.1:1";
const server = setupServer();
beforeAll(() => server.listen({ onUnhandledRequest: "error" }));
afterEach(() => server.resetHandlers());
afterAll(() => server.close());

function client(time: FakeTime, margin = 60_000) {
  return new MarketoClient({
    baseUrls: { rest: `${BASE}/rest`, identity: `${BASE}/identity`, bulk: `${BASE}/bulk` },
    allowHttp: true,
    network: { allowLoopback: true },
    clientId: "cid",
    clientSecret: "the-secret-value",
    clock: time.clock,
    sleep: time.sleep,
    random: () => 0.5,
    usageSync: false,
    tokenRefreshMarginMs: margin,
  });
}

const usage = () =>
  HttpResponse.json({ requestId: "r#1", success: true, result: [{ date: "2026-03-02", total: 1, users: [] }] });

describe("token lifecycle (msw, injected clock)", () => {
  it("renews margin ms before expiry, not earlier, without holding back the call that finds it due", async () => {
    const time = new FakeTime();
    let issued = 0;
    const seen: string[] = [];
    server.use(
      http.post(`${BASE}/identity/oauth/token`, () => {
        issued++;
        return HttpResponse.json({ access_token: `tok-${issued}`, token_type: "bearer", expires_in: 3600, scope: "x" });
      }),
      http.get(`${BASE}/rest/v1/stats/usage.json`, ({ request }) => {
        seen.push(request.headers.get("authorization") ?? "");
        return usage();
      }),
    );
    const mk = client(time);
    await mk.stats.usage();
    await time.advance(3_539_000); // 61 s before expiry: still fresh
    await mk.stats.usage();
    expect(issued).toBe(1);
    await time.advance(2_000); // 59 s before expiry: within the 60 s margin
    await mk.stats.usage(); // still valid: sent with tok-1 while tok-2 is fetched in the background
    expect(issued).toBe(2);
    await mk.stats.usage();
    expect(seen).toEqual(["Bearer tok-1", "Bearer tok-1", "Bearer tok-1", "Bearer tok-2"]);
  });

  it("expires_in: 0 (same token, no life left) waits for it to lapse, then uses the new one", async () => {
    const time = new FakeTime();
    let calls = 0;
    server.use(
      http.post(`${BASE}/identity/oauth/token`, () => {
        calls++;
        return calls === 1
          ? HttpResponse.json({ access_token: "old", token_type: "bearer", expires_in: 0 })
          : HttpResponse.json({ access_token: "new", token_type: "bearer", expires_in: 3599 });
      }),
      http.get(`${BASE}/rest/v1/stats/usage.json`, ({ request }) =>
        request.headers.get("authorization") === "Bearer new"
          ? usage()
          : HttpResponse.json({ success: false, errors: [{ code: "602", message: "expired" }] }),
      ),
    );
    const mk = client(time);
    const p = mk.stats.usage();
    await flush();
    expect(calls).toBe(1);
    expect(time.pending).toBe(1); // waiting for the old token to lapse
    await time.advance(1_000);
    await expect(p).resolves.toMatchObject({ total: 1 });
    expect(calls).toBe(2);
  });

  it("identity re-issuing the same token inside the margin: used until 0.5 s before expiry, identity not asked per call", async () => {
    const time = new FakeTime();
    const start = time.clock.now();
    const expiry = start + 3_600_000;
    let identityCalls = 0;
    const used: string[] = [];
    server.use(
      http.post(`${BASE}/identity/oauth/token`, () => {
        identityCalls++;
        const now = time.clock.now();
        // Marketo: the same token until it expires, expires_in = whole seconds left.
        return now < expiry
          ? HttpResponse.json({
              access_token: "A",
              token_type: "bearer",
              expires_in: Math.floor((expiry - now) / 1000),
            })
          : HttpResponse.json({ access_token: "B", token_type: "bearer", expires_in: 3599 });
      }),
      http.get(`${BASE}/rest/v1/stats/usage.json`, ({ request }) => {
        used.push(request.headers.get("authorization") ?? "");
        return usage();
      }),
    );
    const mk = client(time);
    await mk.stats.usage(); // identity #1
    await time.advance(3_550_000); // 50 s left, inside the 60 s margin
    await mk.stats.usage(); // identity #2 answers A again (50 s left): keep it
    await time.advance(10_000);
    await mk.stats.usage(); // 40 s left: no identity call
    await time.advance(38_500); // 1.5 s left: still sent, no identity call
    await mk.stats.usage();
    expect(identityCalls).toBe(2);
    await time.advance(1_200); // 0.3 s left: below the 0.5 s safety
    const p = mk.stats.usage(); // identity #3 answers A with 0 s: ask again at its end
    await flush();
    expect(identityCalls).toBe(3);
    await time.advance(300);
    await p; // identity #4 answers B
    expect(identityCalls).toBe(4);
    expect(used).toEqual(["Bearer A", "Bearer A", "Bearer A", "Bearer A", "Bearer B"]);
  });

  it("identity 401 → MarketoAuthError; the secret is nowhere in it", async () => {
    const time = new FakeTime();
    server.use(
      http.post(`${BASE}/identity/oauth/token`, () => HttpResponse.json({ error: "unauthorized" }, { status: 401 })),
    );
    const error = await client(time)
      .stats.usage()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MarketoAuthError);
    expect(JSON.stringify(error) + (error as Error).message + (error as Error).stack).not.toContain("the-secret-value");
  });

  it("the token request sends credentials in a form body, not the URL", async () => {
    const time = new FakeTime();
    let url = "";
    let body = "";
    server.use(
      http.post(`${BASE}/identity/oauth/token`, async ({ request }) => {
        url = request.url;
        body = await request.text();
        return HttpResponse.json({ access_token: "t", token_type: "bearer", expires_in: 3600 });
      }),
      http.get(`${BASE}/rest/v1/stats/usage.json`, usage),
    );
    await client(time).stats.usage();
    expect(url).toBe(`${BASE}/identity/oauth/token`);
    expect(new URLSearchParams(body).get("client_secret")).toBe("the-secret-value");
    expect(new URLSearchParams(body).get("grant_type")).toBe("client_credentials");
  });
});
