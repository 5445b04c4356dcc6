import { inspect } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type HttpKernelError, hardenedFetch, isKernelError } from "../src/index.js";
import {
  answer,
  gzipBomb,
  type HostileServer,
  hugeBody,
  hugeHeaders,
  peakRss,
  redirectTo,
  silentAfterHeaders,
  startHostileServer,
  trickle,
} from "../src/testing/hostile-server.js";
import { FakeTime, flush } from "../src/testing/manual-clock.js";

const TOKEN = "tok-kernel-5b1e9a";
const MB = 1024 * 1024;

let tenant: HostileServer;
let other: HostileServer;
beforeAll(async () => {
  tenant = await startHostileServer();
  other = await startHostileServer(answer(200, '{"success":true,"result":[{"id":666,"status":"created"}]}'));
});
afterAll(async () => {
  await tenant.close();
  await other.close();
});

const base = {
  fetch: (i: string | URL | Request, init?: RequestInit) => fetch(i, init),
  timeoutMs: 10_000,
  maxBodyBytes: MB,
};

async function failure(p: Promise<unknown>): Promise<HttpKernelError> {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(isKernelError(e)).toBe(true);
  return e as HttpKernelError;
}

describe("redirects", () => {
  it.each([301, 302, 303, 307, 308])(
    "%i to another origin: a typed error, nothing reaches the other origin",
    async (status) => {
      const before = other.seen.length;
      tenant.handle(redirectTo(status, `${other.origin}/steal`));
      const e = await failure(
        hardenedFetch({
          ...base,
          url: `${tenant.origin}/oauth/token`,
          method: "POST",
          headers: { authorization: `Bearer ${TOKEN}` },
          body: "client_secret=s3cret-value",
        }),
      );
      expect(e).toMatchObject({ kind: "redirect", status, targetOrigin: other.origin });
      expect(other.seen.length).toBe(before);
      expect(inspect(e, { showHidden: true, depth: 10 })).not.toContain(TOKEN);
    },
  );

  it("a same-origin GET redirect is followed (no body); a same-origin POST redirect is refused", async () => {
    tenant.handle((req, res) => {
      if (req.url === "/a") res.writeHead(302, { location: "/b" }).end();
      else res.writeHead(200, { "content-type": "application/json" }).end(`{"at":"${req.url}"}`);
    });
    const ok = await hardenedFetch({ ...base, url: `${tenant.origin}/a`, method: "GET" });
    expect(await ok.text()).toBe('{"at":"/b"}');
    expect(ok.url).toBe(`${tenant.origin}/b`);
    const seen = tenant.seen.length;
    const e = await failure(hardenedFetch({ ...base, url: `${tenant.origin}/a`, method: "POST", body: "x=1" }));
    expect(e).toMatchObject({ kind: "redirect", status: 302, targetOrigin: tenant.origin });
    expect(tenant.seen.length).toBe(seen + 1);
  });

  it("a fetch implementation that follows redirects itself is not trusted across origins", async () => {
    const following = async () => {
      const r = await fetch(`${other.origin}/x`);
      Object.defineProperty(r, "redirected", { value: true });
      return r;
    };
    const e = await failure(hardenedFetch({ ...base, fetch: following, url: `${tenant.origin}/x`, method: "GET" }));
    expect(e).toMatchObject({ kind: "redirect", targetOrigin: other.origin });
  });
});

describe("one deadline over headers and body", () => {
  it("a body trickling a byte every 100 ms ends at the deadline with a timeout", async () => {
    tenant.handle(trickle(100));
    const res = await hardenedFetch({ ...base, timeoutMs: 600, url: `${tenant.origin}/slow`, method: "GET" });
    const e = await failure(res.text());
    expect(e).toMatchObject({ kind: "timeout", limit: 600 });
  });

  it("headers then silence ends at the deadline", async () => {
    tenant.handle(silentAfterHeaders());
    const res = await hardenedFetch({ ...base, timeoutMs: 300, url: `${tenant.origin}/silent`, method: "GET" });
    expect(await failure(res.text())).toMatchObject({ kind: "timeout" });
  });

  it("streaming mode bounds the gap between chunks instead", async () => {
    tenant.handle(silentAfterHeaders());
    const res = await hardenedFetch({
      ...base,
      timeoutMs: 5_000,
      bodyIdleMs: 200,
      url: `${tenant.origin}/s`,
      method: "GET",
    });
    expect(await failure(res.text())).toMatchObject({ kind: "timeout", limit: 200 });
  });

  it("the caller's abort wins, with its own reason", async () => {
    tenant.handle(silentAfterHeaders());
    const ac = new AbortController();
    const res = await hardenedFetch({ ...base, signal: ac.signal, url: `${tenant.origin}/s`, method: "GET" });
    const reason = new Error("stop");
    setTimeout(() => ac.abort(reason), 50);
    await expect(res.text()).rejects.toBe(reason);
  });
});

describe("the deadline on injected timers", () => {
  /** Lets loopback I/O run until `done()` holds (bounded by turns of the event loop, never by wall-clock time). */
  async function settle(done: () => boolean): Promise<void> {
    for (let i = 0; i < 500 && !done(); i++) await flush();
    expect(done()).toBe(true);
  }

  it("fires when the injected time reaches timeoutMs, not a moment before", async () => {
    tenant.handle(silentAfterHeaders());
    const time = new FakeTime();
    const res = await hardenedFetch({
      ...base,
      timers: time.timers,
      timeoutMs: 300,
      url: `${tenant.origin}/f`,
      method: "GET",
    });
    let outcome: unknown;
    const reading = res.text().then(
      () => "answered",
      (e: unknown) => e,
    );
    void reading.then((o) => {
      outcome = o;
    });
    expect(time.pending).toBe(1);
    await time.advance(299);
    await flush();
    expect(outcome).toBeUndefined();
    await time.advance(1);
    await settle(() => outcome !== undefined);
    expect(outcome).toMatchObject({ kind: "timeout", limit: 300 });
    expect(time.pending).toBe(0);
  });

  it("streaming mode re-arms bodyIdleMs on the injected timers", async () => {
    tenant.handle(silentAfterHeaders());
    const time = new FakeTime();
    const res = await hardenedFetch({
      ...base,
      timers: time.timers,
      timeoutMs: 5_000,
      bodyIdleMs: 200,
      url: `${tenant.origin}/fs`,
      method: "GET",
    });
    // The headers' deadline was cleared and the idle one armed in its place.
    expect(time.pending).toBe(1);
    const reading = res.text().catch((e: unknown) => e);
    await time.advance(200);
    expect(await reading).toMatchObject({ kind: "timeout", limit: 200 });
  });

  it("a complete answer clears its deadline", async () => {
    tenant.handle(answer(200, '{"ok":true}'));
    const time = new FakeTime();
    const res = await hardenedFetch({ ...base, timers: time.timers, url: `${tenant.origin}/ok`, method: "GET" });
    expect(await res.text()).toBe('{"ok":true}');
    expect(time.pending).toBe(0);
  });
});

describe("byte limits", () => {
  it("an endless chunked body stops at the limit with too_large", async () => {
    tenant.handle(hugeBody(Number.POSITIVE_INFINITY));
    const res = await hardenedFetch({ ...base, url: `${tenant.origin}/big`, method: "GET" });
    expect(await failure(res.text())).toMatchObject({ kind: "too_large", limit: MB });
  });

  it("a declared Content-Length over the limit is refused before reading", async () => {
    tenant.handle(hugeBody(50 * MB, { declareLength: true }));
    const e = await failure(hardenedFetch({ ...base, url: `${tenant.origin}/big`, method: "GET" }));
    expect(e).toMatchObject({ kind: "too_large", limit: MB });
    expect(e.message).toContain(String(50 * MB));
  });

  it("a gzip bomb stops at the decoded limit, memory stays bounded", async () => {
    tenant.handle(gzipBomb(1024 * MB));
    const { peak, baseline, result } = await peakRss(async () => {
      const res = await hardenedFetch({
        ...base,
        timeoutMs: 20_000,
        maxBodyBytes: 8 * MB,
        url: `${tenant.origin}/bomb`,
        method: "GET",
      });
      return res.text();
    });
    expect(result.status).toBe("rejected");
    expect((result as PromiseRejectedResult).reason).toMatchObject({ kind: "too_large", limit: 8 * MB });
    expect(peak - baseline).toBeLessThan(64 * MB);
  });
});

describe("network failures: plain summaries", () => {
  it("oversized headers are a network error naming the undici code", async () => {
    tenant.handle(hugeHeaders());
    const e = await failure(hardenedFetch({ ...base, url: `${tenant.origin}/h`, method: "GET" }));
    expect(e).toMatchObject({ kind: "network", causeCode: "UND_ERR_HEADERS_OVERFLOW" });
  });

  it("a refused connection names ECONNREFUSED and was not sent; a blocked port is BAD_PORT", async () => {
    const closed = await startHostileServer();
    const url = `${closed.origin}/x`;
    await closed.close();
    const e = await failure(
      hardenedFetch({ ...base, url, method: "POST", headers: { authorization: `Bearer ${TOKEN}` }, body: "a" }),
    );
    expect(e).toMatchObject({ kind: "network", causeCode: "ECONNREFUSED", maybeSent: false, host: new URL(url).host });
    expect(e.cause).toBeUndefined();
    expect(inspect(e, { showHidden: true, depth: 10 }) + JSON.stringify(e)).not.toContain(TOKEN);
    const bad = await failure(hardenedFetch({ ...base, url: "http://127.0.0.1:6000/", method: "GET" }));
    expect(bad).toMatchObject({ kind: "network", causeCode: "BAD_PORT", maybeSent: false });
  });
});

describe("text() with a lower limit", () => {
  it("a streaming request reads a JSON answer with the lower limit", async () => {
    tenant.handle(hugeBody(4 * MB));
    const res = await hardenedFetch({ ...base, maxBodyBytes: 64 * MB, url: `${tenant.origin}/j`, method: "GET" });
    expect(await failure(res.text(MB))).toMatchObject({ kind: "too_large", limit: MB });
  });
});
