import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { startMarketoSimulator } from "@ml/marketo-client/testing";
import { startQadSimulator } from "@ml/qad-client/testing";
import { afterEach, describe, expect, it } from "vitest";
import { cleanDirs, start, tempDir, writeCalls } from "./helpers.js";

afterEach(cleanDirs);
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0)) await c();
});

/** Both simulators started by the test, and lab settings pointing the service at them as if they were real. */
async function lab(overrides: Record<string, string> = {}) {
  const qadSim = await startQadSimulator({ customers: 20, seed: 7 });
  const mkSim = await startMarketoSimulator({ timeScale: 0.01, seed: 7, latencyMs: 1 });
  closers.push(
    () => qadSim.close(),
    () => mkSim.close(),
  );
  const auth = qadSim.clientOptions.auth as { clientId: string; username: string; password: string };
  const env: Record<string, string> = {
    SYNC_STATE_DIR: tempDir(),
    MARKETO_BASE_URL: mkSim.url,
    MARKETO_ALLOW_HTTP: "1",
    MARKETO_ALLOW_LOOPBACK: "1",
    MARKETO_CLIENT_ID: mkSim.clientId,
    MARKETO_CLIENT_SECRET: mkSim.clientSecret,
    QAD_TENANT_URL: qadSim.tenantUrl,
    QAD_ALLOW_HTTP: "1",
    QAD_ALLOW_LOOPBACK: "1",
    QAD_CLIENT_ID: auth.clientId,
    QAD_USERNAME: auth.username,
    QAD_PASSWORD: auth.password,
    QAD_WORKSPACE_ID: String(qadSim.clientOptions.workspaceId),
    ...overrides,
  };
  return { qadSim, mkSim, env };
}

describe("a failed run", () => {
  it("a wrong Marketo secret: prints the error's code, message and what to do, and exits 1", async () => {
    const { mkSim, env } = await lab({ MARKETO_CLIENT_SECRET: "wrong-secret-value" });
    const { r, out, err } = await start([], env);
    expect(r.mode).toBe("real");
    expect(r.exitCode).toBe(1);
    expect(r.runs[0]?.status).toBe("failed");
    expect(r.error?.code).toBeTruthy();
    expect(err).toMatch(/^error \[\w+\] \(Marketo\): .+/m);
    expect(err).toMatch(/^what to do: check MARKETO_CLIENT_ID and MARKETO_CLIENT_SECRET/m);
    expect(`${out}\n${err}`).not.toContain("wrong-secret-value");
    expect(mkSim.inspect().records.companies).toBe(0);
  });

  it("a wrong QAD password: the QAD side's hint, exit 1", async () => {
    const { env } = await lab({ QAD_PASSWORD: "not-the-password" });
    const { r, out, err } = await start([], env);
    expect(r.exitCode).toBe(1);
    expect(err).toMatch(/^error \[\w+\] \((QAD|sync)\): .+/m);
    expect(err).toMatch(/^what to do: .*(QAD_USERNAME|QAD credentials)/m);
    expect(`${out}\n${err}`).not.toContain("not-the-password");
  });

  it("the lab settings with the right credentials complete (so the failures above are the credentials')", async () => {
    const { mkSim, env } = await lab();
    const { r } = await start([], env);
    expect(r.exitCode).toBe(0);
    expect(r.runs[0]?.status).toBe("completed");
    expect(mkSim.inspect().records.companies).toBe(20);
  });
});

describe("dry-run", () => {
  it("plans against the simulated Marketo with zero writes, and the next run still does the whole job", async () => {
    const dir = tempDir();
    const dry = await start(["dry-run"], { SYNC_STATE_DIR: dir }, { customers: 60 });
    expect(dry.r.exitCode).toBe(0);
    expect(writeCalls(dry.r)).toEqual([]);
    expect(dry.r.marketo?.records).toMatchObject({ companies: 0, namedAccounts: 0, leads: 0 });
    expect(dry.r.dryRun?.totals.byKind.company.create).toBe(57);
    expect(dry.out).toMatch(/^ {2}company +57 +0 +0 +0 +0$/m);
    expect(dry.out).toMatch(/a real run would spend \d+ Marketo calls: [1-9]\d* writes/);
    expect(dry.out).toMatch(/3 × customer reject \[invalid_source_row\]/);

    const run = await start([], { SYNC_STATE_DIR: dir }, { customers: 60 });
    expect(run.r.state?.runsBefore).toBe(0);
    expect(run.r.runs[0]?.outcomes.company.created).toBe(57);
    // After the run a dry run has nothing to do.
    const again = await start(["dry-run"], { SYNC_STATE_DIR: dir });
    expect(again.out).toContain("nothing to do: no record changed in QAD since the last run");
    expect(writeCalls(again.r)).toEqual([]);
  });
});

describe("replay and audit", () => {
  it("records left read-only by a CRM sync are replayed once the object is writable; audit shows both rows", async () => {
    const dir = tempDir();
    const crm = await start(["--crm"], { SYNC_STATE_DIR: dir }, { customers: 30 });
    expect(crm.r.runs[0]?.carried.pending).toBe(28);

    const replay = await start(["replay", "--carried", "pending"], { SYNC_STATE_DIR: dir });
    expect(replay.r.exitCode).toBe(0);
    expect(replay.out).toContain("replay: carried-forward records (pending)");
    expect(replay.r.runs[0]).toMatchObject({ trigger: "replay", status: "completed" });
    expect(replay.r.runs[0]?.outcomes.company.created).toBe(28);
    expect(replay.r.runs[0]?.carried.pending).toBe(0);
    expect(replay.r.marketo?.records.companies).toBe(28);

    const key = "SS1.C000001";
    const history = await start(["audit", "--key", key], { SYNC_STATE_DIR: dir });
    expect(history.r.exitCode).toBe(0);
    expect(history.r.audit?.filter((a) => a.kind === "company").map((a) => a.outcome)).toEqual(["skipped", "created"]);
    expect(history.out).toMatch(new RegExp(`company ${key.replace(".", "\\.")} skipped: \\[read_only\\]`));
    expect(history.out).toMatch(/\(replay of demo:/);

    const runId = crm.r.runs[0]!.runId;
    const ofRun = await start(["audit", "--run", runId], { SYNC_STATE_DIR: dir });
    expect(ofRun.out).toContain(`audit of run ${runId}`);
    expect(ofRun.r.audit?.length).toBeGreaterThan(28);
    const csv = await start(["audit", "--run", runId, "--csv"], { SYNC_STATE_DIR: dir });
    const lines = csv.out.split("\n");
    expect(lines[0]).toMatch(/^at,tenant,runId,kind,key,/);
    expect(lines.length).toBe((ofRun.r.audit?.length ?? 0) + 1);

    const none = await start(["audit", "--key", "SS9.NOPE"], { SYNC_STATE_DIR: dir });
    expect(none.r.exitCode).toBe(1);
    expect(none.err).toMatch(/no audit rows for key SS9\.NOPE/);
  });

  it("audit needs exactly one of --key or --run, and saved state", async () => {
    const dir = tempDir();
    expect((await start(["audit"], { SYNC_STATE_DIR: dir })).r.exitCode).toBe(2);
    expect((await start(["audit", "--key", "a", "--run", "b"], { SYNC_STATE_DIR: dir })).r.exitCode).toBe(2);
    const missing = await start(["audit", "--key", "a"], { SYNC_STATE_DIR: dir });
    expect(missing.r.exitCode).toBe(1);
    expect(missing.err).toMatch(/no saved state at .*sync\.db: run a sync first/);
  });
});

describe("schedule", () => {
  it("runs right away and on its cron, and stops gracefully when asked", async () => {
    const stop = new AbortController();
    let runsSeen = 0;
    const out: string[] = [];
    const { main } = await import("../sync.js");
    const r = await main({
      argv: ["schedule", "--cron", "* * * * * *"],
      env: { SYNC_STATE_DIR: tempDir() },
      customers: 30,
      stop: stop.signal,
      printError: (l) => out.push(l),
      print: (l) => {
        out.push(l);
        if (l.startsWith("next run at") && ++runsSeen === 2) stop.abort();
      },
    });
    const text = out.join("\n");
    expect(r.exitCode).toBe(0);
    expect(r.runs.length).toBeGreaterThanOrEqual(2);
    expect(r.runs[0]).toMatchObject({ trigger: "schedule", status: "completed" });
    expect(r.runs[0]?.outcomes.company.created).toBe(28);
    expect(r.runs[1]?.marketoWriteCalls).toBe(0);
    expect(text).toContain("schedule: * * * * * * (first run now)");
    expect(text).toContain("schedule: stopping: the run in flight finishes its batch");
  });
});

describe("doctor", () => {
  it("against the simulators: one line per check; the instance has the mapping's custom fields, so nothing fails", async () => {
    const { r, out } = await start(["doctor"], { SYNC_STATE_DIR: tempDir() }, { customers: 60 });
    expect(r.exitCode).toBe(0);
    // The bad QAD rows of the demo data set are a warning, not a failure.
    expect(r.doctor?.worst).toBe("warn");
    expect(r.doctor?.checks.filter((c) => c.status === "fail")).toEqual([]);
    expect(out).not.toMatch(/^FAIL /m);
    expect(out).toMatch(/^PASS {2}qad\.auth +/m);
    expect(out).toMatch(/^PASS {2}marketo\.auth +/m);
    expect(out).toMatch(/^PASS {2}marketo\.crm\.companies +/m);
    expect(out).toMatch(/^WARN {2}qad\.sample +.*3 invalid row/m);
    for (const object of ["companies", "namedAccounts", "leads"]) {
      const check = r.doctor?.checks.find((c) => c.id === `marketo.fields.${object}`);
      expect(check?.status, object).toBe("pass");
      // Not even an optional default is missing: the mapping's every field is on the simulated instance.
      expect(check?.data, object).toMatchObject({ missingKeys: [], missingMapped: [], missingOptional: [] });
    }
    expect(out).toMatch(/^PASS {2}marketo\.cost +.*for 60 customers/m);
    expect(writeCalls(r)).toEqual([]);
  });

  it("an instance lacking the example's custom field: doctor fails with the admin steps to create it, exit 1", async () => {
    // Lab settings: the service sees the test's own Marketo simulator, started without custom fields, as a real one.
    const { mkSim, env } = await lab();
    const { r, out } = await start(["doctor"], env);
    expect(r.mode).toBe("real");
    expect(r.exitCode).toBe(1);
    expect(r.doctor?.worst).toBe("fail");
    expect(out).toMatch(/^FAIL {2}marketo\.fields\.companies +.*qadCreditTerms/m);
    expect(out).toMatch(/fix: Admin → Field Management → New Custom Field: object Company, .*API name qadCreditTerms/);
    const companies = r.doctor?.checks.find((c) => c.id === "marketo.fields.companies");
    expect(companies?.data).toMatchObject({
      missingMapped: ["qadCreditTerms"],
      missingOptional: ["qadCurrencyCode", "qadRegion", "qadActive"],
    });
    const seen = mkSim.inspect();
    expect(seen.methodOverrides).toBe(0);
    expect(Object.keys(seen.callsByEndpoint).filter((k) => !k.startsWith("GET "))).toEqual([]);
  });

  it("--crm: the CRM-synced objects are warnings; --customers sets the first-sync cost", async () => {
    const { r, out } = await start(
      ["doctor", "--crm", "--customers", "5000"],
      { SYNC_STATE_DIR: tempDir() },
      { customers: 30 },
    );
    expect(r.doctor?.checks.find((c) => c.id === "marketo.crm.companies")?.status).toBe("warn");
    expect(out).toMatch(/^WARN {2}marketo\.crm\.companies +.*read-only/m);
    expect(out).toMatch(/for 5,000 customers/);
  });

  it("an unreachable QAD fails its checks and the exit code is 1", async () => {
    const { env } = await lab({ QAD_TENANT_URL: "http://127.0.0.1:1/clouderp" });
    const { r, out } = await start(["doctor"], env);
    expect(r.exitCode).toBe(1);
    expect(out).toMatch(/^FAIL {2}qad\.reach +/m);
    expect(out).toMatch(/^PASS {2}marketo\.auth +/m);
  });
});

describe("report", () => {
  it("writes the static HTML page of the recent runs from the store, and --fresh removes it with the state", async () => {
    const dir = tempDir();
    const run = await start([], { SYNC_STATE_DIR: dir }, { customers: 30 });
    const runId = run.r.runs[0]!.runId;
    const { r, out } = await start(["report"], { SYNC_STATE_DIR: dir });
    expect(r.exitCode).toBe(0);
    const file = join(dir, "report.html");
    expect(r.report?.path).toBe(file);
    expect(out).toContain(`report: ${file} (`);
    const html = readFileSync(file, "utf8");
    // Store values are HTML-escaped (':' included), so compare with the entities decoded.
    const text = html.replace(/&#(\d+);/g, (_, n: string) => String.fromCharCode(Number(n)));
    expect(html).toMatch(/^<!doctype html>/i);
    expect(text).toContain(runId);
    expect(text).toContain("invalid_source_row");
    expect(html).not.toMatch(/<script/i);

    const other = join(tempDir(), "page.html");
    expect((await start(["report", "--out", other, "--runs", "1"], { SYNC_STATE_DIR: dir })).r.exitCode).toBe(0);
    expect(existsSync(other)).toBe(true);

    await start(["--fresh"], { SYNC_STATE_DIR: dir }, { customers: 30 });
    expect(existsSync(file)).toBe(false);
    const none = await start(["report"], { SYNC_STATE_DIR: join(tempDir(), "none") });
    expect(none.r.exitCode).toBe(1);
    expect(none.err).toMatch(/no saved state at .*: run a sync first/);
  });
});
