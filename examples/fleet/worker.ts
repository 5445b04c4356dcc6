/**
 * A fleet worker: works the tenant pairs' pg-boss jobs, one pair at a time (`FLEET_CONCURRENCY`), every pair on the
 * PostgreSQL store and every Marketo client on the PostgreSQL limiter store, so all workers on all machines share
 * one quota per Marketo instance. SIGTERM stops it gracefully (the batch in flight is recorded; another worker
 * resumes the pair). Started by `launch.ts`; reports to it over IPC when it has one.
 */
import { MarketoClient } from "@ml/marketo-client";
import { QadClient } from "@ml/qad-client";
import {
  createSync,
  defaultExternalCompanyId,
  extendMapping,
  marketoGateway,
  qadCustomerSource,
} from "@ml/qad-marketo-sync";
import { createFleet } from "@ml/qad-marketo-sync/fleet";
import { createPostgresLimiterStore, createPostgresStore } from "@ml/qad-marketo-sync/postgres";
import { JOB, readConfig } from "./pairs.js";

const config = readConfig();
const name = process.env.FLEET_WORKER_NAME ?? `pid ${process.pid}`;
const report = (m: Record<string, unknown>) =>
  process.send ? process.send({ worker: name, ...m }) : console.log(name, m);

const store = createPostgresStore({ connectionString: config.databaseUrl, schema: config.schema, maxConnections: 4 });
const limiterStore = await createPostgresLimiterStore({ connectionString: config.databaseUrl, schema: config.schema });

const fleet = createFleet({
  connectionString: config.databaseUrl,
  bossOptions: { schema: `${config.schema}_boss`, maintenanceIntervalSeconds: 2, max: 4 },
  job: JOB,
  defer: { minSeconds: 1 },
  pairs: (tenant) => {
    const qad = config.qad[tenant];
    if (!qad) throw new Error(`no settings for tenant pair ${tenant}`);
    // The example's pairs share one Marketo instance, so keys and account names carry the tenant.
    const mapping = extendMapping({
      externalCompanyId: (c) => `${tenant}.${defaultExternalCompanyId(c)}`,
      namedAccount: { name: (c) => `[${tenant}] ${c.name}` },
      lead: false,
    });
    const sync = createSync({
      tenant,
      source: qadCustomerSource(new QadClient(qad)),
      marketo: marketoGateway(new MarketoClient({ ...config.marketo, limiterStore })),
      store,
      mapping,
      batchSize: config.batchSize,
      readBack: false,
      lease: { ttlMs: 3_000 },
    });
    sync.on("batchCommitted", (e) => report({ event: "batch", tenant, batch: e.batch }));
    sync.on("runFinished", (s) =>
      report({ event: "run", tenant, status: s.status, companies: s.outcomes.company, calls: s.marketoCalls }),
    );
    return sync;
  },
});
fleet.on("jobEnded", (e) => report({ event: "job", tenant: e.tenant, action: e.verdict.action }));

process.on("SIGTERM", async () => {
  await fleet.stop();
  await store.close();
  await limiterStore.close();
  process.exit(0);
});

await fleet.start({ concurrency: Number(process.env.FLEET_CONCURRENCY ?? 1), pollingIntervalSeconds: 0.5 });
report({ event: "ready" });
