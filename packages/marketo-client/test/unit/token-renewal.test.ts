import { FakeTime, flush } from "@ml/http-kernel/testing";
import { MarketoClient } from "@ml/marketo-client";
import { HttpResponse, http } from "msw";
import { setupServer } from "msw/node";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";

const BASE = "http://127.0.0.1:1";
const server = setupServer();
beforeAll(() => server.listen({ onUnhandledRequest: "error" }));
afterEach(() => server.resetHandlers());
afterAll(() => server.close());

const usage = () =>
  HttpResponse.json({ requestId: "r#1", success: true, result: [{ date: "2026-03-02", total: 1, users: [] }] });

/**
 * Marketo's identity on a fake clock: one token per `ttlMs`, handed out again unchanged until it lapses, with
 * `expires_in` the whole seconds left (floored). The REST side answers 602 for a lapsed token.
 */
function marketoLike(time: FakeTime, ttlMs: number, failIdentity: () => boolean = () => false) {
  const tokens = new Map<string, number>();
  let current: { token: string; expiry: number } | undefined;
  const stats = { identity: 0, expiredUses: 0 };
  server.use(
    http.post(`${BASE}/identity/oauth/token`, () => {
      stats.identity++;
      if (failIdentity()) return HttpResponse.text("bad gateway", { status: 502 });
      const now = time.clock.now();
      if (!current || now >= current.expiry) {
        current = { token: `tok-${tokens.size + 1}`, expiry: now + ttlMs };
        tokens.set(current.token, current.expiry);
      }
      return HttpResponse.json({
        access_token: current.token,
        token_type: "bearer",
        expires_in: Math.floor((current.expiry - now) / 1000),
      });
    }),
    http.get(`${BASE}/rest/v1/stats/usage.json`, ({ request }) => {
      const token = (request.headers.get("authorization") ?? "").replace(/^Bearer /, "");
      const expiry = tokens.get(token);
      if (expiry === undefined || time.clock.now() >= expiry) {
        stats.expiredUses++;
        return HttpResponse.json({ requestId: "r#x", success: false, errors: [{ code: "602", message: "expired" }] });
      }
      return usage();
    }),
  );
  return stats;
}

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

/** Runs one call, moving the fake clock in 50 ms steps until it settles; answers how long it waited (fake ms). */
async function timed(time: FakeTime, call: () => Promise<unknown>): Promise<number> {
  const start = time.clock.now();
  let done = false;
  const p = call().finally(() => {
    done = true;
  });
  await flush();
  while (!done) await time.advance(50);
  await p;
  return time.clock.now() - start;
}

const BOUND_MS = 2_000;

describe("token renewal never holds calls back for long", () => {
  it("short-TTL tokens re-issued unchanged inside the margin: every call within the bound, no expired token sent", async () => {
    const time = new FakeTime();
    // 10.7 s tokens with a 60 s margin: every token is inside the margin from the start, and expires_in is floored.
    const stats = marketoLike(time, 10_700);
    const mk = client(time);
    const waits: number[] = [];
    for (let t = 0; t < 60_000; t += 250) {
      const w = await timed(time, () => mk.stats.usage());
      waits.push(w);
      if (w < 250) await time.advance(250 - w);
    }
    expect(Math.max(...waits)).toBeLessThanOrEqual(BOUND_MS);
    expect(stats.expiredUses).toBe(0);
    // Identity is not asked per call: a few times per token, not once for each of the 240 calls.
    expect(stats.identity).toBeLessThan(60);
  });

  it("a failing renewal in the background does not hold calls while the token is valid; it is retried with backoff", async () => {
    const time = new FakeTime();
    let failing = false;
    const stats = marketoLike(time, 3_600_000, () => failing);
    const mk = client(time);
    await mk.stats.usage();
    await time.advance(3_600_000 - 50_000); // 50 s left: inside the 60 s margin
    failing = true;
    const before = stats.identity;
    const waits: number[] = [];
    for (let i = 0; i < 40; i++) {
      waits.push(await timed(time, () => mk.stats.usage()));
      await time.advance(1_000);
    }
    expect(Math.max(...waits)).toBe(0);
    const attempts = stats.identity - before;
    // 40 s of calls: backoff (1, 2, 4, 8, 16 s) keeps the attempts to a handful, not one per call.
    expect(attempts).toBeGreaterThanOrEqual(2);
    expect(attempts).toBeLessThanOrEqual(8);
    failing = false;
    // Once identity answers again, the token expiring next still gets renewed before the calls need it.
    for (let i = 0; i < 20; i++) {
      waits.push(await timed(time, () => mk.stats.usage()));
      await time.advance(1_000);
    }
    expect(Math.max(...waits)).toBeLessThanOrEqual(BOUND_MS);
    expect(stats.expiredUses).toBe(0);
  });
});
