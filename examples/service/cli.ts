/**
 * The service's command line: `sync [command] [options]`, parsed strictly by node:util `parseArgs` (an unknown
 * command, flag or argument is a {@link UsageError}, never ignored).
 */
import { type ParseArgsConfig, parseArgs } from "node:util";

/** Thrown for an unknown or malformed command-line argument; the message ends with the usage text. */
export class UsageError extends Error {
  override name = "UsageError";
}

/** The commands. */
export const COMMANDS = ["run", "schedule", "replay", "dry-run", "doctor", "audit", "report"] as const;

/** A command name. */
export type CommandName = (typeof COMMANDS)[number];

/** Usage text. */
export const USAGE = `usage: sync [command] [options]

commands:
  run                 one sync run, then its summary (the default)
  schedule            runs on a cron schedule (--cron or SYNC_CRON, default every 5 minutes) until SIGINT/SIGTERM;
                      the run in flight finishes its batch first
  replay              writes failed/skipped/carried-forward records again:
                        --failed --skipped       audit rows with these outcomes (default: both)
                        --carried pending|dead   carried-forward records in this state instead (repeatable)
                        --run ID  --key K  --kind company|namedAccount|lead|salesPerson   narrow it (repeatable)
  dry-run             plans a run against Marketo without writing anything
  doctor              checks both systems (reachable, auth, paths, fields, quota, CRM sync); non-zero on a failure;
                        --customers N   QAD customers expected, for the call cost of a first sync
  audit               a record's history (--key K) or a run's rows (--run ID), with reasons; --csv prints CSV
  report              writes the HTML report of the recent runs (one static page, no script, no network):
                        --out FILE (default <state folder>/report.html)  --runs N (default 30)

options (every command):
  --config FILE       settings from a JSON file keyed by the variable names (the environment wins)
  --fresh             start over: delete the saved state first (or SYNC_FRESH=1)
  --crm               simulators: the CRM-synced variant (or SIM_CRM=1)
  -h, --help          this text

No QAD or Marketo settings: the bundled simulators. Settings: see examples/README.md.
exit codes: 0 done (completed or degraded), 1 failed, 2 usage or settings error`;

const common = {
  config: { type: "string" },
  fresh: { type: "boolean" },
  crm: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

const perCommand = {
  run: {},
  schedule: { cron: { type: "string" } },
  replay: {
    failed: { type: "boolean" },
    skipped: { type: "boolean" },
    carried: { type: "string", multiple: true },
    run: { type: "string" },
    key: { type: "string", multiple: true },
    kind: { type: "string", multiple: true },
  },
  "dry-run": {},
  doctor: { customers: { type: "string" } },
  audit: { key: { type: "string" }, run: { type: "string" }, csv: { type: "boolean" } },
  report: { out: { type: "string" }, runs: { type: "string" } },
} as const;

const KINDS = ["company", "namedAccount", "lead", "salesPerson"] as const;

/** A parsed command line. */
export interface Command {
  name: CommandName;
  /** `--help` was given. */
  help: boolean;
  config?: string | undefined;
  fresh: boolean;
  crm: boolean;
  /** schedule */
  cron?: string | undefined;
  /** replay */
  replay?: {
    outcomes: ("failed" | "skipped")[];
    carried: ("pending" | "dead")[];
    runId?: string | undefined;
    keys: string[];
    kinds: (typeof KINDS)[number][];
  };
  /** doctor: expected QAD customers (first-sync cost). */
  customers?: number | undefined;
  /** report */
  report?: { out?: string | undefined; runs?: number | undefined };
  /** audit */
  audit?: { key?: string | undefined; runId?: string | undefined; csv: boolean };
}

const usage = (why: string) => new UsageError(`${why}\n\n${USAGE}`);

/**
 * Parses the command line (without the node and script arguments).
 * @throws {@link UsageError}
 */
export function parseCommand(argv: readonly string[]): Command {
  const args = [...argv];
  let name: CommandName = "run";
  const first = args[0];
  if (first !== undefined && !first.startsWith("-")) {
    if (!(COMMANDS as readonly string[]).includes(first)) {
      throw usage(`unknown command '${first}'`);
    }
    name = first as CommandName;
    args.shift();
  }
  let values: Record<string, string | boolean | string[] | undefined>;
  try {
    const options: ParseArgsConfig["options"] = { ...common, ...perCommand[name] };
    values = parseArgs({ args, options, strict: true, allowPositionals: false }).values as typeof values;
  } catch (e) {
    throw usage(`${name}: ${e instanceof Error ? e.message : String(e)}`);
  }
  const cmd: Command = {
    name,
    help: values.help === true,
    config: values.config as string | undefined,
    fresh: values.fresh === true,
    crm: values.crm === true,
  };
  if (name === "schedule") cmd.cron = values.cron as string | undefined;
  if (name === "replay") {
    const carried = (values.carried as string[] | undefined) ?? [];
    const bad = carried.filter((s) => s !== "pending" && s !== "dead");
    if (bad.length) throw usage(`replay: --carried takes pending or dead, not ${bad.join(", ")}`);
    const kinds = (values.kind as string[] | undefined) ?? [];
    const badKinds = kinds.filter((k) => !(KINDS as readonly string[]).includes(k));
    if (badKinds.length) throw usage(`replay: --kind takes ${KINDS.join(", ")}, not ${badKinds.join(", ")}`);
    const outcomes: ("failed" | "skipped")[] = [];
    if (values.failed) outcomes.push("failed");
    if (values.skipped) outcomes.push("skipped");
    if (carried.length && outcomes.length)
      throw usage("replay: --carried replaces --failed/--skipped; give one or the other");
    cmd.replay = {
      outcomes: outcomes.length || carried.length ? outcomes : ["failed", "skipped"],
      carried: carried as ("pending" | "dead")[],
      runId: values.run as string | undefined,
      keys: (values.key as string[] | undefined) ?? [],
      kinds: kinds as (typeof KINDS)[number][],
    };
  }
  if (name === "doctor" && values.customers !== undefined) {
    const n = Number(values.customers);
    if (!Number.isInteger(n) || n < 1)
      throw usage(`doctor: --customers takes a positive whole number, not ${values.customers}`);
    cmd.customers = n;
  }
  if (name === "report") {
    const runs = values.runs === undefined ? undefined : Number(values.runs);
    if (runs !== undefined && (!Number.isInteger(runs) || runs < 1)) {
      throw usage(`report: --runs takes a positive whole number, not ${values.runs}`);
    }
    cmd.report = { out: values.out as string | undefined, runs };
  }
  if (name === "audit") {
    const key = values.key as string | undefined;
    const runId = values.run as string | undefined;
    if (!cmd.help && (key === undefined) === (runId === undefined)) {
      throw usage("audit: give exactly one of --key K (a record's history) or --run ID (a run's rows)");
    }
    cmd.audit = { key, runId, csv: values.csv === true };
  }
  return cmd;
}
