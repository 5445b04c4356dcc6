import { InMemoryTokenCache, MarketoClient, MarketoHttpError } from "@ml/marketo-client";
import { HttpResponse, http } from "msw";
import { setupServer } from "msw/node";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";

const BASE = "http://127.0.0.1:1";
const server = setupServer();
beforeAll(() => server.listen({ onUnhandledRequest: "error" }));
afterEach(() => server.resetHandlers());
afterAll(() => server.close());

let tokens = 0;
const token = http.post(`${BASE}/identity/oauth/token`, () => {
  tokens++;
  return HttpResponse.json({ access_token: `t${tokens}`, token_type: "bearer", expires_in: 3600 });
});

function client(extra: Partial<ConstructorParameters<typeof MarketoClient>[0]> = {}) {
  return new MarketoClient({
    baseUrls: { rest: `${BASE}/rest`, identity: `${BASE}/identity`, bulk: `${BASE}/bulk` },
    allowHttp: true,
    network: { allowLoopback: true },
    clientId: "cid",
    clientSecret: "sec",
    usageSync: false,
    sleep: async () => {},
    random: () => 0,
    ...extra,
  });
}

const FILE = `${BASE}/bulk/v1/leads/export/abc/file.json`;
const rawReq = (headers?: Record<string, string>) =>
  ({
    method: "GET",
    api: "bulk",
    path: "/v1/leads/export/abc/file.json",
    retry: "safe",
    ...(headers ? { headers } : {}),
  }) as const;

describe("Transport.raw (bulk file downloads)", () => {
  it("returns a 206 untouched, with the Range header sent and the bearer token", async () => {
    let seen: { range: string | null; auth: string | null } | undefined;
    server.use(
      token,
      http.get(FILE, ({ request }) => {
        seen = { range: request.headers.get("range"), auth: request.headers.get("authorization") };
        return new HttpResponse("a,b\n1,2\n", {
          status: 206,
          headers: { "content-type": "text/csv", "content-range": "bytes 0-7/100" },
        });
      }),
    );
    const res = await client().transport.raw(rawReq({ Range: "bytes=0-7" }));
    expect(res.status).toBe(206);
    expect(res.headers.get("content-range")).toBe("bytes 0-7/100");
    expect(await res.text()).toBe("a,b\n1,2\n");
    expect(seen?.range).toBe("bytes=0-7");
    expect(seen?.auth).toMatch(/^Bearer t\d+$/);
  });

  it("renews the token after a 601 JSON envelope and retries", async () => {
    let n = 0;
    server.use(
      token,
      http.get(FILE, () => {
        n++;
        return n === 1
          ? HttpResponse.json({ success: false, errors: [{ code: "601", message: "Access token invalid" }] })
          : new HttpResponse("x\n", { status: 200, headers: { "content-type": "text/csv" } });
      }),
    );
    const before = tokens;
    const res = await client().transport.raw(rawReq());
    expect(await res.text()).toBe("x\n");
    expect(tokens - before).toBe(2); // first token, then the renewal
  });

  it("retries 502 for a safe download; a 404 text answer is a typed, non-retryable HTTP error", async () => {
    let n = 0;
    server.use(
      token,
      http.get(FILE, () => {
        n++;
        return n === 1
          ? new HttpResponse("<html>502</html>", { status: 502 })
          : new HttpResponse("ok", { status: 200 });
      }),
    );
    expect(await (await client().transport.raw(rawReq())).text()).toBe("ok");
    expect(n).toBe(2);
    server.use(
      http.get(
        FILE,
        () => new HttpResponse("File not ready", { status: 404, headers: { "content-type": "text/plain" } }),
      ),
    );
    const error = await client()
      .transport.raw(rawReq())
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MarketoHttpError);
    expect((error as MarketoHttpError).code).toBe("HTTP_404");
    expect((error as MarketoHttpError).bodySnippet).toBe("File not ready");
  });
});

describe("token cache", () => {
  it("clients of one API user sharing a TokenCache share one token", async () => {
    server.use(
      token,
      http.get(`${BASE}/rest/v1/stats/usage.json`, () => HttpResponse.json({ success: true, result: [] })),
    );
    const cache = new InMemoryTokenCache();
    const before = tokens;
    await Promise.all([client({ tokenCache: cache }).stats.usage(), client({ tokenCache: cache }).stats.usage()]);
    // Two clients, each with its own in-flight renewal: at most two requests, then the cache serves both.
    const afterFirst = tokens - before;
    expect(afterFirst).toBeGreaterThanOrEqual(1);
    await client({ tokenCache: cache }).stats.usage();
    expect(tokens - before).toBe(afterFirst);
  });
});

describe("cancellation", () => {
  it("an abort while queued in the limiter rejects the call and sends nothing", async () => {
    let calls = 0;
    // The first call stays in flight (holding the only slot) until the test releases it: no timing involved.
    let release: () => void = () => {};
    const held = new Promise<void>((r) => {
      release = r;
    });
    server.use(
      token,
      http.get(`${BASE}/rest/v1/stats/usage.json`, async () => {
        calls++;
        await held;
        return HttpResponse.json({ success: true, result: [] });
      }),
    );
    const mk = client({ limits: { maxConcurrent: 1 }, sleep: undefined });
    const first = mk.stats.usage();
    const controller = new AbortController();
    const second = mk.stats.usage({ signal: controller.signal });
    controller.abort(new Error("cancelled by caller"));
    await expect(second).rejects.toThrow("cancelled by caller");
    release();
    await first;
    expect(calls).toBe(1);
    expect(mk.quota().callsMade).toBe(1);
  });
});
