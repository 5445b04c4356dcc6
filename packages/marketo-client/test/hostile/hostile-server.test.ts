/**
 * The Marketo client against hostile and broken servers on loopback: redirects of every code to another origin,
 * slow, silent, endless, huge and gzip-bomb bodies, huge headers, malformed JSON and HTML error pages. Every call
 * settles with a typed error, within its deadline (plus a generous bound), no credential or body reaches another
 * origin, and memory stays bounded. Long variants (200 MB bodies, 3 GB bombs, second-long trickles):
 * `ML_HOSTILE_LONG=1`.
 */
import { inspect } from "node:util";
import {
  answer,
  gzipBomb,
  type HostileHandler,
  type HostileServer,
  hugeBody,
  hugeHeaders,
  LONG_HOSTILE,
  peakRss,
  redirectTo,
  silentAfterHeaders,
  startHostileServer,
  trickle,
} from "@ml/http-kernel/testing";
import {
  isMarketoError,
  MarketoClient,
  MarketoHttpError,
  MarketoNetworkError,
  MarketoRedirectError,
  MarketoResponseParseError,
  MarketoResponseTooLargeError,
  MarketoTimeoutError,
} from "@ml/marketo-client";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";

const SECRET = "mk-secret-7f3a91c2";
const TOKEN = "mk-token-d41e08b6";
const MB = 1024 * 1024;
const DEADLINE = LONG_HOSTILE ? 3_000 : 400;
/**
 * Cases that are not about time get a deadline a busy machine (the whole suite in parallel, reading 16 MiB) never
 * reaches; the deadline cases use the short `DEADLINE`.
 */
const SIZE_DEADLINE = 30_000;

let tenant: HostileServer;
let attacker: HostileServer;

beforeAll(async () => {
  tenant = await startHostileServer();
  attacker = await startHostileServer(answer(200, '{"success":true,"result":[{"id":666,"status":"created"}]}'));
});
afterAll(async () => {
  await tenant.close();
  await attacker.close();
});
afterEach(() => {
  tenant.seen.length = 0;
  attacker.seen.length = 0;
});

/** The tenant answers the token endpoint normally and everything else with `rest`. */
function serve(rest: HostileHandler, identity?: HostileHandler): void {
  tenant.handle((req, res, seen) => {
    if (req.url?.startsWith("/identity/")) {
      if (identity) return identity(req, res, seen);
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ access_token: TOKEN, token_type: "bearer", expires_in: 3600 }));
      return;
    }
    return rest(req, res, seen);
  });
}

function client(options: { maxResponseBytes?: number; timeoutMs?: number } = {}) {
  const logs: string[] = [];
  const log = (obj: object, msg?: string) => logs.push(`${msg ?? ""} ${inspect(obj, { depth: 10, showHidden: true })}`);
  const mk = new MarketoClient({
    baseUrls: { rest: `${tenant.origin}/rest`, identity: `${tenant.origin}/identity`, bulk: `${tenant.origin}/bulk` },
    allowHttp: true,
    network: { allowLoopback: true },
    clientId: "cid-hostile",
    clientSecret: SECRET,
    usageSync: false,
    retry: { maxRetries: 0 },
    timeoutMs: SIZE_DEADLINE,
    sleep: async () => {},
    logger: { debug: log, info: log, warn: log, error: log },
    ...options,
  });
  return { mk, logs };
}

/** Runs `call`, expects it to reject, and checks what every rejection must hold: typed, settled in time, no secret. */
async function settlesTyped(call: () => Promise<unknown>, logs: string[], deadline = SIZE_DEADLINE): Promise<unknown> {
  const started = performance.now();
  const e = await call().then(
    () => undefined,
    (x: unknown) => x,
  );
  // Generous bound only (never the exact time): the deadline plus one second.
  expect(performance.now() - started).toBeLessThan(deadline + 1_000 + (LONG_HOSTILE ? 60_000 : 4_000));
  expect(isMarketoError(e)).toBe(true);
  const shown = [
    inspect(e, { showHidden: true, depth: 10 }),
    JSON.stringify(e),
    String((e as Error).stack),
    ...logs,
  ].join("\n");
  expect(shown).not.toContain(SECRET);
  expect(shown).not.toContain(TOKEN);
  return e;
}

const describeLeads = (mk: MarketoClient) => mk.companies.describe();
const writeCompany = (mk: MarketoClient) =>
  mk.companies.sync({ action: "createOrUpdate", input: [{ externalCompanyId: "C-1", company: "Acme" }] });

describe("redirects to another origin are never followed", () => {
  it.each([301, 302, 303, 307, 308])(
    "HTTP %i on a company write: typed error, nothing reaches the other origin",
    async (status) => {
      serve(redirectTo(status, `${attacker.origin}/rest/v1/companies/sync.json`));
      const { mk, logs } = client();
      const e = await settlesTyped(() => writeCompany(mk), logs);
      expect(e).toBeInstanceOf(MarketoRedirectError);
      expect(e).toMatchObject({ code: "REDIRECT", status, targetOrigin: attacker.origin, retryable: false });
      expect(
        tenant.seen.some((r) => r.method === "POST" && r.url.includes("/v1/companies.json") && r.body.includes("C-1")),
      ).toBe(true);
      expect(attacker.seen).toEqual([]);
    },
  );

  it.each([301, 302, 303, 307, 308])(
    "HTTP %i on the token request: the client_secret is not re-posted",
    async (status) => {
      serve(answer(200, "{}"), redirectTo(status, `${attacker.origin}/identity/oauth/token`));
      const { mk, logs } = client();
      const e = await settlesTyped(() => describeLeads(mk), logs);
      expect(e).toBeInstanceOf(MarketoRedirectError);
      expect(e).toMatchObject({ targetOrigin: attacker.origin });
      expect(attacker.seen).toEqual([]);
    },
  );

  it.each([301, 302, 307])("HTTP %i on a read: no bearer token goes to the other origin", async (status) => {
    serve(redirectTo(status, `${attacker.origin}/rest/v1/companies/describe.json`));
    const { mk, logs } = client();
    const e = await settlesTyped(() => describeLeads(mk), logs);
    expect(e).toBeInstanceOf(MarketoRedirectError);
    expect(attacker.seen).toEqual([]);
  });
});

describe("deadlines cover the body", () => {
  it("a body trickling one byte at a time ends at the deadline (REST call)", async () => {
    serve(trickle(LONG_HOSTILE ? 1_000 : 50));
    const { mk, logs } = client({ timeoutMs: DEADLINE });
    const e = await settlesTyped(() => describeLeads(mk), logs, DEADLINE);
    expect(e).toBeInstanceOf(MarketoTimeoutError);
    expect(e).toMatchObject({ code: "TIMEOUT", timeoutMs: DEADLINE });
  });

  it("a token endpoint trickling its body ends at the deadline", async () => {
    serve(answer(200, "{}"), trickle(LONG_HOSTILE ? 1_000 : 50));
    const { mk, logs } = client({ timeoutMs: DEADLINE });
    expect(await settlesTyped(() => describeLeads(mk), logs, DEADLINE)).toBeInstanceOf(MarketoTimeoutError);
  });

  it("headers then silence ends at the deadline", async () => {
    serve(silentAfterHeaders());
    const { mk, logs } = client({ timeoutMs: DEADLINE });
    expect(await settlesTyped(() => describeLeads(mk), logs, DEADLINE)).toBeInstanceOf(MarketoTimeoutError);
  });
});

describe("body size bounds", () => {
  it("an endless body stops at maxResponseBytes", async () => {
    serve(hugeBody(Number.POSITIVE_INFINITY));
    const { mk, logs } = client({ maxResponseBytes: 2 * MB, timeoutMs: SIZE_DEADLINE });
    const e = await settlesTyped(() => describeLeads(mk), logs, SIZE_DEADLINE);
    expect(e).toBeInstanceOf(MarketoResponseTooLargeError);
    expect(e).toMatchObject({ code: "RESPONSE_TOO_LARGE", limitBytes: 2 * MB });
  });

  it("a huge body (200 MB long, 64 MB short) is refused with memory within 64 MB of the baseline", async () => {
    serve(hugeBody((LONG_HOSTILE ? 200 : 64) * MB));
    const { mk, logs } = client({ timeoutMs: SIZE_DEADLINE });
    const { peak, baseline, result } = await peakRss(() => settlesTyped(() => describeLeads(mk), logs, SIZE_DEADLINE));
    expect(result.status).toBe("fulfilled");
    expect((result as PromiseFulfilledResult<unknown>).value).toBeInstanceOf(MarketoResponseTooLargeError);
    expect(peak - baseline).toBeLessThan(64 * MB);
  });

  it("a gzip bomb (3 GB long, 512 MB short) stops at the decoded limit, memory bounded", async () => {
    serve(gzipBomb((LONG_HOSTILE ? 3072 : 512) * MB));
    const { mk, logs } = client({ timeoutMs: SIZE_DEADLINE });
    const { peak, baseline, result } = await peakRss(() => settlesTyped(() => describeLeads(mk), logs, SIZE_DEADLINE));
    expect((result as PromiseFulfilledResult<unknown>).value).toBeInstanceOf(MarketoResponseTooLargeError);
    expect(peak - baseline).toBeLessThan(64 * MB);
  });
});

describe("broken answers", () => {
  it("huge headers: a typed network error naming the cause", async () => {
    serve(hugeHeaders());
    const { mk, logs } = client();
    const e = await settlesTyped(() => describeLeads(mk), logs);
    expect(e).toBeInstanceOf(MarketoNetworkError);
    expect((e as Error).message).toContain("UND_ERR_HEADERS_OVERFLOW");
  });

  it("malformed JSON: a parse error", async () => {
    serve(answer(200, '{"success": tr'));
    const { mk, logs } = client();
    expect(await settlesTyped(() => describeLeads(mk), logs)).toBeInstanceOf(MarketoResponseParseError);
  });

  it("an HTML error page echoing the token: an HTTP error whose snippet is redacted", async () => {
    serve(
      answer(502, `<html><body>Bad gateway for Bearer ${TOKEN} client_secret=${SECRET}</body></html>`, "text/html"),
    );
    const { mk, logs } = client();
    const e = await settlesTyped(() => describeLeads(mk), logs);
    expect(e).toBeInstanceOf(MarketoHttpError);
    expect((e as MarketoHttpError).bodySnippet).toContain("[REDACTED]");
  });

  it("an envelope error keeps no token, not even under a hidden symbol (util.inspect showHidden)", async () => {
    serve(
      answer(200, JSON.stringify({ success: false, requestId: "r1", errors: [{ code: "603", message: "denied" }] })),
    );
    const { mk, logs } = client();
    const e = await settlesTyped(() => describeLeads(mk), logs);
    expect(e).toMatchObject({ code: "603" });
    expect(Object.getOwnPropertySymbols(e).map((k) => String((e as Record<symbol, unknown>)[k]))).not.toContain(TOKEN);
  });

  it("a refused connection: a typed network error naming ECONNREFUSED, with a plain cause", async () => {
    const gone = await startHostileServer();
    const origin = gone.origin;
    await gone.close();
    const mk = new MarketoClient({
      baseUrls: { rest: `${origin}/rest`, identity: `${tenant.origin}/identity`, bulk: `${origin}/bulk` },
      allowHttp: true,
      network: { allowLoopback: true },
      clientId: "cid",
      clientSecret: SECRET,
      usageSync: false,
      retry: { maxRetries: 0 },
      sleep: async () => {},
    });
    serve(answer(200, "{}"));
    const e = await settlesTyped(() => describeLeads(mk), []);
    expect(e).toBeInstanceOf(MarketoNetworkError);
    expect((e as Error).message).toContain("ECONNREFUSED");
    expect((e as Error & { cause: unknown }).cause).toMatchObject({
      name: "HttpKernelError",
      causeCode: "ECONNREFUSED",
    });
  });
});
