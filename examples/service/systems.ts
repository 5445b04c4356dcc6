/**
 * The two systems the service talks to and its state: the bundled simulators (with a realistic data set: sales
 * context on some accounts, a few bad QAD rows, a CRM-synced variant) or the real QAD and Marketo, and the SQLite
 * store in the state folder. In simulator mode the folder also keeps the simulators' snapshot, so the next start
 * talks to the same systems.
 */
import { MarketoClient, type MarketoClientOptions } from "@ml/marketo-client";
import { type MarketoSimulator, type SimFieldSpec, startMarketoSimulator } from "@ml/marketo-client/testing";
import { QadClient, type QadClientOptions } from "@ml/qad-client";
import { type QadSimulator, startQadSimulator } from "@ml/qad-client/testing";
import { createSqliteStore, type SqliteStore } from "@ml/qad-marketo-sync/sqlite";
import {
  latestActivityAt,
  type QadSimSetup,
  readSnapshot,
  restoreMarketo,
  type SimSnapshot,
  SnapshotError,
  takeSnapshot,
  writeSnapshot,
} from "../sim-state.js";
import { removeState, type StateSettings } from "../state-dir.js";
import { type QadSettings, type Settings, SettingsError } from "./settings.js";

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

/** Options of {@link openSystems}. */
export interface SystemsOptions {
  /** Simulated customers. @default 300, or what the saved state was made with */
  customers?: number | undefined;
  /** Marketo simulator time scale (0.01: a 20 s quota window lasts 200 ms). @default 0.01 */
  timeScale?: number | undefined;
  /** Simulators: the CRM-synced variant (companies and sales persons owned by a CRM sync, read-only). */
  crm: boolean;
  /** Where lines go. */
  print: (line: string) => void;
}

/** Open systems and state. */
export interface Systems {
  mode: Settings["mode"];
  tenant: string;
  qad: QadClient;
  marketo: MarketoClient;
  store: SqliteStore;
  state: StateReport;
  /** Accounts shown in the summary (simulators: the ones with sales context). */
  featured: string[];
  /** Source rows a full read would yield (simulators), for the progress bar. */
  expected?: number | undefined;
  qadSim?: QadSimulator | undefined;
  mkSim?: MarketoSimulator | undefined;
  /** Simulators: contacts of the featured accounts engage (activity for the read-back to fold in). */
  simulateEngagement(): number;
  /** Simulators: writes the snapshot (after each run). */
  saveSnapshot(): Promise<void>;
  /** Saves the snapshot, closes the store and the simulators. */
  close(): Promise<void>;
}

/** Customers made invalid in the simulated QAD: a missing name, wrong types. The same ones on every start. */
const BAD_ROWS: { index: number; kind: "missingName" | "wrongTypes" }[] = [
  { index: 3, kind: "missingName" },
  { index: 17, kind: "wrongTypes" },
  { index: 41, kind: "missingName" },
];

/**
 * The custom company fields the simulated Marketo instance has, as its admin would have created them: the one the
 * example's mapping adds (`qadCreditTerms`, see `MAPPING` in ../sync.ts) and the defaults the package documents as
 * optional custom fields (`qadCurrencyCode`, `qadRegion`, `qadActive`). So `doctor` against the simulators passes its
 * field checks, and every field the mapping writes reaches the simulated companies.
 */
export const SIM_CUSTOM_FIELDS: { companies: SimFieldSpec[] } = {
  companies: [
    { name: "qadCreditTerms" },
    { name: "qadCurrencyCode" },
    { name: "qadRegion" },
    { name: "qadActive", dataType: "boolean" },
  ],
};

function qadOptions(s: QadSettings): QadClientOptions {
  const auth =
    s.auth === "clientCredentials"
      ? { kind: "clientCredentials" as const, clientId: s.clientId!, clientSecret: s.clientSecret! }
      : s.auth === "session"
        ? { kind: "session" as const, username: s.username!, password: s.password! }
        : {
            kind: "password" as const,
            clientId: s.clientId!,
            username: s.username!,
            password: s.password!,
            ...(s.clientSecret ? { clientSecret: s.clientSecret } : {}),
          };
  return {
    tenantUrl: s.tenantUrl,
    auth,
    ...(s.allowHttp ? { allowHttp: true } : {}),
    ...(s.allowLoopback ? { network: { allowLoopback: true } } : {}),
    ...(s.workspaceId ? { workspaceId: s.workspaceId } : {}),
    ...(s.domainCode ? { domainCode: s.domainCode } : {}),
  } as QadClientOptions;
}

function marketoOptions(s: Extract<Settings, { mode: "real" }>["marketo"]): MarketoClientOptions {
  const base = s.baseUrl?.replace(/\/+$/, "");
  return {
    ...(s.munchkinId ? { munchkinId: s.munchkinId } : {}),
    ...(base ? { baseUrls: { rest: `${base}/rest`, identity: `${base}/identity`, bulk: `${base}/bulk` } } : {}),
    clientId: s.clientId,
    clientSecret: s.clientSecret,
    ...(s.allowHttp ? { allowHttp: true } : {}),
    ...(s.allowLoopback ? { network: { allowLoopback: true } } : {}),
  };
}

function customerKeys(qadSim: QadSimulator): { key: string; code: string }[] {
  return qadSim.data.customers().map((c) => ({ key: `${c.sharedSetCode}.${c.customerCode}`, code: c.customerCode }));
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

/** Opens the store, deciding whether this start continues; in simulator mode, checks the snapshot agrees. */
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

/** Starts (or connects to) both systems and opens the state. */
export async function openSystems(settings: Settings, state: StateSettings, options: SystemsOptions): Promise<Systems> {
  const { print } = options;
  const tenant = settings.service.tenant ?? (settings.mode === "real" ? "default" : "demo");
  const { store, snapshot, report } = await openState(state, tenant, settings.mode, print);
  let qadSim: QadSimulator | undefined;
  let mkSim: MarketoSimulator | undefined;
  let qadSetup: QadSimSetup | undefined;
  let featured: string[] = [];
  let expected: number | undefined;
  /** Set once the simulated Marketo holds its full data (restored or seeded): only then is a snapshot written. */
  let mkReady = false;
  const saveSnapshot = async () => {
    if (!mkSim || !qadSetup || !mkReady) return;
    const [latest] = await store.listRuns(tenant, { limit: 1 });
    writeSnapshot(state.snapshotPath, takeSnapshot(mkSim, qadSetup, latest?.runId));
  };
  const close = async () => {
    try {
      await saveSnapshot();
    } catch (e) {
      print(`could not save the simulator snapshot: ${String(e)}`);
    }
    store.close();
    await qadSim?.close();
    await mkSim?.close();
  };
  try {
    let qad: QadClient;
    let marketo: MarketoClient;
    if (settings.mode === "simulators") {
      const customers = options.customers ?? settings.service.customers;
      if (snapshot && customers !== undefined && customers !== snapshot.qad.customers) {
        throw new SettingsError([
          `SIM_CUSTOMERS: the saved state in ${state.dir} was made with ${snapshot.qad.customers} simulated customers, not ${customers}: start with --fresh`,
        ]);
      }
      // The QAD simulator stamps its generated customers relative to its clock's start: starting it at the same
      // instant with the same seed on every start gives the same customers with the same stamps, so the source
      // checkpoint saved by the last run finds nothing changed.
      const setup: QadSimSetup = snapshot?.qad ?? {
        seed: 42,
        customers: customers ?? 300,
        startAt: Math.floor(Date.now() / 1000) * 1000,
      };
      qadSetup = setup;
      expected = setup.customers;
      let startedAt: number | undefined;
      qadSim = await startQadSimulator({
        customers: setup.customers,
        seed: setup.seed,
        clock: { now: () => setup.startAt + (startedAt === undefined ? 0 : Date.now() - startedAt) },
      });
      // A few bad rows, as a real ERP has: the sync rejects them into the audit trail and carries on.
      const keys = customerKeys(qadSim);
      for (const b of BAD_ROWS) {
        const c = keys[b.index];
        if (c) qadSim.data.corrupt(c.code, b.kind);
      }
      startedAt = Date.now();
      mkSim = await startMarketoSimulator({
        timeScale: options.timeScale ?? 0.01,
        seed: 42,
        latencyMs: 1,
        crmSync: options.crm,
        customFields: SIM_CUSTOM_FIELDS,
      });
      const bad = new Set(BAD_ROWS.map((b) => keys[b.index]?.key));
      featured = keys
        .map((k) => k.key)
        .filter((k) => !bad.has(k))
        .filter((_, i) => i % 7 === 0)
        .slice(0, 40);
      if (snapshot) restoreMarketo(mkSim, snapshot);
      else seedSalesContext(mkSim, featured);
      mkReady = true;
      qad = new QadClient({ ...qadSim.clientOptions });
      marketo = new MarketoClient({ ...mkSim.clientOptions });
      print(
        `simulators: QAD ${qadSim.tenantUrl}, Marketo ${mkSim.url} (time scale ${mkSim.timeScale}${options.crm ? ", CRM-synced: companies and sales persons read-only" : ""})`,
      );
      const r = mkSim.inspect().records;
      print(
        `  QAD: ${setup.customers} customers (seed ${setup.seed}, ${BAD_ROWS.length} of them invalid) as of ${new Date(setup.startAt).toISOString()}; ` +
          `Marketo ${snapshot ? "restored" : "seeded"}: ${r.companies} companies, ${r.namedAccounts} named accounts, ` +
          `${r.leads} leads, ${r.opportunities} opportunities, ${r.activities} activities`,
      );
    } else {
      qad = new QadClient(qadOptions(settings.qad));
      marketo = new MarketoClient(marketoOptions(settings.marketo));
      print(
        `real systems: QAD ${settings.qad.tenantUrl}, Marketo ${settings.marketo.munchkinId ?? settings.marketo.baseUrl}`,
      );
    }
    const sim = mkSim;
    return {
      mode: settings.mode,
      tenant,
      qad,
      marketo,
      store,
      state: report,
      featured,
      expected,
      qadSim,
      mkSim,
      simulateEngagement: () => (sim ? simulateEngagement(sim, featured) : 0),
      saveSnapshot,
      close,
    };
  } catch (e) {
    await close();
    throw e;
  }
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
