#!/usr/bin/env node
// Lets a newcomer with only Node 20 and npm run `npm run demo` and `npm test`: it fetches the pinned pnpm through npx
// when pnpm is not installed, installs the workspace from the lockfile, builds the packages, then runs the task.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";

const root = new URL("..", import.meta.url);
const pinned = JSON.parse(readFileSync(new URL("package.json", root), "utf8")).packageManager.split("@")[1];

function pnpm() {
  const probe = spawnSync("pnpm", ["--version"], { encoding: "utf8", shell: process.platform === "win32" });
  return probe.status === 0 && probe.stdout.trim() === pinned ? ["pnpm"] : ["npx", "-y", `pnpm@${pinned}`];
}

const [cmd, ...pre] = pnpm();
// better-sqlite3 (the embedded store's driver) builds from source against the installed Node headers.
const env = { ...process.env, npm_config_nodedir: process.env.npm_config_nodedir ?? "/usr" };

function step(args) {
  const r = spawnSync(cmd, [...pre, ...args], {
    stdio: "inherit",
    cwd: root,
    env,
    shell: process.platform === "win32",
  });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

const task = process.argv[2];
const extra = process.argv.slice(3);
step(["install", "--frozen-lockfile"]);
step(["run", "build"]);
// `--dir` rather than `--filter`: a filtered (recursive) run turns every failure into exit code 1, and the service's
// exit codes (1 failed, 2 usage or settings error) are part of its interface.
if (task === "demo") step(["--dir", "examples", "run", "sync", ...extra]);
else if (task === "test") step(["exec", "vitest", "run", ...extra]);
else {
  console.error(`unknown task ${task}: expected demo or test`);
  process.exit(2);
}
