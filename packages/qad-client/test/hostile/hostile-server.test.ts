/**
 * The QAD client (REST with each login kind, and QXtend) against hostile and broken servers on loopback: redirects of
 * every code to another origin, slow, silent, endless, huge and gzip-bomb bodies, huge headers, malformed JSON, HTML
 * error pages and answers that echo credentials back. Every call settles with a typed error within its deadline
 * (plus a generous bound), no credential or body reaches another origin, memory stays bounded, and no secret is kept
 * on an error or a log line. Long variants (200 MB bodies, 3 GB bombs, second-long trickles): `ML_HOSTILE_LONG=1`.
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
  isQadError,
  QadClient,
  type QadClientOptions,
  QadHttpError,
  QadPermissionError,
  QadRedirectError,
  QadResponseParseError,
  QadResponseTooLargeError,
  QadTimeoutError,
} from "@ml/qad-client";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";

const PASSWORD = "qad-pass-19c7e2";
const SECRET = "qad-secret-4be1a0";
const TOKEN = "qad-token-a8d53f";
const REFRESH = "qad-refresh-70e2cc";
const MB = 1024 * 1024;
const DEADLINE = LONG_HOSTILE ? 3_000 : 400;
/**
 * Cases that are not about time get a deadline a busy machine (the whole suite in parallel, reading 16 MiB) never
 * reaches; the deadline cases use the short `DEADLINE`.
 */
const SIZE_DEADLINE = 30_000;
const PATH = "api/erp/customerV2s";

let tenant: HostileServer;
let attacker: HostileServer;

beforeAll(async () => {
  tenant = await startHostileServer();
  attacker = await startHostileServer(answer(200, '{"data":[{"customerCode":"EVIL"}]}'));
});
afterAll(async () => {
  await tenant.close();
  await attacker.close();
});
afterEach(() => {
  tenant.seen.length = 0;
  attacker.seen.length = 0;
});

/** The tenant answers logins normally (unless `login` is given) and every data call with `data`. */
function serve(data: HostileHandler, login?: HostileHandler): void {
  tenant.handle((req, res, seen) => {
    if (req.url?.includes("/oauth/token") || req.url?.includes("/api/qracore/login")) {
      if (login) return login(req, res, seen);
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ access_token: TOKEN, token: TOKEN, refresh_token: REFRESH, expires_in: 3600 }));
      return;
    }
    return data(req, res, seen);
  });
}

type Kind = "password" | "clientCredentials" | "session" | "qxtend";

function client(kind: Kind = "password", extra: Partial<QadClientOptions> = {}) {
  const logs: string[] = [];
  const log = (obj: object, msg?: string) => logs.push(`${msg ?? ""} ${inspect(obj, { depth: 10, showHidden: true })}`);
  const common = {
    tenantUrl: `${tenant.origin}/clouderp`,
    allowHttp: true,
    network: { allowLoopback: true },
    allowedPaths: [PATH],
    restProbePath: false as const,
    token: { securityControlPath: false as const },
    timeoutMs: extra.timeoutMs ?? SIZE_DEADLINE,
    retry: { maxRetries: 0 },
    sleep: async () => {},
    logger: { debug: log, info: log, warn: log, error: log },
  };
  const auth =
    kind === "session"
      ? { kind: "session" as const, username: "svc", password: PASSWORD }
      : kind === "clientCredentials"
        ? { kind: "clientCredentials" as const, clientId: "cid", clientSecret: SECRET }
        : { kind: "password" as const, clientId: "cid", clientSecret: SECRET, username: "svc", password: PASSWORD };
  const qad =
    kind === "qxtend"
      ? new QadClient({
          ...common,
          protocol: "qxtend",
          qxtend: {
            url: `${tenant.origin}/qxi/services/QdocWebService`,
            receiver: "qad-qxtend",
            version: "eB2_1",
            domain: "10USA",
            username: "mfg",
            password: PASSWORD,
            profiles: { customers: "Customer" },
            timeoutMs: extra.timeoutMs ?? SIZE_DEADLINE,
            retry: { maxRetries: 0, baseDelayMs: 1, maxDelayMs: 1 },
            ...(extra.maxResponseBytes !== undefined ? { maxResponseBytes: extra.maxResponseBytes } : {}),
          },
          ...extra,
        })
      : new QadClient({ ...common, auth, ...extra });
  const call = async () => {
    if (kind === "qxtend") {
      for await (const _ of qad.customers.list()) break;
      return;
    }
    return qad.get(PATH);
  };
  return { qad, call, logs };
}

/** Expects `call` to reject with a typed error, settled in time, keeping no secret anywhere. */
async function settlesTyped(call: () => Promise<unknown>, logs: string[], deadline = SIZE_DEADLINE): Promise<unknown> {
  const started = performance.now();
  const e = await call().then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(performance.now() - started).toBeLessThan(deadline + 1_000 + (LONG_HOSTILE ? 60_000 : 4_000));
  expect(isQadError(e)).toBe(true);
  const shown = [
    inspect(e, { showHidden: true, depth: 10 }),
    JSON.stringify(e),
    String((e as Error).stack),
    ...logs,
  ].join("\n");
  for (const secret of [PASSWORD, SECRET, TOKEN, REFRESH]) expect(shown).not.toContain(secret);
  return e;
}

describe("redirects to another origin are never followed", () => {
  const codes = [301, 302, 303, 307, 308];

  it.each(codes)(
    "HTTP %i on the password grant: no password, no secret, no request reaches the other origin",
    async (status) => {
      serve(answer(200, "{}"), redirectTo(status, `${attacker.origin}/oauth/token`));
      const { call, logs } = client("password");
      const e = await settlesTyped(call, logs);
      expect(e).toBeInstanceOf(QadRedirectError);
      expect(e).toMatchObject({ code: "redirect", status, targetOrigin: attacker.origin, retryable: false });
      expect(tenant.seen.some((r) => r.body.includes("grant_type=password"))).toBe(true);
      expect(attacker.seen).toEqual([]);
    },
  );

  it.each(codes)("HTTP %i on the session login: the password is not re-posted", async (status) => {
    serve(answer(200, "{}"), redirectTo(status, `${attacker.origin}/api/qracore/login`));
    const { call, logs } = client("session");
    expect(await settlesTyped(call, logs)).toBeInstanceOf(QadRedirectError);
    expect(attacker.seen).toEqual([]);
  });

  it.each(codes)("HTTP %i on a data read: no bearer token reaches the other origin", async (status) => {
    serve(redirectTo(status, `${attacker.origin}/clouderp/${PATH}`));
    const { call, logs } = client("clientCredentials");
    expect(await settlesTyped(call, logs)).toBeInstanceOf(QadRedirectError);
    expect(attacker.seen).toEqual([]);
  });

  it.each(codes)("HTTP %i on a QXtend query: the envelope (with its password) is not re-sent", async (status) => {
    serve(redirectTo(status, `${attacker.origin}/qxi/services/QdocWebService`));
    const { call, logs } = client("qxtend");
    expect(await settlesTyped(call, logs)).toBeInstanceOf(QadRedirectError);
    expect(tenant.seen.some((r) => r.body.includes("Envelope"))).toBe(true);
    expect(attacker.seen).toEqual([]);
  });
});

describe("one deadline over headers and body", () => {
  const every = LONG_HOSTILE ? 1_000 : 50;
  it.each<Kind>(["password", "qxtend"])(
    "a body trickling one byte at a time ends at the deadline (%s)",
    async (kind) => {
      serve(trickle(every, kind === "qxtend" ? "text/xml" : "application/json"));
      const { call, logs } = client(kind, { timeoutMs: DEADLINE });
      const e = await settlesTyped(call, logs, DEADLINE);
      expect(e).toBeInstanceOf(QadTimeoutError);
      expect(e).toMatchObject({ retryable: true, timeoutMs: DEADLINE });
    },
  );

  it("a token endpoint trickling its body ends at the deadline", async () => {
    serve(answer(200, "{}"), trickle(every));
    const { call, logs } = client("password", { timeoutMs: DEADLINE });
    const e = await settlesTyped(call, logs, DEADLINE);
    expect(e).toBeInstanceOf(QadHttpError);
    expect((e as Error).message).toMatch(/timed out/);
  });

  it("headers then silence ends at the deadline", async () => {
    serve(silentAfterHeaders());
    const { call, logs } = client("password", { timeoutMs: DEADLINE });
    expect(await settlesTyped(call, logs, DEADLINE)).toBeInstanceOf(QadTimeoutError);
  });
});

describe("body size bounds", () => {
  it.each<Kind>(["password", "qxtend"])("an endless body stops at maxResponseBytes (%s)", async (kind) => {
    serve(hugeBody(Number.POSITIVE_INFINITY));
    const { call, logs } = client(kind, { maxResponseBytes: 2 * MB, timeoutMs: SIZE_DEADLINE });
    const e = await settlesTyped(call, logs, SIZE_DEADLINE);
    expect(e).toBeInstanceOf(QadResponseTooLargeError);
    expect(e).toMatchObject({ code: "too_large", limitBytes: 2 * MB, retryable: false });
  });

  it("a huge body (200 MB long, 64 MB short) is refused, memory within 64 MB of the baseline", async () => {
    serve(hugeBody((LONG_HOSTILE ? 200 : 64) * MB));
    const { call, logs } = client("password", { timeoutMs: SIZE_DEADLINE });
    const { peak, baseline, result } = await peakRss(() => settlesTyped(call, logs, SIZE_DEADLINE));
    expect((result as PromiseFulfilledResult<unknown>).value).toBeInstanceOf(QadResponseTooLargeError);
    expect(peak - baseline).toBeLessThan(64 * MB);
  });

  it("a gzip bomb (3 GB long, 512 MB short) stops at the decoded limit, memory bounded", async () => {
    serve(gzipBomb((LONG_HOSTILE ? 3072 : 512) * MB));
    const { call, logs } = client("password", { timeoutMs: SIZE_DEADLINE });
    const { peak, baseline, result } = await peakRss(() => settlesTyped(call, logs, SIZE_DEADLINE));
    expect((result as PromiseFulfilledResult<unknown>).value).toBeInstanceOf(QadResponseTooLargeError);
    expect(peak - baseline).toBeLessThan(64 * MB);
  });
});

describe("broken and echoing answers", () => {
  it("huge headers: a typed, retryable network error naming the cause", async () => {
    serve(hugeHeaders());
    const { call, logs } = client("password");
    const e = await settlesTyped(call, logs);
    expect(e).toBeInstanceOf(QadHttpError);
    expect(e).toMatchObject({ retryable: true });
    expect((e as Error).message).toContain("UND_ERR_HEADERS_OVERFLOW");
  });

  it("malformed JSON: a parse error", async () => {
    serve(answer(200, '{"data": [tr'));
    const { call, logs } = client("password");
    expect(await settlesTyped(call, logs)).toBeInstanceOf(QadResponseParseError);
  });

  it("an HTML error page echoing the token and password: redacted snippet", async () => {
    serve(answer(502, `<html>upstream said Bearer ${TOKEN} for password=${PASSWORD} ${REFRESH}</html>`, "text/html"));
    const { call, logs } = client("password");
    const e = await settlesTyped(call, logs);
    expect(e).toBeInstanceOf(QadHttpError);
    expect((e as QadHttpError).bodySnippet).toContain("[redacted]");
  });

  it("a 403 echoing the token in its message: redacted in the message and errors", async () => {
    serve(answer(403, JSON.stringify({ errors: [{ severity: 1, code: "403", message: `denied for ${TOKEN}` }] })));
    const { call, logs } = client("password");
    const e = await settlesTyped(call, logs);
    expect(e).toBeInstanceOf(QadPermissionError);
    expect((e as Error).message).toContain("denied for [redacted]");
  });

  it("a refused connection: a typed error naming ECONNREFUSED, whose cause is a plain summary", async () => {
    const gone = await startHostileServer();
    const origin = gone.origin;
    await gone.close();
    const { call } = client("password", { tenantUrl: `${origin}/clouderp` });
    const e = await settlesTyped(call, []);
    expect(e).toBeInstanceOf(QadHttpError);
    let c: unknown = e;
    const chain: unknown[] = [];
    while (c instanceof Error) {
      chain.push(c);
      c = c.cause;
    }
    // The login failed: its cause is the auth layer's summary of the kernel's (plain data, no fetch error, no Request).
    expect(chain.at(-1)).toMatchObject({ code: "ECONNREFUSED" });
    expect(Object.keys(chain.at(-1) as object)).toEqual(["code"]);
    expect(chain.some((x) => x instanceof TypeError)).toBe(false);
  });
});
