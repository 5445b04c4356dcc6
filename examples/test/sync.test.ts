import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { main, readSettings, SettingsError } from "../sync.js";

const dirs: string[] = [];
/** A state folder of its own in the system temp dir: a test never touches the default examples/.state. */
const stateEnv = () => {
  const dir = mkdtempSync(join(tmpdir(), "ml-example-state-"));
  dirs.push(dir);
  return { SYNC_STATE_DIR: dir };
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe("examples/sync.ts", () => {
  it("with no credentials, syncs the simulators end to end and prints a summary with sales context", async () => {
    const lines: string[] = [];
    const env = stateEnv();
    const r = await main({ env, customers: 120, print: (l) => lines.push(l) });
    expect(r.mode).toBe("simulators");
    expect(r.state).toMatchObject({ dir: env.SYNC_STATE_DIR, continued: false, runsBefore: 0 });
    expect(lines[0]).toBe(`state: first run, keeping state in ${join(env.SYNC_STATE_DIR, "sync.db")}`);
    expect(r.first.status).toBe("completed");
    expect(r.first.outcomes.company.created).toBeGreaterThan(100);
    expect(r.first.outcomes.namedAccount.created).toBe(r.first.outcomes.company.created);
    expect(r.second.marketoWriteCalls).toBe(0);
    expect(r.marketo?.duplicates).toMatchObject({ companies: 0, namedAccounts: 0, leads: 0 });
    expect(r.marketo?.violations.total).toBe(0);
    expect(r.contexts.length).toBeGreaterThan(0);
    expect(r.contexts[0]?.openOpportunities.count).toBe(1);
    expect(r.contexts.some((c) => Object.keys(c.activityCounts).length > 0)).toBe(true);
    expect(lines.join("\n")).toMatch(/Marketo calls \d+ \(writes \d+\), quota left \d+/);
    expect(lines.join("\n")).toMatch(
      /account SS\d+\.C\d+: 1 open opportunities worth \d+, owner (Maria Lopez|Kenji Sato)/,
    );
  });

  it("rejects partial settings with a message naming what is missing, and never echoes a secret", () => {
    const env = { MARKETO_CLIENT_SECRET: "s3cret-value", QAD_TENANT_URL: "https://acme.qad.com/clouderp" };
    let err: unknown;
    try {
      readSettings(env);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SettingsError);
    const msg = (err as Error).message;
    expect(msg).toMatch(/MARKETO_MUNCHKIN_ID/);
    expect(msg).toMatch(/MARKETO_CLIENT_ID/);
    expect(msg).toMatch(/QAD_CLIENT_ID: required for QAD_AUTH=password/);
    expect(msg).not.toContain("s3cret-value");
  });

  it("accepts complete settings for real systems", () => {
    const s = readSettings({
      MARKETO_MUNCHKIN_ID: "123-ABC-456",
      MARKETO_CLIENT_ID: "id",
      MARKETO_CLIENT_SECRET: "secret",
      QAD_TENANT_URL: "https://acme.qad.com/clouderp",
      QAD_AUTH: "session",
      QAD_USERNAME: "mfg",
      QAD_PASSWORD: "pw",
    });
    expect(s).toMatchObject({ mode: "real", tenant: "default", qad: { QAD_AUTH: "session" } });
    expect(readSettings({})).toEqual({ mode: "simulators" });
  });
});
