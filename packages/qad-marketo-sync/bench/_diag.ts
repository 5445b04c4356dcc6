import { fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import { QadClient } from "@ml/qad-client";
import {
  createMemoryStore,
  createSync,
  extendMapping,
  type GatewayRecordResult,
  type MarketoGateway,
  qadCustomerSource,
} from "../src/index.js";

const child = fork(fileURLToPath(new URL("./sim-host.ts", import.meta.url)), [], { execArgv: ["--import", "tsx"] });
const opts: any = await new Promise((r) => {
  child.once("message", r);
  child.send({ cmd: "start", customers: 30000, timeScale: 0.1, seed: 7, marketo: "fast" });
});
let id = 1;
const ok = async (input: unknown[]): Promise<GatewayRecordResult[]> =>
  input.map(() => ({ status: "created", id: id++, reasons: [] }));
const gateway: MarketoGateway = {
  capability: async (object) => ({ object, writable: true, source: "probe" }),
  syncCompanies: ok,
  syncNamedAccounts: ok,
  syncLeads: ok,
  syncSalesPersons: ok,
  getCompanies: async () => [],
  getOpportunities: async () => [],
  getSalesPersons: async () => [],
  activities: () => ({ token: () => undefined, async *[Symbol.asyncIterator]() {} }),
  usage: () => ({ callsMade: 0, dailyUsed: 0, dailyLimit: 50000 }),
};
const sync = createSync({
  source: qadCustomerSource(new QadClient({ ...opts.qad }), { pageSize: 5000 }),
  marketo: gateway,
  store: createMemoryStore(),
  readBack: false,
  mapping: extendMapping({ lead: false }),
});
const t0 = performance.now();
await sync.runOnce();
console.log("engine+qad", Math.round(performance.now() - t0));
child.send({ cmd: "close" });
