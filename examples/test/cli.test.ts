import { existsSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { parseCommand, UsageError } from "../service/cli.js";
import { HINTS, hintFor } from "../service/hints.js";
import { cleanDirs, spawnService, start, tempDir } from "./helpers.js";

afterEach(cleanDirs);

describe("command line", () => {
  it("parses each command with its options; run is the default", () => {
    expect(parseCommand([])).toMatchObject({ name: "run", fresh: false, crm: false });
    expect(parseCommand(["--fresh", "--crm"])).toMatchObject({ name: "run", fresh: true, crm: true });
    expect(parseCommand(["schedule", "--cron", "0 * * * *"])).toMatchObject({ name: "schedule", cron: "0 * * * *" });
    expect(parseCommand(["replay"]).replay).toEqual({
      outcomes: ["failed", "skipped"],
      carried: [],
      keys: [],
      kinds: [],
    });
    expect(
      parseCommand(["replay", "--failed", "--run", "R1", "--key", "a", "--key", "b", "--kind", "lead"]).replay,
    ).toEqual({
      outcomes: ["failed"],
      carried: [],
      runId: "R1",
      keys: ["a", "b"],
      kinds: ["lead"],
    });
    expect(parseCommand(["replay", "--carried", "dead"]).replay).toMatchObject({ outcomes: [], carried: ["dead"] });
    expect(parseCommand(["dry-run", "--config", "c.json"])).toMatchObject({ name: "dry-run", config: "c.json" });
    expect(parseCommand(["audit", "--run", "R1", "--csv"]).audit).toEqual({ runId: "R1", key: undefined, csv: true });
    expect(parseCommand(["report", "--out", "r.html", "--runs", "5"]).report).toEqual({ out: "r.html", runs: 5 });
  });

  it("refuses unknown commands, unknown flags, flags of another command, stray arguments and bad values", () => {
    for (const argv of [
      ["sync-now"],
      ["report", "--runs", "0"],
      ["report", "--csv"],
      ["--frsh"],
      ["run", "--cron", "* * * * *"],
      ["run", "extra"],
      ["replay", "--carried", "alive"],
      ["replay", "--kind", "opportunity"],
      ["replay", "--failed", "--carried", "dead"],
      ["audit", "--csv"],
    ]) {
      expect(() => parseCommand(argv), argv.join(" ")).toThrow(UsageError);
    }
    expect(() => parseCommand(["report", "--runs", "x"])).toThrow(/--runs takes a positive whole number/);
    expect(() => parseCommand(["--frsh"])).toThrow(/usage: sync \[command\] \[options\]/);
  });

  it("has a hint for every code it is likely to meet, and a generic one otherwise", () => {
    for (const code of ["AUTH", "601", "607", "NETWORK", "auth", "http", "source", "store", "already_running"]) {
      expect(HINTS[code], code).toBeDefined();
    }
    expect(hintFor("no-such-code").todo).toMatch(/audit --run ID/);
  });

  it("an unknown flag given to main exits 2 with the usage, before touching any state", async () => {
    const dir = join(tempDir(), "never");
    const { r, err } = await start(["--frsh"], { SYNC_STATE_DIR: dir });
    expect(r.exitCode).toBe(2);
    expect(err).toMatch(/Unknown option '--frsh'/);
    expect(err).toContain("usage: sync [command] [options]");
    expect(existsSync(dir)).toBe(false);
  });
});

describe("the process", () => {
  it("an unknown flag: exit code 2 and the usage on stderr", async () => {
    const dir = join(tempDir(), "never");
    const { code, err, out } = await spawnService(["run", "--dry"], { SYNC_STATE_DIR: dir }).done;
    expect(code).toBe(2);
    expect(err).toContain("usage: sync [command] [options]");
    expect(out).toBe("");
    expect(existsSync(dir)).toBe(false);
  });

  it("schedule stops on SIGTERM after the run in flight and exits 0", async () => {
    const svc = spawnService(["schedule", "--cron", "*/2 * * * * *"], {
      SYNC_STATE_DIR: tempDir(),
      SIM_CUSTOMERS: "30",
    });
    svc.onOut((text) => {
      if (text.includes("next run at") && !svc.child.killed) svc.child.kill("SIGTERM");
    });
    const { code, out } = await svc.done;
    expect(code).toBe(0);
    expect(out).toMatch(/run demo:\S+: completed/);
    expect(out).toContain("schedule: stopping: the run in flight finishes its batch");
    expect(out).toContain("state saved in");
  }, 60_000);

  it("SIGTERM during a run: the batch in flight is recorded, the process ends by itself, the next start continues", async () => {
    const dir = tempDir();
    const svc = spawnService(["schedule"], { SYNC_STATE_DIR: dir, SIM_CUSTOMERS: "900" });
    svc.onOut((text) => {
      if (/reading QAD and writing Marketo: .* 1 batches/.test(text) && !svc.child.killed) svc.child.kill("SIGTERM");
    });
    const { code, signal, out } = await svc.done;
    expect(signal).toBeNull(); // it handled the signal and exited, rather than being killed by it
    expect(out).toContain("schedule: stopping: the run in flight finishes its batch");
    const ended = /run demo:\S+: (\w+) in \d+ ms, (\d+) source rows, (\d+) batches, checkpoint saved/.exec(out);
    expect(ended, out).not.toBeNull();
    const [, status, rows, batches] = ended!;
    expect(Number(batches)).toBeGreaterThanOrEqual(1);
    expect(Number(rows)).toBeLessThan(900);
    // Exit code and status agree (the engine reports this stop as `stopped` or, today, `failed` with `aborted`).
    expect(code).toBe(status === "failed" ? 1 : 0);
    const next = await start([], { SYNC_STATE_DIR: dir });
    expect(next.r.state).toMatchObject({ continued: true, runsBefore: 1 });
    expect(next.r.runs[0]?.status).toBe("completed");
    // What the stopped run recorded is not written again (unchanged since its write); the rest is created now.
    const written = Number(/^ {2}company +(\d+)/m.exec(out)?.[1]);
    expect(written).toBeGreaterThanOrEqual(297);
    expect(next.r.runs[0]?.outcomes.company.created).toBe(897 - written);
    expect(next.r.runs[0]?.outcomes.company.unchanged).toBe(written);
    expect(next.r.marketo?.records.companies).toBe(897);
    expect(next.r.marketo?.duplicates).toMatchObject({ companies: 0, namedAccounts: 0, leads: 0 });
  }, 90_000);
});
