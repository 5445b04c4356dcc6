// A fleet worker for the multi-worker test: one process working the tenant pairs' pg-boss jobs, every pair on the
// PostgreSQL store and every Marketo client on the PostgreSQL limiter store (one quota for all processes). The
// simulators live in the test process. Protocol (IPC, worker → test): { ready }, then one message per sync or fleet
// event: { event, tenant, runId?, ... }. SIGTERM stops the fleet gracefully and exits 0.
// Settings come in FLEET_WORKER (JSON): { worker, db, qad: { [tenant]: QadClientOptions }, marketo, batchSize,
// lease, job, pollingIntervalSeconds }.
import { MarketoClient } from "@ml/marketo-client";
import { QadClient } from "@ml/qad-client";
import { createFleet } from "../../src/fleet/index.js";
import {
  createSync,
  defaultExternalCompanyId,
  extendMapping,
  marketoGateway,
  qadCustomerSource,
} from "../../src/index.js";
import { createPostgresLimiterStore, createPostgresStore } from "../../src/postgres/index.js";

const config = JSON.parse(process.env.FLEET_WORKER ?? "{}");
const send = (m: Record<string, unknown>) => process.send?.({ worker: config.worker, at: Date.now(), ...m });

const store = createPostgresStore({ connectionString: config.db, maxConnections: 4 });
const limiterStore = await createPostgresLimiterStore({ connectionString: config.db });

const fleet = createFleet({
  connectionString: config.db,
  bossOptions: { maintenanceIntervalSeconds: 1, max: 4 },
  job: config.job,
  defer: { minSeconds: 1, marginSeconds: 1 },
  pairs: (tenant) => {
    // Three pairs share one Marketo instance: keys and names carry the tenant so the pairs never touch each other's
    // records (leads are left out: the simulated contacts of different tenants share emails).
    const mapping = extendMapping({
      externalCompanyId: (c) => `${tenant}.${defaultExternalCompanyId(c)}`,
      namedAccount: { name: (c) => `[${tenant}] ${c.name}` },
      lead: false,
    });
    const sync = createSync({
      tenant,
      source: qadCustomerSource(new QadClient({ ...config.qad[tenant] })),
      marketo: marketoGateway(new MarketoClient({ ...config.marketo, limiterStore })),
      store,
      mapping,
      batchSize: config.batchSize,
      readBack: false,
      lease: config.lease,
    });
    sync.on("runStarted", (e) => send({ event: "runStarted", tenant, runId: e.runId }));
    sync.on("batchCommitted", (e) => send({ event: "batchCommitted", tenant, runId: e.runId, batch: e.batch }));
    sync.on("runFinished", (s) => send({ event: "runFinished", tenant, runId: s.runId, status: s.status }));
    return sync;
  },
});
fleet.on("jobStarted", (e) => send({ event: "jobStarted", tenant: e.tenant, jobId: e.jobId, trigger: e.trigger }));
fleet.on("jobEnded", (e) => send({ event: "jobEnded", tenant: e.tenant, jobId: e.jobId, verdict: e.verdict }));
fleet.on("error", (e) => send({ event: "error", error: e.error, during: e.during }));

process.on("SIGTERM", async () => {
  await fleet.stop();
  await store.close();
  await limiterStore.close();
  process.exit(0);
});

await fleet.start({
  concurrency: 1,
  tenants: Object.keys(config.qad),
  pollingIntervalSeconds: config.pollingIntervalSeconds,
});
send({ event: "ready" });
