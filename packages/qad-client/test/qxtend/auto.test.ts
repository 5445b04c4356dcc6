import { createServer, type Server } from "node:http";
import { type AddressInfo, createServer as createTcpServer } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { QadAuthError, QadClient, QadHttpError, QadPermissionError } from "../../src/index.js";
import { type QadSimulator, startQadSimulator } from "../../src/testing/index.js";
import { collect, type LogLine } from "./helpers.js";

let sim: QadSimulator;
beforeAll(async () => {
  sim = await startQadSimulator({ customers: 33, seed: 2 });
});
afterAll(() => sim.close());

const QX_PATH = "qxi/services/QdocWebService";
const qxRequests = () => sim.inspect().requestsByPath[QX_PATH] ?? 0;

function recorder(): {
  logs: LogLine[];
  logger: Record<"debug" | "info" | "warn" | "error", (o: object, m?: string) => void>;
} {
  const logs: LogLine[] = [];
  const log = (level: string) => (obj: object, msg?: string) => logs.push({ level, obj, msg });
  return { logs, logger: { debug: log("debug"), info: log("info"), warn: log("warn"), error: log("error") } };
}

/** The info line with which "auto" records its decision. */
function decision(logs: LogLine[]): { chosen?: string; reason?: string } | undefined {
  return logs.find((l) => l.level === "info" && /protocol auto/.test(l.msg ?? ""))?.obj as
    | { chosen?: string; reason?: string }
    | undefined;
}

/** A loopback HTTP server that is not QAD: answers every request the same way. */
async function notQad(status: number, contentType: string, body: string): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    req.resume();
    req.on("end", () => res.writeHead(status, { "content-type": contentType }).end(body));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/clouderp`, server };
}

const noWait = async () => {};

/** A loopback URL where nothing listens (a port just released), so connecting is refused. */
async function refusedUrl(): Promise<string> {
  const s = createTcpServer();
  await new Promise<void>((resolve) => s.listen(0, "127.0.0.1", resolve));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return `http://127.0.0.1:${port}/clouderp`;
}

describe('protocol "auto" falls back to QXtend only when REST is not there', () => {
  it("reads every customer over QXtend when nothing listens on the REST address (connection refused)", async () => {
    const { logs, logger } = recorder();
    const qad = new QadClient({
      ...sim.clientOptions,
      tenantUrl: await refusedUrl(),
      protocol: "auto",
      sleep: noWait, // backoff of the REST probe: not waited
      logger,
    });
    const customers = await collect(qad.customers.list({ pageSize: 10 }));
    expect(customers).toHaveLength(33);
    expect(await qad.protocol()).toBe("qxtend");
    expect(customers.every((c) => c.lastModified.time === 0)).toBe(true);
    expect(decision(logs)).toMatchObject({ chosen: "qxtend" });
    expect(decision(logs)!.reason).toMatch(/connection refused/i);
  });

  for (const [label, status, type, body, reason] of [
    ["404 from a non-QAD server", 404, "text/plain", "Not Found", /HTTP 404/],
    ["405 from a non-QAD server", 405, "text/plain", "Method Not Allowed", /HTTP 405/],
    ["an HTML page (web UI, not the API)", 200, "text/html", "<html><body>Welcome</body></html>", /non-JSON/],
  ] as const) {
    it(`falls back on ${label}, and says why at info`, async () => {
      const other = await notQad(status, type, body);
      try {
        const { logs, logger } = recorder();
        const qad = new QadClient({
          ...sim.clientOptions,
          tenantUrl: other.url,
          protocol: "auto",
          sleep: noWait,
          logger,
        });
        expect(await qad.protocol()).toBe("qxtend");
        expect(await collect(qad.customers.list({ pageSize: 50 }))).toHaveLength(33);
        expect(decision(logs)).toMatchObject({ chosen: "qxtend" });
        expect(decision(logs)!.reason).toMatch(reason);
      } finally {
        await new Promise<void>((r) => other.server.close(() => r()));
      }
    });
  }

  it("uses REST when it answers, and logs that decision", async () => {
    const { logs, logger } = recorder();
    const qad = new QadClient({ ...sim.clientOptions, protocol: "auto", logger });
    expect(await qad.protocol()).toBe("rest");
    expect(decision(logs)).toMatchObject({ chosen: "rest" });
  });

  it("wrong credentials surface as QadAuthError instead of a silent fallback", async () => {
    const { logs, logger } = recorder();
    const before = qxRequests();
    const qad = new QadClient({
      ...sim.clientOptions,
      protocol: "auto",
      auth: { kind: "session", username: "nobody", password: "wrong-pw" },
      sleep: noWait,
      logger,
    });
    await expect(qad.protocol()).rejects.toBeInstanceOf(QadAuthError);
    await expect(collect(qad.customers.list())).rejects.toBeInstanceOf(QadAuthError);
    expect(qxRequests()).toBe(before);
    expect(decision(logs)).toMatchObject({ chosen: "none" });
    expect(JSON.stringify(logs)).not.toContain("wrong-pw");
  });

  it("the cause chain of a token failure keeps what the endpoint answered, never its body or the sent password", async () => {
    // A token endpoint that answers a token under the wrong content type: the client cannot read it, and the
    // error (with its causes) must not carry the token text nor the request that carried the password.
    const other = await notQad(200, "text/html", '{"access_token":"tok-SECRET-123"}');
    try {
      const qad = new QadClient({
        ...sim.clientOptions,
        tenantUrl: other.url,
        auth: { kind: "password", clientId: "c", username: "u", password: "pw-SECRET-456" },
        sleep: noWait,
      });
      const err = await collect(qad.customers.list()).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(QadAuthError);
      const seen: unknown[] = [];
      for (let c: unknown = err; c !== undefined && c !== null; c = (c as { cause?: unknown }).cause) seen.push(c);
      expect(seen.length).toBeGreaterThan(1); // what the endpoint answered is kept as the cause
      for (const c of seen) {
        const own = Object.fromEntries(Object.entries(c as object));
        expect(JSON.stringify({ ...own, message: (c as Error).message })).not.toMatch(/SECRET/);
        for (const v of Object.values(own)) expect(v).not.toBeInstanceOf(Request);
      }
    } finally {
      await new Promise<void>((r) => other.server.close(() => r()));
    }
  });

  it("a token rejected again after renewal (401) surfaces as QadAuthError", async () => {
    let issued = 0;
    const qad = new QadClient({
      ...sim.clientOptions,
      protocol: "auto",
      auth: {
        kind: "provider",
        getToken: async () => {
          issued++;
          return `not-a-sim-token-${issued}`;
        },
      },
      sleep: noWait,
    });
    const err = await qad.protocol().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(QadAuthError);
    expect((err as QadAuthError).status).toBe(401);
    expect(issued).toBe(2); // the original token and one renewal
  });

  it("403 on the probe surfaces as QadPermissionError", async () => {
    const before = qxRequests();
    sim.faults.inject({ kind: "forbidden", path: "api/qracore/securityControl" });
    const qad = new QadClient({ ...sim.clientOptions, protocol: "auto", sleep: noWait });
    await expect(qad.protocol()).rejects.toBeInstanceOf(QadPermissionError);
    expect(qxRequests()).toBe(before);
  });

  it("REST failing transiently (5xx after retries) is an error, not a fallback, and the next call probes again", async () => {
    sim.faults.inject({ kind: "serverError", path: "api/qracore/securityControl", times: 4 });
    const qad = new QadClient({ ...sim.clientOptions, protocol: "auto", sleep: noWait });
    await expect(qad.protocol()).rejects.toBeInstanceOf(QadHttpError);
    expect(await qad.protocol()).toBe("rest");
  });
});
