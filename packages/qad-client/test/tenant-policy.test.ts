import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { collect } from "@ml/http-kernel/testing";
import {
  checkPathSyntax,
  isQadError,
  parseTenantUrl,
  QadClient,
  QadConfigError,
  QadTenantUrlError,
  QadUnsafePathError,
  type TenantNetworkOptions,
  type TenantUrlRefusal,
} from "@ml/qad-client";
import { type QadSimulator, startQadSimulator } from "@ml/qad-client/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTenantDispatcher } from "../src/network/tenant-dispatcher.js";

function refusal(url: string, network: TenantNetworkOptions = {}): QadTenantUrlError {
  try {
    parseTenantUrl(url, { network });
  } catch (e) {
    if (e instanceof QadTenantUrlError) return e;
    throw e;
  }
  throw new Error(`${url} was accepted`);
}

describe("tenant URL network policy: hosts", () => {
  it.each<[string, TenantUrlRefusal, string]>([
    ["https://169.254.169.254/latest", "metadata", "169.254.169.254"],
    ["https://[fd00:ec2::254]/", "metadata", "fd00:ec2::254"],
    ["https://metadata.google.internal/computeMetadata", "metadata", "metadata.google.internal"],
    ["https://[::ffff:169.254.169.254]/", "metadata", "::ffff:a9fe:a9fe"],
    ["https://169.254.10.20/", "link_local", "169.254.10.20"],
    ["https://[fe80::1]/", "link_local", "fe80::1"],
    ["https://0.0.0.0/", "unspecified", "0.0.0.0"],
    ["https://0/", "unspecified", "0.0.0.0"],
    ["https://[::]/", "unspecified", "::"],
    ["https://127.0.0.1/", "loopback", "127.0.0.1"],
    ["https://127.8.9.10/", "loopback", "127.8.9.10"],
    // Numeric forms, normalised by the URL parser before the check.
    ["https://0x7f000001/", "loopback", "127.0.0.1"],
    ["https://2130706433/", "loopback", "127.0.0.1"],
    ["https://0177.0.0.1/", "loopback", "127.0.0.1"],
    ["https://127.1/", "loopback", "127.0.0.1"],
    ["https://0x7f.0.0.1/", "loopback", "127.0.0.1"],
    ["https://[::ffff:127.0.0.1]/", "loopback", "::ffff:7f00:1"],
    ["https://[0:0:0:0:0:ffff:7f00:1]/", "loopback", "::ffff:7f00:1"],
    ["https://[64:ff9b::127.0.0.1]/", "loopback", "64:ff9b::7f00:1"],
    ["https://[::1]/", "loopback", "::1"],
    ["https://localhost/", "loopback", "localhost"],
    ["https://LOCALHOST./", "loopback", "localhost"],
    ["https://tenant.localhost/", "loopback", "tenant.localhost"],
    ["https://10.0.0.1/", "private", "10.0.0.1"],
    ["https://172.16.5.4/", "private", "172.16.5.4"],
    ["https://172.31.255.255/", "private", "172.31.255.255"],
    ["https://192.168.1.1/", "private", "192.168.1.1"],
    ["https://100.64.0.1/", "private", "100.64.0.1"],
    ["https://[fd00::1]/", "private", "fd00::1"],
    ["https://[fc00::1]/", "private", "fc00::1"],
    ["https://224.0.0.1/", "reserved", "224.0.0.1"],
    ["https://255.255.255.255/", "reserved", "255.255.255.255"],
  ])("refuses %s as %s", (url, reason, host) => {
    const e = refusal(url);
    expect(e).toBeInstanceOf(QadConfigError);
    expect(isQadError(e) && e.code).toBe("config");
    expect(e.reason).toBe(reason);
    expect(e.host).toBe(host);
    expect(e.message).toContain(host);
  });

  it("names the option that accepts a refused class, and accepts it with that option", () => {
    expect(refusal("https://127.0.0.1/").message).toMatch(/network\.allowLoopback/);
    expect(refusal("https://10.0.0.1/").message).toMatch(/network\.allowPrivate/);
    expect(refusal("https://169.254.10.20/").message).toMatch(/network\.allowLinkLocal/);
    expect(parseTenantUrl("http://127.0.0.1:8080/x", { allowHttp: true, network: { allowLoopback: true } }).href).toBe(
      "http://127.0.0.1:8080/x/",
    );
    expect(parseTenantUrl("https://localhost/", { network: { allowLoopback: true } }).hostname).toBe("localhost");
    expect(parseTenantUrl("https://[fd00::1]/", { network: { allowPrivate: true } }).hostname).toBe("[fd00::1]");
    expect(parseTenantUrl("https://192.168.1.1/", { network: { allowPrivate: true } }).hostname).toBe("192.168.1.1");
    expect(parseTenantUrl("https://[fe80::1]/", { network: { allowLinkLocal: true } }).hostname).toBe("[fe80::1]");
    // One class does not open another.
    expect(refusal("https://10.0.0.1/", { allowLoopback: true }).reason).toBe("private");
    expect(refusal("https://127.0.0.1/", { allowPrivate: true }).reason).toBe("loopback");
  });

  it("never accepts metadata endpoints or unspecified addresses, whatever is allowed", () => {
    const all = { allowLoopback: true, allowPrivate: true, allowLinkLocal: true, allowIdn: true };
    expect(refusal("https://169.254.169.254/", all).reason).toBe("metadata");
    expect(refusal("https://[fd00:ec2::254]/", all).reason).toBe("metadata");
    expect(refusal("https://metadata.google.internal/", all).reason).toBe("metadata");
    expect(refusal("https://0.0.0.0/", all).reason).toBe("unspecified");
    expect(refusal("https://[::]/", all).reason).toBe("unspecified");
    expect(refusal("https://169.254.169.254/", all).message).toMatch(/no option accepts it/);
  });

  it.each(["https://acme.qad.com/clouderp", "https://8.8.8.8/", "https://172.32.0.1/", "https://[2001:db8::1]/"])(
    "accepts the public host %s",
    (url) => {
      expect(() => parseTenantUrl(url)).not.toThrow();
    },
  );

  it("refuses an internationalised host unless allowed, showing both forms", () => {
    // Cyrillic look-alike of "apple.com".
    const e = refusal("https://аррӏе.com/clouderp");
    expect(e.reason).toBe("idn");
    expect(e.message).toContain("xn--80ak6aa92e.com");
    expect(e.message).toContain("аррӏе.com");
    expect(refusal("https://xn--80ak6aa92e.com/").reason).toBe("idn");
    expect(refusal("https://erp.xn--80ak6aa92e.com/").message).toContain("erp.аррӏе.com");
    expect(parseTenantUrl("https://аррӏе.com/", { network: { allowIdn: true } }).hostname).toBe("xn--80ak6aa92e.com");
  });
});

describe("tenant URL network policy: control characters", () => {
  it.each([
    "https://acme.qad.com/clouderp%00",
    "https://acme.qad.com/cloud%0d%0aerp",
    "https://acme.qad.com/cloud%0D%0Aerp",
    "https://acme.qad.com/cloud%09erp",
    "https://acme.qad.com/cloud%7ferp",
    "https://acme.qad.com/cloud%c2%85erp",
    "https://acme.qad.com/cloud\u0000erp",
    "https://acme.qad.com/clouderp\u0000",
    "https://acme.qad.com/cloud\u0085erp",
    "https://acme\u0001.qad.com/",
  ])("refuses %j", (url) => {
    expect(() => parseTenantUrl(url)).toThrow(QadTenantUrlError);
    expect(() => parseTenantUrl(url)).toThrow(/control characters/);
  });

  it.each([
    "api/erp/customer%00V2s",
    "api/erp/customer%0d%0aV2s",
    "api/erp/customer\u0000V2s",
    "api/erp/customer\r\nV2s",
    "api/erp/customer\u007fV2s",
  ])("refuses the entity path %j", (path) => {
    expect(() => checkPathSyntax(path)).toThrow(QadUnsafePathError);
    expect(
      () =>
        new QadClient({
          tenantUrl: "https://acme.qad.com/clouderp",
          auth: { kind: "provider", getToken: async () => "t" },
          entities: { customers: { path } },
        }),
    ).toThrow(QadUnsafePathError);
  });
});

describe("QadClient applies the policy", () => {
  const password = "planted-Pa55word-9f2c";
  const auth = { kind: "password" as const, clientId: "c", username: "u", password };

  it.each([
    "https://169.254.169.254/",
    "https://127.0.0.1/",
    "https://0x7f000001/",
    "https://10.0.0.1/",
    "https://аррӏе.com/",
  ])("refuses %s in the constructor with a typed error that holds no secret", (tenantUrl) => {
    let err: unknown;
    try {
      new QadClient({ tenantUrl, auth });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(QadTenantUrlError);
    expect(JSON.stringify(err)).not.toContain(password);
    expect(String((err as Error).message)).not.toContain(password);
  });

  it("checks the QXtend URL with the same policy", () => {
    const qxtend = {
      url: "http://169.254.169.254/qxi/services/QdocWebService",
      receiver: "qad-qxtend",
      version: "eB2_1",
      domain: "10USA",
      username: "u",
      password,
      allowHttp: true,
      profiles: { customers: "Customer" },
    };
    expect(() => new QadClient({ tenantUrl: "https://acme.qad.com/", protocol: "qxtend", qxtend } as never)).toThrow(
      /qxtend\.url host 169\.254\.169\.254 is a cloud metadata endpoint/,
    );
  });
});

describe("connect-time check of resolved addresses", () => {
  let server: Server;
  let port: number;
  let seen = 0;
  beforeAll(async () => {
    server = createServer((_req, res) => {
      seen++;
      res.end("ok");
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it("never sends a request to localhost (resolving to 127.0.0.1) when loopback is not allowed", async () => {
    seen = 0;
    const dispatcher = createTenantDispatcher({});
    const err = await fetch(`http://localhost:${port}/`, { dispatcher } as RequestInit).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((err as { cause?: unknown }).cause).toBeInstanceOf(QadTenantUrlError);
    expect((err as { cause: QadTenantUrlError }).cause.reason).toBe("loopback");
    expect((err as { cause: QadTenantUrlError }).cause.message).toMatch(/host localhost resolves to 127\.0\.0\.1/);
    expect(seen).toBe(0);
  });

  it("refuses an IP literal at connect time too (a redirect target never checked as a tenant URL)", async () => {
    seen = 0;
    const dispatcher = createTenantDispatcher({ allowPrivate: true });
    await expect(fetch(`http://127.0.0.1:${port}/`, { dispatcher } as RequestInit)).rejects.toThrow();
    expect(seen).toBe(0);
    const open = createTenantDispatcher({ allowLoopback: true });
    expect(await (await fetch(`http://127.0.0.1:${port}/`, { dispatcher: open } as RequestInit)).text()).toBe("ok");
    expect(await (await fetch(`http://localhost:${port}/`, { dispatcher: open } as RequestInit)).text()).toBe("ok");
    expect(seen).toBe(2);
  });

  it("refuses a name when any of its addresses is refused", async () => {
    seen = 0;
    const dispatcher = createTenantDispatcher({
      allowLoopback: true,
      lookup: ((_h: string, _o: unknown, cb: (e: null, a: { address: string; family: number }[]) => void) =>
        cb(null, [
          { address: "127.0.0.1", family: 4 },
          { address: "169.254.169.254", family: 4 },
        ])) as never,
    });
    const err = await fetch(`http://two.example.test:${port}/`, { dispatcher } as RequestInit).catch((e) => e);
    expect((err as { cause: QadTenantUrlError }).cause.reason).toBe("metadata");
    expect(seen).toBe(0);
  });
});

describe("connect-time check through the client (a public-looking name re-bound to loopback)", () => {
  let sim: QadSimulator;
  beforeAll(async () => {
    sim = await startQadSimulator({ customers: 3, seed: 7 });
  });
  afterAll(() => sim.close());

  const rebound = ((_h: string, o: { all?: boolean }, cb: (...a: unknown[]) => void) =>
    o.all ? cb(null, [{ address: "127.0.0.1", family: 4 }]) : cb(null, "127.0.0.1", 4)) as never;

  function options(network: TenantNetworkOptions) {
    const url = new URL(sim.tenantUrl);
    url.hostname = "erp.acme.test";
    return { ...sim.clientOptions, tenantUrl: url.href, network: { ...network, lookup: rebound } };
  }

  it("refuses before any request is sent, with a typed error that is not retried", async () => {
    sim.resetInspection();
    const qad = new QadClient({ ...options({}), auth: { kind: "provider", getToken: async () => "tok" } });
    const err = await collect(qad.customers.list()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(QadTenantUrlError);
    expect((err as QadTenantUrlError).reason).toBe("loopback");
    expect((err as QadTenantUrlError).message).toMatch(/erp\.acme\.test resolves to 127\.0\.0\.1/);
    expect(sim.inspect().requests).toBe(0);
  });

  it("refuses the token request the same way (the auth layer names the refusal), sending nothing", async () => {
    sim.resetInspection();
    const qad = new QadClient(options({}));
    const err = await collect(qad.customers.list()).catch((e: unknown) => e);
    expect(isQadError(err)).toBe(true);
    expect((err as Error).message).toMatch(/erp\.acme\.test resolves to 127\.0\.0\.1, which is a loopback address/);
    expect((err as Error).message).not.toContain(sim.credentials.password);
    expect(sim.inspect().requests).toBe(0);
  });

  it("connects through the same lookup when loopback is allowed", async () => {
    const qad = new QadClient(options({ allowLoopback: true }));
    expect((await collect(qad.customers.list())).length).toBe(3);
  });
});
