import { existsSync, mkdtempSync, readdirSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { readStateSettings, removeState, UsageError } from "../state-dir.js";
import { type MainResult, main } from "../sync.js";

const dirs: string[] = [];
/** A state folder of its own in the system temp dir: these tests never touch the default examples/.state. */
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), "ml-example-state-"));
  dirs.push(dir);
  return dir;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** One start of the example, as `npm run demo` is: new simulators, a new store connection, nothing shared in memory. */
const start = async (dir: string, argv: string[] = [], extraEnv: Record<string, string> = {}) => {
  const lines: string[] = [];
  const r = await main({ env: { SYNC_STATE_DIR: dir, ...extraEnv }, argv, customers: 60, print: (l) => lines.push(l) });
  return { r, out: lines.join("\n") };
};

/** Calls that change something in Marketo (anything but a GET: the example never disguises reads as POSTs here). */
const writeCalls = (r: MainResult) => {
  expect(r.marketo?.methodOverrides).toBe(0);
  return Object.entries(r.marketo?.callsByEndpoint ?? {}).filter(([k]) => !k.startsWith("GET "));
};

describe("examples/sync.ts state across starts", () => {
  it("a second start continues where the first left off: nothing changed in QAD, zero Marketo writes", async () => {
    const dir = tempDir();
    const one = await start(dir);
    expect(one.r.state).toMatchObject({ continued: false, runsBefore: 0 });
    expect(one.r.first.outcomes.company.created).toBeGreaterThan(40);
    expect(writeCalls(one.r).length).toBeGreaterThan(0);
    expect(readdirSync(dir).sort()).toEqual(expect.arrayContaining(["simulators.json", "sync.db"]));

    const two = await start(dir);
    expect(two.r.state).toMatchObject({
      dir,
      continued: true,
      runsBefore: 2,
      lastRun: { runId: one.r.second.runId, status: "completed" },
    });
    expect(two.out).toContain(
      `state: continuing from ${join(dir, "sync.db")}: 2 runs so far, last run ${one.r.second.runId} completed`,
    );
    expect(two.out).toMatch(/Marketo restored: \d+ companies/);
    // The source checkpoint saved by the first start finds nothing changed: no source rows, no writes at all.
    expect(two.r.first.sourceItems).toBe(0);
    expect(two.r.first.marketoWriteCalls).toBe(0);
    expect(two.r.second.marketoWriteCalls).toBe(0);
    expect(writeCalls(two.r)).toEqual([]);
    // The restored Marketo is the one the first start left: same records, no duplicates.
    expect(two.r.marketo?.records).toMatchObject({
      companies: one.r.marketo?.records.companies,
      namedAccounts: one.r.marketo?.records.namedAccounts,
      leads: one.r.marketo?.records.leads,
      opportunities: one.r.marketo?.records.opportunities,
    });
    expect(two.r.marketo?.duplicates).toMatchObject({ companies: 0, namedAccounts: 0, leads: 0 });
    // Each start adds the same engagement once; the saved paging position reads each activity exactly once.
    expect(two.r.contexts.map((c) => c.externalCompanyId)).toEqual(one.r.contexts.map((c) => c.externalCompanyId));
    const doubled = one.r.contexts.map((c) =>
      Object.fromEntries(Object.entries(c.activityCounts).map(([t, n]) => [t, n * 2])),
    );
    expect(two.r.contexts.map((c) => c.activityCounts)).toEqual(doubled);
    expect(two.r.contexts[0]?.openOpportunities.count).toBe(1);
  });

  it("--fresh and SYNC_FRESH=1 start over", async () => {
    const dir = tempDir();
    await start(dir);
    const fresh = await start(dir, ["--fresh"]);
    expect(fresh.out).toContain(`state: --fresh: deleted`);
    expect(fresh.r.state).toMatchObject({ continued: false, runsBefore: 0, reset: "--fresh" });
    expect(fresh.r.first.outcomes.company.created).toBeGreaterThan(40);
    expect(fresh.r.marketo?.duplicates).toMatchObject({ companies: 0, namedAccounts: 0, leads: 0 });

    const viaEnv = await start(dir, [], { SYNC_FRESH: "1" });
    expect(viaEnv.r.state).toMatchObject({ continued: false, runsBefore: 0, reset: "--fresh" });
    expect(viaEnv.r.first.outcomes.company.created).toBe(fresh.r.first.outcomes.company.created);
  });

  it("starts over, saying why, when the store and the simulator snapshot are not from the same run", async () => {
    const dir = tempDir();
    await start(dir);
    // What a killed process leaves: batches in the store that the simulated Marketo never saved.
    unlinkSync(join(dir, "simulators.json"));
    const again = await start(dir);
    expect(again.out).toMatch(
      /cannot be continued \(the store has 2 runs but there is no simulator snapshot\): starting over/,
    );
    expect(again.r.state).toMatchObject({ continued: false, runsBefore: 0 });
    expect(again.r.first.outcomes.company.created).toBeGreaterThan(40);
    expect(again.r.marketo?.duplicates).toMatchObject({ companies: 0, namedAccounts: 0, leads: 0 });
  });

  it("refuses to continue with another number of simulated customers", async () => {
    const dir = tempDir();
    await start(dir);
    await expect(main({ env: { SYNC_STATE_DIR: dir }, customers: 70, print: () => {} })).rejects.toThrow(
      /made with 60 simulated customers, not 70: start with --fresh/,
    );
  });

  it("rejects unknown flags and positional arguments before touching any state", async () => {
    const dir = join(tempDir(), "never");
    await expect(main({ env: { SYNC_STATE_DIR: dir }, argv: ["--frsh"], print: () => {} })).rejects.toThrow(UsageError);
    expect(() => readStateSettings(["now"], {}, "simulators")).toThrow(/positional/);
    expect(() => readStateSettings([], { SYNC_FRESH: "yes" }, "simulators")).toThrow(/SYNC_FRESH must be 1 or 0/);
    expect(existsSync(dir)).toBe(false);
  });

  it("reads the folder from SYNC_STATE_DIR, else a default per mode", () => {
    const sim = readStateSettings([], {}, "simulators");
    const real = readStateSettings([], {}, "real");
    expect(sim.dbPath).toMatch(/examples[/\\]\.state[/\\]sync\.db$/);
    expect(real.dbPath).toMatch(/examples[/\\]\.state[/\\]real[/\\]sync\.db$/);
    expect(readStateSettings(["--fresh"], { SYNC_STATE_DIR: "/srv/sync" }, "real")).toMatchObject({
      dir: "/srv/sync",
      dbPath: "/srv/sync/sync.db",
      fresh: true,
    });
  });

  it("--fresh deletes only the files the example owns", () => {
    const dir = tempDir();
    for (const f of ["sync.db", "sync.db-wal", "simulators.json", "keep.txt"]) writeFileSync(join(dir, f), "x");
    expect(removeState(dir).sort()).toEqual(["simulators.json", "sync.db", "sync.db-wal"]);
    expect(readdirSync(dir)).toEqual(["keep.txt"]);
    unlinkSync(join(dir, "keep.txt"));
    expect(removeState(dir)).toEqual([]);
    expect(existsSync(dir)).toBe(false);
  });
});
