/**
 * An engine over an array source, the in-memory fake gateway and a memory store (no read-back): the setup of the
 * engine-level tests that need no HTTP.
 */
import { arraySource, createMemoryStore, createSync, type SyncOptions } from "../../src/index.js";
import { FakeGateway } from "./fake-gateway.js";

/** A sync of `records` against a fresh fake gateway and memory store. */
export const setup = (records: unknown[], opts: Partial<SyncOptions> = {}) => {
  const marketo = new FakeGateway();
  const store = createMemoryStore();
  const sync = createSync({ source: arraySource(records), marketo, store, readBack: false, ...opts });
  return { marketo, store, sync };
};

/** Runs once and answers the outcome with the run's audit rows; an `alreadyRunning` answer fails the test. */
export const run = async (s: ReturnType<typeof setup>) => {
  const o = await s.sync.runOnce();
  if (o.status === "alreadyRunning") throw new Error("unexpected alreadyRunning");
  const rows = await s.store.queryAudit({ tenant: "default", runId: o.summary.runId });
  return { ...o, rows };
};
