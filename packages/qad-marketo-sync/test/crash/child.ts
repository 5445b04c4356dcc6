// A sync worker for the crash test: one process that runs the engine against the simulators (which live in the test
// process, so they survive the kill) on a durable store, until a run completes. The test SIGKILLs it at random
// moments and starts it again. Protocol (IPC): → { committed: batch } after each durable batch, { outcome } at the
// end of each run, { calls } with the Marketo calls this process made.
// Settings come in CRASH_CONFIG (JSON): { store: "sqlite" | "postgres", location, qad, marketo, batchSize }.
import { MarketoClient } from "@ml/marketo-client";
import { QadClient } from "@ml/qad-client";
import { createSync, marketoGateway, qadCustomerSource } from "../../src/index.js";
import { createPostgresStore } from "../../src/postgres/index.js";
import { createSqliteStore } from "../../src/sqlite/index.js";

const config = JSON.parse(process.env.CRASH_CONFIG ?? "{}");
const send = (m: unknown) => process.send?.(m);

const store =
  config.store === "postgres"
    ? createPostgresStore({ connectionString: config.location })
    : createSqliteStore({ path: config.location });
const mk = new MarketoClient({ ...config.marketo });
const sync = createSync({
  tenant: "crash",
  source: qadCustomerSource(new QadClient({ ...config.qad })),
  marketo: marketoGateway(mk),
  store,
  batchSize: config.batchSize,
  readBack: false,
  // A killed holder's lease must expire quickly for the restarted worker.
  lease: { ttlMs: 1_500, renewEveryMs: 300 },
});
sync.on("batchCommitted", (e) => send({ committed: e.batch, records: e.records, calls: mk.quota().callsMade }));

for (;;) {
  const outcome = await sync.runOnce();
  if (outcome.status === "alreadyRunning") {
    await new Promise((r) => setTimeout(r, 200));
    continue;
  }
  send({ outcome: { status: outcome.status, summary: outcome.summary }, calls: mk.quota().callsMade });
  if (outcome.status === "completed") break;
}
await (store as { close?: () => Promise<void> | void }).close?.();
process.exit(0);
