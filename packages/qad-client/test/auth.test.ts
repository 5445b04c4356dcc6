import { collect, manualClock } from "@ml/http-kernel/testing";
import { type Customer, type Logger, QadAuthError, QadClient } from "@ml/qad-client";
import { type QadSimulator, startQadSimulator } from "@ml/qad-client/testing";
import { afterEach, describe, expect, it } from "vitest";

let sim: QadSimulator | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

function capturingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const log = (obj: object, msg?: string) => void lines.push(`${msg ?? ""} ${JSON.stringify(obj)}`);
  return { lines, debug: log, info: log, warn: log, error: log };
}

describe("auth", () => {
  it("password grant: POST oauth/token with the form QAD uses, then Bearer", async () => {
    sim = await startQadSimulator({ customers: 5 });
    const qad = new QadClient({ ...sim.clientOptions });
    expect(await collect(qad.customers.list())).toHaveLength(5);
    const insp = sim.inspect();
    expect(insp.authCalls).toBe(1);
    expect(insp.lastRequestByPath["oauth/token"]?.headers["content-type"]).toBe("application/x-www-form-urlencoded");
    expect(insp.lastHeaders.authorization).toMatch(/^Bearer .+/);
    expect(insp.lastHeaders["x-qad-workspace-id"]).toBe("10USA_10USACO");
  });

  it("client credentials, session login (JWT) and a token provider all work", async () => {
    sim = await startQadSimulator({ customers: 3 });
    const { credentials: c } = sim;
    const viaCc = new QadClient({
      ...sim.clientOptions,
      auth: { kind: "clientCredentials", clientId: c.clientId, clientSecret: c.clientSecret },
    });
    expect(await collect(viaCc.customers.list())).toHaveLength(3);
    const viaSession = new QadClient({
      ...sim.clientOptions,
      auth: { kind: "session", username: c.username, password: c.password },
    });
    expect(await collect(viaSession.customers.list())).toHaveLength(3);
    expect(sim.inspect().requestsByPath["api/qracore/login"]).toBe(1);

    // A provider that logs in itself (e.g. a vault): the client asks again with forceRefresh after a 401.
    const calls: boolean[] = [];
    const res = await fetch(`${sim.tenantUrl}/oauth/token`, {
      method: "POST",
      body: new URLSearchParams({
        client_id: c.clientId,
        grant_type: "password",
        username: c.username,
        password: c.password,
      }),
    });
    const first = ((await res.json()) as { access_token: string }).access_token;
    const s = sim;
    const viaProvider = new QadClient({
      ...sim.clientOptions,
      auth: {
        kind: "provider",
        getToken: async ({ forceRefresh }) => {
          calls.push(forceRefresh);
          if (!forceRefresh) return first;
          const r = await fetch(`${s.tenantUrl}/oauth/token`, {
            method: "POST",
            body: new URLSearchParams({
              client_id: c.clientId,
              grant_type: "password",
              username: c.username,
              password: c.password,
            }),
          });
          return ((await r.json()) as { access_token: string }).access_token;
        },
      },
    });
    expect(await collect(viaProvider.customers.list())).toHaveLength(3);
    sim.expireSessions();
    expect(await collect(viaProvider.customers.list())).toHaveLength(3);
    expect(calls).toEqual([false, true]);
  });

  it("a session expiring mid-list is renewed once and the list completes", async () => {
    sim = await startQadSimulator({ customers: 100 });
    const qad = new QadClient({ ...sim.clientOptions, pageSize: 10 });
    let n = 0;
    const got: Customer[] = [];
    for await (const c of qad.customers.list()) {
      got.push(c);
      // After 35 records (page 4 in flight next), the server drops every session.
      if (++n === 35) sim.faults.inject({ kind: "sessionExpired", path: "api/qracore/browses" });
    }
    expect(got.map((c) => c.customerCode)).toEqual(sim.data.customers().map((c) => c.customerCode));
    const insp = sim.inspect();
    expect(insp.unauthorized).toBe(1);
    expect(insp.authCalls).toBe(2);
    expect(qad.stats().tokenRenewals).toBe(2);
  });

  it("a token that expires on the server clock mid-list (client clock unaware) is renewed after the 401", async () => {
    const simClock = manualClock();
    sim = await startQadSimulator({ customers: 60, clock: simClock, tokenTtlMs: 5 * 60_000 });
    const qad = new QadClient({ ...sim.clientOptions, pageSize: 10, clock: manualClock() });
    const got: Customer[] = [];
    for await (const c of qad.customers.list()) {
      got.push(c);
      if (got.length === 25) simClock.advance(6 * 60_000); // the session lapses between pages
    }
    expect(got).toHaveLength(60);
    expect(new Set(got.map((c) => c.customerCode)).size).toBe(60);
    expect(sim.inspect()).toMatchObject({ authCalls: 2, unauthorized: 1 });
  });

  it("renews before expiry from expires_in, without a 401", async () => {
    const clock = manualClock();
    sim = await startQadSimulator({ customers: 3, clock, tokenTtlMs: 10 * 60_000 });
    const qad = new QadClient({ ...sim.clientOptions, clock, token: { refreshMarginMs: 60_000 } });
    await collect(qad.customers.list());
    clock.advance(8 * 60_000); // still valid, outside the margin
    await collect(qad.customers.list());
    expect(sim.inspect().authCalls).toBe(1);
    clock.advance(90_000); // 9.5 minutes: inside the 60 s margin → renewed early
    await collect(qad.customers.list());
    const insp = sim.inspect();
    expect(insp.authCalls).toBe(2);
    expect(insp.unauthorized).toBe(0);
  });

  it("renews with the refresh_token, and falls back to the password grant when it is rejected", async () => {
    const clock = manualClock();
    sim = await startQadSimulator({ customers: 3, clock, tokenTtlMs: 10 * 60_000 });
    const qad = new QadClient({ ...sim.clientOptions, clock });
    await collect(qad.customers.list());
    clock.advance(10 * 60_000);
    await collect(qad.customers.list());
    expect(sim.inspect().tokenGrants).toEqual({ password: 1, refresh_token: 1 });
    const form = sim.inspect().lastRequestByPath["oauth/token"]!;
    expect(form.headers["content-type"]).toBe("application/x-www-form-urlencoded");
    // The server purges sessions and refresh tokens: the refresh grant fails (400), the password grant follows.
    sim.expireSessions({ refreshTokens: true });
    await collect(qad.customers.list());
    expect(sim.inspect().tokenGrants).toEqual({ password: 2, refresh_token: 2 });
    const { clientId, username, password } = sim.credentials;
    const noRefresh = new QadClient({
      ...sim.clientOptions,
      clock,
      auth: { kind: "password", clientId, username, password, useRefreshToken: false },
    });
    await collect(noRefresh.customers.list());
    clock.advance(10 * 60_000);
    await collect(noRefresh.customers.list());
    expect(sim.inspect().tokenGrants).toEqual({ password: 4, refresh_token: 2 });
  });

  it("learns the lifetime from the JWT exp when the answer has no expires_in", async () => {
    const clock = manualClock();
    sim = await startQadSimulator({ customers: 2, clock, tokenTtlMs: 5 * 60_000, sendExpiresIn: false });
    const qad = new QadClient({ ...sim.clientOptions, clock, token: { securityControlPath: false } });
    await collect(qad.customers.list());
    clock.advance(4.5 * 60_000);
    await collect(qad.customers.list());
    expect(sim.inspect()).toMatchObject({ authCalls: 2, unauthorized: 0 });
    expect(sim.inspect().requestsByPath["api/qracore/securityControl"]).toBeUndefined();
  });

  it("reads sessionLength/timeoutMinutes from securityControl for an opaque token", async () => {
    const clock = manualClock();
    sim = await startQadSimulator({
      customers: 2,
      clock,
      tokenTtlMs: 20 * 60_000,
      sendExpiresIn: false,
      tokenFormat: "opaque",
    });
    const qad = new QadClient({ ...sim.clientOptions, clock });
    await collect(qad.customers.list());
    expect(sim.inspect().requestsByPath["api/qracore/securityControl"]).toBe(1);
    clock.advance(18 * 60_000);
    await collect(qad.customers.list());
    expect(sim.inspect().authCalls).toBe(1);
    clock.advance(90_000); // 19.5 of 20 minutes: renewed early
    await collect(qad.customers.list());
    expect(sim.inspect()).toMatchObject({ authCalls: 2, unauthorized: 0 });
  });

  it("concurrent callers share one login and one renewal after a 401", async () => {
    sim = await startQadSimulator({ customers: 2 });
    const qad = new QadClient({ ...sim.clientOptions });
    const call = () => qad.get("api/qracore/securityControl");
    await Promise.all(Array.from({ length: 12 }, call));
    expect(sim.inspect().authCalls).toBe(1);
    sim.expireSessions();
    await Promise.all(Array.from({ length: 12 }, call));
    expect(sim.inspect().authCalls).toBe(2);
  });

  it("bad credentials: typed QadAuthError with no secret in it or in the logs", async () => {
    sim = await startQadSimulator({ customers: 2 });
    const logger = capturingLogger();
    const password = "hunter2-Sup3r-Secret";
    const qad = new QadClient({
      ...sim.clientOptions,
      logger,
      auth: {
        kind: "password",
        clientId: sim.credentials.clientId,
        clientSecret: "cs-Very-Secret",
        username: "mfg",
        password,
      },
    });
    const err = await collect(qad.customers.list()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(QadAuthError);
    const dump = JSON.stringify({
      err,
      message: (err as Error).message,
      stack: (err as Error).stack,
      logs: logger.lines,
    });
    expect(dump).not.toContain(password);
    expect(dump).not.toContain("cs-Very-Secret");
    expect(sim.inspect().requestsByPath["api/qracore/browses"]).toBeUndefined();
  });
});
