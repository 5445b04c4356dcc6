import { MarketoClient, type MarketoClientOptions, MarketoConfigError } from "@ml/marketo-client";
import { startMarketoSimulator } from "@ml/marketo-client/testing";
import { describe, expect, it } from "vitest";

const secret = "planted-client-secret-7d1e";

function build(rest: string, extra: Partial<MarketoClientOptions> = {}): MarketoClient {
  return new MarketoClient({
    baseUrls: {
      rest,
      identity: "https://123-ABC-456.mktorest.com/identity",
      bulk: "https://123-ABC-456.mktorest.com/bulk",
    },
    clientId: "id",
    clientSecret: secret,
    ...extra,
  });
}

function refusal(rest: string, extra: Partial<MarketoClientOptions> = {}): MarketoConfigError {
  try {
    build(rest, extra);
  } catch (e) {
    if (e instanceof MarketoConfigError) return e;
    throw e;
  }
  throw new Error(`${rest} was accepted`);
}

describe("Marketo baseUrls checks", () => {
  it.each([
    ["https://user:pw@123-ABC-456.mktorest.com/rest", /credentials/],
    ["https://123-ABC-456.mktorest.com@evil.example/rest", /credentials/],
    ["https://123-ABC-456.mktorest.com/rest?next=https://evil.example", /query/],
    ["https://123-ABC-456.mktorest.com/rest#frag", /fragment/],
    ["http://123-ABC-456.mktorest.com/rest", /must use https/],
    ["https://169.254.169.254/rest", /link-local or cloud metadata/],
    ["https://169.254.10.1/rest", /link-local/],
    ["https://[fe80::1]/rest", /link-local/],
    ["https://[fd00:ec2::254]/rest", /metadata/],
    ["https://[::ffff:169.254.169.254]/rest", /metadata/],
    ["https://metadata.google.internal/rest", /metadata/],
    ["https://0.0.0.0/rest", /unspecified/],
    ["https://0/rest", /unspecified/],
    ["https://[::]/rest", /unspecified/],
    ["https://127.0.0.1/rest", /loopback/],
    ["https://0x7f000001/rest", /loopback/],
    ["https://2130706433/rest", /loopback/],
    ["https://0177.0.0.1/rest", /loopback/],
    ["https://127.1/rest", /loopback/],
    ["https://[::ffff:127.0.0.1]/rest", /loopback/],
    ["https://[::1]/rest", /loopback/],
    ["https://localhost/rest", /loopback/],
    ["https://123-ABC-456.mktorest.com/re%00st", /control characters/],
    ["https://123-ABC-456.mktorest.com/rest\u0000", /control characters/],
  ])("refuses %s", (url, why) => {
    const e = refusal(url);
    expect(e.code).toBe("CONFIG");
    expect(e.message).toMatch(/^baseUrls\.rest /);
    expect(e.message).toMatch(why);
    expect(e.message).not.toContain(secret);
    expect(JSON.stringify(e)).not.toContain(secret);
  });

  it("checks identity and bulk too", () => {
    expect(
      () =>
        new MarketoClient({
          munchkinId: "123-ABC-456",
          baseUrls: { identity: "https://169.254.169.254/identity" },
          clientId: "id",
          clientSecret: secret,
        }),
    ).toThrow(/baseUrls\.identity host 169\.254\.169\.254/);
    expect(
      () =>
        new MarketoClient({
          munchkinId: "123-ABC-456",
          baseUrls: { bulk: "https://x.example/bulk?a=1" },
          clientId: "id",
          clientSecret: secret,
        }),
    ).toThrow(/baseUrls\.bulk must not contain a query/);
  });

  it("accepts http and loopback only with their options; metadata never", () => {
    expect(refusal("http://127.0.0.1:9/rest", { allowHttp: true }).message).toMatch(
      /network: \{ allowLoopback: true \}/,
    );
    expect(refusal("http://127.0.0.1:9/rest", { network: { allowLoopback: true } }).message).toMatch(/https/);
    expect(build("http://127.0.0.1:9/rest", { allowHttp: true, network: { allowLoopback: true } }).baseUrls.rest).toBe(
      "http://127.0.0.1:9/rest",
    );
    expect(build("https://localhost:9/rest", { network: { allowLoopback: true } }).baseUrls.rest).toBe(
      "https://localhost:9/rest",
    );
    expect(
      refusal("https://169.254.169.254/rest", { allowHttp: true, network: { allowLoopback: true } }).message,
    ).toMatch(/metadata/);
    expect(build("https://proxy.internal.example/rest").baseUrls.rest).toBe("https://proxy.internal.example/rest");
  });

  it("the simulator's clientOptions opt into http and loopback", async () => {
    const sim = await startMarketoSimulator({ timeScale: 0.01, latencyMs: 0 });
    try {
      expect(sim.clientOptions.allowHttp).toBe(true);
      expect(sim.clientOptions.network).toEqual({ allowLoopback: true });
      const { allowHttp: _h, network: _n, ...bare } = sim.clientOptions;
      expect(() => new MarketoClient(bare)).toThrow(MarketoConfigError);
      const mk = new MarketoClient({ ...sim.clientOptions });
      const r = await mk.companies.sync({ input: [{ externalCompanyId: "C-1", company: "Acme" }] });
      expect(r.results[0]?.status).toBe("created");
    } finally {
      await sim.close();
    }
  });
});
