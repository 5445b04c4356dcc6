import { collect, FakeTime, flush } from "@ml/http-kernel/testing";
import {
  isQadError,
  QadClient,
  QadError,
  QadHttpError,
  QadPermissionError,
  QadResponseParseError,
  QadSubmitError,
} from "@ml/qad-client";
import { type QadSimulator, startQadSimulator } from "@ml/qad-client/testing";
import { HttpResponse, http } from "msw";
import { setupServer } from "msw/node";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";

describe("QAD error envelopes over the simulator", () => {
  let sim: QadSimulator;
  beforeAll(async () => {
    sim = await startQadSimulator({ customers: 30 });
  });
  afterAll(() => sim.close());
  afterEach(() => sim.faults.clear());

  const client = () => new QadClient({ ...sim.clientOptions, pageSize: 10, sleep: async () => {} });

  it("HTTP 200 with submitResult.success=false → QadSubmitError with the field errors", async () => {
    sim.faults.inject({ kind: "submitFailure", path: "api/qracore/browses" });
    const err = await collect(client().customers.list()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(QadSubmitError);
    expect(err).toMatchObject({ code: "submit", retryable: false, status: 200 });
    expect((err as QadSubmitError).errors).toEqual([
      { fieldName: "customerCode", message: "Customer code is mandatory" },
    ]);
  });

  it("errors[] with code 403 → QadPermissionError (not retried)", async () => {
    sim.faults.inject({ kind: "forbidden", path: "api/qracore/browses", times: 5 });
    const before = sim.inspect().requestsByPath["api/qracore/browses"] ?? 0;
    const err = await collect(client().customers.list()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(QadPermissionError);
    expect(err).toMatchObject({ code: "permission", status: 403, retryable: false });
    expect((err as QadPermissionError).errors[0]).toEqual({ severity: 1, code: "403", message: "Access is denied" });
    expect((sim.inspect().requestsByPath["api/qracore/browses"] ?? 0) - before).toBe(1);
  });

  it("errors[] 403 inside an HTTP 200 is a permission error too", async () => {
    sim.faults.inject({ kind: "forbidden", status: 200, path: "api/qracore/browses" });
    await expect(collect(client().customers.list())).rejects.toBeInstanceOf(QadPermissionError);
  });

  it("a wrong workspace is refused by the instance → QadPermissionError", async () => {
    const qad = new QadClient({ ...sim.clientOptions, workspaceId: "99XX_99XXCO" });
    await expect(collect(qad.customers.list())).rejects.toBeInstanceOf(QadPermissionError);
  });

  it("an HTML login page instead of JSON → QadResponseParseError", async () => {
    sim.faults.inject({ kind: "html", path: "api/qracore/browses" });
    const err = await collect(client().customers.list()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(QadResponseParseError);
    expect((err as QadResponseParseError).contentType).toMatch(/html/);
    expect((err as QadResponseParseError).bodySnippet).toContain("QAD Login");
  });

  it("5xx is retried and the list completes", async () => {
    sim.faults.inject({ kind: "serverError", path: "api/qracore/browses", times: 2 });
    const rows = await collect(client().customers.list());
    expect(rows).toHaveLength(30);
    expect(sim.faults.served.serverError).toBeGreaterThanOrEqual(2);
  });

  it("persistent 5xx → retryable QadHttpError after maxRetries", async () => {
    sim.faults.inject({ kind: "serverError", status: 502, path: "api/qracore/browses", times: 10 });
    const qad = new QadClient({ ...sim.clientOptions, retry: { maxRetries: 2 }, sleep: async () => {} });
    const before = sim.inspect().requestsByPath["api/qracore/browses"] ?? 0;
    const err = await collect(qad.customers.list()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(QadHttpError);
    expect(err).toMatchObject({ status: 502, retryable: true, code: "http" });
    expect((sim.inspect().requestsByPath["api/qracore/browses"] ?? 0) - before).toBe(3);
  });
});

describe("transport edge cases (msw)", () => {
  const base = "https://acme.qad.com/clouderp";
  const server = setupServer();
  beforeAll(() => server.listen({ onUnhandledRequest: "error" }));
  afterEach(() => server.resetHandlers());
  afterAll(() => server.close());

  const token = () =>
    http.post(`${base}/oauth/token`, () => HttpResponse.json({ access_token: "t1", expires_in: 3600 }));
  const opts = (extra: object = {}) => ({
    tenantUrl: base,
    auth: { kind: "password" as const, clientId: "c", username: "u", password: "secret-pw" },
    allowedPaths: ["api/x"],
    ...extra,
  });

  it("backoff: exponential, capped, jittered down by at most 25%, through the injected sleep", async () => {
    let n = 0;
    server.use(
      token(),
      http.get(`${base}/api/x`, () =>
        ++n <= 4 ? new HttpResponse("busy", { status: 503 }) : HttpResponse.json({ ok: true }),
      ),
    );
    const delays: number[] = [];
    const qad = new QadClient(
      opts({
        retry: { maxRetries: 5, baseDelayMs: 100, maxDelayMs: 500 },
        sleep: async (ms: number) => void delays.push(ms),
        random: () => 1 - Number.EPSILON, // maximal jitter
      }),
    );
    await expect(qad.get("api/x")).resolves.toEqual({ ok: true });
    expect(delays).toEqual([75, 150, 300, 375]);
    const noJitter: number[] = [];
    n = 0;
    const qad2 = new QadClient(
      opts({
        retry: { maxRetries: 5, baseDelayMs: 100, maxDelayMs: 500 },
        sleep: async (ms: number) => void noJitter.push(ms),
        random: () => 0,
      }),
    );
    await qad2.get("api/x");
    expect(noJitter).toEqual([100, 200, 400, 500]);
  });

  it("honours Retry-After within the cap", async () => {
    let n = 0;
    server.use(
      token(),
      http.get(`${base}/api/x`, () =>
        ++n === 1
          ? new HttpResponse(null, { status: 429, headers: { "retry-after": "2" } })
          : HttpResponse.json({ ok: 1 }),
      ),
    );
    const delays: number[] = [];
    const qad = new QadClient(opts({ sleep: async (ms: number) => void delays.push(ms) }));
    await qad.get("api/x");
    expect(delays).toEqual([2000]);
  });

  it("non-JSON 200, empty body and bare errors[] 500 map to typed errors", async () => {
    server.use(
      token(),
      http.get(
        `${base}/api/x`,
        () => new HttpResponse("not json {", { headers: { "content-type": "application/json" } }),
      ),
    );
    const qad = new QadClient(opts({ retry: { maxRetries: 0 } }));
    await expect(qad.get("api/x")).rejects.toBeInstanceOf(QadResponseParseError);
    server.use(http.get(`${base}/api/x`, () => new HttpResponse("", { status: 200 })));
    await expect(qad.get("api/x")).rejects.toThrow(/empty body/);
    server.use(
      http.get(`${base}/api/x`, () =>
        HttpResponse.json(
          { errors: [{ severity: 1, code: "500", message: "Internal" }] },
          { headers: { "x-request-id": "rq-9" } },
        ),
      ),
    );
    const err = await qad.get("api/x").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(QadHttpError);
    expect(err).toMatchObject({ status: 500, retryable: true, requestId: "rq-9" });
  });

  it("guards use a brand, errors carry a redacted request and no token", async () => {
    server.use(
      token(),
      http.get(
        `${base}/api/x`,
        () => new HttpResponse("<html>", { status: 404, headers: { "content-type": "text/html" } }),
      ),
    );
    const qad = new QadClient(opts());
    const err = await qad.get("api/x", { password: "leak-me" }).catch((e: unknown) => e);
    expect(isQadError(err)).toBe(true);
    expect(err).toBeInstanceOf(QadError);
    expect(isQadError(new Error("x"))).toBe(false);
    expect(isQadError({ code: "http", retryable: true })).toBe(false);
    expect((err as QadHttpError).request?.url).toContain("password=%5Bredacted%5D");
    const dump = JSON.stringify(err) + String((err as Error).message) + String((err as Error).stack);
    expect(dump).not.toContain("leak-me");
    expect(dump).not.toContain("secret-pw");
    expect(dump).not.toContain("Bearer t1");
  });

  it("a 401 after a fresh renewal is a QadAuthError, not a loop", async () => {
    let tokens = 0;
    server.use(
      http.post(`${base}/oauth/token`, () => HttpResponse.json({ access_token: `t${++tokens}`, expires_in: 3600 })),
      http.get(`${base}/api/x`, () => new HttpResponse(null, { status: 401 })),
    );
    const qad = new QadClient(opts());
    await expect(qad.get("api/x")).rejects.toThrow(/freshly renewed/);
    expect(tokens).toBe(2);
  });
});

describe("cancellation", () => {
  it("an aborted signal stops a list with QadAbortError and no further requests", async () => {
    const sim = await startQadSimulator({ customers: 50 });
    try {
      const qad = new QadClient({ ...sim.clientOptions, pageSize: 10 });
      const ac = new AbortController();
      let n = 0;
      const err = await (async () => {
        for await (const _ of qad.customers.list({ signal: ac.signal })) if (++n === 15) ac.abort();
      })().catch((e: unknown) => e);
      expect(isQadError(err) && err.code).toBe("aborted");
      expect(n).toBe(20); // the page in hand is finished; the next request is not sent
      expect(sim.inspect().requestsByPath["api/qracore/browses"]).toBe(4); // 2 customer pages + 2 contact pages
    } finally {
      await sim.close();
    }
  });
});

describe("one retry layer", () => {
  const base = "https://acme.qad.com/clouderp";
  const server = setupServer();
  beforeAll(() => server.listen({ onUnhandledRequest: "error" }));
  afterAll(() => server.close());

  it("a failing token endpoint is retried once as a layer, not once per data-request retry", async () => {
    let tokenCalls = 0;
    let dataCalls = 0;
    server.use(
      http.post(`${base}/oauth/token`, () => {
        tokenCalls++;
        return new HttpResponse("down", { status: 503 });
      }),
      http.get(`${base}/api/x`, () => {
        dataCalls++;
        return HttpResponse.json({});
      }),
    );
    const qad = new QadClient({
      tenantUrl: base,
      auth: { kind: "password", clientId: "c", username: "u", password: "p" },
      allowedPaths: ["api/x"],
      retry: { maxRetries: 2 },
      sleep: async () => {},
    });
    const err = await qad.get("api/x").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(QadHttpError);
    expect((err as QadHttpError).retryable).toBe(false);
    expect(tokenCalls).toBe(3);
    expect(dataCalls).toBe(0);
  });
});

describe("transport failures over the simulator", () => {
  it("a reset connection is retried and the list completes", async () => {
    const sim = await startQadSimulator({ customers: 40 });
    try {
      sim.faults.inject({ kind: "connectionReset", path: "api/qracore/browses", times: 2 });
      const qad = new QadClient({ ...sim.clientOptions, pageSize: 10, sleep: async () => {} });
      const rows = await collect(qad.customers.list());
      expect(rows).toHaveLength(40);
      expect(sim.faults.served.connectionReset).toBe(2);
    } finally {
      await sim.close();
    }
  });

  it("a slow answer past timeoutMs is a retryable QadHttpError; retried, it succeeds", async () => {
    const sim = await startQadSimulator({ customers: 5 });
    try {
      // A token obtained up front, so the only deadline armed on the fake timers is the slow call's.
      const res = await fetch(`${sim.tenantUrl}/oauth/token`, {
        method: "POST",
        body: new URLSearchParams({
          client_id: sim.credentials.clientId,
          grant_type: "password",
          username: sim.credentials.username,
          password: sim.credentials.password,
        }),
      });
      const { access_token } = (await res.json()) as { access_token: string };
      const auth = { kind: "provider" as const, getToken: async () => access_token };
      const { apiDescription: _d, ...opts } = sim.clientOptions;
      // The deadline runs on fake timers: it fires exactly when the test moves time past timeoutMs, however busy the
      // machine, and never on its own.
      const time = new FakeTime();
      const base = {
        ...opts,
        auth,
        allowedPaths: ["api/qracore/securityControl"],
        timeoutMs: 300,
        timers: time.timers,
      };
      sim.faults.inject({ kind: "slow", delayMs: 1500, path: "securityControl", times: 3 });
      /** Lets loopback I/O run until the simulator holds slow answer number `n` and one deadline is armed. */
      const holding = async (n: number) => {
        const ready = () => sim.faults.served.slow === n && time.pending === 1;
        for (let i = 0; i < 500 && !ready(); i++) await flush();
        expect({ slow: sim.faults.served.slow, deadlines: time.pending }).toEqual({ slow: n, deadlines: 1 });
      };
      const strict = new QadClient({ ...base, retry: { maxRetries: 0 } });
      let settled = false;
      const first = strict.get("api/qracore/securityControl").then(
        (v) => v,
        (e: unknown) => e,
      );
      void first.finally(() => {
        settled = true;
      });
      await holding(1);
      await time.advance(299);
      await flush();
      expect(settled).toBe(false);
      await time.advance(1);
      const err = await first;
      expect(err).toBeInstanceOf(QadHttpError);
      expect(err).toMatchObject({ retryable: true });
      expect((err as Error).message).toMatch(/timed out/);
      const patient = new QadClient({ ...base, retry: { maxRetries: 3 }, sleep: async () => {} });
      const second = patient.get("api/qracore/securityControl");
      await holding(2);
      await time.advance(300);
      await holding(3);
      await time.advance(300);
      // The third attempt meets no fault and answers; its deadline never fires, as fake time no longer moves.
      await expect(second).resolves.toMatchObject({ clientId: sim.credentials.clientId });
      expect(sim.faults.served.slow).toBe(3);
    } finally {
      await sim.close();
    }
  });
});
