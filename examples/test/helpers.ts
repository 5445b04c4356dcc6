/** Shared helpers of the service tests: a state folder per test, and one start of the service with captured output. */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type MainOptions, type MainResult, main } from "../sync.js";

const dirs: string[] = [];

/** A state folder of its own in the system temp dir: a test never touches the default examples/.state. */
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "ml-example-state-"));
  dirs.push(dir);
  return dir;
}

/** Removes the folders made by {@link tempDir} (call in afterEach). */
export function cleanDirs(): void {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
}

/** One start of the service, as `npm run demo -- ...argv` is: new simulators, a new store connection. */
export async function start(
  argv: string[],
  env: Record<string, string | undefined>,
  more: Omit<MainOptions, "argv" | "env" | "print" | "printError"> = {},
): Promise<{ r: MainResult; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const r = await main({ argv, env, print: (l) => out.push(l), printError: (l) => err.push(l), ...more });
  return { r, out: out.join("\n"), err: err.join("\n") };
}

/** Calls that change something in Marketo (anything but a GET: the simulator counts method overrides separately). */
export function writeCalls(r: MainResult): [string, number][] {
  if (r.marketo?.methodOverrides !== 0) throw new Error("the simulator saw a method override: a POST may hide a read");
  return Object.entries(r.marketo?.callsByEndpoint ?? {}).filter(([k]) => !k.startsWith("GET "));
}

const examples = fileURLToPath(new URL("..", import.meta.url));

/**
 * A spawned child process of the service: node with tsx's loader over the packages' sources (as vitest resolves
 * them, through `tsconfig.sources.json`). One process, so a signal sent to it reaches the service's handlers (the
 * `tsx` command would be a parent relaying signals to a child).
 */
export function spawnService(
  argv: string[],
  env: Record<string, string>,
): {
  done: Promise<{ code: number | null; signal: NodeJS.Signals | null; out: string; err: string }>;
  child: ReturnType<typeof spawn>;
  onOut(fn: (text: string) => void): void;
} {
  const child = spawn(process.execPath, ["--import", "tsx", join(examples, "sync.ts"), ...argv], {
    cwd: examples,
    env: {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? "",
      TSX_TSCONFIG_PATH: join(examples, "tsconfig.sources.json"),
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  const listeners: ((t: string) => void)[] = [];
  child.stdout?.on("data", (b: Buffer) => {
    out += String(b);
    for (const l of listeners) l(out);
  });
  child.stderr?.on("data", (b: Buffer) => {
    err += String(b);
  });
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; out: string; err: string }>(
    (resolve) => child.on("close", (code, signal) => resolve({ code, signal, out, err })),
  );
  return { done, child, onOut: (fn) => listeners.push(fn) };
}
