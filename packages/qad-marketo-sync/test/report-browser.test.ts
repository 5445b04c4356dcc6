/**
 * The report page in a real browser: a small sync against both simulators, the page written to a file, loaded by
 * headless chromium (Debian's package; CHROMIUM_PATH points at another binary), and the figures read back from the
 * DOM chromium rendered. Saves a screenshot and prints its path.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { type RunSummary, writeReport } from "../src/index.js";
import { Page } from "./report/dom.js";
import { type SimEnv, simEnv, summaryOf, validCustomers } from "./support/sim-env.js";

const CI = process.env.CI === "true";

function findChromium(): string | undefined {
  const explicit = process.env.CHROMIUM_PATH;
  if (explicit) return existsSync(explicit) ? explicit : undefined;
  for (const name of ["chromium", "chromium-browser", "google-chrome"]) {
    try {
      const path = execFileSync("sh", ["-c", `command -v ${name}`], { encoding: "utf8" }).trim();
      if (path) return path;
    } catch {
      // not on PATH
    }
  }
  return undefined;
}

const chromium = findChromium();
const MISSING = `chromium not found${process.env.CHROMIUM_PATH ? ` at CHROMIUM_PATH=${process.env.CHROMIUM_PATH}` : ""}: install Debian's chromium (apt-get install -y --no-install-recommends chromium) or set CHROMIUM_PATH to a Chromium or Chrome binary`;
if (!chromium && !CI) console.warn(`\n*** SKIPPING the report page browser test: ${MISSING} ***\n`);

/** Runs chromium headless once, in its own process group and profile folder; the group is killed in any case. */
async function runChromium(args: string[], profile: string): Promise<string> {
  let child: ChildProcess | undefined;
  try {
    return await new Promise<string>((resolve, reject) => {
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      child = spawn(
        chromium as string,
        [
          "--headless",
          "--no-sandbox",
          "--disable-gpu",
          "--disable-dev-shm-usage",
          "--no-first-run",
          "--no-default-browser-check",
          "--disable-extensions",
          "--disable-background-networking",
          `--user-data-dir=${profile}`,
          ...args,
        ],
        { detached: true, stdio: ["ignore", "pipe", "pipe"] },
      );
      child.stdout?.on("data", (b: Buffer) => out.push(b));
      child.stderr?.on("data", (b: Buffer) => err.push(b));
      child.on("error", reject);
      child.on("close", (code) => {
        if (code === 0) resolve(Buffer.concat(out).toString("utf8"));
        else reject(new Error(`chromium exited ${code}: ${Buffer.concat(err).toString("utf8").slice(-2000)}`));
      });
    });
  } finally {
    // Kill the whole group (the wrapper script, the browser and its helpers) if anything is left.
    if (child?.pid !== undefined) {
      try {
        process.kill(-child.pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
  }
}

describe("report page in headless chromium", () => {
  let env: SimEnv | undefined;
  let dirs: string[] = [];
  afterEach(async () => {
    await env?.close();
    env = undefined;
    for (const d of dirs) await rm(d, { recursive: true, force: true });
    dirs = [];
  });

  // Runs whenever a browser is there, and always in CI, where a missing browser fails it (outside CI it is
  // skipped with the loud notice above).
  it.runIf(chromium !== undefined || CI)(
    "renders the figures of a real sync's runs, read back from the browser's DOM, and saves a screenshot",
    async () => {
      if (!chromium) throw new Error(`CI=true: ${MISSING}`);
      // Carried records are due again at once (no 5 min delay), so the second run retries them.
      env = await simEnv({ customers: 40, extra: { readBack: {}, carryForward: { baseDelayMs: 0 } } });
      const e = env;
      // A bad source row (rejected), an account with sales context, and companies failing in the first run
      // (carried forward), written by the second.
      const valid = validCustomers(e.qadSim);
      const bad = valid[3] as (typeof valid)[number];
      e.qadSim.data.corrupt(bad.customerCode, "wrongTypes");
      const rich = valid.find((c) => c !== bad && c.contacts.some((x) => x.email)) as (typeof valid)[number];
      e.mkSim.data.salesPersons.seed([
        { externalSalesPersonId: "SP-1", email: "owner@corp.example", firstName: "Olga" },
      ]);
      e.mkSim.data.opportunities.seed([
        {
          externalOpportunityId: "O-1",
          externalCompanyId: rich.key,
          name: "Big deal",
          amount: 12000,
          isClosed: false,
          externalSalesPersonId: "SP-1",
        },
      ]);
      e.mkSim.faults.inject({ code: 611, times: 50, path: "/rest/v1/companies.json", method: "POST" });
      const s1 = summaryOf(await e.sync.runOnce());
      e.mkSim.faults.clear();
      const s2 = summaryOf(await e.sync.runOnce());
      const summaries: RunSummary[] = [s1, s2];
      expect(s1.outcomes.company.failed).toBeGreaterThan(0);
      expect(s1.outcomes.customer.rejected).toBeGreaterThan(0);
      expect(s2.carried.written).toBe(s1.outcomes.company.failed);

      const dir = await mkdtemp(join(tmpdir(), "ml-report-browser-"));
      dirs.push(dir);
      const file = join(dir, "report.html");
      await writeReport(file, { store: e.store, tenant: "default" });
      const url = pathToFileURL(file).href;

      const dom = await runChromium(["--dump-dom", url], join(dir, "profile-dom"));
      const page = new Page(dom);
      // What the browser built from the file, not the file itself: the parser's DOM, serialised by chromium.
      expect(dom).toContain("data-testid");
      expect(page.find("report")).toHaveLength(1);
      expect(page.figure("run-count")).toBe(2);
      for (const s of summaries) {
        const run = { "data-run": s.runId };
        for (const [kind, counts] of Object.entries(s.outcomes)) {
          const total = Object.values(counts).reduce((a, b) => a + b, 0);
          expect(page.figure("outcome-bar", { ...run, "data-kind": kind })).toBe(total);
          for (const [outcome, n] of Object.entries(counts)) {
            const seg = page
              .find("outcome-bar", { ...run, "data-kind": kind })
              .flatMap((g) => g.childNodes)
              .filter((n) => "attrs" in n && n.attrs.some((a) => a.name === "data-outcome" && a.value === outcome));
            expect(seg).toHaveLength(1);
            expect(
              Number(
                (seg[0] as { attrs: { name: string; value: string }[] }).attrs.find((a) => a.name === "data-figure")
                  ?.value,
              ),
            ).toBe(n);
          }
        }
        expect(page.figure("run-marketoCalls", run)).toBe(s.marketoCalls);
        expect(page.figure("calls-bar", run)).toBe(s.marketoCalls);
        expect(page.figure("run-marketoWriteCalls", run)).toBe(s.marketoWriteCalls);
        expect(page.figure("run-quotaLeft", run)).toBe(s.quotaLeft);
        expect(page.figure("run-sourceItems", run)).toBe(s.sourceItems);
        expect(page.figure("run-callCeiling", run)).toBe(Math.max(1, Math.ceil(s.durationMs / 20_000)) * 100);
        expect(page.figure("run-carriedPending", run)).toBe(s.carried.pending);
        expect(page.figure("run-carriedDead", run)).toBe(s.carried.dead);
      }
      // Reasons: the first run's company failures and the rejected source row, with their counts.
      expect(page.figure("reason", { "data-kind": "company", "data-outcome": "failed", "data-code": "611" })).toBe(
        s1.outcomes.company.failed,
      );
      const rejected = page
        .find("reason", { "data-kind": "customer", "data-outcome": "rejected" })
        .reduce((a, el) => a + Number(el.attrs.find((x) => x.name === "data-figure")?.value), 0);
      expect(rejected).toBe(s1.outcomes.customer.rejected + s2.outcomes.customer.rejected);
      const counts = await e.store.countCarried("default");
      expect(page.figure("carried-count", { "data-state": "pending" })).toBe(counts.pending);
      expect(page.figure("carried-count", { "data-state": "dead" })).toBe(counts.dead);
      // The account with an open opportunity is the first sample.
      expect(page.figure("account-open-amount", { "data-key": rich.key })).toBe(12000);
      expect(page.find("account")[0]?.attrs.find((a) => a.name === "data-key")?.value).toBe(rich.key);

      const shots = fileURLToPath(new URL("./report/__screenshots__/", import.meta.url));
      await mkdir(shots, { recursive: true });
      const png = join(shots, "report.png");
      await rm(png, { force: true });
      await runChromium(
        [`--screenshot=${png}`, "--window-size=1280,2000", "--hide-scrollbars", url],
        join(dir, "profile-shot"),
      );
      const head = (await readFile(png)).subarray(0, 8);
      expect(head.equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))).toBe(true);
      expect((await stat(png)).size).toBeGreaterThan(10_000);
      // The page itself next to its screenshot, to open by hand.
      await writeFile(join(shots, "report.html"), await readFile(file));
      console.log(`report page screenshot: ${png} (page: ${join(shots, "report.html")})`);
    },
    180_000,
  );
});
