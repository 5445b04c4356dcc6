// Runs the first-sync case of bench/stores.ts for one N in its own process, as the parent run does, and prints its
// figures: a quick check of peak RSS without the whole store benchmark.
//
//   pnpm exec tsx bench/first-sync.ts 100000 [more N...]
//   SYNC_BENCH_NODE_FLAGS="--max-old-space-size=256"   extra node flags for the measured process (a capped heap)
//   SYNC_BENCH_LIVE_HEAP=1                             also the largest heap left after a gc each second (slower)
//   SYNC_BENCH_SAVE=1   writes the figures into bench/results/stores-million.json (firstSyncSqlite, or
//                       firstSyncSqliteCapped when the flags cap the heap), replacing the entries of the same N
import { fork } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const ns = process.argv.slice(2).map(Number);
if (ns.length === 0 || ns.some((n) => !Number.isInteger(n) || n < 1)) {
  console.error("usage: tsx bench/first-sync.ts <customers> [<customers>...]");
  process.exit(2);
}
const extra = (process.env.SYNC_BENCH_NODE_FLAGS ?? "").split(" ").filter(Boolean);
const results: { customers: number }[] = [];
for (const n of ns) {
  const r = await new Promise<{ customers: number }>((resolve, reject) => {
    const child = fork(fileURLToPath(new URL("./stores.ts", import.meta.url)), [], {
      execArgv: ["--import", "tsx", "--expose-gc", ...extra],
      env: { ...process.env, SYNC_BENCH_FIRST_SYNC_N: String(n) },
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    child.once("message", (m) => resolve(m as { customers: number }));
    child.once("error", reject);
    child.once("exit", (code) => (code === 0 ? undefined : reject(new Error(`first sync of ${n} exited ${code}`))));
  });
  console.log(JSON.stringify(r));
  results.push(r);
}

if (process.env.SYNC_BENCH_SAVE === "1") {
  const file = new URL("./results/stores-million.json", import.meta.url);
  const saved: Record<string, unknown> = existsSync(file) ? JSON.parse(readFileSync(file, "utf8")) : {};
  const key = extra.some((f) => f.startsWith("--max-old-space-size")) ? "firstSyncSqliteCapped" : "firstSyncSqlite";
  const before = (Array.isArray(saved[key]) ? saved[key] : []) as { customers: number }[];
  const merged = [...before.filter((b) => !results.some((r) => r.customers === b.customers)), ...results];
  merged.sort((a, b) => a.customers - b.customers);
  saved[key] = merged;
  saved[`${key}Date`] = new Date().toISOString();
  writeFileSync(file, `${JSON.stringify(saved, null, 2)}\n`);
  console.log(`saved ${key} in bench/results/stores-million.json`);
}
