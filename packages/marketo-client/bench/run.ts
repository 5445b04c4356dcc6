/**
 * Runs every `bench/*.bench.ts` in this folder, one after another. Each bench module exports one or more functions
 * whose names start with `run` (e.g. `runLimiterBench`); each is called with no arguments and awaited. Results are
 * printed by the benches and saved by them under bench/results/.
 */
import { readdirSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";

const dir = fileURLToPath(new URL(".", import.meta.url));
const only = process.argv.slice(2);
const files = readdirSync(dir)
  .filter((f) => f.endsWith(".bench.ts"))
  .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
  .sort();

let failed = 0;
for (const file of files) {
  console.log(`\n▶ ${file}`);
  const mod = (await import(pathToFileURL(`${dir}${file}`).href)) as Record<string, unknown>;
  const runners = Object.entries(mod).filter(([name, v]) => /^run/.test(name) && typeof v === "function");
  if (runners.length === 0) console.warn(`  (no exported run* function in ${file})`);
  for (const [name, fn] of runners) {
    const started = Date.now();
    try {
      await (fn as () => Promise<unknown>)();
      console.log(`  ${name} done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    } catch (error) {
      failed++;
      console.error(`  ${name} failed:`, error);
    }
  }
}
if (failed > 0) process.exitCode = 1;
