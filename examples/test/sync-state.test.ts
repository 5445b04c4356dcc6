import { existsSync, readdirSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { removeState, stateSettings } from "../state-dir.js";
import { cleanDirs, start, tempDir, writeCalls } from "./helpers.js";

afterEach(cleanDirs);

/** One start of `npm run demo` on the state folder `dir`. */
const demo = (dir: string, argv: string[] = [], env: Record<string, string> = {}) =>
  start(argv, { SYNC_STATE_DIR: dir, ...env }, { customers: 60 });

describe("examples/sync.ts state across starts", () => {
  it("a second start continues where the first left off: nothing changed in QAD, zero Marketo writes", async () => {
    const dir = tempDir();
    const one = await demo(dir);
    expect(one.r.exitCode).toBe(0);
    expect(one.r.state).toMatchObject({ continued: false, runsBefore: 0 });
    expect(one.r.runs[0]?.outcomes.company.created).toBe(57);
    expect(writeCalls(one.r).length).toBeGreaterThan(0);
    expect(readdirSync(dir).sort()).toEqual(expect.arrayContaining(["simulators.json", "sync.db"]));

    const two = await demo(dir);
    expect(two.r.exitCode).toBe(0);
    expect(two.r.state).toMatchObject({
      dir,
      continued: true,
      runsBefore: 1,
      lastRun: { runId: one.r.runs[0]?.runId, status: "completed" },
    });
    expect(two.out).toContain(
      `state: continuing from ${join(dir, "sync.db")}: 1 runs so far, last run ${one.r.runs[0]?.runId} completed`,
    );
    expect(two.out).toMatch(/Marketo restored: 57 companies/);
    // The source checkpoint saved by the first start finds nothing changed (the bad rows included): no writes at all.
    expect(two.r.runs[0]?.sourceItems).toBe(0);
    expect(two.r.runs[0]?.marketoWriteCalls).toBe(0);
    expect(writeCalls(two.r)).toEqual([]);
    expect(two.out).toContain("no record changed or was looked at (nothing new in QAD)");
    expect(two.r.marketo?.records).toMatchObject({
      companies: one.r.marketo?.records.companies,
      namedAccounts: one.r.marketo?.records.namedAccounts,
      leads: one.r.marketo?.records.leads,
    });
    expect(two.r.marketo?.duplicates).toMatchObject({ companies: 0, namedAccounts: 0, leads: 0 });
    // The engagement simulated at the second start is folded into the featured accounts by its read-back.
    expect(one.r.contexts.every((c) => Object.keys(c.activityCounts).length === 0)).toBe(true);
    expect(two.r.contexts.map((c) => c.externalCompanyId)).toEqual(one.r.contexts.map((c) => c.externalCompanyId));
    expect(two.r.contexts.some((c) => Object.keys(c.activityCounts).length > 0)).toBe(true);

    const three = await demo(dir);
    expect(writeCalls(three.r)).toEqual([]);
    const counts = (r: typeof two.r) =>
      r.contexts.map((c) => Object.values(c.activityCounts).reduce((a, b) => a + b, 0));
    // Each start adds the same engagement once; the saved paging position reads each activity exactly once.
    expect(counts(three.r)).toEqual(counts(two.r).map((n) => n * 2));
  });

  it("--fresh and SYNC_FRESH=1 start over", async () => {
    const dir = tempDir();
    await demo(dir);
    const fresh = await demo(dir, ["--fresh"]);
    expect(fresh.out).toContain("state: --fresh: deleted");
    expect(fresh.r.state).toMatchObject({ continued: false, runsBefore: 0, reset: "--fresh" });
    expect(fresh.r.runs[0]?.outcomes.company.created).toBe(57);
    expect(fresh.r.marketo?.duplicates).toMatchObject({ companies: 0, namedAccounts: 0, leads: 0 });
    const viaEnv = await demo(dir, [], { SYNC_FRESH: "1" });
    expect(viaEnv.r.state).toMatchObject({ continued: false, runsBefore: 0, reset: "--fresh" });
    expect(viaEnv.r.runs[0]?.outcomes.company.created).toBe(57);
  });

  it("starts over, saying why, when the store and the simulator snapshot are not from the same run", async () => {
    const dir = tempDir();
    await demo(dir);
    unlinkSync(join(dir, "simulators.json")); // what a killed process leaves
    const again = await demo(dir);
    expect(again.out).toMatch(
      /cannot be continued \(the store has 1 runs but there is no simulator snapshot\): starting over/,
    );
    expect(again.r.state).toMatchObject({ continued: false, runsBefore: 0 });
    expect(again.r.runs[0]?.outcomes.company.created).toBe(57);
  });

  it("refuses to continue with another number of simulated customers (exit 2)", async () => {
    const dir = tempDir();
    await demo(dir);
    const other = await start([], { SYNC_STATE_DIR: dir, SIM_CUSTOMERS: "70" });
    expect(other.r.exitCode).toBe(2);
    expect(other.err).toMatch(/made with 60 simulated customers, not 70: start with --fresh/);
  });

  it("reads the folder from SYNC_STATE_DIR, else a default per mode", () => {
    expect(stateSettings({ fresh: false }, "simulators").dbPath).toMatch(/examples[/\\]\.state[/\\]sync\.db$/);
    expect(stateSettings({ fresh: false }, "real").dbPath).toMatch(/examples[/\\]\.state[/\\]real[/\\]sync\.db$/);
    expect(stateSettings({ fresh: true, stateDir: "/srv/sync" }, "real")).toMatchObject({
      dir: "/srv/sync",
      dbPath: "/srv/sync/sync.db",
      fresh: true,
    });
  });

  it("--fresh deletes only the files the service owns", () => {
    const dir = tempDir();
    for (const f of ["sync.db", "sync.db-wal", "simulators.json", "keep.txt"]) writeFileSync(join(dir, f), "x");
    expect(removeState(dir).sort()).toEqual(["simulators.json", "sync.db", "sync.db-wal"]);
    expect(readdirSync(dir)).toEqual(["keep.txt"]);
    unlinkSync(join(dir, "keep.txt"));
    expect(removeState(dir)).toEqual([]);
    expect(existsSync(dir)).toBe(false);
  });
});
