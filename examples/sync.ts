/**
 * The QAD → Marketo sync service, composed only from the three packages' public exports.
 *
 *   pnpm --filter @ml/examples run sync [command] [options]      (from the root: npm run demo -- [command] ...)
 *
 * Commands: run (default), schedule, replay, dry-run, doctor, audit, report; see {@link USAGE} and examples/README.md.
 * With no QAD or Marketo settings it starts both simulators on 127.0.0.1 (a realistic data set: sales context on
 * some accounts, a few bad QAD rows; `--crm` for a CRM-synced Marketo) on the embedded SQLite store in
 * `examples/.state`, so a second start continues with zero Marketo writes. With settings (environment variables or
 * `--config file.json`) it talks to the real systems.
 */
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { Writable } from "node:stream";
import { pathToFileURL } from "node:url";
import { isMarketoError } from "@ml/marketo-client";
import { isQadError } from "@ml/qad-client";
import {
  type AccountContext,
  type AuditEntry,
  createSync,
  type DryRunAction,
  type DryRunItem,
  type DryRunReport,
  extendMapping,
  isSyncError,
  marketoGateway,
  qadCustomerSource,
  type RunOutcome,
  type RunSummary,
  type Sync,
  type WrittenReport,
  writeAuditCsv,
  writeReport,
} from "@ml/qad-marketo-sync";
import { type DoctorReport, doctor, formatDoctorReport } from "@ml/qad-marketo-sync/doctor";
import { createSqliteStore } from "@ml/qad-marketo-sync/sqlite";
import { type Command, parseCommand, USAGE, UsageError } from "./service/cli.js";
import { attachProgress } from "./service/progress.js";
import { readConfigFile, readSettings, type Settings, SettingsError } from "./service/settings.js";
import { errorLines, formatSummary, summaryDetails } from "./service/summary.js";
import { openSystems, type StateReport, type Systems } from "./service/systems.js";
import { SnapshotError } from "./sim-state.js";
import { REPORT_FILE, type StateSettings, stateSettings } from "./state-dir.js";

export { USAGE, UsageError } from "./service/cli.js";
export { readSettings, SettingsError } from "./service/settings.js";

/** Default cron of `schedule`: every 5 minutes. */
export const DEFAULT_CRON = "*/5 * * * *";

/** Options of {@link main}: everything a test injects instead of the process's own. */
export interface MainOptions {
  /** Command-line arguments (without node and the script). @default [] */
  argv?: readonly string[];
  /** Environment to read settings from. @default process.env */
  env?: Record<string, string | undefined>;
  /** Standard output lines. @default console.log */
  print?: (line: string) => void;
  /** Standard error lines (errors, usage). @default console.error */
  printError?: (line: string) => void;
  /** Terminal for the progress bar; plain progress lines through `print` when absent or not a TTY. */
  tty?: NodeJS.WritableStream & { isTTY?: boolean };
  /** `schedule` runs until this aborts (the CLI aborts it on SIGINT/SIGTERM). */
  stop?: AbortSignal;
  /** Simulated customers. @default SIM_CUSTOMERS, 300, or what the saved state was made with */
  customers?: number;
  /** Marketo simulator time scale (0.01: a 20 s window lasts 200 ms). @default 0.01 */
  timeScale?: number;
}

/** What {@link main} did, for callers and tests. */
export interface MainResult {
  /** The process exit code: 0 done, 1 failed, 2 usage or settings error. */
  exitCode: number;
  /** The command, once parsed. */
  command?: Command["name"];
  mode?: Settings["mode"];
  /** Saved state found at start. */
  state?: StateReport;
  /** Summaries of the runs made (one for run and replay; one per tick for schedule). */
  runs: RunSummary[];
  /** Account contexts shown. */
  contexts: AccountContext[];
  /** doctor: the report. */
  doctor?: DoctorReport;
  /** dry-run: the report. */
  dryRun?: DryRunReport;
  /** report: the page written. */
  report?: WrittenReport;
  /** audit: the rows shown. */
  audit?: AuditEntry[];
  /** Simulator inspection after the command (simulator mode only). */
  marketo?: ReturnType<NonNullable<Systems["mkSim"]>["inspect"]>;
  /** The error that ended the command, as printed. */
  error?: { code: string; message: string };
}

/** The code of anything thrown, by the packages' guards. */
function codeOf(e: unknown): string {
  if (e instanceof UsageError) return "usage";
  if (e instanceof SettingsError) return "settings";
  if (e instanceof SnapshotError) return "snapshot";
  if (isMarketoError(e) || isQadError(e) || isSyncError(e)) return String(e.code);
  return "unknown";
}

/**
 * The mapping: the defaults cover name, address, phone, website, industry, currency, region and the active flag; a
 * user's own rules go here. This one tags every company with its QAD credit terms.
 */
const MAPPING = extendMapping({ company: { qadCreditTerms: "creditTermsCode" } });

function buildSync(sys: Systems): Sync {
  return createSync({
    tenant: sys.tenant,
    source: qadCustomerSource(sys.qad),
    // The simulator's clientOptions scale every Marketo wait (bulk export polls included) to its time scale.
    marketo: marketoGateway(sys.marketo),
    store: sys.store,
    mapping: MAPPING,
  });
}

/** The exit code of a run's status: `failed` is 1, everything else 0. */
const exitOf = (status: string) => (status === "failed" ? 1 : 0);

/**
 * Runs one command of the service and resolves with its exit code; never throws (errors are printed with their
 * code, message and what to do).
 */
export async function main(options: MainOptions = {}): Promise<MainResult> {
  const print = options.print ?? ((s: string) => console.log(s));
  const printError = options.printError ?? ((s: string) => console.error(s));
  const env = options.env ?? process.env;
  const result: MainResult = { exitCode: 0, runs: [], contexts: [] };
  let sys: Systems | undefined;
  try {
    const cmd = parseCommand(options.argv ?? []);
    result.command = cmd.name;
    if (cmd.help) {
      print(USAGE);
      return result;
    }
    if (cmd.fresh && (cmd.name === "audit" || cmd.name === "doctor" || cmd.name === "report")) {
      throw new UsageError(`${cmd.name}: --fresh would delete the state it reads\n\n${USAGE}`);
    }
    const settings = readSettings(env, cmd.config ? readConfigFile(cmd.config) : {});
    result.mode = settings.mode;
    const crm = cmd.crm || settings.service.crm;
    if (crm && settings.mode === "real") {
      throw new UsageError(
        `--crm / SIM_CRM selects a simulator variant; it has no meaning against real systems\n\n${USAGE}`,
      );
    }
    const state = stateSettings(
      { fresh: cmd.fresh || settings.service.fresh, stateDir: settings.service.stateDir },
      settings.mode,
    );
    if (cmd.name === "audit") return await audit(cmd, settings, state.dbPath, print, result);
    if (cmd.name === "report") {
      return await reportPage(
        cmd,
        settings,
        state,
        print,
        result,
        settings.mode === "simulators" ? (options.timeScale ?? 0.01) : 1,
      );
    }

    sys = await openSystems(settings, state, {
      customers: options.customers,
      timeScale: options.timeScale,
      crm,
      print,
    });
    result.state = sys.state;
    if (cmd.name === "doctor") {
      // One line per check (pass/warn/fail/skip) with its fix; a failing check makes the exit code 1.
      const report = await doctor({
        qad: sys.qad,
        marketo: sys.marketo,
        mapping: MAPPING,
        customers: cmd.customers ?? sys.expected,
      });
      result.doctor = report;
      for (const l of formatDoctorReport(report)) print(l);
      result.exitCode = report.worst === "fail" ? 1 : 0;
      return result;
    }
    const sync = buildSync(sys);
    const open = sys;
    sync.on("capability", (c) => {
      if (!c.writable) print(`  ${c.object} are read-only here (${c.reason ?? c.source}): reading them instead`);
    });
    const progress = attachProgress(sync, { print, tty: options.tty, expected: sys.expected });
    /** Prints one outcome; returns its exit code. */
    const report = async (out: RunOutcome): Promise<number> => {
      if (out.status === "alreadyRunning") {
        const lines = errorLines("already_running", `another runner holds the lease: ${out.holder}`);
        for (const l of lines) printError(l);
        result.error = { code: "already_running", message: `another runner holds the lease: ${out.holder}` };
        return 1;
      }
      await open.saveSnapshot();
      result.runs.push(out.summary);
      const details = await summaryDetails(open.store, open.tenant, out.summary, open.featured);
      result.contexts = details.contexts;
      for (const l of formatSummary(out.summary, details)) print(l);
      if (out.summary.error) {
        const { code, message } = out.summary.error;
        result.error = { code, message };
        // A stopped run's reason is informational; a failed or degraded run's is what the operator acts on.
        for (const l of errorLines(code, message)) (out.summary.status === "stopped" ? print : printError)(l);
      }
      return exitOf(out.summary.status);
    };
    try {
      if (cmd.name === "dry-run") {
        const dry = await dryRun(sync, print);
        result.dryRun = dry;
        if (dry.error) {
          result.error = { code: dry.error.code, message: dry.error.message };
          for (const l of errorLines(dry.error.code, dry.error.message)) printError(l);
        }
        result.exitCode = exitOf(dry.status);
      } else if (cmd.name === "run") {
        // Contacts engage in Marketo between starts (simulated): this run's read-back folds their activity in.
        if (sys.state.continued && sys.mkSim)
          print(`  (simulated: ${sys.simulateEngagement()} new activities in Marketo)`);
        result.exitCode = await report(await sync.runOnce());
      } else if (cmd.name === "replay") {
        const r = cmd.replay!;
        print(
          `replay: ${r.carried.length ? `carried-forward records (${r.carried.join(", ")})` : `${r.outcomes.join(" and ")} audit rows`}` +
            `${r.runId ? ` of run ${r.runId}` : ""}${r.keys.length ? `, keys ${r.keys.join(", ")}` : ""}${r.kinds.length ? `, kinds ${r.kinds.join(", ")}` : ""}`,
        );
        const out = await sync.replay({
          ...(r.carried.length ? { carried: r.carried } : { outcomes: r.outcomes }),
          ...(r.runId ? { runId: r.runId } : {}),
          ...(r.keys.length ? { keys: r.keys } : {}),
          ...(r.kinds.length ? { kinds: r.kinds } : {}),
        });
        result.exitCode = await report(out);
      } else if (cmd.name === "schedule") {
        result.exitCode = await schedule(
          sync,
          cmd.cron ?? settings.service.cron ?? DEFAULT_CRON,
          report,
          print,
          options.stop,
        );
      }
    } finally {
      progress.close();
    }
    if (result.exitCode === 0) {
      print(`state saved in ${state.dir}: the next start continues from here (--fresh or SYNC_FRESH=1 starts over)`);
    }
  } catch (e) {
    const code = codeOf(e);
    const message = e instanceof Error ? e.message : String(e);
    result.error = { code, message };
    if (code === "usage" || code === "settings") {
      printError(message);
      if (code === "settings")
        printError(`what to do: fix the settings above (environment or --config); see examples/README.md`);
      result.exitCode = 2;
    } else {
      for (const l of errorLines(code, message)) printError(l);
      result.exitCode = 1;
    }
  } finally {
    if (sys) {
      result.marketo = sys.mkSim?.inspect();
      await sys.close();
    }
  }
  return result;
}

/** `schedule`: runs on `cron` until `stop` aborts; the run in flight finishes its batch and is recorded. */
async function schedule(
  sync: Sync,
  cron: string,
  report: (out: RunOutcome) => Promise<number>,
  print: (line: string) => void,
  stop: AbortSignal | undefined,
): Promise<number> {
  let worst = 0;
  let pending = Promise.resolve();
  const handle = sync.schedule(cron, {
    runImmediately: true,
    // Awaited by the schedule (ticks never overlap); kept in `pending` so a stop waits for the last summary.
    onRun: (out) => {
      pending = pending.then(async () => {
        worst = Math.max(worst, await report(out));
        const next = handle.nextRun();
        if (next) print(`next run at ${next.toISOString()}`);
      });
      return pending;
    },
  });
  print(`schedule: ${cron} (first run now); SIGINT or SIGTERM stops after the batch in flight`);
  await new Promise<void>((resolve) => {
    if (!stop) return; // runs until the process ends
    if (stop.aborted) resolve();
    else stop.addEventListener("abort", () => resolve(), { once: true });
  });
  print("schedule: stopping: the run in flight finishes its batch");
  await sync.stop();
  handle.stop();
  await pending;
  return worst;
}

const ACTIONS: DryRunAction[] = ["create", "update", "unchanged", "reject", "skip"];

/**
 * `dry-run`: what the next run would do, with nothing written (no Marketo write, no checkpoint, no audit row): per
 * kind the would-create / would-update / unchanged / rejected / skipped counts, a few would-updates with their
 * changed fields, the top reasons, and the calls a real run would spend.
 */
async function dryRun(sync: Sync, print: (line: string) => void): Promise<DryRunReport> {
  let seen = 0;
  let last = Date.now();
  const updates: DryRunItem[] = [];
  const reasons = new Map<string, { item: DryRunItem; code: string; message: string; count: number }>();
  print("dry run: planning against Marketo (reads only, nothing is written)");
  const report = await sync.dryRun({
    onItem: (item) => {
      seen++;
      if (item.action === "update" && updates.length < 5) updates.push(item);
      if (item.action === "reject" || item.action === "skip") {
        for (const r of item.reasons) {
          const id = `${item.kind}\u0000${item.action}\u0000${r.code}`;
          const g = reasons.get(id);
          if (g) g.count++;
          else reasons.set(id, { item, code: r.code, message: r.message, count: 1 });
        }
      }
      if (Date.now() - last >= 2_000) {
        last = Date.now();
        print(`  … dry run: ${seen} verdicts so far`);
      }
    },
  });
  const t = report.totals;
  print(`dry run: ${report.status}, ${t.sourceItems} source rows, ${t.batches} batches (nothing was written)`);
  const kinds = Object.entries(t.byKind).filter(([, a]) => ACTIONS.some((x) => a[x] > 0));
  if (kinds.length === 0) print("  nothing to do: no record changed in QAD since the last run");
  else {
    print(`  ${"kind".padEnd(13)}${ACTIONS.map((a) => `would ${a}`.padStart(16)).join("")}`);
    for (const [k, a] of kinds) print(`  ${k.padEnd(13)}${ACTIONS.map((x) => String(a[x]).padStart(16)).join("")}`);
  }
  for (const u of updates) {
    const changes = (u.changes ?? []).map((c) => `${c.field}: ${JSON.stringify(c.old)} → ${JSON.stringify(c.new)}`);
    print(`  would update ${u.kind} ${u.key}: ${changes.join(", ") || "(fields unknown)"}`);
  }
  const top = [...reasons.values()].sort((a, b) => b.count - a.count).slice(0, 5);
  if (top.length) {
    print("  top reasons:");
    for (const g of top) {
      print(
        `    ${String(g.count).padStart(5)} × ${g.item.kind} ${g.item.action} [${g.code}] ${g.message} (e.g. ${g.item.key})`,
      );
    }
  }
  const c = t.calls;
  print(
    `  a real run would spend ${c.total} Marketo calls: ${c.writes} writes (companies ${c.companies}, named accounts ${c.namedAccounts}, ` +
      `leads ${c.leads}, sales persons ${c.salesPersons}) and ${c.reads} reads, plus its read-back; ${t.carriedPending} carried-forward records pending`,
  );
  print(
    `  read-only: ${report.readOnly.length ? report.readOnly.map((r) => `${r.object} (${r.reason ?? "CRM sync"})`).join(", ") : "nothing"}`,
  );
  if (report.droppedFields.length)
    print(`  not sent (this instance has no such field): ${report.droppedFields.join(", ")}`);
  return report;
}

/**
 * `report`: writes the static HTML page of the recent runs (`writeReport`: outcomes per kind over time, calls against
 * the rate-limit ceiling, top reasons, carried-forward and dead-lettered records, account contexts), from the store
 * alone. `timeScale` scales the quota window the call ceiling is drawn from (the simulator's, in simulator mode).
 */
async function reportPage(
  cmd: Command,
  settings: Settings,
  state: StateSettings,
  print: (line: string) => void,
  result: MainResult,
  timeScale: number,
): Promise<MainResult> {
  if (!existsSync(state.dbPath)) {
    throw Object.assign(new Error(`no saved state at ${state.dbPath}: run a sync first`), { code: "store" });
  }
  const tenant = settings.service.tenant ?? (settings.mode === "real" ? "default" : "demo");
  const out = resolve(cmd.report?.out ?? join(state.dir, REPORT_FILE));
  const store = createSqliteStore({ path: state.dbPath });
  try {
    const written = await writeReport(out, {
      store,
      tenant,
      ...(cmd.report?.runs ? { runs: cmd.report.runs } : {}),
      limits: { callsPerWindow: 100, windowMs: 20_000 * timeScale },
    });
    result.report = written;
    print(`report: ${written.path} (${written.bytes} bytes): open it in a browser (a static page, it loads nothing)`);
    return result;
  } finally {
    store.close();
  }
}

/** `audit`: a record's history or a run's rows, from the store alone (no system is contacted). */
async function audit(
  cmd: Command,
  settings: Settings,
  dbPath: string,
  print: (line: string) => void,
  result: MainResult,
): Promise<MainResult> {
  if (!existsSync(dbPath))
    throw Object.assign(new Error(`no saved state at ${dbPath}: run a sync first`), { code: "store" });
  const tenant = settings.service.tenant ?? (settings.mode === "real" ? "default" : "demo");
  const store = createSqliteStore({ path: dbPath });
  try {
    const a = cmd.audit!;
    const query = { tenant, ...(a.key ? { keys: [a.key] } : {}), ...(a.runId ? { runId: a.runId } : {}) };
    if (a.csv) {
      const sink = new Writable({
        write(chunk, _enc, cb) {
          for (const l of String(chunk)
            .replace(/\r?\n$/, "")
            .split(/\r?\n/))
            print(l);
          cb();
        },
      });
      await writeAuditCsv(store, query, sink);
      return result;
    }
    const rows = await store.queryAudit(query);
    result.audit = rows;
    print(a.key ? `audit of ${a.key} (${rows.length} rows):` : `audit of run ${a.runId} (${rows.length} rows):`);
    for (const r of rows) {
      const why = r.error
        ? `[${r.error.code}] ${r.error.message}`
        : r.reasons.map((x) => `[${x.code}] ${x.message}`).join("; ");
      print(
        `  ${new Date(r.at).toISOString()} ${r.runId} ${r.kind} ${r.key} ${r.outcome}` +
          `${r.marketoId ? ` id ${r.marketoId}` : ""}${r.replayOf ? ` (replay of ${r.replayOf})` : ""}${why ? `: ${why}` : ""}`,
      );
    }
    if (rows.length === 0) {
      throw Object.assign(new Error(a.key ? `no audit rows for key ${a.key}` : `no audit rows for run ${a.runId}`), {
        code: "not_found",
      });
    }
    return result;
  } finally {
    store.close();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  main({ argv: process.argv.slice(2), stop: stop.signal, tty: process.stderr }).then((r) => {
    process.exitCode = r.exitCode;
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  });
}
