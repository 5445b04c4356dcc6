/**
 * Where the example keeps its state, and its command line: `--fresh` (or `SYNC_FRESH=1`) starts over, any other
 * flag is an error.
 */
import { readdirSync, rmdirSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

/** Default state folder in simulator mode: `<repo>/examples/.state`. */
export const DEFAULT_STATE_DIR = fileURLToPath(new URL("./.state", import.meta.url));

/** The SQLite store's file name inside the state folder. */
export const DB_FILE = "sync.db";
/** The simulators' snapshot file name inside the state folder (simulator mode). */
export const SNAPSHOT_FILE = "simulators.json";

/** Files the example owns in a state folder; `--fresh` deletes these and nothing else. */
const OWNED = [DB_FILE, `${DB_FILE}-wal`, `${DB_FILE}-shm`, `${DB_FILE}-journal`, SNAPSHOT_FILE];

/** Thrown for an unknown or malformed command-line argument. */
export class UsageError extends Error {
  override name = "UsageError";
}

/** Usage text of the example's command line. */
export const USAGE = [
  "usage: sync [--fresh]",
  "  --fresh   start over: delete the saved state (store and simulator snapshot) first; or set SYNC_FRESH=1",
  "  --help    print this text",
  "  SYNC_STATE_DIR   state folder (default examples/.state, examples/.state/real against real systems)",
].join("\n");

/** Where the state lives and whether to start over. */
export interface StateSettings {
  /** Absolute state folder. */
  dir: string;
  /** The SQLite store's file. */
  dbPath: string;
  /** The simulators' snapshot (used in simulator mode only). */
  snapshotPath: string;
  /** Delete the saved state before starting. */
  fresh: boolean;
  /** `--help` was given. */
  help: boolean;
}

/**
 * Reads the state settings from the command line and the environment. The folder is `SYNC_STATE_DIR` when set,
 * else `examples/.state` with the simulators and `examples/.state/real` against real systems (so `--fresh` in one
 * mode never deletes the other's state).
 *
 * @throws {@link UsageError} for an unknown flag or a positional argument.
 */
export function readStateSettings(
  argv: readonly string[],
  env: Record<string, string | undefined>,
  mode: "simulators" | "real",
): StateSettings {
  let values: { fresh?: boolean | undefined; help?: boolean | undefined };
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: { fresh: { type: "boolean" }, help: { type: "boolean", short: "h" } },
      strict: true,
      allowPositionals: false,
    }));
  } catch (e) {
    throw new UsageError(`${e instanceof Error ? e.message : String(e)}\n${USAGE}`);
  }
  const fromEnv = env.SYNC_FRESH?.trim().toLowerCase();
  if (fromEnv !== undefined && fromEnv !== "" && !["1", "0", "true", "false"].includes(fromEnv)) {
    throw new UsageError(`SYNC_FRESH must be 1 or 0, got ${JSON.stringify(env.SYNC_FRESH)}`);
  }
  const given = env.SYNC_STATE_DIR?.trim();
  const dir = given ? resolve(given) : mode === "simulators" ? DEFAULT_STATE_DIR : join(DEFAULT_STATE_DIR, "real");
  return {
    dir,
    dbPath: join(dir, DB_FILE),
    snapshotPath: join(dir, SNAPSHOT_FILE),
    fresh: values.fresh === true || fromEnv === "1" || fromEnv === "true",
    help: values.help === true,
  };
}

/**
 * Deletes the state the example owns in `dir` (the store's files and the snapshot), then the folder itself when
 * that leaves it empty. Other files are never touched, whatever `SYNC_STATE_DIR` points at. Returns the files
 * deleted.
 */
export function removeState(dir: string): string[] {
  let present: string[];
  try {
    present = readdirSync(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw e;
  }
  const gone = present.filter((f) => OWNED.includes(f) || (f.startsWith(`${SNAPSHOT_FILE}.`) && f.endsWith(".tmp")));
  for (const f of gone) rmSync(join(dir, f), { force: true });
  if (readdirSync(dir).length === 0) rmdirSync(dir);
  return gone;
}
