// Runs the first-sync case of bench/stores.ts for one N in its own process, as the parent run does, and prints its
// figures: a quick check of peak RSS without the whole store benchmark.
//
//   pnpm exec tsx bench/first-sync.ts 100000 [more N...]
//   SYNC_BENCH_NODE_FLAGS="--max-semi-space-size=8"   extra node flags for the measured process
import { fork } from "node:child_process";
import { fileURLToPath } from "node:url";

const ns = process.argv.slice(2).map(Number);
if (ns.length === 0 || ns.some((n) => !Number.isInteger(n) || n < 1)) {
  console.error("usage: tsx bench/first-sync.ts <customers> [<customers>...]");
  process.exit(2);
}
const extra = (process.env.SYNC_BENCH_NODE_FLAGS ?? "").split(" ").filter(Boolean);
for (const n of ns) {
  const r = await new Promise<unknown>((resolve, reject) => {
    const child = fork(fileURLToPath(new URL("./stores.ts", import.meta.url)), [], {
      execArgv: ["--import", "tsx", "--expose-gc", ...extra],
      env: { ...process.env, SYNC_BENCH_FIRST_SYNC_N: String(n) },
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    child.once("message", resolve);
    child.once("error", reject);
    child.once("exit", (code) => (code === 0 ? undefined : reject(new Error(`first sync of ${n} exited ${code}`))));
  });
  console.log(JSON.stringify(r));
}
