/**
 * QAD → Marketo sync, composed as a user's service would compose it.
 *
 *   pnpm --filter @ml/examples run sync
 *
 * With no credentials in the environment it starts both simulators on 127.0.0.1 (time-scaled, a few hundred
 * customers, sales context seeded on the Marketo side) and runs a full sync to a printed summary. With settings in
 * the environment it talks to the real systems:
 *
 *   MARKETO_MUNCHKIN_ID      e.g. 123-ABC-456
 *   MARKETO_CLIENT_ID        API-only user's client id
 *   MARKETO_CLIENT_SECRET    its secret
 *   QAD_TENANT_URL           e.g. https://acme.qad.com/clouderp
 *   QAD_AUTH                 password | clientCredentials | session   (default password)
 *   QAD_CLIENT_ID            OAuth2 client id (password, clientCredentials)
 *   QAD_CLIENT_SECRET        OAuth2 client secret (clientCredentials; optional for password)
 *   QAD_USERNAME             QAD user (password, session)
 *   QAD_PASSWORD             its password (password, session)
 *   QAD_WORKSPACE_ID         optional x-qad-workspace-id, e.g. 10USA_10USACO
 *   QAD_DOMAIN_CODE          optional domain code
 *   SYNC_TENANT              optional tenant-pair name (default "default")
 *
 * Setting some of them but not all is an error that names what is missing.
 *
 * State is kept in a SQLite file (`@ml/qad-marketo-sync/sqlite`), so a restarted service continues from its
 * checkpoints: `examples/.state/sync.db` with the simulators, `examples/.state/real/sync.db` against real systems, or
 * `$SYNC_STATE_DIR/sync.db`. With the simulators the folder also keeps a snapshot of the simulated Marketo
 * (`simulators.json`) and the QAD simulator's seed and start instant, so a second start talks to the same systems
 * and, with nothing changed in QAD, makes zero Marketo writes. `--fresh` (or `SYNC_FRESH=1`) starts over.
 */
import { pathToFileURL } from "node:url";
import { MarketoClient } from "@ml/marketo-client";
import { type MarketoSimulator, startMarketoSimulator } from "@ml/marketo-client/testing";
import { QadClient, type QadClientOptions } from "@ml/qad-client";
import { type QadSimulator, startQadSimulator } from "@ml/qad-client/testing";
import {
  type AccountContext,
  createSync,
  extendMapping,
  marketoGateway,
  qadCustomerSource,
  type RunSummary,
} from "@ml/qad-marketo-sync";
import { createSqliteStore, type SqliteStore } from "@ml/qad-marketo-sync/sqlite";
import { z } from "zod";
import {
  latestActivityAt,
  type QadSimSetup,
  readSnapshot,
  restoreMarketo,
  type SimSnapshot,
  SnapshotError,
  takeSnapshot,
  writeSnapshot,
} from "./sim-state.js";
import { readStateSettings, removeState, type StateSettings, USAGE, UsageError } from "./state-dir.js";

const MARKETO_KEYS = ["MARKETO_MUNCHKIN_ID", "MARKETO_CLIENT_ID", "MARKETO_CLIENT_SECRET"] as const;
const QAD_KEYS = [
  "QAD_TENANT_URL",
  "QAD_AUTH",
  "QAD_CLIENT_ID",
  "QAD_CLIENT_SECRET",
  "QAD_USERNAME",
  "QAD_PASSWORD",
  "QAD_WORKSPACE_ID",
  "QAD_DOMAIN_CODE",
] as const;

const nonEmpty = z.string().trim().min(1);
const marketoSettings = z.object({
  MARKETO_MUNCHKIN_ID: nonEmpty.regex(/^\d{3}-[A-Z]{3}-\d{3}$/, "expected a Munchkin ID like 123-ABC-456"),
  MARKETO_CLIENT_ID: nonEmpty,
  MARKETO_CLIENT_SECRET: nonEmpty,
});
const qadSettings = z
  .object({
    QAD_TENANT_URL: z.url(),
    QAD_AUTH: z.enum(["password", "clientCredentials", "session"]).default("password"),
    QAD_CLIENT_ID: nonEmpty.optional(),
    QAD_CLIENT_SECRET: nonEmpty.optional(),
    QAD_USERNAME: nonEmpty.optional(),
    QAD_PASSWORD: nonEmpty.optional(),
    QAD_WORKSPACE_ID: nonEmpty.optional(),
    QAD_DOMAIN_CODE: nonEmpty.optional(),
  })
  .superRefine((s, ctx) => {
    const need: Record<string, readonly string[]> = {
      password: ["QAD_CLIENT_ID", "QAD_USERNAME", "QAD_PASSWORD"],
      clientCredentials: ["QAD_CLIENT_ID", "QAD_CLIENT_SECRET"],
      session: ["QAD_USERNAME", "QAD_PASSWORD"],
    };
    for (const k of need[s.QAD_AUTH] ?? []) {
      if (!s[k as keyof typeof s])
        ctx.addIssue({ code: "custom", path: [k], message: `required for QAD_AUTH=${s.QAD_AUTH}` });
    }
  });

/** Where the example gets its systems from. */
export type Settings =
  | { mode: "simulators" }
  | { mode: "real"; marketo: z.infer<typeof marketoSettings>; qad: z.infer<typeof qadSettings>; tenant: string };

/** Thrown for missing or malformed settings; the message lists every problem and never a value. */
export class SettingsError extends Error {
  override name = "SettingsError";
}

/** Reads and validates the settings: none at all means simulators; some but not all is an error. */
export function readSettings(env: Record<string, string | undefined>): Settings {
  const given = [...MARKETO_KEYS, ...QAD_KEYS].filter((k) => (env[k] ?? "").trim() !== "");
  if (given.length === 0) return { mode: "simulators" };
  const problems: string[] = [];
  const pick = (keys: readonly string[]) => Object.fromEntries(keys.map((k) => [k, env[k]?.trim() || undefined]));
  const mk = marketoSettings.safeParse(pick(MARKETO_KEYS));
  const qad = qadSettings.safeParse(pick(QAD_KEYS));
  for (const r of [mk, qad]) {
    if (!r.success) for (const i of r.error.issues) problems.push(`${i.path.join(".")}: ${i.message}`);
  }
  if (!mk.success || !qad.success) {
    throw new SettingsError(
      `Incomplete settings (${given.join(", ")} set). Set all of them for real systems, or none to use the simulators:\n  - ${problems.join("\n  - ")}`,
    );
  }
  return { mode: "real", marketo: mk.data, qad: qad.data, tenant: env.SYNC_TENANT?.trim() || "default" };
}

/** Options of {@link main}. */
export interface MainOptions {
  /** Environment to read settings from. @default process.env */
  env?: Record<string, string | undefined>;
  /** Command-line arguments (`--fresh`; anything else is a {@link UsageError}); the CLI passes its own. @default [] */
  argv?: readonly string[];
  /** Simulated customers. @default 300, or what the saved state was made with */
  customers?: number;
  /** Marketo simulator time scale (0.01: a 20 s window lasts 200 ms). @default 0.01 */
  timeScale?: number;
  /** Where the report goes. @default console.log */
  print?: (line: string) => void;
}

/** The saved state a start found. */
export interface StateReport {
  /** The state folder. */
  dir: string;
  /** `true` when this start continued from saved state, `false` for a first run. */
  continued: boolean;
  /** Why saved state was deleted at start: `--fresh`, or an unusable simulator snapshot. */
  reset?: string;
  /** Runs recorded before this start. */
  runsBefore: number;
  /** The latest of them. */
  lastRun?: { runId: string; status: string; finishedAt?: number | undefined };
}

/** What {@link main} did, for callers and tests. */
export interface MainResult {
  mode: Settings["mode"];
  /** Saved state found at start. */
  state: StateReport;
  first: RunSummary;
  second: RunSummary;
  contexts: AccountContext[];
  /** Simulator inspection (simulator mode only). */
  marketo?: ReturnType<MarketoSimulator["inspect"]>;
}

function qadOptions(s: Extract<Settings, { mode: "real" }>["qad"]): QadClientOptions {
  const auth =
    s.QAD_AUTH === "clientCredentials"
      ? { kind: "clientCredentials" as const, clientId: s.QAD_CLIENT_ID!, clientSecret: s.QAD_CLIENT_SECRET! }
      : s.QAD_AUTH === "session"
        ? { kind: "session" as const, username: s.QAD_USERNAME!, password: s.QAD_PASSWORD! }
        : {
            kind: "password" as const,
            clientId: s.QAD_CLIENT_ID!,
            username: s.QAD_USERNAME!,
            password: s.QAD_PASSWORD!,
            ...(s.QAD_CLIENT_SECRET ? { clientSecret: s.QAD_CLIENT_SECRET } : {}),
          };
  return {
    tenantUrl: s.QAD_TENANT_URL,
    auth,
    ...(s.QAD_WORKSPACE_ID ? { workspaceId: s.QAD_WORKSPACE_ID } : {}),
    ...(s.QAD_DOMAIN_CODE ? { domainCode: s.QAD_DOMAIN_CODE } : {}),
  } as QadClientOptions;
}

/** Accounts that get a sales context (every 7th customer, 40 at most): the same ones on every start. */
function featuredAccounts(qadSim: QadSimulator): string[] {
  const keys = (qadSim.data.customers() as { sharedSetCode?: string; customerCode?: string; name?: string }[])
    .filter((c) => c.sharedSetCode && c.customerCode && c.name)
    .map((c) => `${c.sharedSetCode}.${c.customerCode}`);
  return keys.filter((_, i) => i % 7 === 0).slice(0, 40);
}

/** Seeds what a sales team would already have in Marketo: sales persons and opportunities on some accounts. */
function seedSalesContext(mkSim: MarketoSimulator, featured: string[]): void {
  mkSim.data.salesPersons.seed([
    { externalSalesPersonId: "SP1", email: "maria.lopez@corp.example", firstName: "Maria", lastName: "Lopez" },
    { externalSalesPersonId: "SP2", email: "kenji.sato@corp.example", firstName: "Kenji", lastName: "Sato" },
  ]);
  mkSim.data.opportunities.seed(
    featured.flatMap((key, i) => [
      {
        externalOpportunityId: `OPP-${i}-A`,
        externalCompanyId: key,
        name: "Annual renewal",
        stage: "Negotiation",
        amount: 10_000 + i * 1_000,
        isClosed: false,
        externalSalesPersonId: i % 2 ? "SP2" : "SP1",
      },
      {
        externalOpportunityId: `OPP-${i}-B`,
        externalCompanyId: key,
        name: "Pilot",
        amount: 2_500,
        isClosed: true,
        isWon: true,
      },
    ]),
  );
}

/**
 * Contacts of the featured accounts engage in Marketo (simulated). The activities are dated after every activity
 * already in the log: the simulated clock restarts with each process, and an activity dated before the engine's
 * saved paging position would never be read.
 */
function simulateEngagement(mkSim: MarketoSimulator, featured: string[]): number {
  const leads = mkSim.data.leads.all().filter((l) => featured.includes(String(l.externalCompanyId)));
  const after = latestActivityAt(mkSim.data.activities.all());
  const at = new Date(Math.max(mkSim.now(), after === undefined ? 0 : after + 1_000)).toISOString();
  return mkSim.data.activities.seed(
    leads.flatMap((l, i) =>
      Array.from({ length: 1 + (i % 3) }, (_, j) => ({
        leadId: Number(l.id),
        activityTypeId: [1, 2, 11][j % 3]!,
        activityDate: at,
      })),
    ),
  ).length;
}

const line = (summary: RunSummary) => {
  const parts = (["company", "namedAccount", "lead", "customer"] as const).map((kind) => {
    const o = summary.outcomes[kind];
    const shown = Object.entries(o)
      .filter(([, n]) => n > 0)
      .map(([k, n]) => `${k} ${n}`)
      .join(", ");
    return `  ${kind.padEnd(13)} ${shown || "-"}`;
  });
  return [
    `run ${summary.runId}: ${summary.status} in ${summary.durationMs} ms, ${summary.sourceItems} source rows`,
    ...parts,
    `  Marketo calls ${summary.marketoCalls} (writes ${summary.marketoWriteCalls}), quota left ${summary.quotaLeft}` +
      (summary.readOnly.length ? `, read-only: ${summary.readOnly.map((r) => r.object).join(", ")}` : ""),
    ...(summary.droppedFields.length
      ? [`  not sent (this instance has no such field): ${summary.droppedFields.join(", ")}`]
      : []),
  ];
};

/** Opens the store and decides whether this start continues; in simulator mode, loads the simulator snapshot. */
async function openState(
  state: StateSettings,
  tenant: string,
  mode: Settings["mode"],
  print: (line: string) => void,
): Promise<{ store: SqliteStore; snapshot?: SimSnapshot | undefined; report: StateReport }> {
  let reset: string | undefined;
  if (state.fresh) {
    const gone = removeState(state.dir);
    reset = "--fresh";
    print(`state: --fresh: ${gone.length ? `deleted ${gone.join(", ")}` : "no saved state"} in ${state.dir}`);
  }
  let store = createSqliteStore({ path: state.dbPath });
  let runs = await store.listRuns(tenant);
  let snapshot: SimSnapshot | undefined;
  if (mode === "simulators") {
    // The store and the simulated Marketo must be from the same moment: a run that ended without saving the
    // snapshot (a killed process) left ids in the store that the simulated Marketo never kept.
    let problem: string | undefined;
    try {
      snapshot = readSnapshot(state.snapshotPath);
    } catch (e) {
      if (!(e instanceof SnapshotError)) throw e;
      problem = e.message;
    }
    if (!problem && snapshot?.afterRun !== runs[0]?.runId) {
      problem = snapshot
        ? `the simulator snapshot was saved after run ${snapshot.afterRun ?? "-"}, the store's last run is ${runs[0]?.runId ?? "-"}`
        : `the store has ${runs.length} runs but there is no simulator snapshot`;
    }
    if (problem) {
      store.close();
      removeState(state.dir);
      reset = problem;
      print(`state: saved state in ${state.dir} cannot be continued (${problem}): starting over`);
      snapshot = undefined;
      store = createSqliteStore({ path: state.dbPath });
      runs = [];
    }
  }
  const last = runs[0];
  const report: StateReport = {
    dir: state.dir,
    continued: runs.length > 0,
    runsBefore: runs.length,
    ...(reset !== undefined ? { reset } : {}),
    ...(last ? { lastRun: { runId: last.runId, status: last.status, finishedAt: last.finishedAt } } : {}),
  };
  if (last) {
    const when = last.finishedAt !== undefined ? ` at ${new Date(last.finishedAt).toISOString()}` : "";
    print(
      `state: continuing from ${state.dbPath}: ${runs.length} runs so far, last run ${last.runId} ${last.status}${when}`,
    );
  } else {
    print(`state: first run, keeping state in ${state.dbPath}`);
  }
  return { store, snapshot, report };
}

/**
 * Runs the example: a sync (a full one on a first run; one that finds nothing changed when continuing from saved
 * state), then simulated engagement and a second run that finds nothing changed and folds the new activity in.
 */
export async function main(options: MainOptions = {}): Promise<MainResult> {
  const print = options.print ?? ((s: string) => console.log(s));
  const env = options.env ?? process.env;
  const settings = readSettings(env);
  const stateSettings = readStateSettings(options.argv ?? [], env, settings.mode);
  const tenant = settings.mode === "real" ? settings.tenant : "demo";
  let qadSim: QadSimulator | undefined;
  let mkSim: MarketoSimulator | undefined;
  let qadSetup: QadSimSetup | undefined;
  /** Set once the simulated Marketo holds its full data (restored or seeded): only then is a snapshot written. */
  let mkReady = false;
  const { store, snapshot, report } = await openState(stateSettings, tenant, settings.mode, print);
  const saveSnapshot = async () => {
    if (!mkSim || !qadSetup || !mkReady) return;
    const [latest] = await store.listRuns(tenant, { limit: 1 });
    writeSnapshot(stateSettings.snapshotPath, takeSnapshot(mkSim, qadSetup, latest?.runId));
  };
  try {
    let qad: QadClient;
    let mk: MarketoClient;
    let featured: string[] = [];
    if (settings.mode === "simulators") {
      if (snapshot && options.customers !== undefined && options.customers !== snapshot.qad.customers) {
        throw new SettingsError(
          `the saved state in ${stateSettings.dir} was made with ${snapshot.qad.customers} simulated customers, not ${options.customers}: start with --fresh`,
        );
      }
      // The QAD simulator stamps its generated customers relative to its clock's start: starting it at the same
      // instant with the same seed on every start gives the same customers with the same stamps, so the source
      // checkpoint saved by the last run finds nothing changed.
      const setup: QadSimSetup = snapshot?.qad ?? {
        seed: 42,
        customers: options.customers ?? 300,
        startAt: Math.floor(Date.now() / 1000) * 1000,
      };
      qadSetup = setup;
      let startedAt: number | undefined;
      qadSim = await startQadSimulator({
        customers: setup.customers,
        seed: setup.seed,
        clock: { now: () => setup.startAt + (startedAt === undefined ? 0 : Date.now() - startedAt) },
      });
      startedAt = Date.now();
      mkSim = await startMarketoSimulator({ timeScale: options.timeScale ?? 0.01, seed: 42, latencyMs: 1 });
      featured = featuredAccounts(qadSim);
      if (snapshot) restoreMarketo(mkSim, snapshot);
      else seedSalesContext(mkSim, featured);
      mkReady = true;
      qad = new QadClient({ ...qadSim.clientOptions });
      mk = new MarketoClient({ ...mkSim.clientOptions });
      print(`simulators: QAD ${qadSim.tenantUrl}, Marketo ${mkSim.url} (time scale ${mkSim.timeScale})`);
      const r = mkSim.inspect().records;
      print(
        `  QAD: ${setup.customers} customers (seed ${setup.seed}) as of ${new Date(setup.startAt).toISOString()}; ` +
          `Marketo ${snapshot ? "restored" : "seeded"}: ${r.companies} companies, ${r.namedAccounts} named accounts, ` +
          `${r.leads} leads, ${r.opportunities} opportunities, ${r.activities} activities`,
      );
    } else {
      qad = new QadClient(qadOptions(settings.qad));
      mk = new MarketoClient({
        munchkinId: settings.marketo.MARKETO_MUNCHKIN_ID,
        clientId: settings.marketo.MARKETO_CLIENT_ID,
        clientSecret: settings.marketo.MARKETO_CLIENT_SECRET,
      });
      print(`real systems: QAD ${settings.qad.QAD_TENANT_URL}, Marketo ${settings.marketo.MARKETO_MUNCHKIN_ID}`);
    }

    const sync = createSync({
      tenant,
      source: qadCustomerSource(qad),
      marketo: marketoGateway(
        mk,
        settings.mode === "simulators" ? { bulkPoll: { initialDelayMs: 20, maxDelayMs: 100 } } : {},
      ),
      store,
      // The defaults cover name, address, phone, website, industry, currency, region and the active flag; a user's
      // own rules go here. This one tags every company with its QAD credit terms.
      mapping: extendMapping({ company: { qadCreditTerms: "creditTermsCode" } }),
    });
    sync.on("capability", (c) => {
      if (!c.writable) print(`  ${c.object} are read-only here (${c.reason ?? c.source}): reading them instead`);
    });
    const runOnce = async (): Promise<RunSummary> => {
      const out = await sync.runOnce();
      if (out.status === "alreadyRunning") {
        throw new Error(`another runner holds the lease: ${out.holder} (a killed run's lease expires within a minute)`);
      }
      for (const l of line(out.summary)) print(l);
      await saveSnapshot();
      return out.summary;
    };

    const first = await runOnce();
    // Contacts engage in Marketo between runs (simulated): the next run folds their activity into the accounts.
    if (mkSim) print(`  (simulated: ${simulateEngagement(mkSim, featured)} new activities in Marketo)`);
    const second = await runOnce();

    const contexts: AccountContext[] = [];
    for (const key of featured.slice(0, 3)) {
      const ctx = await sync.accountContext(key);
      if (!ctx) continue;
      contexts.push(ctx);
      const owner = ctx.owner
        ? `${ctx.owner.firstName ?? ""} ${ctx.owner.lastName ?? ""}`.trim() || ctx.owner.externalSalesPersonId
        : "-";
      const counts = Object.entries(ctx.activityCounts)
        .map(([t, n]) => `${t} ${n}`)
        .join(", ");
      print(
        `  account ${key}: ${ctx.openOpportunities.count} open opportunities worth ${ctx.openOpportunities.amount}, ` +
          `owner ${owner}, last engagement ${ctx.lastEngagementAt ?? "-"}${counts ? ` (${counts})` : ""}`,
      );
    }
    print(
      `state saved in ${stateSettings.dir}: the next start continues from here (--fresh or SYNC_FRESH=1 starts over)`,
    );
    const result: MainResult = {
      mode: settings.mode,
      state: report,
      first,
      second,
      contexts,
    };
    if (mkSim) result.marketo = mkSim.inspect();
    return result;
  } finally {
    // A run that failed may still have committed batches: keep the simulated Marketo in step with the store.
    await saveSnapshot().catch((e: unknown) => print(`could not save the simulator snapshot: ${String(e)}`));
    store.close();
    await qadSim?.close();
    await mkSim?.close();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const argv = process.argv.slice(2);
  if (argv.includes("--help") || argv.includes("-h")) {
    console.log(USAGE);
  } else {
    main({ argv }).catch((e: unknown) => {
      console.error(e instanceof Error ? `${e.name}: ${e.message}` : e);
      process.exit(e instanceof UsageError ? 2 : 1);
    });
  }
}
