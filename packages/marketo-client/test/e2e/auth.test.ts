import { FakeTime } from "@ml/http-kernel/testing";
import { isMarketoError, MarketoAuthError, MarketoClient } from "@ml/marketo-client";
import { type MarketoSimulator, startMarketoSimulator } from "@ml/marketo-client/testing";
import { afterEach, describe, expect, it } from "vitest";

let sim: MarketoSimulator | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

describe("token lifecycle over HTTP", () => {
  it("10 concurrent callers cause exactly one token request", async () => {
    sim = await startMarketoSimulator({ timeScale: 0.05, latencyMs: 5 });
    const mk = new MarketoClient({ ...sim.clientOptions, usageSync: false });
    await Promise.all(Array.from({ length: 10 }, () => mk.stats.usage()));
    expect(sim.inspect().tokenRequests).toBe(1);
    expect(mk.quota().tokenRequests).toBe(1);
    expect(sim.inspect().callsByEndpoint["GET /rest/v1/stats/usage.json"]).toBe(10);
  });

  it("sends the token only as a bearer header", async () => {
    sim = await startMarketoSimulator({ timeScale: 0.05 });
    const seen: string[] = [];
    const mk = new MarketoClient({
      ...sim.clientOptions,
      usageSync: false,
      fetch: async (input, init) => {
        const req = new Request(input, init);
        seen.push(req.url);
        return fetch(req);
      },
    });
    await mk.companies.sync({ input: [{ externalCompanyId: "C-1" }] });
    await mk.stats.usage();
    expect(sim.inspect().tokenInQuery).toBe(0);
    // The token request carries the secret in its form body, never in a URL.
    for (const url of seen) expect(url).not.toContain(sim.clientSecret);
    for (const url of seen) expect(url).not.toMatch(/access_token=/);
  });

  it("survives a token expiring mid-run without a failed call", async () => {
    // Token life 3 s (timeScale 1) on a manual clock shared by the simulator and the client: 4 s of calls every
    // 100 ms run across the expiry, the client renews 1 s before it. Its waits end when the test moves the clock.
    const time = new FakeTime();
    const clock = time.clock;
    sim = await startMarketoSimulator({ tokenLifeSeconds: 3, latencyMs: 0, clock });
    const mk = new MarketoClient({
      ...sim.clientOptions,
      usageSync: false,
      tokenRefreshMarginMs: 1_000,
      clock,
      sleep: time.sleep,
    });
    const results: string[] = [];
    const stop = clock.now() + 4_000;
    while (clock.now() < stop) {
      const started = clock.now();
      // A call may wait for a renewal (on the fake time): time moves in 10 ms steps until it answers.
      const u = await time.until(mk.stats.usage());
      results.push(u.date);
      await time.advance(Math.max(0, started + 100 - clock.now()));
    }
    expect(results.length).toBeGreaterThan(30); // calls are never held back for long
    const i = sim.inspect();
    expect(i.tokensIssued).toBeGreaterThanOrEqual(2);
    expect(i.authFailures["602"]).toBe(0); // renewed before expiry: Marketo never had to say 602
  });

  it("renews after the server expires every token (602) and after 601, retrying each call once", async () => {
    sim = await startMarketoSimulator({ timeScale: 0.05 });
    const mk = new MarketoClient({ ...sim.clientOptions, usageSync: false });
    await mk.stats.usage();
    sim.tokens.expireAll();
    await expect(mk.stats.usage()).resolves.toBeDefined();
    expect(sim.inspect().authFailures["602"]).toBe(1);
    sim.tokens.revokeAll();
    await expect(mk.companies.sync({ input: [{ externalCompanyId: "C-9" }] })).resolves.toMatchObject({
      results: [{ status: "created" }],
    });
    expect(sim.inspect().authFailures["601"]).toBe(1);
    // Injected 601/602 (the token itself still valid): one renewal each, no failed call.
    sim.faults.inject({ code: 601, times: 1 });
    await expect(mk.stats.usage()).resolves.toBeDefined();
    sim.faults.inject({ code: 602, times: 1 });
    await expect(mk.stats.usage()).resolves.toBeDefined();
    expect(sim.inspect().faultsFired).toBe(2);
    expect(sim.inspect().tokenRequests).toBe(5);
  });

  it("fails with MarketoAuthError when 601 persists after one renewal (the fresh token handed back and refused again)", async () => {
    sim = await startMarketoSimulator({ timeScale: 0.05 });
    const mk = new MarketoClient({ ...sim.clientOptions, usageSync: false });
    sim.faults.inject({ code: 601, times: 2 });
    const error = await mk.stats.usage().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MarketoAuthError);
    expect((error as MarketoAuthError).code).toBe("601");
    expect(sim.inspect().callsByEndpoint["GET /rest/v1/stats/usage.json"]).toBe(2);
  });

  it("a 601 persisting on a token issued before the call: MarketoAuthError after 3 renewals, no loop", async () => {
    sim = await startMarketoSimulator({ timeScale: 0.05 });
    const mk = new MarketoClient({ ...sim.clientOptions, usageSync: false });
    await mk.stats.usage();
    sim.faults.inject({ code: 601, times: 10 });
    const error = await mk.stats.usage().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MarketoAuthError);
    expect((error as MarketoAuthError).code).toBe("601");
    expect((error as MarketoAuthError).retryable).toBe(false);
    // The warm-up, then the first attempt and three renewals.
    expect(sim.inspect().callsByEndpoint["GET /rest/v1/stats/usage.json"]).toBe(5);
  });

  it("two injected 601s on a valid token re-issued unchanged: renewed twice, the call succeeds", async () => {
    sim = await startMarketoSimulator({ timeScale: 0.05 });
    const mk = new MarketoClient({ ...sim.clientOptions, usageSync: false });
    await mk.stats.usage();
    sim.faults.inject({ code: 601, times: 2 });
    await expect(mk.stats.usage()).resolves.toBeDefined();
    expect(sim.inspect().faultsFired).toBe(2);
    expect(sim.inspect().tokensIssued).toBe(1);
  });

  it("identity 401 gives a typed auth error that never contains the secret", async () => {
    sim = await startMarketoSimulator({ timeScale: 0.05 });
    const secret = "wrong-secret-value-12345";
    const mk = new MarketoClient({ ...sim.clientOptions, clientSecret: secret, usageSync: false });
    const error = await mk.stats.usage().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MarketoAuthError);
    expect(isMarketoError(error)).toBe(true);
    const e = error as MarketoAuthError;
    expect(e.status).toBe(401);
    expect(e.retryable).toBe(false);
    const text = `${e.message} ${JSON.stringify(e)} ${e.stack} ${String(e)}`;
    expect(text).not.toContain(secret);
    expect(text).not.toContain(sim.clientSecret);
    // Not retried: one identity request only.
    expect(sim.inspect().tokenRequests).toBe(1);
    expect(sim.inspect().totalCalls).toBe(0);
  });
});
