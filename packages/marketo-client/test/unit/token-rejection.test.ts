import { inspect } from "node:util";
import { FakeTime, flush } from "@ml/http-kernel/testing";
import { MarketoAuthError, MarketoClient } from "@ml/marketo-client";
import { HttpResponse, http } from "msw";
import { setupServer } from "msw/node";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";

const BASE = "http://127.0.0.1:1";
const SECRET = "the-secret-value-7f3a";
const server = setupServer();
beforeAll(() => server.listen({ onUnhandledRequest: "error" }));
afterEach(() => server.resetHandlers());
afterAll(() => server.close());

const usage = () =>
  HttpResponse.json({ requestId: "r#1", success: true, result: [{ date: "2026-03-02", total: 1, users: [] }] });
const refused = (code: "601" | "602") =>
  HttpResponse.json({ requestId: "r#x", success: false, errors: [{ code, message: `refused ${code}` }] });

function client(time: FakeTime, margin = 60_000) {
  return new MarketoClient({
    baseUrls: { rest: `${BASE}/rest`, identity: `${BASE}/identity`, bulk: `${BASE}/bulk` },
    allowHttp: true,
    network: { allowLoopback: true },
    clientId: "cid",
    clientSecret: SECRET,
    clock: time.clock,
    sleep: time.sleep,
    random: () => 0.5,
    usageSync: false,
    tokenRefreshMarginMs: margin,
  });
}

/** Runs one call, moving the fake clock in 50 ms steps until it settles; answers how long it waited (fake ms). */
async function timed<T>(time: FakeTime, call: () => Promise<T>): Promise<{ value: T; waitedMs: number }> {
  const start = time.clock.now();
  let done = false;
  const p = call().finally(() => {
    done = true;
  });
  await flush();
  while (!done) await time.advance(50);
  return { value: await p, waitedMs: time.clock.now() - start };
}

/** Identity issuing a brand-new token on every request (1 h life); returns the tokens it issued. */
function newTokenPerRequest(): string[] {
  const issued: string[] = [];
  server.use(
    http.post(`${BASE}/identity/oauth/token`, () => {
      const token = `tok-${issued.length + 1}-0123456789abcdef`;
      issued.push(token);
      return HttpResponse.json({ access_token: token, token_type: "bearer", expires_in: 3600 });
    }),
  );
  return issued;
}

const bearer = (request: Request) => (request.headers.get("authorization") ?? "").replace(/^Bearer /, "");

describe("a rejected token that is not the newest one is renewed and retried, not fatal", () => {
  it("an injected 601 on the retry of a call that carried the old (expired) token: the call succeeds", async () => {
    const time = new FakeTime();
    const issued = newTokenPerRequest();
    const seen: string[] = [];
    let injected = 0;
    server.use(
      http.get(`${BASE}/rest/v1/stats/usage.json`, ({ request }) => {
        const token = bearer(request);
        seen.push(token);
        if (seen.length === 1) return usage(); // warms the client with tok-1
        if (token === issued[0]) return refused("602"); // Marketo expired tok-1 before the client's clock said so
        if (injected++ === 0) return refused("601"); // the retry's token refused once (a forced revocation)
        return usage();
      }),
    );
    const mk = client(time);
    await mk.stats.usage();
    await expect(mk.stats.usage()).resolves.toMatchObject({ total: 1 });
    expect(seen).toEqual([issued[0], issued[0], issued[1], issued[2]]);
  });

  it("a token re-issued unchanged inside the margin, then expired by Marketo: the successor is waited for, no failed call", async () => {
    const time = new FakeTime();
    // Identity hands out one token until its own end (1 h); Marketo's REST side lets it lapse 2 s earlier.
    const identityEnd = new Map<string, number>();
    let current: string | undefined;
    let identity = 0;
    server.use(
      http.post(`${BASE}/identity/oauth/token`, () => {
        identity++;
        const now = time.clock.now();
        if (current === undefined || now >= (identityEnd.get(current) ?? 0)) {
          current = `tok-${identityEnd.size + 1}-0123456789abcdef`;
          identityEnd.set(current, now + 3_600_000);
        }
        return HttpResponse.json({
          access_token: current,
          token_type: "bearer",
          expires_in: Math.floor(((identityEnd.get(current) ?? 0) - now) / 1000),
        });
      }),
      http.get(`${BASE}/rest/v1/stats/usage.json`, ({ request }) => {
        const end = identityEnd.get(bearer(request));
        return end !== undefined && time.clock.now() < end - 2_000 ? usage() : refused("602");
      }),
    );
    const mk = client(time);
    await mk.stats.usage();
    await time.advance(3_600_000 - 30_000); // inside the 60 s margin: renewed in the background, same token back
    await mk.stats.usage();
    await flush();
    expect(identity).toBe(2);
    await time.advance(30_000 - 1_800); // REST lapsed it 0.2 s ago; the client still thinks it has 1.8 s
    const { value, waitedMs } = await timed(time, () => mk.stats.usage());
    expect(value).toMatchObject({ total: 1 });
    // Held back only until identity could issue the successor, within successorMaxWaitMs (5 s).
    expect(waitedMs).toBeLessThanOrEqual(5_000);
    expect(identityEnd.size).toBe(2);
  });

  it("concurrent calls on an expired token, its successor revoked once: one renewal per refused token, no failed call", async () => {
    const time = new FakeTime();
    const issued = newTokenPerRequest();
    let warm = false;
    server.use(
      http.get(`${BASE}/rest/v1/stats/usage.json`, ({ request }) => {
        const token = bearer(request);
        if (!warm) {
          warm = true;
          return usage();
        }
        if (token === issued[0]) return refused("602"); // expired on Marketo's side
        if (token === issued[1]) return refused("601"); // revoked right after it was issued
        return usage();
      }),
    );
    const mk = client(time);
    await mk.stats.usage();
    const calls = [mk.stats.usage(), mk.stats.usage(), mk.stats.usage(), mk.stats.usage()];
    await expect(Promise.all(calls)).resolves.toHaveLength(4);
    // Single-flight: the callers refused together shared each renewal.
    expect(issued).toHaveLength(3);
  });
});

describe("a freshly issued token refused again is still a fatal auth error", () => {
  it("a fresh token rejected twice (identity hands it back): MarketoAuthError, not retryable, without the secret or token", async () => {
    const time = new FakeTime();
    const token = "only-token-0123456789abcdef";
    let identity = 0;
    let rest = 0;
    server.use(
      // Like Marketo's identity: the same token until it lapses.
      http.post(`${BASE}/identity/oauth/token`, () => {
        identity++;
        return HttpResponse.json({ access_token: token, token_type: "bearer", expires_in: 3600 });
      }),
      http.get(`${BASE}/rest/v1/stats/usage.json`, () => {
        rest++;
        return refused("601");
      }),
    );
    const mk = client(time);
    const error = await mk.stats.usage().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MarketoAuthError);
    const e = error as MarketoAuthError;
    expect(e.code).toBe("601");
    expect(e.retryable).toBe(false);
    expect(e.message).toMatch(/freshly renewed token twice/);
    // Issued for this call, refused, handed back by identity, refused again: no third attempt.
    expect(rest).toBe(2);
    expect(identity).toBe(2);
    const text = `${e.message} ${JSON.stringify(e)} ${e.stack} ${inspect(e, { showHidden: true, depth: 10 })}`;
    for (const secret of [SECRET, token]) expect(text).not.toContain(secret);
  });

  it("identity issuing a new token every time, all refused: at most 3 renewals per call", async () => {
    const time = new FakeTime();
    const issued = newTokenPerRequest();
    let rest = 0;
    server.use(http.get(`${BASE}/rest/v1/stats/usage.json`, () => (++rest === 1 ? usage() : refused("602"))));
    const mk = client(time);
    await mk.stats.usage();
    const error = await mk.stats.usage().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MarketoAuthError);
    expect((error as MarketoAuthError).message).toMatch(/after 3 renewals/);
    expect(rest).toBe(5); // warm-up, then tok-1 (old) and tok-2..tok-4 (each new, each refused)
    expect(issued).toHaveLength(4);
  });

  it("identity re-issuing the token it issued before the call, Marketo refusing it: at most 3 renewals per call", async () => {
    const time = new FakeTime();
    let identity = 0;
    let rest = 0;
    server.use(
      http.post(`${BASE}/identity/oauth/token`, () => {
        identity++;
        return HttpResponse.json({ access_token: "same-token-0123456789", token_type: "bearer", expires_in: 3600 });
      }),
      http.get(`${BASE}/rest/v1/stats/usage.json`, () => (++rest === 1 ? usage() : refused("601"))),
    );
    const mk = client(time);
    await mk.stats.usage();
    await expect(mk.stats.usage()).rejects.toBeInstanceOf(MarketoAuthError);
    expect(rest).toBe(5);
    expect(identity).toBe(4);
  });
});
