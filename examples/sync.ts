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
 * Setting some of them but not all is an error that names what is missing. This example keeps its audit trail in
 * memory (the SQLite store arrives with the next release): against real systems each start is a first run.
 */
import { pathToFileURL } from "node:url";
import { MarketoClient } from "@ml/marketo-client";
import { type MarketoSimulator, startMarketoSimulator } from "@ml/marketo-client/testing";
import { QadClient, type QadClientOptions } from "@ml/qad-client";
import { type QadSimulator, startQadSimulator } from "@ml/qad-client/testing";
import {
  type AccountContext,
  createMemoryStore,
  createSync,
  extendMapping,
  marketoGateway,
  qadCustomerSource,
  type RunSummary,
} from "@ml/qad-marketo-sync";
import { z } from "zod";

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
  /** Simulated customers. @default 300 */
  customers?: number;
  /** Marketo simulator time scale (0.01: a 20 s window lasts 200 ms). @default 0.01 */
  timeScale?: number;
  /** Where the report goes. @default console.log */
  print?: (line: string) => void;
}

/** What {@link main} did, for callers and tests. */
export interface MainResult {
  mode: Settings["mode"];
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

/** Seeds what a sales team would already have in Marketo: sales persons and opportunities on some accounts. */
function seedSalesContext(mkSim: MarketoSimulator, qadSim: QadSimulator): string[] {
  const keys = (qadSim.data.customers() as { sharedSetCode?: string; customerCode?: string; name?: string }[])
    .filter((c) => c.sharedSetCode && c.customerCode && c.name)
    .map((c) => `${c.sharedSetCode}.${c.customerCode}`);
  const featured = keys.filter((_, i) => i % 7 === 0).slice(0, 40);
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
  return featured;
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

/** Runs the example: a full sync, then a second run that finds nothing changed and folds new activity in. */
export async function main(options: MainOptions = {}): Promise<MainResult> {
  const print = options.print ?? ((s: string) => console.log(s));
  const settings = readSettings(options.env ?? process.env);
  let qadSim: QadSimulator | undefined;
  let mkSim: MarketoSimulator | undefined;
  try {
    let qad: QadClient;
    let mk: MarketoClient;
    let featured: string[] = [];
    if (settings.mode === "simulators") {
      qadSim = await startQadSimulator({ customers: options.customers ?? 300, seed: 42 });
      mkSim = await startMarketoSimulator({ timeScale: options.timeScale ?? 0.01, seed: 42, latencyMs: 1 });
      featured = seedSalesContext(mkSim, qadSim);
      qad = new QadClient({ ...qadSim.clientOptions });
      mk = new MarketoClient({ ...mkSim.clientOptions });
      print(`simulators: QAD ${qadSim.tenantUrl}, Marketo ${mkSim.url} (time scale ${mkSim.timeScale})`);
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
      tenant: settings.mode === "real" ? settings.tenant : "demo",
      source: qadCustomerSource(qad),
      marketo: marketoGateway(
        mk,
        settings.mode === "simulators" ? { bulkPoll: { initialDelayMs: 20, maxDelayMs: 100 } } : {},
      ),
      store: createMemoryStore(),
      // The defaults cover name, address, phone, website, industry, currency, region and the active flag; a user's
      // own rules go here. This one tags every company with its QAD credit terms.
      mapping: extendMapping({ company: { qadCreditTerms: "creditTermsCode" } }),
    });
    sync.on("capability", (c) => {
      if (!c.writable) print(`  ${c.object} are read-only here (${c.reason ?? c.source}): reading them instead`);
    });

    const first = await sync.runOnce();
    if (first.status === "alreadyRunning") throw new Error(`another runner holds the lease: ${first.holder}`);
    for (const l of line(first.summary)) print(l);

    // Contacts engage in Marketo between runs (simulated): the next run folds their activity into the accounts.
    if (mkSim) {
      const leads = mkSim.data.leads.all().filter((l) => featured.includes(String(l.externalCompanyId)));
      mkSim.data.activities.seed(
        leads.flatMap((l, i) =>
          Array.from({ length: 1 + (i % 3) }, (_, j) => ({ leadId: Number(l.id), activityTypeId: [1, 2, 11][j % 3]! })),
        ),
      );
    }
    const second = await sync.runOnce();
    if (second.status === "alreadyRunning") throw new Error(`another runner holds the lease: ${second.holder}`);
    for (const l of line(second.summary)) print(l);

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
    const result: MainResult = { mode: settings.mode, first: first.summary, second: second.summary, contexts };
    if (mkSim) result.marketo = mkSim.inspect();
    return result;
  } finally {
    await qadSim?.close();
    await mkSim?.close();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  main().catch((e: unknown) => {
    console.error(e instanceof Error ? `${e.name}: ${e.message}` : e);
    process.exit(1);
  });
}
