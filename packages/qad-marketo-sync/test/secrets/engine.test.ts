/**
 * Secrets suite through the sync engine: both simulators over real HTTP behind a hostile proxy, planted values for
 * every secret and token (Marketo client secret and issued tokens, QAD password, OAuth client secret, bearer and
 * refresh tokens, QXtend password, the vault key), runs that fail every way a run can (Marketo refusing writes,
 * expiring and revoked tokens, answers cut mid-body, servers echoing the token into an error or a record reason,
 * wrong credentials, refused connections, a QAD 403 and a malformed page echoing the bearer token, a QXtend SOAP
 * fault echoing the password). None of the planted values may appear in logs (debug level, every argument), events
 * (all of them), audit rows, carried records, run summaries or stored run records, on the memory store and on the
 * SQLite store, whose raw files (database, WAL) are scanned byte for byte too.
 *
 * (Folds in the former `test/secrets.test.ts`, whose scenario is run A here.)
 */
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MarketoClient } from "@ml/marketo-client";
import { startMarketoSimulator } from "@ml/marketo-client/testing";
import { QadClient, type QadClientOptions } from "@ml/qad-client";
import { startQadSimulator } from "@ml/qad-client/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type AuditStore,
  createMemoryStore,
  createSync,
  createVault,
  keyRing,
  marketoGateway,
  qadCustomerSource,
  type RunOutcome,
  type SecretStore,
  type SyncEventName,
} from "../../src/index.js";
import { createSqliteStore } from "../../src/sqlite/index.js";
import { startAttacker, startProxy } from "./proxy.js";
import { capturingLogger, expectClean, plant, plantPrefix, render, renderLogs, Secrets, tokenSpy } from "./support.js";

const EVENTS: SyncEventName[] = [
  "runStarted",
  "runSkipped",
  "progress",
  "batchCommitted",
  "capability",
  "accountContext",
  "runFinished",
];

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "ml-secrets-"));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe.each(["memory", "sqlite"] as const)("through the engine, %s store", (storeKind) => {
  it("no planted secret or token reaches logs, events, audit rows, summaries, run records or the store", async () => {
    const MK_SECRET = plant("mksecret");
    const MK_WRONG = plant("mkwrong");
    const QAD_PASSWORD = plant("qadpw");
    const QAD_CLIENT_SECRET = plant("qadcs");
    const QX_PASSWORD = plant("qxpw");
    const VAULT_KEY = randomBytes(32);
    const secrets = new Secrets();
    secrets.add("MK_SECRET", MK_SECRET);
    secrets.add("MK_WRONG", MK_WRONG);
    secrets.add("QAD_PASSWORD", QAD_PASSWORD);
    secrets.add("QAD_CLIENT_SECRET", QAD_CLIENT_SECRET);
    secrets.add("QX_PASSWORD", QX_PASSWORD);
    secrets.add("VAULT_KEY_B64", VAULT_KEY.toString("base64"));
    secrets.add("VAULT_KEY_HEX", VAULT_KEY.toString("hex"));
    const mkTokenPrefix = plantPrefix("mktok");
    const qadTokenPrefix = plantPrefix("qadtok");
    secrets.add("MK_TOKEN_PREFIX", mkTokenPrefix);
    secrets.add("QAD_TOKEN_PREFIX", qadTokenPrefix);
    const spy = tokenSpy((t) => secrets.add("token", t));

    const qadSim = await startQadSimulator({
      customers: 60,
      seed: 5,
      credentials: { password: QAD_PASSWORD, clientSecret: QAD_CLIENT_SECRET },
      tokenPrefix: qadTokenPrefix,
      qxtend: { credentials: { username: "mfg", password: QX_PASSWORD } },
    });
    const mkSim = await startMarketoSimulator({
      timeScale: 0.01,
      latencyMs: 0,
      clientSecret: MK_SECRET,
      tokenPrefix: mkTokenPrefix,
    });
    const qadProxy = await startProxy(new URL(qadSim.tenantUrl).origin);
    const mkProxy = await startProxy(mkSim.url);
    const attacker = await startAttacker();
    const gone = await startAttacker();
    const closed = gone.origin;
    await gone.close();
    const file = join(dir, `state-${randomBytes(4).toString("hex")}.db`);
    const sqlite = storeKind === "sqlite" ? createSqliteStore({ path: file }) : undefined;
    const store: AuditStore & SecretStore = sqlite ?? createMemoryStore();
    const log = capturingLogger();
    const events: unknown[] = [];
    const outcomes: RunOutcome[] = [];
    const tenants: string[] = [];

    try {
      // The credentials live in the vault, sealed in the same store as the state; clients are built from it.
      const vault = createVault({ store, keys: keyRing([{ id: "k1", key: VAULT_KEY }]), logger: log.logger });
      const mkBase = {
        rest: `${mkProxy.origin}/rest`,
        identity: `${mkProxy.origin}/identity`,
        bulk: `${mkProxy.origin}/bulk`,
      };
      await vault.putMarketo("pair", { baseUrls: mkBase, clientId: mkSim.clientId, clientSecret: MK_SECRET });
      const sealed = await vault.getMarketo("pair");
      expect(sealed?.clientSecret).toBe(MK_SECRET);

      const qadOptions = (o: { qxtend?: boolean; origin?: string } = {}): QadClientOptions => {
        const origin = o.origin ?? qadProxy.origin;
        const base = qadSim.clientOptions;
        return {
          ...base,
          tenantUrl: `${origin}${new URL(qadSim.tenantUrl).pathname}`,
          auth: {
            kind: "password",
            clientId: qadSim.credentials.clientId,
            clientSecret: QAD_CLIENT_SECRET,
            username: qadSim.credentials.username,
            password: QAD_PASSWORD,
          },
          ...(o.qxtend
            ? {
                protocol: "qxtend" as const,
                qxtend: {
                  ...(base.qxtend as NonNullable<QadClientOptions["qxtend"]>),
                  url: `${origin}${new URL(qadSim.qxtendUrl).pathname}`,
                  password: QX_PASSWORD,
                },
              }
            : {}),
          retry: { maxRetries: 1, baseDelayMs: 1, maxDelayMs: 2 },
          sleep: async () => {},
          fetch: spy,
          logger: log.logger,
        };
      };
      const marketo = (o: { clientSecret?: string; rest?: string } = {}) =>
        new MarketoClient({
          ...mkSim.clientOptions,
          baseUrls: { ...mkBase, ...(o.rest ? { rest: o.rest } : {}) },
          clientId: sealed?.clientId ?? "",
          clientSecret: o.clientSecret ?? sealed?.clientSecret ?? "",
          retry: { maxRetries: 2, baseDelayMs: 1, maxDelayMs: 2 },
          fetch: spy,
          logger: log.logger,
        });
      async function run(tenant: string, qad: QadClient, mk: MarketoClient): Promise<RunOutcome> {
        tenants.push(tenant);
        const sync = createSync({
          source: qadCustomerSource(qad),
          marketo: marketoGateway(mk, { bulkFirstPull: false }),
          store,
          tenant,
          logger: log.logger,
          carryForward: { baseDelayMs: 0 },
        });
        for (const name of EVENTS) sync.on(name, (e: unknown) => events.push({ name, e }));
        const outcome = await sync.runOnce();
        outcomes.push(outcome);
        return outcome;
      }
      const statusOf = (o: RunOutcome) => (o.status === "alreadyRunning" ? o.status : o.summary.status);

      // A. Failures on the way, the run carries on: company writes refused beyond the client's retries, tokens
      // invalid and expired, answers cut mid-body, a lead write whose record reasons echo the bearer token, a QAD
      // session expiring mid-read and a corrupt QAD row.
      mkSim.faults.inject({ code: 611, times: 200, path: "/rest/v1/companies.json", method: "POST" });
      mkSim.faults.inject({ code: 601, times: 2, path: "/rest/v1/leads" });
      mkSim.faults.inject({ code: 602, times: 2, path: "/rest/v1/namedaccounts" });
      mkSim.faults.inject({ code: "drop", times: 2, path: "/rest/v1/leads.json", method: "POST" });
      let echoed = 0;
      mkProxy.rule((r) =>
        r.method === "POST" && r.url.startsWith("/rest/v1/leads.json") && echoed++ < 3
          ? {
              rewrite: (up) => {
                const body = JSON.parse(up.body) as { result?: Record<string, unknown>[] };
                for (const rec of (body.result ?? []).slice(0, 2)) {
                  Object.assign(rec, { status: "skipped", reasons: [{ code: "1003", message: `for ${r.token}` }] });
                }
                return { status: up.status, body: JSON.stringify(body) };
              },
            }
          : undefined,
      );
      qadSim.faults.inject({ kind: "sessionExpired", times: 1 });
      const victim = qadSim.data.customers()[3]!;
      qadSim.data.corrupt(victim.customerCode, "missingName");
      const a = await run("a-faults", new QadClient(qadOptions()), marketo());
      expect(statusOf(a)).toBe("degraded");
      mkSim.faults.clear();
      mkProxy.rule(undefined);
      mkSim.tokens.expireAll();
      const a2 = await run("a-faults", new QadClient(qadOptions()), marketo());
      expect(["completed", "degraded"]).toContain(statusOf(a2));
      mkSim.tokens.revokeAll();

      // B. A wrong Marketo secret: the run fails and says why without repeating either secret.
      expect(
        statusOf(await run("b-wrong-secret", new QadClient(qadOptions()), marketo({ clientSecret: MK_WRONG }))),
      ).toBe("failed");

      // C. Marketo refuses connections.
      expect(statusOf(await run("c-refused", new QadClient(qadOptions()), marketo({ rest: `${closed}/rest` })))).toBe(
        "failed",
      );

      // D. Marketo answers every write with a 500 echoing the bearer token and the request body.
      mkProxy.rule((r) =>
        r.method === "POST" && r.url.startsWith("/rest/v1/")
          ? { status: 500, body: `upstream failed for ${r.token} ${r.body.slice(0, 200)}`, contentType: "text/plain" }
          : undefined,
      );
      expect(statusOf(await run("d-echo-500", new QadClient(qadOptions()), marketo()))).toBe("failed");
      // ... and every write with a redirect to another origin.
      mkProxy.rule((r) =>
        r.method === "POST" && r.url.startsWith("/rest/v1/")
          ? { status: 307, redirect: `${attacker.origin}${r.url}` }
          : undefined,
      );
      expect(statusOf(await run("d-redirect", new QadClient(qadOptions()), marketo()))).toBe("failed");
      expect(attacker.seen).toEqual([]);
      mkProxy.rule(undefined);

      // E. QAD answers a 403 whose message echoes the bearer token (the case), then a page of the wrong
      // shape echoing it, then a token answer echoing the password.
      const qadEchoes = [
        (t: string) => ({
          status: 403,
          body: JSON.stringify({ errors: [{ severity: 1, code: "403", message: `denied ${t}` }] }),
        }),
        (t: string) => ({ status: 200, body: JSON.stringify({ data: `session ${t}` }) }),
      ];
      for (const [i, answer] of qadEchoes.entries()) {
        qadProxy.rule((r) => (r.url.includes("api/qracore/browses") ? answer(r.token) : undefined));
        expect(statusOf(await run(`e-qad-echo-${i}`, new QadClient(qadOptions()), marketo()))).toBe("failed");
      }
      qadProxy.rule((r) =>
        r.url.includes("oauth/token")
          ? { status: 401, body: JSON.stringify({ error_description: `bad ${r.body}` }) }
          : undefined,
      );
      expect(statusOf(await run("e-qad-token-echo", new QadClient(qadOptions()), marketo()))).toBe("failed");
      qadProxy.rule(undefined);

      // F. QXtend: a SOAP fault echoing the password, then one echoing the whole request envelope.
      qadSim.qxtendFaults.inject(
        { kind: "soapFault", faultstring: `login ${QX_PASSWORD} refused`, detail: QX_PASSWORD },
        { times: 10 },
      );
      expect(statusOf(await run("f-qxtend-fault", new QadClient(qadOptions({ qxtend: true })), marketo()))).toBe(
        "failed",
      );
      qadSim.qxtendFaults.clear();
      qadProxy.rule((r) =>
        r.url.includes("/qxi/")
          ? {
              status: 500,
              contentType: "text/xml",
              body: `<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body><soapenv:Fault><faultcode>soapenv:Client</faultcode><faultstring>${r.body.replace(/</g, "&lt;")}</faultstring></soapenv:Fault></soapenv:Body></soapenv:Envelope>`,
            }
          : undefined,
      );
      expect(statusOf(await run("f-qxtend-echo", new QadClient(qadOptions({ qxtend: true })), marketo()))).toBe(
        "failed",
      );
      qadProxy.rule(undefined);

      // G. QAD refuses connections.
      expect(statusOf(await run("g-qad-refused", new QadClient(qadOptions({ origin: closed })), marketo()))).toBe(
        "failed",
      );

      // What a user can read back: audit rows, carried records and run records of every tenant.
      const audit: unknown[] = [];
      const runs: unknown[] = [];
      const carried: unknown[] = [];
      for (const tenant of new Set(tenants)) {
        audit.push(...(await store.queryAudit({ tenant })));
        runs.push(...(await store.listRuns(tenant)));
        carried.push(...(await store.listCarried({ tenant })));
      }
      // The scenario really produced what is scanned, so the absence below means something.
      const rows = audit as { outcome: string; reasons?: { code: string }[] }[];
      expect(rows.some((r) => r.outcome === "failed")).toBe(true);
      expect(rows.some((r) => r.outcome === "rejected")).toBe(true);
      expect(rows.some((r) => r.outcome === "skipped" && r.reasons?.some((x) => x.code === "1003"))).toBe(true);
      expect(carried.length).toBeGreaterThan(0);
      expect(runs.length).toBe(outcomes.length);
      expect(echoed).toBeGreaterThan(0);
      expect(secrets.size).toBeGreaterThan(12);
      expect(log.calls.some((c) => c.level === "debug")).toBe(true);
      expect(events.length).toBeGreaterThan(outcomes.length * 2);

      expectClean("the run outcomes and summaries", render(outcomes), secrets);
      expectClean("the events", render(events), secrets);
      expectClean("the audit rows", render(audit), secrets);
      expectClean("the carried records", render(carried), secrets);
      expectClean("the stored run records", render(runs), secrets);
      expectClean("the log", renderLogs(log.calls), secrets);
      expectClean("the sealed records", render(await store.listSealed({})), secrets);
    } finally {
      sqlite?.close();
      await Promise.all([qadProxy.close(), mkProxy.close(), attacker.close(), qadSim.close(), mkSim.close()]);
    }
    if (sqlite) {
      // The raw files: the vault sealed the Marketo secret into this very database.
      const raw = [file, `${file}-wal`, `${file}-shm`]
        .filter((f) => existsSync(f))
        .map((f) => {
          const bytes = readFileSync(f);
          return `${bytes.toString("latin1")}\n${bytes.toString("utf8")}`;
        })
        .join("\n");
      expect(raw).toContain("a-faults");
      expectClean("the raw SQLite files", raw, secrets);
    }
  });
});
