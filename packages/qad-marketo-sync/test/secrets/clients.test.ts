/**
 * Secrets suite, each client alone: unique planted values for every secret and token (Marketo client secret and the
 * access tokens the simulator issues, QAD password, OAuth client secret, bearer and session tokens, refresh tokens,
 * QXtend password), every failure kind triggered (auth failures 401/601/602, bad credentials, refused connections,
 * timeouts, 5xx, resets and answers cut mid-body, redirects to another origin, servers echoing the token or the
 * request body in an error, malformed JSON, bodies over the limit, SOAP faults echoing the password). None of them
 * may appear in the thrown error (message, stack, cause chain, `util.inspect` with hidden fields, JSON) or in the
 * debug-level log. The engine side is in `engine.test.ts`.
 */
import { MarketoClient } from "@ml/marketo-client";
import { type MarketoSimulator, startMarketoSimulator } from "@ml/marketo-client/testing";
import { QadClient, type QadClientOptions } from "@ml/qad-client";
import { type QadSimulator, startQadSimulator } from "@ml/qad-client/testing";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  type ProxiedRequest,
  type ProxyAction,
  type ProxyRule,
  type SecretsProxy,
  startAttacker,
  startProxy,
} from "./proxy.js";
import {
  capturingLogger,
  expectClean,
  plant,
  plantPrefix,
  rejection,
  render,
  renderLogs,
  Secrets,
  tokenSpy,
} from "./support.js";

const MK_SECRET = plant("mksecret");
const MK_WRONG = plant("mkwrong");
const MK_TOKEN_PREFIX = plantPrefix("mktok");
const QAD_PASSWORD = plant("qadpw");
const QAD_WRONG = plant("qadwrong");
const QAD_CLIENT_SECRET = plant("qadcs");
const QAD_TOKEN_PREFIX = plantPrefix("qadtok");
const QX_PASSWORD = plant("qxpw");

const secrets = new Secrets();
for (const [n, v] of Object.entries({ MK_SECRET, MK_WRONG, MK_TOKEN_PREFIX, QAD_PASSWORD, QAD_WRONG }))
  secrets.add(n, v);
secrets.add("QAD_CLIENT_SECRET", QAD_CLIENT_SECRET);
secrets.add("QAD_TOKEN_PREFIX", QAD_TOKEN_PREFIX);
secrets.add("QX_PASSWORD", QX_PASSWORD);
const addToken = (t: string) => secrets.add("token", t);

let attacker: Awaited<ReturnType<typeof startAttacker>>;
let closedOrigin: string;

beforeAll(async () => {
  attacker = await startAttacker();
  const gone = await startAttacker();
  closedOrigin = gone.origin;
  await gone.close();
});
afterAll(async () => {
  await attacker.close();
});

/** Pads `text` so that character `at` of the body falls two thirds into it (a snippet cut there splits it). */
const straddle = (at: number, text: string) =>
  `${"·".repeat(Math.max(0, at - Math.floor((text.length * 2) / 3)))}${text}`;

/** The token and the credential-bearing body the request carried, echoed without any "Bearer"/"password=" label. */
const echoOf = (r: { token: string; body: string; url?: string }) => {
  const query = new URL(r.url ?? "/", "http://x").searchParams;
  const fromQuery = ["client_secret", "password"].map((k) => query.get(k) ?? "");
  const fromBody = [...r.body.matchAll(/(?:client_secret|password)=([^&]+)|"password"\s*:\s*"([^"]+)"/g)].map((m) =>
    decodeURIComponent(m[1] ?? m[2] ?? ""),
  );
  return [r.token, ...fromQuery, ...fromBody].filter(Boolean).join(" / ");
};

describe("Marketo client alone", () => {
  let sim: MarketoSimulator;
  let proxy: SecretsProxy;

  beforeAll(async () => {
    sim = await startMarketoSimulator({
      timeScale: 0.01,
      latencyMs: 0,
      clientSecret: MK_SECRET,
      tokenPrefix: MK_TOKEN_PREFIX,
    });
    proxy = await startProxy(sim.url);
  });
  afterAll(async () => {
    await proxy.close();
    await sim.close();
  });
  afterEach(() => {
    proxy.rule(undefined);
    proxy.hits = 0;
    sim.faults.clear();
    attacker.seen.length = 0;
  });

  function client(
    overrides: { clientSecret?: string; rest?: string; timeoutMs?: number; maxResponseBytes?: number } = {},
  ) {
    const log = capturingLogger();
    const base = proxy.origin;
    const mk = new MarketoClient({
      ...sim.clientOptions,
      baseUrls: { rest: overrides.rest ?? `${base}/rest`, identity: `${base}/identity`, bulk: `${base}/bulk` },
      clientSecret: overrides.clientSecret ?? MK_SECRET,
      usageSync: false,
      retry: { maxRetries: 2, baseDelayMs: 1, maxDelayMs: 2 },
      sleep: async () => {},
      fetch: tokenSpy(addToken),
      logger: log.logger,
      ...(overrides.timeoutMs !== undefined ? { timeoutMs: overrides.timeoutMs } : {}),
      ...(overrides.maxResponseBytes !== undefined ? { maxResponseBytes: overrides.maxResponseBytes } : {}),
    });
    return { mk, log };
  }

  const read = (mk: MarketoClient) => mk.companies.describe();
  const write = (mk: MarketoClient) =>
    mk.companies.sync({ input: [{ externalCompanyId: `C-${Math.random()}`, company: "Acme" }] });

  /** Runs one failing call and scans the error and the log. */
  async function failsClean(call: (mk: MarketoClient) => Promise<unknown>, c = client()): Promise<unknown> {
    const e = await rejection(call(c.mk));
    expect(e, "the call was expected to fail").toBeInstanceOf(Error);
    expectClean("the error", render(e), secrets);
    expectClean("the log", renderLogs(c.log.calls), secrets);
    return e;
  }

  it("a wrong client secret (identity 401)", async () => {
    const e = await failsClean(read, client({ clientSecret: MK_WRONG }));
    expect(e).toMatchObject({ retryable: false });
  });

  it.each([601, 602, 502, 503, 604, 611, "reset", "drop", "html", "empty"] as const)(
    "%s on every call, through the client's retries",
    async (code) => {
      sim.faults.inject({ code, times: 20, path: "/rest/" });
      await failsClean(read);
      sim.faults.clear();
      sim.faults.inject({ code, times: 20, path: "/rest/" });
      await failsClean(write);
    },
  );

  it("a token that really expired or was revoked: recovered, nothing shown in the log", async () => {
    const c = client();
    await read(c.mk);
    sim.tokens.expireAll();
    await read(c.mk);
    sim.tokens.revokeAll();
    await write(c.mk);
    expect(secrets.size).toBeGreaterThan(8);
    expectClean("the log", renderLogs(c.log.calls), secrets);
  });

  it("a refused connection", async () => {
    const e = await failsClean(read, client({ rest: `${closedOrigin}/rest` }));
    expect(String((e as Error).message)).toContain("ECONNREFUSED");
  });

  it("a timeout (slow answer)", async () => {
    sim.faults.inject({ code: "slow", delayMs: 1_500, times: 5, path: "/rest/" });
    const e = await failsClean(read, client({ timeoutMs: 150 }));
    expect(e).toMatchObject({ code: "TIMEOUT" });
  });

  it.each([301, 302, 303, 307, 308])("HTTP %i to another origin on identity and on writes", async (status) => {
    proxy.rule((r) =>
      r.url.startsWith("/identity/") ? { status, redirect: `${attacker.origin}/identity/oauth/token` } : undefined,
    );
    await failsClean(read);
    proxy.rule((r) => (r.url.startsWith("/rest/") ? { status, redirect: `${attacker.origin}${r.url}` } : undefined));
    await failsClean(write);
    expect(proxy.hits).toBeGreaterThan(0);
    expect(attacker.seen).toEqual([]);
  });

  /** Hostile answers echoing what the request carried (token, client secret) without a label a pattern knows. */
  const echoes: [string, (r: ProxiedRequest) => ProxyAction][] = [
    ["HTTP 500 text", (r) => ({ status: 500, body: `failed for ${echoOf(r)}`, contentType: "text/plain" })],
    [
      "HTTP 401 JSON",
      (r) => ({ status: 401, body: JSON.stringify({ error: "denied", error_description: echoOf(r) }) }),
    ],
    ["HTML page", (r) => ({ status: 502, body: `<html><body>${echoOf(r)}</body></html>`, contentType: "text/html" })],
    [
      "envelope error message",
      (r) => ({
        status: 200,
        body: JSON.stringify({
          requestId: "e#1",
          success: false,
          errors: [{ code: "603", message: `no: ${echoOf(r)}` }],
        }),
      }),
    ],
    ["malformed JSON", (r) => ({ status: 200, body: `{"success":false,"errors":[{"message":"${echoOf(r)}` })],
    ...[80, 120, 200, 300].map(
      (at) =>
        [
          `echo straddling character ${at} (a snippet cut there)`,
          (r: ProxiedRequest) => ({
            status: 500,
            body: straddle(at, echoOf(r)),
            contentType: "text/plain",
          }),
        ] as [string, (r: ProxiedRequest) => ProxyAction],
    ),
    ["a body over the limit, starting with the echo", (r) => ({ huge: echoOf(r), bytes: 4 * 1024 * 1024 })],
  ];

  it.each(echoes)("a server echoing the credential: %s", async (_name, answer) => {
    const limit = { maxResponseBytes: 512 * 1024 };
    // On the REST call (the token echoed) ...
    proxy.rule((r) => (r.url.startsWith("/rest/") ? answer(r) : undefined));
    await failsClean(read, client(limit));
    await failsClean(write, client(limit));
    // ... and on the identity call (the client secret of the form body echoed).
    proxy.rule((r) => (r.url.startsWith("/identity/") ? answer(r) : undefined));
    await failsClean(read, client(limit));
    expect(proxy.hits).toBeGreaterThanOrEqual(3);
  });

  it("a record-level reason echoing the token (a successful call) stays out of the log", async () => {
    const c = client();
    proxy.rule((r) =>
      r.url.startsWith("/rest/v1/companies.json") && r.method === "POST"
        ? {
            rewrite: (up) => {
              const body = JSON.parse(up.body) as { result?: Record<string, unknown>[] };
              for (const rec of body.result ?? [])
                Object.assign(rec, { status: "skipped", reasons: [{ code: "1003", message: `bad ${r.token}` }] });
              return { status: up.status, body: JSON.stringify(body) };
            },
          }
        : undefined,
    );
    const result = await write(c.mk);
    expect(result.results[0]?.status).toBe("skipped");
    expectClean("the sync result", render(result), secrets);
    expectClean("the log", renderLogs(c.log.calls), secrets);
  });
});

/** The password a QXtend envelope carries (`propertyName` password, then its `propertyValue`). */
const passwordIn = (envelope: string) => {
  const found = envelope.match(/propertyName>password<\/[^>]*>\s*<[^>]*propertyValue>([^<]*)</)?.[1];
  expect(found, "the envelope carries the password").toBeTruthy();
  return found ?? "";
};

describe("QAD client alone", () => {
  let sim: QadSimulator;
  let proxy: SecretsProxy;

  beforeAll(async () => {
    sim = await startQadSimulator({
      customers: 30,
      seed: 3,
      credentials: { password: QAD_PASSWORD, clientSecret: QAD_CLIENT_SECRET },
      tokenPrefix: QAD_TOKEN_PREFIX,
      qxtend: { credentials: { username: "mfg", password: QX_PASSWORD } },
    });
    proxy = await startProxy(new URL(sim.tenantUrl).origin);
  });
  afterAll(async () => {
    await proxy.close();
    await sim.close();
  });
  afterEach(() => {
    proxy.rule(undefined);
    proxy.hits = 0;
    sim.faults.clear();
    sim.qxtendFaults.clear();
    attacker.seen.length = 0;
  });

  type AuthKind = "password" | "clientCredentials" | "session";
  function client(
    o: { auth?: AuthKind; password?: string; clientSecret?: string; origin?: string; qxtend?: boolean } & Partial<
      Pick<QadClientOptions, "timeoutMs" | "maxResponseBytes">
    > = {},
  ) {
    const log = capturingLogger();
    const origin = o.origin ?? proxy.origin;
    const creds = sim.credentials;
    const auth: QadClientOptions["auth"] =
      o.auth === "clientCredentials"
        ? { kind: "clientCredentials", clientId: creds.clientId, clientSecret: o.clientSecret ?? QAD_CLIENT_SECRET }
        : o.auth === "session"
          ? { kind: "session", username: creds.username, password: o.password ?? QAD_PASSWORD }
          : {
              kind: "password",
              clientId: creds.clientId,
              clientSecret: QAD_CLIENT_SECRET,
              username: creds.username,
              password: o.password ?? QAD_PASSWORD,
            };
    const base = sim.clientOptions;
    const qad = new QadClient({
      ...base,
      tenantUrl: `${origin}${new URL(sim.tenantUrl).pathname}`,
      auth,
      ...(o.qxtend
        ? {
            protocol: "qxtend",
            qxtend: {
              ...(base.qxtend as NonNullable<QadClientOptions["qxtend"]>),
              url: `${origin}${new URL(sim.qxtendUrl).pathname}`,
              password: o.password ?? QX_PASSWORD,
            },
          }
        : {}),
      retry: { maxRetries: 2, baseDelayMs: 1, maxDelayMs: 2 },
      sleep: async () => {},
      fetch: tokenSpy(addToken),
      logger: log.logger,
      ...(o.timeoutMs !== undefined ? { timeoutMs: o.timeoutMs } : {}),
      ...(o.maxResponseBytes !== undefined ? { maxResponseBytes: o.maxResponseBytes } : {}),
    } as QadClientOptions);
    return { qad, log };
  }

  const readAll = async (qad: QadClient) => {
    let n = 0;
    for await (const _ of qad.customers.list({ pageSize: 10 })) n++;
    return n;
  };

  async function failsClean(c = client()): Promise<unknown> {
    const e = await rejection(readAll(c.qad));
    expect(e, "the read was expected to fail").toBeInstanceOf(Error);
    expectClean("the error", render(e), secrets);
    expectClean("the log", renderLogs(c.log.calls), secrets);
    return e;
  }

  it.each(["password", "clientCredentials", "session"] as const)(
    "%s auth: works, then wrong credentials fail clean",
    async (auth) => {
      const ok = client({ auth });
      expect(await readAll(ok.qad)).toBeGreaterThan(0);
      expectClean("the log", renderLogs(ok.log.calls), secrets);
      await failsClean(client({ auth, password: QAD_WRONG, clientSecret: QAD_WRONG }));
    },
  );

  it.each([
    ["sessionExpired", {}],
    ["serverError", { status: 503 }],
    ["html", {}],
    ["forbidden", {}],
    ["connectionReset", {}],
    ["drop", {}],
  ] as const)("%s on every call", async (kind, extra) => {
    sim.faults.inject({ kind, times: 30, ...extra });
    await failsClean();
  });

  it("a session that expires mid-read is renewed; nothing in the log", async () => {
    sim.faults.inject({ kind: "sessionExpired", times: 1 });
    const c = client();
    expect(await readAll(c.qad)).toBeGreaterThan(0);
    sim.expireSessions({ refreshTokens: true });
    expect(await readAll(c.qad)).toBeGreaterThan(0);
    expectClean("the log", renderLogs(c.log.calls), secrets);
  });

  it("a refused connection", async () => {
    const e = await failsClean(client({ origin: closedOrigin }));
    expect(String((e as Error).message)).toContain("ECONNREFUSED");
  });

  it("a timeout (slow answer)", async () => {
    sim.faults.inject({ kind: "slow", delayMs: 1_500, times: 5, path: "browses" });
    await failsClean(client({ timeoutMs: 150 }));
  });

  it.each([301, 302, 303, 307, 308])("HTTP %i to another origin on the token, login and data calls", async (status) => {
    for (const [auth, path] of [
      ["password", "oauth/token"],
      ["session", "api/qracore/login"],
      ["password", "api/qracore/browses"],
    ] as const) {
      proxy.rule((r) => (r.url.includes(path) ? { status, redirect: `${attacker.origin}${r.url}` } : undefined));
      await failsClean(client({ auth }));
    }
    expect(proxy.hits).toBeGreaterThanOrEqual(3);
    expect(attacker.seen).toEqual([]);
  });

  const echoes: [string, (r: ProxiedRequest) => ProxyAction][] = [
    [
      "HTTP 403 JSON errors",
      (r) => ({ status: 403, body: JSON.stringify({ errors: [{ severity: 1, code: "403", message: echoOf(r) }] }) }),
    ],
    [
      "HTTP 401 OAuth error",
      (r) => ({ status: 401, body: JSON.stringify({ error: "x", error_description: echoOf(r) }) }),
    ],
    ["HTTP 500 HTML", (r) => ({ status: 500, body: `<html>${echoOf(r)}</html>`, contentType: "text/html" })],
    ["malformed JSON", (r) => ({ status: 200, body: `{"data":[{"x":"${echoOf(r)}` })],
    ["a 200 of the wrong shape", (r) => ({ status: 200, body: JSON.stringify({ data: { unexpected: echoOf(r) } }) })],
    ["a 200 browse page of the wrong shape", (r) => ({ status: 200, body: JSON.stringify({ data: echoOf(r) }) })],
    ...[200, 300, 500, 2000].map(
      (at) =>
        [
          `echo straddling character ${at}`,
          (r: ProxiedRequest) => ({ status: 500, body: straddle(at, echoOf(r)), contentType: "text/plain" }),
        ] as [string, (r: ProxiedRequest) => ProxyAction],
    ),
    ["a body over the limit, starting with the echo", (r) => ({ huge: echoOf(r), bytes: 4 * 1024 * 1024 })],
  ];

  it.each(echoes)("a server echoing the credential: %s", async (_name, answer) => {
    const limit = { maxResponseBytes: 512 * 1024 };
    const rules: [AuthKind, ProxyRule][] = [
      ["password", (r) => (r.url.includes("api/qracore/browses") ? answer(r) : undefined)],
      ["password", (r) => (r.url.includes("oauth/token") ? answer(r) : undefined)],
      ["session", (r) => (r.url.includes("api/qracore/login") ? answer(r) : undefined)],
    ];
    for (const [auth, rule] of rules) {
      proxy.rule(rule);
      await failsClean(client({ auth, ...limit }));
    }
    expect(proxy.hits).toBeGreaterThanOrEqual(3);
  });

  describe("QXtend", () => {
    it("works, then a wrong password fails clean", async () => {
      const ok = client({ qxtend: true });
      expect(await readAll(ok.qad)).toBeGreaterThan(0);
      await failsClean(client({ qxtend: true, password: QAD_WRONG }));
    });

    it.each([
      [
        "a SOAP fault echoing the password",
        { kind: "soapFault", faultstring: `Bad login ${QX_PASSWORD}`, detail: QX_PASSWORD },
      ],
      [
        "a result error echoing the password",
        { kind: "resultError", messages: [{ description: `user mfg/${QX_PASSWORD}` }] },
      ],
      ["HTTP 500", { kind: "http500" }],
      ["an HTML page", { kind: "html" }],
    ] as const)("%s", async (_name, fault) => {
      sim.qxtendFaults.inject(fault as Parameters<typeof sim.qxtendFaults.inject>[0], { times: 20 });
      await failsClean(client({ qxtend: true }));
    });

    it.each([
      [
        "a SOAP fault echoing the whole envelope",
        (body: string) =>
          `<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body><soapenv:Fault><faultcode>soapenv:Server</faultcode><faultstring>bad request: ${body.replace(/</g, "&lt;")}</faultstring></soapenv:Fault></soapenv:Body></soapenv:Envelope>`,
      ],
      ["an HTML page echoing the raw envelope", (body: string) => `<html><body>${body}</body></html>`],
      ["the password straddling character 500", (body: string) => straddle(500, passwordIn(body))],
    ] as const)("%s", async (_name, make) => {
      proxy.rule((r) =>
        r.url.includes("/qxi/") ? { status: 500, body: make(r.body), contentType: "text/xml" } : undefined,
      );
      await failsClean(client({ qxtend: true }));
      expect(proxy.hits).toBeGreaterThan(0);
    });
  });
});
