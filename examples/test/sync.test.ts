import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { readSettings, SettingsError } from "../service/settings.js";
import { cleanDirs, start, tempDir } from "./helpers.js";

afterEach(cleanDirs);

describe("examples/sync.ts run (the default command)", () => {
  it("with no credentials, syncs the simulators end to end and prints the summary", async () => {
    const dir = tempDir();
    const { r, out, err } = await start([], { SYNC_STATE_DIR: dir }, { customers: 120 });
    expect(err).toBe("");
    expect(r).toMatchObject({ exitCode: 0, command: "run", mode: "simulators" });
    expect(r.state).toMatchObject({ dir, continued: false, runsBefore: 0 });
    expect(out.split("\n")[0]).toBe(`state: first run, keeping state in ${join(dir, "sync.db")}`);
    const [run] = r.runs;
    expect(run?.status).toBe("completed");
    // 120 customers, 3 made invalid by the simulated data set: rejected into the audit trail, the rest written.
    expect(run?.outcomes.customer.rejected).toBe(3);
    expect(run?.outcomes.company.created).toBe(117);
    expect(run?.outcomes.namedAccount.created).toBe(117);
    expect(r.marketo?.duplicates).toMatchObject({ companies: 0, namedAccounts: 0, leads: 0 });
    expect(r.marketo?.violations.total).toBe(0);
    // The summary: the outcome table, the top reasons with an example record, carried, calls, read-only, contexts.
    expect(out).toMatch(/^ {2}kind +created +updated +unchanged +rejected +skipped +failed$/m);
    expect(out).toMatch(/^ {2}company +117 +0 +0 +0 +0 +0$/m);
    expect(out).toMatch(
      /3 × customer rejected \[invalid_source_row\] QAD row failed validation: .* \(e\.g\. SS1\.C\d+\)/,
    );
    expect(out).toMatch(/× lead skipped \[invalid_email\] .* \(e\.g\. /);
    expect(out).toContain("carried forward: 0 retried, 0 written, 0 pending, 0 dead-lettered");
    expect(out).toMatch(/Marketo calls \d+ \(writes \d+\), quota left today \d+/);
    expect(out).toContain("read-only: nothing");
    expect(r.contexts.length).toBe(3);
    expect(r.contexts[0]?.openOpportunities.count).toBe(1);
    expect(out).toMatch(/account SS1\.C\d+: 1 open opportunities worth \d+, owner (Maria Lopez|Kenji Sato)/);
    // Progress lines (no TTY here) name the read-back.
    expect(out).toMatch(/… read-back/);
  });

  it("--crm: companies are read-only, skipped with the reason and carried forward", async () => {
    const { r, out } = await start(["--crm"], { SYNC_STATE_DIR: tempDir() }, { customers: 40 });
    expect(r.exitCode).toBe(0);
    const [run] = r.runs;
    // 40 customers, two of the data set's bad rows among them (the third is customer 42).
    expect(run?.outcomes.customer.rejected).toBe(2);
    expect(run?.outcomes.company.created).toBe(0);
    expect(run?.outcomes.company.skipped).toBe(38);
    expect(run?.carried.pending).toBe(38);
    expect(out).toMatch(/read-only: companies \(/);
    expect(out).toMatch(/38 × company skipped \[read_only\]/);
    expect(out).toContain("replay: `replay --carried pending`");
  });
});

describe("settings", () => {
  it("lists every missing or malformed setting at once, with what to fix, and never echoes a value", () => {
    const env = {
      MARKETO_CLIENT_SECRET: "s3cret-value",
      MARKETO_MUNCHKIN_ID: "12-AB",
      QAD_TENANT_URL: "ftp://acme",
      QAD_AUTH: "kerberos",
      SIM_CRM: "maybe",
    };
    let err: unknown;
    try {
      readSettings(env);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SettingsError);
    const problems = (err as SettingsError).problems;
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^SIM_CRM: expected 1 or 0/),
        expect.stringMatching(
          /^MARKETO_MUNCHKIN_ID: expected a Munchkin ID like 123-ABC-456 \(Admin → Integration → Munchkin\)/,
        ),
        expect.stringMatching(/^MARKETO_CLIENT_ID: missing; the API-only user's client id/),
        expect.stringMatching(/^QAD_TENANT_URL: expected an http\(s\) URL such as https:\/\/acme\.qad\.com\/clouderp/),
        expect.stringMatching(/^QAD_AUTH: expected password, clientCredentials or session/),
        expect.stringMatching(/^QAD_CLIENT_ID: missing; required with QAD_AUTH=password/),
        expect.stringMatching(/^QAD_USERNAME: missing/),
        expect.stringMatching(/^QAD_PASSWORD: missing/),
      ]),
    );
    expect(problems).toHaveLength(8);
    expect((err as Error).message).not.toContain("s3cret-value");
    expect((err as Error).message).not.toContain("12-AB");
  });

  it("main prints them all and exits 2 before touching any state", async () => {
    const dir = join(tempDir(), "never");
    const { r, err } = await start([], { SYNC_STATE_DIR: dir, QAD_TENANT_URL: "http://qad.lab/clouderp" });
    expect(r.exitCode).toBe(2);
    expect(err).toMatch(/MARKETO_MUNCHKIN_ID: missing/);
    expect(err).toMatch(/MARKETO_CLIENT_SECRET: missing/);
    expect(err).toMatch(/QAD_TENANT_URL: plain http; use https, or set QAD_ALLOW_HTTP=1/);
    expect(err).toMatch(/what to do: fix the settings above/);
    expect(r.runs).toEqual([]);
  });

  it("accepts complete settings, the Munchkin ID in any case, a base URL for labs, and a config file", async () => {
    const s = readSettings({
      MARKETO_MUNCHKIN_ID: "123-abc-456",
      MARKETO_CLIENT_ID: "id",
      MARKETO_CLIENT_SECRET: "secret",
      QAD_TENANT_URL: "https://acme.qad.com/clouderp",
      QAD_AUTH: "session",
      QAD_USERNAME: "mfg",
      QAD_PASSWORD: "pw",
    });
    expect(s).toMatchObject({ mode: "real", marketo: { munchkinId: "123-abc-456" }, qad: { auth: "session" } });
    expect(readSettings({})).toMatchObject({ mode: "simulators", service: { crm: false, fresh: false } });
    const lab = readSettings(
      { MARKETO_CLIENT_SECRET: "from-env" },
      {
        MARKETO_BASE_URL: "http://127.0.0.1:9000",
        MARKETO_ALLOW_HTTP: "1",
        MARKETO_CLIENT_ID: "id",
        MARKETO_CLIENT_SECRET: "from-file",
        QAD_TENANT_URL: "http://127.0.0.1:9001/clouderp",
        QAD_ALLOW_HTTP: "true",
        QAD_AUTH: "clientCredentials",
        QAD_CLIENT_ID: "c",
        QAD_CLIENT_SECRET: "s",
      },
    );
    expect(lab).toMatchObject({
      mode: "real",
      marketo: { baseUrl: "http://127.0.0.1:9000", allowHttp: true, clientSecret: "from-env" },
      qad: { allowHttp: true, auth: "clientCredentials" },
    });
  });
});
