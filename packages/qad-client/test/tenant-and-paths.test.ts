import { checkPathSyntax, parseTenantUrl, QadClient, QadConfigError, QadUnsafePathError } from "@ml/qad-client";
import { type QadSimulator, startQadSimulator } from "@ml/qad-client/testing";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";

describe("parseTenantUrl", () => {
  it("normalises the trailing slash", () => {
    expect(parseTenantUrl("https://acme.qad.com/clouderp").href).toBe("https://acme.qad.com/clouderp/");
    expect(parseTenantUrl("https://acme.qad.com/clouderp/").href).toBe("https://acme.qad.com/clouderp/");
    expect(parseTenantUrl("https://acme.qad.com").href).toBe("https://acme.qad.com/");
  });

  it.each([
    ["http://acme.qad.com/clouderp", /https/],
    ["ftp://acme.qad.com/clouderp", /https/],
    ["javascript:alert(1)", /https/],
    ["https://user:pw@acme.qad.com/clouderp", /credentials/],
    ["https://acme.qad.com@evil.example/clouderp", /credentials/],
    ["https://acme.qad.com/clouderp?next=//evil.example", /query/],
    ["https://acme.qad.com/clouderp#frag", /fragment/],
    ["https://acme.qad.com/clouderp/../admin", /dot segments/],
    ["https://acme.qad.com/clouderp/%2e%2e/admin", /dot segments|encoded/],
    ["https://acme.qad.com//evil.example/x", /empty segments/],
    ["acme.qad.com/clouderp", /absolute URL/],
    ["", /required/],
  ])("refuses %s", (url, msg) => {
    expect(() => parseTenantUrl(url)).toThrow(QadConfigError);
    expect(() => parseTenantUrl(url)).toThrow(msg);
  });

  it("accepts plain http only with allowHttp", () => {
    expect(parseTenantUrl("http://qad.local:8080/qad-central", { allowHttp: true }).href).toBe(
      "http://qad.local:8080/qad-central/",
    );
  });
});

describe("checkPathSyntax", () => {
  it.each([
    "../admin",
    "api/erp/../../admin",
    "api/%2e%2e/admin",
    "api/erp%2Fcustomers",
    "//evil.example/api",
    "https://evil.example/api/erp/customerV2s",
    "HTTP:evil",
    "api\\erp",
    "api/erp/customerV2s?x=1",
    "api//erp",
    "api/./erp",
    "api/erp/customer V2s",
    "",
  ])("refuses %j", (p) => {
    expect(() => checkPathSyntax(p)).toThrow(QadUnsafePathError);
  });

  it("accepts plain relative paths and strips a leading slash", () => {
    expect(checkPathSyntax("api/erp/customerV2s")).toBe("api/erp/customerV2s");
    expect(checkPathSyntax("/api/qracore/browses")).toBe("api/qracore/browses");
  });
});

describe("entity paths against the instance", () => {
  let sim: QadSimulator;
  beforeAll(async () => {
    sim = await startQadSimulator({ customers: 10 });
  });
  afterAll(() => sim.close());
  beforeEach(() => sim.resetInspection());

  it("refuses an SSRF-style tenant URL before any request", () => {
    const bad = sim.tenantUrl.replace("http://", "http://attacker@");
    expect(() => new QadClient({ ...sim.clientOptions, tenantUrl: bad })).toThrow(QadConfigError);
    expect(() => new QadClient({ ...sim.clientOptions, tenantUrl: sim.tenantUrl, allowHttp: false })).toThrow(/https/);
    expect(sim.inspect().requests).toBe(0);
  });

  it.each(["../../admin/users", "//evil.example/api/erp/customerV2s", "https://evil.example/x", "api/%2e%2e/admin"])(
    "refuses a configured entity path %j in the constructor, before any request",
    (path) => {
      expect(() => new QadClient({ ...sim.clientOptions, entities: { customers: { path } } })).toThrow(
        QadUnsafePathError,
      );
      expect(sim.inspect().requests).toBe(0);
    },
  );

  it("refuses get() of an unsafe path before any request", async () => {
    const qad = new QadClient({ ...sim.clientOptions });
    for (const p of ["../secrets", "//evil.example/x", "http://127.0.0.1:1/x", "api/erp/%2e%2e"]) {
      await expect(qad.get(p)).rejects.toBeInstanceOf(QadUnsafePathError);
    }
    expect(sim.inspect().requests).toBe(0);
  });

  it("refuses a path the instance's OpenAPI document does not publish, with no request to it", async () => {
    const qad = new QadClient({ ...sim.clientOptions });
    const err = await qad.get("api/erp/secretThings").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(QadUnsafePathError);
    expect((err as QadUnsafePathError).reason).toMatch(/API description/);
    const seen = sim.inspect().requestsByPath;
    expect(seen["api/erp/secretThings"]).toBeUndefined();
    expect(seen["api/openapi.json"]).toBe(1);
    // A published path goes through.
    const body = await qad.get("api/erp/customerV2s", {
      sharedSetCode: "SS1",
      customerCode: "C000001",
      viewUri: "urn:be:com.qad.base.customer.ICustomerV2",
    });
    expect((body as { data: { customerV2s: unknown[] } }).data.customerV2s).toHaveLength(1);
  });

  it("uses the allow-list when there is no API description", async () => {
    const { apiDescription: _ignored, ...opts } = sim.clientOptions;
    const qad = new QadClient({ ...opts, allowedPaths: ["api/qracore/securityControl"] });
    await expect(qad.get("api/qracore/securityControl")).resolves.toMatchObject({ clientId: sim.credentials.clientId });
    await expect(qad.get("api/erp/customerV2s")).rejects.toThrow(/allowedPaths/);
    expect(sim.inspect().requestsByPath["api/erp/customerV2s"]).toBeUndefined();
    // The list endpoint itself (browses) is not on this narrow allow-list either: refused, nothing sent to it.
    const it = qad.customers.list()[Symbol.asyncIterator]();
    await expect(it.next()).rejects.toBeInstanceOf(QadUnsafePathError);
    expect(sim.inspect().requestsByPath["api/qracore/browses"]).toBeUndefined();
  });

  it("get() reads a business document by key", async () => {
    const qad = new QadClient({ ...sim.clientOptions });
    const [c] = await qad.customers.get({ sharedSetCode: "SS1", customerCode: "C000002" });
    expect(c).toEqual(sim.data.customer("C000002"));
  });
});

describe("API description parsing", () => {
  const base = new URL("https://acme.qad.com/clouderp/");
  it("reads OpenAPI 3 servers and Swagger 2 basePath below the tenant, never another host", async () => {
    const { pathsFromApiDescription, resolveUnderTenant } = await import("../src/rest/paths.js");
    expect([
      ...pathsFromApiDescription({ servers: [{ url: "/clouderp/api" }], paths: { "/erp/items": {} } }, base),
    ]).toEqual(["api/erp/items"]);
    expect([...pathsFromApiDescription({ basePath: "/clouderp", paths: { "/api/erp/items/{id}": {} } }, base)]).toEqual(
      ["api/erp/items/{id}"],
    );
    // A server on another host does not move requests there: paths stay relative to the tenant.
    expect([
      ...pathsFromApiDescription(
        { servers: [{ url: "https://evil.example/x" }], paths: { "/api/erp/items": {} } },
        base,
      ),
    ]).toEqual(["api/erp/items"]);
    expect(resolveUnderTenant(base, "api/erp/items").href).toBe("https://acme.qad.com/clouderp/api/erp/items");
    expect(() => resolveUnderTenant(base, "//evil.example/api")).toThrow(QadUnsafePathError);
  });
});
