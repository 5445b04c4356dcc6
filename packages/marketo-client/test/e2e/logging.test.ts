import { MarketoClient } from "@ml/marketo-client";
import { startMarketoSimulator } from "@ml/marketo-client/testing";
import { expect, it } from "vitest";

it("logs retries and rate-limit pauses, and never a secret or a token", async () => {
  const sim = await startMarketoSimulator({ timeScale: 0.02, crmSync: true });
  try {
    const lines: { level: string; obj: object; msg?: string }[] = [];
    const log = (level: string) => (obj: object, msg?: string) => lines.push({ level, obj, ...(msg ? { msg } : {}) });
    const mk = new MarketoClient({
      ...sim.clientOptions,
      logger: { debug: log("debug"), info: log("info"), warn: log("warn"), error: log("error") },
    });
    for (const code of [601, 606, 615, 502, "html", "reset", 604] as const) {
      sim.faults.inject({ code, times: 1 });
      await mk.stats.usage();
    }
    await mk.companies.sync({ input: [{ externalCompanyId: "A" }] }); // 1018 → read-only warning
    await mk.capabilities.get("opportunities");
    expect(lines.some((l) => l.level === "warn" && /rate limit/.test(l.msg ?? ""))).toBe(true);
    expect(lines.some((l) => l.level === "warn" && /read-only/.test(l.msg ?? ""))).toBe(true);
    expect(lines.some((l) => l.level === "debug" && /retrying/.test(l.msg ?? ""))).toBe(true);
    const token = (
      (await (
        await fetch(`${sim.baseUrls.identity}/oauth/token`, {
          method: "POST",
          body: new URLSearchParams({
            grant_type: "client_credentials",
            client_id: sim.clientId,
            client_secret: sim.clientSecret,
          }),
        })
      ).json()) as { access_token: string }
    ).access_token;
    const text = JSON.stringify(lines);
    expect(text).not.toContain(sim.clientSecret);
    expect(text).not.toContain(token);
  } finally {
    await sim.close();
  }
});
