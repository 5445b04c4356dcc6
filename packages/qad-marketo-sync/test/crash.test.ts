import { type ChildProcess, fork } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { MarketoClient } from "@ml/marketo-client";
import { type MarketoSimulator, startMarketoSimulator } from "@ml/marketo-client/testing";
import { QadClient } from "@ml/qad-client";
import { type QadSimulator, startQadSimulator } from "@ml/qad-client/testing";
import { afterAll, describe, expect, it } from "vitest";
import { type AuditStore, createMemoryStore, createSync, marketoGateway, qadCustomerSource } from "../src/index.js";
import { createPostgresStore } from "../src/postgres/index.js";
import { createSqliteStore } from "../src/sqlite/index.js";
import { createScratchDatabase, hasPostgres, type ScratchDatabase } from "./support/postgres.js";

// Crash test: a sync child process against the simulators is SIGKILLed at random points over several runs; after
// each restart the final Marketo state must equal a clean run's, with zero duplicates (named accounts and renames
// included), every record accounted for in the audit trail, and the calls spent by restarts bounded by the batches
// that were not yet recorded.

const CHILD = fileURLToPath(new URL("./crash/child.ts", import.meta.url));
const TSCONFIG = fileURLToPath(new URL("../tsconfig.json", import.meta.url));
const CUSTOMERS = 240;
const BATCH = 20;
const KILLS = 20;
const SEED = 7;
/** Marketo calls a worker process makes before its first write: 4 describes and 3 capability probes, plus slack. */
const STARTUP_CALLS = 8;

/** mulberry32: the kill points are random but reproducible. */
function rng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Pair {
  qad: QadSimulator;
  mk: MarketoSimulator;
}

const startPair = async (): Promise<Pair> => ({
  qad: await startQadSimulator({ customers: CUSTOMERS, seed: SEED }),
  mk: await startMarketoSimulator({ timeScale: 0.01, seed: SEED, latencyMs: 1 }),
});

/** One round of QAD edits, applied identically to both pairs: renames (named-account renames), edits, additions. */
function editRound(round: number, pairs: Pair[]) {
  const all = pairs[0]!.qad.data.customers();
  const pick = rng(1000 + round);
  const chosen = new Set<string>();
  while (chosen.size < 30) chosen.add(all[Math.floor(pick() * all.length)]!.customerCode);
  for (const p of pairs) {
    p.qad.advanceTime(5_000);
    let i = 0;
    for (const code of chosen) {
      const patch = i++ % 2 === 0 ? { name: `Renamed ${round}-${code}` } : { city: `City ${round}-${code}` };
      p.qad.data.update(code, patch as never);
    }
    for (let k = 0; k < 10; k++) p.qad.data.add({ customerCode: `N${round}X${k}`, name: `New ${round}-${k}` } as never);
  }
}

/** Marketo state without ids and timestamps, for comparing two instances. */
function marketoState(mk: MarketoSimulator) {
  const strip = (r: Record<string, unknown>) => {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(r)) {
      if (["id", "marketoGUID", "createdAt", "updatedAt", "seq"].includes(k)) continue;
      out[k] = v;
    }
    return out;
  };
  const by = (rows: Record<string, unknown>[], key: string): Record<string, Record<string, unknown>> =>
    Object.fromEntries(
      rows
        .map((r): [string, Record<string, unknown>] => [String(r[key]).toLowerCase(), strip(r)])
        .sort(([a], [b]) => a.localeCompare(b)),
    );
  return {
    companies: by(mk.data.companies.all(), "externalCompanyId"),
    namedAccounts: by(mk.data.namedAccounts.all(), "name"),
    leads: by(mk.data.leads.all(), "email"),
  };
}

interface ChildRun {
  exit: "killed" | "completed";
  committedBefore: number;
}

/** Runs the child until it completes or until `killAt` says so. */
function runChild(env: Record<string, string>, killAt: { afterCommits?: number; afterMs?: number }): Promise<ChildRun> {
  return new Promise((resolve, reject) => {
    const child: ChildProcess = fork(CHILD, [], {
      execArgv: ["--import", "tsx"],
      env: { ...process.env, ...env, TSX_TSCONFIG_PATH: TSCONFIG },
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    let commits = 0;
    let killed = false;
    const kill = () => {
      if (killed) return;
      killed = true;
      child.kill("SIGKILL");
    };
    const timer = killAt.afterMs !== undefined ? setTimeout(kill, killAt.afterMs) : undefined;
    child.on("message", (m: { committed?: number }) => {
      if (m.committed !== undefined) {
        commits++;
        if (killAt.afterCommits !== undefined && commits >= killAt.afterCommits) kill();
      }
    });
    child.on("error", reject);
    child.on("exit", (code, signal) => {
      if (timer) clearTimeout(timer);
      if (signal === "SIGKILL") resolve({ exit: "killed", committedBefore: commits });
      else if (code === 0) resolve({ exit: "completed", committedBefore: commits });
      else reject(new Error(`crash child exited with code ${code}`));
    });
  });
}

interface StoreUnderTest {
  name: string;
  enabled: boolean;
  location(): Promise<string>;
  open(location: string): AuditStore & { close(): Promise<void> | void };
  cleanup(): Promise<void>;
}

const tmp = mkdtempSync(join(tmpdir(), "ml-crash-"));
let scratch: ScratchDatabase | undefined;
afterAll(async () => {
  rmSync(tmp, { recursive: true, force: true });
  await scratch?.drop();
});

const stores: StoreUnderTest[] = [
  {
    name: "sqlite",
    enabled: true,
    location: async () => join(tmp, "crash.db"),
    open: (path) => createSqliteStore({ path }),
    cleanup: async () => {},
  },
  {
    name: "postgres",
    enabled: hasPostgres,
    location: async () => {
      scratch = await createScratchDatabase("mlcrash");
      return scratch.url;
    },
    open: (connectionString) => createPostgresStore({ connectionString }),
    cleanup: async () => {},
  },
];

describe.each(stores)("crash test: SIGKILL at $name", (s) => {
  it.skipIf(!s.enabled)(
    `${KILLS} kills at random points over several runs leave Marketo as a clean run does`,
    async () => {
      const crashed = await startPair();
      const clean = await startPair();
      const location = await s.location();
      const random = rng(SEED);
      const cleanStore = createMemoryStore();
      const cleanSync = createSync({
        tenant: "crash",
        source: qadCustomerSource(new QadClient({ ...clean.qad.clientOptions })),
        marketo: marketoGateway(new MarketoClient({ ...clean.mk.clientOptions })),
        store: cleanStore,
        batchSize: BATCH,
        readBack: false,
      });
      const env = {
        CRASH_CONFIG: JSON.stringify({
          store: s.name,
          location,
          qad: crashed.qad.clientOptions,
          marketo: crashed.mk.clientOptions,
          batchSize: BATCH,
        }),
      };
      let kills = 0;
      let round = 0;
      let cleanCalls = 0;
      let crashedCalls = 0;
      try {
        while (kills < KILLS || round < 3) {
          if (round > 0) editRound(round, [crashed, clean]);
          const before = clean.mk.inspect().totalCalls;
          const ref = await cleanSync.runOnce();
          expect(ref.status).toBe("completed");
          const roundCleanCalls = clean.mk.inspect().totalCalls - before;
          const crashedBefore = crashed.mk.inspect().totalCalls;
          cleanCalls += roundCleanCalls;
          const batches = ref.status === "alreadyRunning" ? 0 : ref.summary.batches;
          // Kill the worker up to five times in this round, then let it finish.
          for (let k = 0; k < 5 && kills < KILLS; k++) {
            const afterCommits = 1 + Math.floor(random() * Math.max(1, batches - 1));
            const r =
              random() < 0.3
                ? await runChild(env, { afterMs: 100 + Math.floor(random() * 900) })
                : await runChild(env, { afterCommits });
            if (r.exit === "completed") break;
            kills++;
          }
          const last = await runChild(env, {});
          expect(last.exit).toBe("completed");
          const roundCalls = crashed.mk.inspect().totalCalls - crashedBefore;
          crashedCalls += roundCalls;
          round++;
        }

        // Final Marketo state equals the clean run's, with zero duplicates.
        expect(crashed.mk.inspect().duplicates).toMatchObject({ companies: 0, namedAccounts: 0, leads: 0 });
        expect(clean.mk.inspect().duplicates).toMatchObject({ companies: 0, namedAccounts: 0, leads: 0 });
        const got = marketoState(crashed.mk);
        const want = marketoState(clean.mk);
        expect(Object.keys(got.companies).length).toBe(CUSTOMERS + 10 * (round - 1));
        expect(got).toEqual(want);

        // Every customer accounted for: its latest company row says it is in Marketo with the latest content.
        const store = s.open(location);
        try {
          const keys = Object.values(got.companies).map((c) => String(c.externalCompanyId));
          const synced = await store.getSynced("crash", "company", keys);
          expect(synced.size).toBe(keys.length);
          const rows = await store.queryAudit({ tenant: "crash", kinds: ["company"] });
          const seen = new Set(
            rows.filter((r) => ["created", "updated", "unchanged"].includes(r.outcome)).map((r) => r.key),
          );
          for (const k of keys) expect(seen.has(k), `audit row for ${k}`).toBe(true);
          expect(await store.countCarried("crash")).toEqual({ pending: 0, dead: 0 });
        } finally {
          await store.close();
        }

        // Calls spent by restarts: a restarted worker resumes after the last recorded batch, so a kill costs at most
        // the batches that were in flight and not yet recorded (batchConcurrency 2, each at most a company, a
        // named-account and a lead call) plus one process start (describes and capability probes).
        const extra = crashedCalls - cleanCalls;
        const bound = kills * (STARTUP_CALLS + 3 * 2);
        console.log(
          `crash test (${s.name}): ${kills} kills over ${round} runs; Marketo calls clean ${cleanCalls}, ` +
            `with kills ${crashedCalls}: restarts spent ${extra} (${(extra / Math.max(1, kills)).toFixed(1)} a kill; bound ${bound})`,
        );
        expect(kills).toBeGreaterThanOrEqual(KILLS);
        expect(extra).toBeLessThanOrEqual(bound);
      } finally {
        await Promise.all([crashed.qad.close(), crashed.mk.close(), clean.qad.close(), clean.mk.close()]);
        await s.cleanup();
      }
    },
    240_000,
  );
});
