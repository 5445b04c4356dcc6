import { XMLParser } from "fast-xml-parser";
import { describe, expect, it } from "vitest";
import { QadConfigError } from "../../src/errors.js";
import { buildQueryEnvelope, createQxtendBackend, type QxtendQueryRequest } from "../../src/qxtend/index.js";
import { clientOptions, collect, MemoryStore, makeCustomers, startQxtendServer, testDeps } from "./helpers.js";

const HOSTILE = `<b>&amp; "quoted" 'single' ]]> <![CDATA[x]]> é 日本 😀 \\ ~ {inc} </b>`;

const base: QxtendQueryRequest = {
  receiver: "qad-qxtend",
  messageId: "urn:uuid:00000000-0000-4000-8000-000000000000",
  replyTo: "http://www.w3.org/2005/08/addressing/anonymous",
  context: [
    { name: "domain", value: "10USA" },
    { name: "version", value: "eB2_1" },
    { name: "username", value: "mfg" },
    { name: "password", value: HOSTILE },
  ],
  profile: "Customer",
  sourceApplication: "ERP",
  filter: `cm_addr > "A~"B"`,
  maxRows: 25,
  ignoreBOFilter: false,
  ignoreBOInnerJoin: true,
};

/** A namespace-aware reading of the envelope: keeps prefixes so we can check them. */
const strict = new XMLParser({
  ignoreAttributes: false,
  parseTagValue: false,
  trimValues: false,
  isArray: (n) => n === "qcom:ttContext",
});

describe("SOAP envelope", () => {
  it("is SOAP 1.1 with WS-Addressing headers and the QAD session context", () => {
    const xml = buildQueryEnvelope(base);
    const doc = strict.parse(xml);
    const env = doc["soapenv:Envelope"];
    expect(env["@_xmlns:soapenv"]).toBe("http://schemas.xmlsoap.org/soap/envelope/");
    expect(env["@_xmlns:wsa"]).toBe("http://www.w3.org/2005/08/addressing");
    expect(env["@_xmlns:qcom"]).toBe("urn:schemas-qad-com:xml-services:common");
    const h = env["soapenv:Header"];
    expect(h["wsa:To"]).toBe("urn:services-qad-com:qad-qxtend");
    expect(h["wsa:MessageID"]).toBe(base.messageId);
    expect(h["wsa:ReplyTo"]["wsa:Address"]).toBe("http://www.w3.org/2005/08/addressing/anonymous");
    const op = env["soapenv:Body"].queryCustomer;
    expect(op["@_xmlns"]).toBe("urn:schemas-qad-com:xml-services");
    const ctx = op["qcom:dsSessionContext"]["qcom:ttContext"];
    expect(ctx.map((c: Record<string, string>) => c["qcom:propertyQualifier"])).toEqual(["QAD", "QAD", "QAD", "QAD"]);
    expect(ctx.map((c: Record<string, string>) => [c["qcom:propertyName"], c["qcom:propertyValue"]])).toEqual(
      base.context.map((e) => [e.name, e.value]),
    );
    expect(op.dsQueryServiceRequest.QueryServiceRequest).toEqual({
      SourceApplication: "ERP",
      Profile: "Customer",
      Filter: `cm_addr > "A~"B"`,
      MaxRows: "25",
      IgnoreBOFilter: "false",
      IgnoreBOInnerJoin: "true",
    });
  });

  it("escapes every hostile value: it round-trips exactly and no raw markup gets through", () => {
    const xml = buildQueryEnvelope({ ...base, sourceApplication: HOSTILE, filter: HOSTILE });
    expect(xml).not.toContain("<b>");
    expect(xml).not.toContain("]]>");
    expect(xml).not.toContain("<![CDATA[");
    expect(xml).toContain("&lt;b&gt;&amp;amp; &quot;quoted&quot;");
    const q = strict.parse(xml)["soapenv:Envelope"]["soapenv:Body"].queryCustomer;
    expect(q.dsQueryServiceRequest.QueryServiceRequest.SourceApplication).toBe(HOSTILE);
    expect(q.dsQueryServiceRequest.QueryServiceRequest.Filter).toBe(HOSTILE);
    expect(q["qcom:dsSessionContext"]["qcom:ttContext"][3]["qcom:propertyValue"]).toBe(HOSTILE);
  });

  it("refuses characters XML cannot carry, and profile names that are not plain XML names", () => {
    expect(() => buildQueryEnvelope({ ...base, filter: "a\u0000b" })).toThrow(QadConfigError);
    expect(() => buildQueryEnvelope({ ...base, sourceApplication: "\ud800" })).toThrow(QadConfigError);
    expect(() => buildQueryEnvelope({ ...base, profile: "Customer><x" })).toThrow(QadConfigError);
    let error: unknown;
    try {
      buildQueryEnvelope({ ...base, context: [{ name: "password", value: "pw\u0001secret" }] });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(QadConfigError);
    expect((error as Error).message).not.toContain("secret");
  });

  it('the client sends text/xml, SOAPAction "", every configured session property, and a uuid MessageID', async () => {
    const sim = await startQxtendServer(new MemoryStore(makeCustomers(3)));
    try {
      const seen: { headers: Headers; body: string }[] = [];
      const deps = testDeps();
      deps.fetch = (async (input: string | URL | Request, init?: RequestInit) => {
        seen.push({ headers: new Headers(init?.headers), body: String(init?.body) });
        return fetch(input, init);
      }) as typeof fetch;
      const options = clientOptions(sim.url, {
        scopeTransaction: false,
        mnemonicsRaw: true,
        action: "",
        entity: "10USACO",
        email: "ops@example.com",
        emailLevel: "error",
        sessionID: "S-1",
        timeoutLimit: 30,
        context: { custom1: "x" },
        sourceApplication: "QADEE",
        ignoreBOFilter: true,
      });
      await collect(createQxtendBackend(options, deps).pages("customers", { pageSize: 10 }));
      // The first page is short; a second (empty) request confirms the end, since a profile may cap MaxRows.
      expect(seen).toHaveLength(2);
      expect(seen[0]!.headers.get("content-type")).toMatch(/^text\/xml/);
      expect(seen[0]!.headers.get("soapaction")).toBe('""');
      const ctx = sim.handler.inspect().lastContext;
      expect(ctx).toEqual({
        domain: "10USA",
        version: "eB2_1",
        scopeTransaction: "false",
        username: "mfg",
        password: "[redacted]",
        mnemonicsRaw: "true",
        action: "",
        entity: "10USACO",
        email: "ops@example.com",
        emailLevel: "error",
        sessionID: "S-1",
        timeoutLimit: "30",
        custom1: "x",
      });
      const id = sim.handler.inspect().messageIds[0]!;
      expect(id).toMatch(/^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      const op = strict.parse(seen[0]!.body)["soapenv:Envelope"]["soapenv:Body"].queryCustomer;
      expect(op.dsQueryServiceRequest.QueryServiceRequest.SourceApplication).toBe("QADEE");
      expect(op.dsQueryServiceRequest.QueryServiceRequest.IgnoreBOFilter).toBe("true");
    } finally {
      await sim.close();
    }
  });

  it("the simulator refuses a wrong wsa:To and a missing version with SOAP Faults", async () => {
    const sim = await startQxtendServer(new MemoryStore(makeCustomers(3)));
    try {
      const wrongTo = buildQueryEnvelope({ ...base, receiver: "other" });
      const r1 = await sim.handler({ headers: { "content-type": "text/xml", soapaction: '""' }, body: wrongTo });
      expect(r1.status).toBe(500);
      expect(r1.body).toContain("wsa:To is missing or names an unknown receiver");
      const noVersion = buildQueryEnvelope({ ...base, context: [{ name: "domain", value: "10USA" }] });
      const r2 = await sim.handler({ headers: { "content-type": "text/xml", soapaction: '""' }, body: noVersion });
      expect(r2.body).toContain("Mandatory session context property");
      const r3 = await sim.handler({
        headers: { "content-type": "application/json", soapaction: '""' },
        body: noVersion,
      });
      expect(r3.status).toBe(415);
    } finally {
      await sim.close();
    }
  });
});
