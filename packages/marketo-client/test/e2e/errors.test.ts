import {
  isMarketoError,
  MarketoClient,
  MarketoConfigError,
  type MarketoError,
  MarketoHttpError,
  MarketoInvalidRequestError,
  MarketoNetworkError,
  MarketoResponseParseError,
  MarketoValidationError,
} from "@ml/marketo-client";
import { type MarketoSimulator, startMarketoSimulator } from "@ml/marketo-client/testing";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

let sim: MarketoSimulator;
beforeEach(async () => {
  sim = await startMarketoSimulator({ timeScale: 0.02 });
});
afterEach(async () => {
  await sim.close();
});

const leaks = (e: unknown, secrets: string[]) => {
  const err = e as MarketoError;
  const text = [err.message, JSON.stringify(err), String(err), err.stack ?? "", JSON.stringify(err.request ?? {})].join(
    "\n",
  );
  return secrets.filter((s) => text.includes(s));
};

describe("configuration", () => {
  it.each(["123-ABC", "12-ABC-456", "123_ABC_456", "ABC-123-456", "", "123-ABC-456/evil"])(
    "rejects Munchkin ID %j with MarketoConfigError before any request",
    (munchkinId) => {
      const fetch = vi.fn();
      expect(() => new MarketoClient({ munchkinId, clientId: "id", clientSecret: "s3cr3t-value", fetch })).toThrow(
        MarketoConfigError,
      );
      expect(fetch).not.toHaveBeenCalled();
    },
  );

  it("derives base URLs from a Munchkin ID, explicit ones override", () => {
    const mk = new MarketoClient({ munchkinId: "123-abc-456", clientId: "id", clientSecret: "x" });
    expect(mk.baseUrls).toEqual({
      rest: "https://123-ABC-456.mktorest.com/rest",
      identity: "https://123-ABC-456.mktorest.com/identity",
      bulk: "https://123-ABC-456.mktorest.com/bulk",
    });
    const proxied = new MarketoClient({
      munchkinId: "123-ABC-456",
      baseUrls: { rest: "http://127.0.0.1:9/rest/" },
      allowHttp: true,
      network: { allowLoopback: true },
      clientId: "id",
      clientSecret: "x",
    });
    expect(proxied.baseUrls.rest).toBe("http://127.0.0.1:9/rest");
    expect(proxied.baseUrls.identity).toBe("https://123-ABC-456.mktorest.com/identity");
  });

  it("missing credentials, URLs or bad limits are config errors that never echo the secret", () => {
    const secret = "super-secret-value-987";
    const bad = [
      { clientId: "", clientSecret: secret, munchkinId: "123-ABC-456" },
      { clientId: "id", clientSecret: secret },
      { clientId: "id", clientSecret: secret, munchkinId: "123-ABC-456", limits: { maxConcurrent: 0 } },
      { clientId: "id", clientSecret: secret, baseUrls: { rest: "not a url", identity: "x", bulk: "y" } },
    ];
    for (const options of bad) {
      const error = (() => {
        try {
          new MarketoClient(options as never);
        } catch (e) {
          return e;
        }
        return undefined;
      })();
      expect(error).toBeInstanceOf(MarketoConfigError);
      expect((error as MarketoConfigError).code).toBe("CONFIG");
      expect(leaks(error, [secret])).toEqual([]);
    }
  });
});

describe("answers that are not the envelope", () => {
  it("an HTML page from a proxy is a clear MarketoResponseParseError (retried, then thrown)", async () => {
    const mk = new MarketoClient({ ...sim.clientOptions, usageSync: false, retry: { maxRetries: 1 } });
    sim.faults.inject({ code: "html", times: 2 });
    const error = await mk.stats.usage().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MarketoResponseParseError);
    expect((error as MarketoResponseParseError).message).toMatch(/HTML/);
    expect((error as MarketoResponseParseError).bodySnippet).toMatch(/<!DOCTYPE html>/);
    expect(sim.inspect().totalCalls).toBe(2);
  });

  it("an empty body is a MarketoResponseParseError; a read recovers when it clears", async () => {
    const mk = new MarketoClient({ ...sim.clientOptions, usageSync: false, retry: { maxRetries: 0 } });
    sim.faults.inject({ code: "empty" });
    const error = await mk.stats.usage().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MarketoResponseParseError);
    expect((error as Error).message).toMatch(/empty body/);
    const retrying = new MarketoClient({ ...sim.clientOptions, usageSync: false });
    sim.faults.inject({ code: "empty" });
    await expect(retrying.stats.usage()).resolves.toBeDefined();
  });

  it("502 from the edge is retried for reads, but not for a createOnly write whose outcome is unknown", async () => {
    const mk = new MarketoClient({ ...sim.clientOptions, usageSync: false });
    sim.faults.inject({ code: 502, times: 2 });
    await expect(mk.stats.usage()).resolves.toBeDefined();
    expect(sim.inspect().totalCalls).toBe(3);

    sim.faults.inject({ code: 502, times: 1 });
    const error = await mk.companies
      .sync({ action: "createOnly", input: [{ externalCompanyId: "U" }] })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MarketoHttpError);
    expect((error as MarketoHttpError).code).toBe("HTTP_502");
    expect(sim.inspect().callsByEndpoint["POST /rest/v1/companies.json"]).toBe(1);

    // createOrUpdate is idempotent: safe to repeat after an unknown outcome.
    sim.faults.inject({ code: 502, times: 1 });
    const ok = await mk.companies.sync({ input: [{ externalCompanyId: "U" }] });
    expect(ok.results[0]!.status).toBe("created");
    // ...and an explicit per-call choice wins.
    sim.faults.inject({ code: 502, times: 1 });
    await expect(
      mk.companies.sync({ input: [{ externalCompanyId: "U" }] }, { retry: "unsafe" }),
    ).rejects.toBeInstanceOf(MarketoHttpError);
  });

  it("6xx answers mean 'not executed' and are retried even for createOnly", async () => {
    const mk = new MarketoClient({ ...sim.clientOptions, usageSync: false });
    sim.faults.inject({ code: 604, times: 1 });
    sim.faults.inject({ code: 608, times: 1 });
    sim.faults.inject({ code: 615, times: 1 });
    const r = await mk.companies.sync({ action: "createOnly", input: [{ externalCompanyId: "V" }] });
    expect(r.results[0]!.status).toBe("created");
    expect(sim.inspect().callsByEndpoint["POST /rest/v1/companies.json"]).toBe(4);
  });

  it("a connection reset is retried for reads and surfaces as MarketoNetworkError for unsafe writes", async () => {
    const mk = new MarketoClient({ ...sim.clientOptions, usageSync: false });
    sim.faults.inject({ code: "reset", times: 1 });
    await expect(mk.stats.usage()).resolves.toBeDefined();
    sim.faults.inject({ code: "reset", times: 1 });
    const error = await mk.leads
      .sync({ action: "createOnly", input: [{ email: "n@example.com" }] })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MarketoNetworkError);
    expect((error as Error).message).toMatch(/may have been executed/);
  });

  it("fatal codes fail fast with their own class", async () => {
    const mk = new MarketoClient({ ...sim.clientOptions, usageSync: false });
    sim.faults.inject({ code: 609, times: 1 });
    const error = await mk.stats.usage().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MarketoInvalidRequestError);
    expect(isMarketoError(error)).toBe(true);
    expect(sim.inspect().totalCalls).toBe(1);
  });

  it("a body over 1 MB is refused before sending; 413 from Marketo is a typed HTTP error", async () => {
    const mk = new MarketoClient({ ...sim.clientOptions, usageSync: false });
    const huge = "x".repeat(1_100_000);
    await expect(
      mk.transport.request({
        method: "POST",
        api: "rest",
        path: "/v1/companies.json",
        body: { input: [{ note: huge }] },
        retry: "safe",
      }),
    ).rejects.toBeInstanceOf(MarketoValidationError);
    expect(sim.inspect().totalCalls).toBe(0);
    const lax = new MarketoClient({ ...sim.clientOptions, usageSync: false, maxBodyBytes: 5_000_000 });
    const error = await lax.transport
      .request({
        method: "POST",
        api: "rest",
        path: "/v1/companies.json",
        body: { input: [{ note: huge }] },
        retry: "safe",
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MarketoHttpError);
    expect((error as MarketoHttpError).code).toBe("HTTP_413");
    expect(sim.inspect().tooLarge["413"]).toBe(1);
  });

  it("a sync splits by bytes as well as by count, so no request exceeds 1 MB", async () => {
    const mk = new MarketoClient({ ...sim.clientOptions, usageSync: false });
    const input = Array.from({ length: 200 }, (_, i) => ({ externalCompanyId: `BIG-${i}`, notes: "y".repeat(10_000) }));
    const r = await mk.companies.sync({ input });
    expect(r.results.every((x) => x.status === "created")).toBe(true);
    expect(sim.inspect().tooLarge["413"]).toBe(0);
    expect(sim.inspect().callsByEndpoint["POST /rest/v1/companies.json"]).toBeGreaterThan(1);
  });

  it("secrets never appear in errors: messages, JSON, request descriptions", async () => {
    const mk = new MarketoClient({ ...sim.clientOptions, usageSync: false, retry: { maxRetries: 0 } });
    await mk.stats.usage();
    const errors: unknown[] = [];
    for (const code of [601, 606, 609, 502, "html", "reset"] as const) {
      // A 601 fails a call only once renewals are exhausted (the first attempt and three renewals).
      sim.faults.inject({ code, times: code === 601 ? 4 : 2 });
      errors.push(await mk.stats.usage().catch((e: unknown) => e));
      sim.faults.clear();
    }
    // Also an error whose message came from the server with the secret echoed back.
    sim.faults.inject({ code: 610, message: `bad request client_secret=${sim.clientSecret}` });
    errors.push(await mk.stats.usage().catch((e: unknown) => e));
    const token = await (
      await fetch(
        `${sim.baseUrls.identity}/oauth/token?grant_type=client_credentials&client_id=${sim.clientId}&client_secret=${sim.clientSecret}`,
      )
    ).json();
    for (const e of errors) {
      expect(isMarketoError(e)).toBe(true);
      expect(leaks(e, [sim.clientSecret, (token as { access_token: string }).access_token])).toEqual([]);
    }
  });
});
