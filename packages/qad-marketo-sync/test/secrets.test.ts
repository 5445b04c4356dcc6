import { MarketoClient } from "@ml/marketo-client";
import { startMarketoSimulator } from "@ml/marketo-client/testing";
import { QadClient } from "@ml/qad-client";
import { startQadSimulator } from "@ml/qad-client/testing";
import { describe, expect, it } from "vitest";
import { createMemoryStore, createSync, marketoGateway, qadCustomerSource, type RunOutcome } from "../src/index.js";

/** Records every access/refresh token the identity endpoints hand out, so the test can look for them afterwards. */
function tokenSpy(tokens: string[]): typeof fetch {
  return async (input, init) => {
    const res = await fetch(input, init);
    const url = input instanceof Request ? input.url : String(input);
    if (/oauth\/token|\/login/.test(url)) {
      const body = await res.clone().text();
      for (const m of body.matchAll(/"(?:access_token|refresh_token|token|jwt)"\s*:\s*"([^"]+)"/g)) tokens.push(m[1]!);
    }
    return res;
  };
}

/** JSON of anything, with errors (and their causes) spelled out instead of `{}`. */
function dump(value: unknown): string {
  return JSON.stringify(value, (_k, v) =>
    v instanceof Error ? { ...v, name: v.name, message: v.message, stack: v.stack, cause: v.cause } : v,
  );
}

describe("secrets", () => {
  it("no credential or token reaches audit rows, events, logs or run summaries, failures included", async () => {
    const qadSim = await startQadSimulator({ customers: 40, seed: 5 });
    const mkSim = await startMarketoSimulator({ timeScale: 0.01, latencyMs: 0 });
    try {
      const tokens: string[] = [];
      const lines: unknown[] = [];
      const log = (level: string) => (obj: object, msg?: string) => lines.push({ level, obj, msg });
      const logger = { debug: log("debug"), info: log("info"), warn: log("warn"), error: log("error") };
      const events: unknown[] = [];
      const outcomes: RunOutcome[] = [];
      const store = createMemoryStore();
      const qad = new QadClient({ ...qadSim.clientOptions, fetch: tokenSpy(tokens), logger });

      // A run with failures on the way: company writes refused beyond the client's retries, a QAD session that
      // expires mid-read, and a corrupt QAD row.
      const mk = new MarketoClient({ ...mkSim.clientOptions, fetch: tokenSpy(tokens), logger });
      const sync = createSync({
        source: qadCustomerSource(qad),
        marketo: marketoGateway(mk, { bulkFirstPull: false }),
        store,
        logger,
      });
      for (const name of ["runStarted", "progress", "batchCommitted", "capability", "runFinished"] as const) {
        sync.on(name, (e: unknown) => events.push(e));
      }
      mkSim.faults.inject({ code: 611, times: 200, path: "/rest/v1/companies.json", method: "POST" });
      qadSim.faults.inject({ kind: "sessionExpired", times: 1 });
      const victim = qadSim.data.customers()[3] as { customerCode: string };
      qadSim.data.corrupt(victim.customerCode, "missingName");
      outcomes.push(await sync.runOnce());

      // A run whose Marketo secret is wrong: it fails, and says why without repeating the secret.
      const wrongSecret = `${mkSim.clientSecret}-wrong`;
      const badMk = new MarketoClient({ ...mkSim.clientOptions, clientSecret: wrongSecret, logger });
      const bad = createSync({
        source: qadCustomerSource(qad),
        marketo: marketoGateway(badMk, { bulkFirstPull: false }),
        store,
        tenant: "wrong-secret",
        logger,
      });
      bad.on("runFinished", (e: unknown) => events.push(e));
      outcomes.push(await bad.runOnce());

      const audit = [
        ...(await store.queryAudit({ tenant: "default" })),
        ...(await store.queryAudit({ tenant: "wrong-secret" })),
      ];
      // The scenario really produced failures, rejections and tokens, so the absence below means something.
      expect(tokens.length).toBeGreaterThanOrEqual(2);
      expect(audit.some((r) => r.outcome === "failed")).toBe(true);
      expect(audit.some((r) => r.outcome === "rejected")).toBe(true);
      expect(outcomes[1]?.status).toBe("failed");
      expect(lines.length).toBeGreaterThan(0);

      const everything = dump({ audit, events, lines, outcomes });
      const secrets = [
        mkSim.clientSecret,
        wrongSecret,
        qadSim.credentials.password,
        qadSim.credentials.clientSecret,
        ...tokens,
      ];
      for (const secret of secrets) expect(everything).not.toContain(secret);
    } finally {
      await qadSim.close();
      await mkSim.close();
    }
  });
});
