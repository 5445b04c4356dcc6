/**
 * Where the service keeps its state: the SQLite store and, with the simulators, their snapshot. `--fresh` (or
 * `SYNC_FRESH=1`) deletes exactly those files.
 */
import { readdirSync, rmdirSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** Default state folder in simulator mode: `<repo>/examples/.state`. */
export const DEFAULT_STATE_DIR = fileURLToPath(new URL("./.state", import.meta.url));

/** The SQLite store's file name inside the state folder. */
export const DB_FILE = "sync.db";
/** The simulators' snapshot file name inside the state folder (simulator mode). */
export const SNAPSHOT_FILE = "simulators.json";

/** The `report` command's page inside the state folder, unless `--out` says otherwise. */
export const REPORT_FILE = "report.html";

/** Files the example owns in a state folder; `--fresh` deletes these and nothing else. */
const OWNED = [DB_FILE, `${DB_FILE}-wal`, `${DB_FILE}-shm`, `${DB_FILE}-journal`, SNAPSHOT_FILE, REPORT_FILE];

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
}

/**
 * Where the state lives. The folder is `SYNC_STATE_DIR` when set, else `examples/.state` with the simulators and
 * `examples/.state/real` against real systems (so `--fresh` in one mode never deletes the other's state).
 */
export function stateSettings(
  options: { fresh: boolean; stateDir?: string | undefined },
  mode: "simulators" | "real",
): StateSettings {
  const given = options.stateDir?.trim();
  const dir = given ? resolve(given) : mode === "simulators" ? DEFAULT_STATE_DIR : join(DEFAULT_STATE_DIR, "real");
  return { dir, dbPath: join(dir, DB_FILE), snapshotPath: join(dir, SNAPSHOT_FILE), fresh: options.fresh };
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
