import { MarketoClient } from "@ml/marketo-client";
import { type MarketoSimulator, startMarketoSimulator } from "@ml/marketo-client/testing";
import { QadClient } from "@ml/qad-client";
import { type QadSimulator, startQadSimulator } from "@ml/qad-client/testing";
import {
  type AuditStore,
  createMemoryStore,
  createSync,
  marketoGateway,
  qadCustomerSource,
  type RunOutcome,
  type Sync,
  type SyncOptions,
} from "../../src/index.js";

/** Both simulators over real HTTP on loopback, and a sync between them (no read-back: these tests are about writes). */
export interface SimEnv {
  qadSim: QadSimulator;
  mkSim: MarketoSimulator;
  mk: MarketoClient;
  store: AuditStore;
  sync: Sync;
  /** A second sync on the same simulators and store, with other options. */
  withOptions(extra: Partial<SyncOptions>): Sync;
  /** Marketo write (and delete) calls the simulator received, per endpoint. */
  writes(): Record<string, number>;
  /** Their sum. */
  writeCount(): number;
  close(): Promise<void>;
}

const WRITE = /^POST \/rest\/v1\/(companies|namedaccounts|leads|salespersons|opportunities)(\/delete)?\.json$/;

export async function simEnv(opts: { customers?: number; seed?: number; extra?: Partial<SyncOptions> } = {}) {
  const qadSim = await startQadSimulator({ customers: opts.customers ?? 120, seed: opts.seed ?? 11 });
  const mkSim = await startMarketoSimulator({ timeScale: 0.01, latencyMs: 0 });
  const mk = new MarketoClient({ ...mkSim.clientOptions });
  const store = createMemoryStore();
  const base = () => ({
    source: qadCustomerSource(new QadClient({ ...qadSim.clientOptions })),
    marketo: marketoGateway(mk, { bulkFirstPull: false }),
    store,
    readBack: false as const,
  });
  const writes = () => {
    const out: Record<string, number> = {};
    for (const [k, v] of Object.entries(mkSim.inspect().callsByEndpoint)) if (WRITE.test(k)) out[k] = v;
    return out;
  };
  const env: SimEnv = {
    qadSim,
    mkSim,
    mk,
    store,
    sync: createSync({ ...base(), ...opts.extra }),
    withOptions: (extra) => createSync({ ...base(), ...extra }),
    writes,
    writeCount: () => Object.values(writes()).reduce((a, b) => a + b, 0),
    async close() {
      await qadSim.close();
      await mkSim.close();
    },
  };
  return env;
}

export const summaryOf = (o: RunOutcome) => {
  if (o.status === "alreadyRunning") throw new Error("unexpected alreadyRunning");
  return o.summary;
};

/** The simulator's customers that pass validation, with their sync key. */
export const validCustomers = (sim: QadSimulator) =>
  sim.data
    .customers()
    .filter((c) => c.name.trim() !== "")
    .map((c) => ({ ...c, key: `${c.sharedSetCode}.${c.customerCode}` }));
