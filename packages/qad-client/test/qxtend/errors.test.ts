import { FakeTime, failure, flush } from "@ml/http-kernel/testing";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  isQadError,
  QadAbortError,
  QadConfigError,
  QadHttpError,
  QadQxtendError,
  QadResponseParseError,
  QadSoapFaultError,
} from "../../src/errors.js";
import { createQxtendBackend } from "../../src/qxtend/index.js";
import {
  clientOptions,
  collect,
  MemoryStore,
  makeCustomers,
  SIM_CREDENTIALS,
  startQxtendServer,
  testDeps,
} from "./helpers.js";

const store = new MemoryStore(makeCustomers(30, 11));
let sim: Awaited<ReturnType<typeof startQxtendServer>>;

beforeAll(async () => {
  sim = await startQxtendServer(store, { credentials: SIM_CREDENTIALS, domain: "10USA", versions: ["eB2_1"] });
});
afterAll(() => sim.close());
beforeEach(() => sim.handler.faults.clear());

const readAll = (backend: ReturnType<typeof createQxtendBackend>, pageSize = 10) =>
  collect(backend.pages("customers", { pageSize }));

/** The password, raw or XML-escaped, must not appear anywhere in an error. */
function expectNoSecret(e: unknown): void {
  const err = e as Error & Record<string, unknown>;
  const dump = JSON.stringify({ ...err, message: err.message, stack: err.stack, cause: String(err.cause) });
  expect(dump).not.toContain(SIM_CREDENTIALS.password);
  expect(dump).not.toContain("s3cr&amp;t");
}

describe("QXtend failures become typed errors", () => {
  it("bad credentials: SOAP Fault → QadSoapFaultError with faultcode/faultstring, not retried", async () => {
    const deps = testDeps();
    const backend = createQxtendBackend(clientOptions(sim.url, { password: "wrong" }), deps);
    const before = sim.handler.inspect().requests;
    const e = await failure(readAll(backend));
    expect(e).toBeInstanceOf(QadSoapFaultError);
    expect(isQadError(e)).toBe(true);
    const f = e as QadSoapFaultError;
    expect(f.code).toBe("soap_fault");
    expect(f.faultcode).toBe("soapenv:Client");
    expect(f.faultstring).toBe("User ID or password is incorrect");
    expect(f.retryable).toBe(false);
    expect(f.status).toBe(500);
    expect(f.requestId).toMatch(/^urn:uuid:[0-9a-f-]{36}$/);
    expect(f.request).toEqual({ method: "POST", url: sim.url });
    expect(sim.handler.inspect().requests - before).toBe(1);
    expect(deps.sleeps).toEqual([]);
  });

  it("unknown profile and missing mandatory version are SOAP Faults too", async () => {
    const unknown = await failure(
      readAll(createQxtendBackend(clientOptions(sim.url, { profiles: { customers: "Nope" } }), testDeps())),
    );
    expect(unknown).toBeInstanceOf(QadSoapFaultError);
    expect((unknown as QadSoapFaultError).faultstring).toMatch(/Profile Nope is not defined/);
    const badVersion = await failure(
      readAll(createQxtendBackend(clientOptions(sim.url, { version: "ERP3_1" }), testDeps())),
    );
    expect((badVersion as QadSoapFaultError).faultstring).toMatch(/Unsupported version ERP3_1/);
  });

  it("result=error with temp_err_msg rows → QadQxtendError carrying every message detail", async () => {
    sim.handler.faults.inject({
      kind: "resultError",
      messages: [
        {
          number: 1234,
          description: "Customer does not exist",
          severity: "error",
          field: "cm_addr",
          data: "C<&>",
          keys: "10USA|C1",
        },
        { number: 99, description: "Second problem", severity: "error" },
      ],
    });
    const deps = testDeps();
    const e = await failure(readAll(createQxtendBackend(clientOptions(sim.url), deps)));
    expect(e).toBeInstanceOf(QadQxtendError);
    const q = e as QadQxtendError;
    expect(q.code).toBe("qxtend");
    expect(q.result).toBe("error");
    expect(q.retryable).toBe(false);
    expect(q.messages).toEqual([
      {
        number: 1234,
        description: "Customer does not exist",
        severity: "error",
        field: "cm_addr",
        data: "C<&>",
        keys: "10USA|C1",
      },
      { number: 99, description: "Second problem", severity: "error" },
    ]);
    expect(q.message).toContain("Customer does not exist");
    expect(deps.sleeps).toEqual([]);
  });

  it("a filter the profile cannot compile is a result=error, as from a real profile", async () => {
    const handler = sim.handler;
    const res = await handler({
      headers: { "content-type": "text/xml", soapaction: '""' },
      body: deps0Envelope("cm_sort begins 'A'"),
    });
    expect(res.status).toBe(200);
    expect(res.body).toContain("<result>error</result>");
    expect(res.body).toContain("unsupported filter clause");
  });

  it("a transient error (record locked) is retried, then succeeds", async () => {
    sim.handler.faults.inject({
      kind: "resultError",
      messages: [{ description: "Record cm_mstr is in use by another user", severity: "error" }],
    });
    const deps = testDeps();
    const pages = await readAll(createQxtendBackend(clientOptions(sim.url), deps));
    expect(pages.flat()).toHaveLength(30);
    expect(deps.sleeps).toHaveLength(1);
  });

  it("warnings are logged and kept on the page", async () => {
    sim.handler.faults.inject({
      kind: "warning",
      messages: [{ number: 7, description: "Credit limit exceeded", severity: "warning", keys: "C00001" }],
    });
    const deps = testDeps();
    const pages = await readAll(createQxtendBackend(clientOptions(sim.url), deps));
    expect(pages[0]!.result).toBe("warning");
    expect(pages[0]!.warnings).toEqual([
      { number: 7, description: "Credit limit exceeded", severity: "warning", keys: "C00001" },
    ]);
    expect(pages[1]!.warnings).toEqual([]);
    const warn = deps.logs.filter((l) => l.level === "warn");
    expect(warn).toHaveLength(1);
    expect(JSON.stringify(warn[0]!.obj)).toContain("Credit limit exceeded");
    expect(pages.flat()).toHaveLength(30);
  });

  it("HTTP 500 is retried with capped exponential backoff and bounded jitter from the injected random", async () => {
    sim.handler.faults.inject({ kind: "http500" }, { times: 3 });
    const deps = testDeps();
    const before = sim.handler.inspect().requests;
    const pages = await readAll(createQxtendBackend(clientOptions(sim.url), deps), 100);
    expect(pages.flat()).toHaveLength(30);
    // 4 attempts of the first page, then one (empty) request confirming the end of a short first page.
    expect(sim.handler.inspect().requests - before).toBe(5);
    // base 100 ms doubling: 100, 200, 400, each reduced by at most 25% jitter.
    expect(deps.sleeps).toHaveLength(3);
    [100, 200, 400].forEach((base, i) => {
      expect(deps.sleeps[i]).toBeLessThanOrEqual(base);
      expect(deps.sleeps[i]).toBeGreaterThanOrEqual(base * 0.75);
    });
    // Every attempt is a new WS-Addressing message.
    const ids = sim.handler.inspect().messageIds.slice(-5, -1);
    expect(new Set(ids).size).toBe(4);
  });

  it("persistent HTTP 500 gives QadHttpError after maxRetries, delays capped at maxDelayMs", async () => {
    sim.handler.faults.inject({ kind: "http500" }, { times: 10 });
    const deps = testDeps();
    const before = sim.handler.inspect().requests;
    const e = await failure(
      readAll(
        createQxtendBackend(
          clientOptions(sim.url, { retry: { maxRetries: 5, baseDelayMs: 100, maxDelayMs: 300 } }),
          deps,
        ),
      ),
    );
    expect(e).toBeInstanceOf(QadHttpError);
    expect((e as QadHttpError).status).toBe(500);
    expect((e as QadHttpError).retryable).toBe(true);
    expect((e as QadHttpError).bodySnippet).toBe("Internal Server Error");
    expect(sim.handler.inspect().requests - before).toBe(6);
    expect(Math.max(...deps.sleeps)).toBeLessThanOrEqual(300);
    expect(deps.sleeps.slice(2).every((ms) => ms >= 225)).toBe(true);
  });

  it("an HTML page instead of SOAP → QadResponseParseError with the content type, not retried", async () => {
    sim.handler.faults.inject({ kind: "html" });
    const deps = testDeps();
    const e = await failure(readAll(createQxtendBackend(clientOptions(sim.url), deps)));
    expect(e).toBeInstanceOf(QadResponseParseError);
    expect((e as QadResponseParseError).contentType).toBe("text/html");
    expect((e as QadResponseParseError).bodySnippet).toContain("Please log in");
    expect(deps.sleeps).toEqual([]);
  });

  it("a transient SOAP Fault (timeout) is retried; a Server fault that is not transient is not", async () => {
    sim.handler.faults.inject({ kind: "soapFault", faultstring: "Request timed out waiting for AppServer" });
    const deps = testDeps();
    expect((await readAll(createQxtendBackend(clientOptions(sim.url), deps))).flat()).toHaveLength(30);
    expect(deps.sleeps).toHaveLength(1);

    sim.handler.faults.inject({
      kind: "soapFault",
      faultcode: "soapenv:Server",
      faultstring: "Invalid business object",
    });
    const deps2 = testDeps();
    const e = await failure(readAll(createQxtendBackend(clientOptions(sim.url), deps2)));
    expect((e as QadSoapFaultError).retryable).toBe(false);
    expect(deps2.sleeps).toEqual([]);
  });

  it("connection errors are retried and end as a retryable QadHttpError", async () => {
    const closed = await startQxtendServer(store);
    await closed.close();
    const deps = testDeps();
    const e = await failure(readAll(createQxtendBackend(clientOptions(closed.url), deps)));
    expect(e).toBeInstanceOf(QadHttpError);
    expect((e as QadHttpError).message).toMatch(/connection failed/);
    expect((e as QadHttpError).retryable).toBe(true);
    expect(deps.sleeps).toHaveLength(3);
  });

  it("never leaks the password into errors, even when the server echoes it", async () => {
    sim.handler.faults.inject({
      kind: "soapFault",
      faultcode: "soapenv:Client",
      faultstring: `Bad login for mfg/${SIM_CREDENTIALS.password}`,
    });
    const e1 = await failure(readAll(createQxtendBackend(clientOptions(sim.url), testDeps())));
    expect((e1 as QadSoapFaultError).faultstring).toBe("Bad login for mfg/[redacted]");
    expectNoSecret(e1);
    sim.handler.faults.inject({
      kind: "resultError",
      messages: [{ description: `password ${SIM_CREDENTIALS.password} rejected`, data: SIM_CREDENTIALS.password }],
    });
    const e2 = await failure(readAll(createQxtendBackend(clientOptions(sim.url), testDeps())));
    expectNoSecret(e2);
    const e3 = await failure(readAll(createQxtendBackend(clientOptions(sim.url, { password: "nope" }), testDeps())));
    expectNoSecret(e3);
  });

  it("nothing the logger receives carries the password, across retries, faults and warnings", async () => {
    const deps = testDeps();
    sim.handler.faults.inject({ kind: "http500" });
    sim.handler.faults.inject({ kind: "warning", messages: [{ description: `pw ${SIM_CREDENTIALS.password}` }] });
    await readAll(createQxtendBackend(clientOptions(sim.url), deps));
    sim.handler.faults.inject({
      kind: "soapFault",
      faultcode: "soapenv:Client",
      faultstring: SIM_CREDENTIALS.password,
    });
    await failure(readAll(createQxtendBackend(clientOptions(sim.url), deps)));
    expect(deps.logs.length).toBeGreaterThan(3);
    const dump = JSON.stringify(deps.logs);
    expect(dump).not.toContain(SIM_CREDENTIALS.password);
    expect(dump).not.toContain("s3cr&amp;t");
  });

  it("a server that never answers times out per request, is retried, and ends as a retryable QadHttpError", async () => {
    const { createServer } = await import("node:http");
    let received = 0;
    const hang = createServer(() => {
      received++; // never respond
    });
    await new Promise<void>((r) => hang.listen(0, "127.0.0.1", r));
    const port = (hang.address() as { port: number }).port;
    try {
      // The per-request deadline runs on fake timers: it fires when the test moves time, never on its own.
      const time = new FakeTime();
      const deps = { ...testDeps(), timers: time.timers };
      /** Lets loopback I/O run until the server holds request number `n` and one deadline is armed. */
      const holding = async (n: number) => {
        const ready = () => received === n && time.pending === 1;
        for (let i = 0; i < 500 && !ready(); i++) await flush();
        expect({ received, deadlines: time.pending }).toEqual({ received: n, deadlines: 1 });
      };
      let settled = false;
      const read = failure(
        readAll(
          createQxtendBackend(
            clientOptions(`http://127.0.0.1:${port}/qxi/services/QdocWebService`, {
              timeoutMs: 50,
              retry: { maxRetries: 1, baseDelayMs: 1, maxDelayMs: 1 },
            }),
            deps,
          ),
        ),
      ).finally(() => {
        settled = true;
      });
      await holding(1);
      await time.advance(49);
      await flush();
      expect(settled).toBe(false);
      await time.advance(1);
      await holding(2);
      await time.advance(50);
      const e = await read;
      expect(e).toBeInstanceOf(QadHttpError);
      expect((e as Error).message).toMatch(/timed out/);
      expect((e as QadHttpError).retryable).toBe(true);
      expect(deps.fetchCalls).toHaveLength(2);
      expect(received).toBe(2);
    } finally {
      hang.closeAllConnections();
      await new Promise<void>((r) => hang.close(() => r()));
    }
  });

  it("an aborted read rejects with QadAbortError and stops retrying", async () => {
    sim.handler.faults.inject({ kind: "http500" }, { times: 10 });
    const controller = new AbortController();
    const deps = testDeps();
    deps.sleep = async (ms: number) => {
      deps.sleeps.push(ms);
      controller.abort();
      throw new DOMException("aborted", "AbortError");
    };
    const backend = createQxtendBackend(clientOptions(sim.url), deps);
    const e = await failure(collect(backend.pages("customers", { pageSize: 10, signal: controller.signal })));
    expect(e).toBeInstanceOf(QadAbortError);
    expect(deps.sleeps).toHaveLength(1);
    sim.handler.faults.clear();
  });

  it("a signal aborted before the read starts rejects with QadAbortError without a request", async () => {
    const controller = new AbortController();
    controller.abort();
    const before = sim.handler.inspect().requests;
    const e = await failure(
      collect(
        createQxtendBackend(clientOptions(sim.url), testDeps()).pages("customers", {
          pageSize: 5,
          signal: controller.signal,
        }),
      ),
    );
    expect(e).toBeInstanceOf(QadAbortError);
    expect(sim.handler.inspect().requests).toBe(before);
  });

  it("bad options are refused up front with QadConfigError, without echoing the password", () => {
    expect(() => createQxtendBackend(clientOptions("ftp://x/qxi"), testDeps())).toThrow(QadConfigError);
    expect(() => createQxtendBackend(clientOptions("http://qad.example.com/qxi"), testDeps())).toThrow(/plain http/);
    expect(() => createQxtendBackend(clientOptions(sim.url, { version: "" }), testDeps())).toThrow(/version/);
    expect(() =>
      createQxtendBackend(clientOptions(sim.url, { profiles: { customers: "Cust<x>" } }), testDeps()),
    ).toThrow(/plain XML name/);
    try {
      createQxtendBackend(clientOptions(sim.url, { receiver: "", password: "hunter2-secret" }), testDeps());
      expect.unreachable();
    } catch (e) {
      expect((e as Error).message).not.toContain("hunter2-secret");
    }
  });

  it("an entity without a profile is a QadConfigError", async () => {
    const e = await failure(
      collect(createQxtendBackend(clientOptions(sim.url), testDeps()).pages("suppliers", { pageSize: 5 })),
    );
    expect(e).toBeInstanceOf(QadConfigError);
  });
});

/** A hand-written envelope with a given Filter, to probe the simulator's filter evaluation directly. */
function deps0Envelope(filter: string): string {
  const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  return `<?xml version="1.0"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" xmlns:a="http://www.w3.org/2005/08/addressing" xmlns:c="urn:schemas-qad-com:xml-services:common">
<s:Header><a:To>urn:services-qad-com:qad-qxtend</a:To><a:MessageID>urn:uuid:1</a:MessageID></s:Header>
<s:Body><queryCustomer xmlns="urn:schemas-qad-com:xml-services"><c:dsSessionContext>
<c:ttContext><c:propertyQualifier>QAD</c:propertyQualifier><c:propertyName>version</c:propertyName><c:propertyValue>eB2_1</c:propertyValue></c:ttContext>
<c:ttContext><c:propertyQualifier>QAD</c:propertyQualifier><c:propertyName>domain</c:propertyName><c:propertyValue>10USA</c:propertyValue></c:ttContext>
<c:ttContext><c:propertyQualifier>QAD</c:propertyQualifier><c:propertyName>username</c:propertyName><c:propertyValue>mfg</c:propertyValue></c:ttContext>
<c:ttContext><c:propertyQualifier>QAD</c:propertyQualifier><c:propertyName>password</c:propertyName><c:propertyValue>${esc(SIM_CREDENTIALS.password)}</c:propertyValue></c:ttContext>
</c:dsSessionContext><dsQueryServiceRequest><QueryServiceRequest><SourceApplication>ERP</SourceApplication><Profile>Customer</Profile>
<Filter>${esc(filter)}</Filter><MaxRows>10</MaxRows></QueryServiceRequest></dsQueryServiceRequest></queryCustomer></s:Body></s:Envelope>`;
}
