import { FakeTime } from "@ml/http-kernel/testing";
import { MarketoApiError, MarketoClient } from "@ml/marketo-client";
import { HttpResponse, http } from "msw";
import { setupServer } from "msw/node";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { backoffDelay } from "../../src/transport/retry-policy.js";

const BASE = "http://127.0.0.1:1";
const server = setupServer();
beforeAll(() => server.listen({ onUnhandledRequest: "error" }));
afterEach(() => server.resetHandlers());
afterAll(() => server.close());

function client(time: FakeTime, random = () => 0.5, retry = {}) {
  return new MarketoClient({
    baseUrls: { rest: `${BASE}/rest`, identity: `${BASE}/identity`, bulk: `${BASE}/bulk` },
    allowHttp: true,
    network: { allowLoopback: true },
    clientId: "cid",
    clientSecret: "sec",
    clock: time.clock,
    sleep: async (ms, signal) => {
      time.sleeps.push(ms); // record, do not wait: the test is about the delays chosen
      signal?.throwIfAborted();
    },
    random,
    usageSync: false,
    retry,
  });
}

const token = http.post(`${BASE}/identity/oauth/token`, () =>
  HttpResponse.json({ access_token: "t", token_type: "bearer", expires_in: 3600 }),
);

describe("retry policy (deterministic backoff)", () => {
  it("capped exponential backoff with bounded jitter: min(base·2^(n-1), max)·(1 − 0.25·random)", () => {
    const o = { maxRetries: 5, baseDelayMs: 500, maxDelayMs: 4_000 };
    expect([1, 2, 3, 4, 5].map((n) => backoffDelay(n, o, () => 0))).toEqual([500, 1000, 2000, 4000, 4000]);
    expect([1, 2, 3].map((n) => backoffDelay(n, o, () => 0.999999))).toEqual([375, 750, 1500]);
  });

  it("604/608/611 are retried with those delays; codes as numbers are accepted", async () => {
    const time = new FakeTime();
    let n = 0;
    server.use(
      token,
      http.get(`${BASE}/rest/v1/stats/usage.json`, () => {
        n++;
        if (n === 1) return HttpResponse.json({ success: false, errors: [{ code: 604, message: "timeout" }] });
        if (n === 2) return HttpResponse.json({ success: false, errors: [{ code: "608", message: "unavailable" }] });
        if (n === 3) return HttpResponse.json({ success: false, errors: [{ code: "611", message: "system" }] });
        return HttpResponse.json({ success: true, requestId: "ok#1", result: [{ date: "d", total: 3, users: [] }] });
      }),
    );
    await expect(client(time).stats.usage()).resolves.toMatchObject({ total: 3 });
    expect(time.sleeps).toEqual([438, 875, 1750]); // 500·(1−0.125), 1000·0.875, 2000·0.875
  });

  it("gives up after maxRetries with the last error, retryable flag set", async () => {
    const time = new FakeTime();
    server.use(
      token,
      http.get(`${BASE}/rest/v1/stats/usage.json`, () =>
        HttpResponse.json({ success: false, requestId: "x#9", errors: [{ code: "611", message: "system" }] }),
      ),
    );
    const error = await client(time, () => 0, { maxRetries: 2 })
      .stats.usage()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MarketoApiError);
    expect(error).toMatchObject({ code: "611", retryable: true, requestId: "x#9" });
    expect(time.sleeps).toEqual([500, 1000]);
  });

  it("maxRetries per call overrides the client's", async () => {
    const time = new FakeTime();
    let n = 0;
    server.use(
      token,
      http.get(`${BASE}/rest/v1/stats/usage.json`, () =>
        HttpResponse.json({ success: false, errors: [{ code: "611", message: "system" }] }),
      ),
      http.post(`${BASE}/rest/v1/companies.json`, () => {
        n++;
        return HttpResponse.json({ success: false, errors: [{ code: "604", message: "timeout" }] });
      }),
    );
    const mk = client(time, () => 0, { maxRetries: 4 });
    await expect(mk.stats.usage({ maxRetries: 1 })).rejects.toMatchObject({ code: "611" });
    expect(time.sleeps).toEqual([500]);
    await expect(mk.companies.sync({ input: [{ externalCompanyId: "A" }] }, { maxRetries: 0 })).rejects.toMatchObject({
      code: "604",
    });
    expect(n).toBe(1);
  });

  it("warnings (objects or strings) are surfaced as strings", async () => {
    const time = new FakeTime();
    server.use(
      token,
      http.post(`${BASE}/rest/v1/companies.json`, () =>
        HttpResponse.json({
          success: true,
          requestId: "w#1",
          warnings: ["plain warning", { code: 1003, message: "object warning" }],
          result: [{ seq: 0, id: 5, status: "updated" }],
        }),
      ),
    );
    const r = await client(time).companies.sync({ input: [{ externalCompanyId: "A" }] });
    expect(r.warnings).toEqual(["plain warning", "1003: object warning"]);
    expect(r.results).toEqual([{ index: 0, seq: 0, status: "updated", id: 5, reasons: [] }]);
  });

  it("record reasons with numeric codes are normalised to strings", async () => {
    const time = new FakeTime();
    server.use(
      token,
      http.post(`${BASE}/rest/v1/companies.json`, () =>
        HttpResponse.json({
          success: true,
          result: [{ seq: 0, status: "skipped", reasons: [{ code: 1003, message: "bad" }] }],
        }),
      ),
    );
    const r = await client(time).companies.sync({ input: [{ externalCompanyId: "A" }] });
    expect(r.results[0]!.reasons).toEqual([{ code: "1003", message: "bad" }]);
  });
});
