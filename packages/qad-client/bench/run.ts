/**
 * Read benchmark of @ml/qad-client against the loopback simulator:
 *  - full read of N customers (with contacts joined per page) → records/s
 *  - incremental poll after editing 1% of them → records/s and wall time
 *  - CPU time per record of parse + map + validate, measured with process.cpuUsage over captured page bodies
 *  - the same over QXtend SOAP (separate simulator of QAD_BENCH_QXTEND_CUSTOMERS customers): full read → records/s,
 *    a poll with no edits after it (must emit nothing), and parse CPU per record (XML parse + map + validate)
 * Saves bench/results/read.json with the machine facts.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import { QadClient } from "../src/index.js";
import { validateRow } from "../src/internal/validate.js";
import {
  CONTACT_FIELD_DEFAULTS,
  CUSTOMER_FIELD_DEFAULTS,
  flattenRow,
  mapCustomerRow,
} from "../src/qxtend/customer-mapping.js";
import { resolveQxtendOptions } from "../src/qxtend/options.js";
import { parseQueryResponse } from "../src/qxtend/response.js";
import { undot } from "../src/rest/browse/browse.js";
import { DEFAULT_REST_ENTITIES } from "../src/rest/entities.js";
import { mapRestRow } from "../src/rest/mapping.js";
import { startQadSimulator } from "../src/testing/index.js";

const N = Number(process.env.QAD_BENCH_CUSTOMERS ?? 100_000);
const PAGE = Number(process.env.QAD_BENCH_PAGE_SIZE ?? 1000);
const N_QX = Number(process.env.QAD_BENCH_QXTEND_CUSTOMERS ?? 20_000);
/** The simulator's QXtend profile caps MaxRows at 1000, as a real profile may. */
const PAGE_QX = Math.min(PAGE, 1000);

function cpuMs(u: NodeJS.CpuUsage): number {
  return (u.user + u.system) / 1000;
}

async function main(): Promise<void> {
  let t = Date.parse("2026-03-02T09:00:00Z");
  const clock = { now: () => t };
  const genStart = performance.now();
  const sim = await startQadSimulator({ customers: N, seed: 42, clock, maxPageSize: 10_000 });
  const genMs = performance.now() - genStart;

  // Capture browse bodies during the full read for the parse-only pass (copying text costs no parse work).
  const bodies: string[] = [];
  const capture = async (input: string | URL | Request, init?: RequestInit) => {
    const res = await fetch(input, init);
    const url = input instanceof Request ? input.url : String(input);
    if (url.includes("api/qracore/browses?") && url.includes("customerV2s")) {
      const text = await res.clone().text();
      bodies.push(text);
    }
    return res;
  };

  const qad = new QadClient({ ...sim.clientOptions, pageSize: PAGE, fetch: capture });
  const fullStart = performance.now();
  const fullCpu = process.cpuUsage();
  let full = 0;
  let contacts = 0;
  for await (const c of qad.customers.list()) {
    full++;
    contacts += c.contacts.length;
  }
  const fullMs = performance.now() - fullStart;
  const fullCpuMs = cpuMs(process.cpuUsage(fullCpu));

  // Incremental: first poll establishes the checkpoint (a full read), then 1% of rows change.
  const qad2 = new QadClient({ ...sim.clientOptions, pageSize: PAGE });
  const first = qad2.customers.changes();
  for await (const _ of first) {
    // drain
  }
  t += 60_000;
  const edits = Math.max(1, Math.floor(N / 100));
  for (let i = 0; i < edits; i++) {
    const code = `C${String(1 + ((i * 97) % N)).padStart(6, "0")}`;
    sim.data.update(code, { name: `Edited ${i}` });
    if (i % 10 === 0) t += 1000;
  }
  const pollStart = performance.now();
  const poll = qad2.customers.changes(first.checkpoint());
  let changed = 0;
  for await (const _ of poll) changed++;
  const pollMs = performance.now() - pollStart;

  // The same poll without the contacts join: the client's own cost of a modified-since read.
  const qad3 = new QadClient({
    ...sim.clientOptions,
    pageSize: PAGE,
    entities: { customers: { contactsBrowseId: false } },
  });
  const bareStart = performance.now();
  const bare = qad3.customers.changes(first.checkpoint());
  let bareN = 0;
  for await (const _ of bare) bareN++;
  const bareMs = performance.now() - bareStart;

  // Parse-only pass over the captured customer pages: JSON.parse + undot + map + zod validation.
  const cfg = DEFAULT_REST_ENTITIES.customers;
  const parseCpu = process.cpuUsage();
  let parsed = 0;
  for (const text of bodies) {
    const page = JSON.parse(text) as { data: Record<string, unknown>[] };
    for (const row of page.data) {
      validateRow("customers", mapRestRow("customers", undot(row), cfg, []));
      parsed++;
    }
  }
  const parseCpuMs = cpuMs(process.cpuUsage(parseCpu));
  // Validation alone, over already-mapped records.
  const mapped = bodies
    .slice(0, 20)
    .flatMap((text) =>
      (JSON.parse(text) as { data: Record<string, unknown>[] }).data.map((r) =>
        mapRestRow("customers", undot(r), cfg, []),
      ),
    );
  const valCpu = process.cpuUsage();
  for (const m of mapped) validateRow("customers", m);
  const valCpuMs = cpuMs(process.cpuUsage(valCpu));

  const insp = sim.inspect();
  await sim.close();

  const qxtend = await benchQxtend();

  const result = {
    name: "read",
    date: new Date().toISOString(),
    machine: {
      node: process.version,
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model ?? "unknown",
      platform: process.platform,
      loadAverage1m: Number(loadavg()[0]?.toFixed(2)),
      note: "shared 2-core machine: other engineers' builds and tests ran at the same time",
    },
    settings: { customers: N, pageSize: PAGE, contactsJoinedPerPage: true, simulatorInProcess: true },
    simulatorSetupMs: Math.round(genMs),
    fullRead: {
      records: full,
      contacts,
      wallMs: Math.round(fullMs),
      recordsPerSecond: Math.round(full / (fullMs / 1000)),
      processCpuMs: Math.round(fullCpuMs),
      note: "client and simulator share one process, so CPU and wall time include the server side",
    },
    incrementalPoll: {
      edited: edits,
      emitted: changed,
      read: poll.stats.read,
      skippedDuplicates: poll.stats.skippedDuplicates,
      wallMs: Math.round(pollMs),
      emittedPerSecond: Math.round(changed / (pollMs / 1000)),
    },
    incrementalPollWithoutContacts: {
      emitted: bareN,
      wallMs: Math.round(bareMs),
      emittedPerSecond: Math.round(bareN / (bareMs / 1000)),
    },
    parseAndValidate: {
      records: parsed,
      cpuMs: Math.round(parseCpuMs),
      cpuMicrosPerRecord: Number(((parseCpuMs * 1000) / parsed).toFixed(2)),
      validateOnlyMicrosPerRecord: Number(((valCpuMs * 1000) / mapped.length).toFixed(2)),
    },
    requests: insp.requests,
    qxtend,
  };
  console.log(JSON.stringify(result, null, 2));
  const dir = fileURLToPath(new URL("./results/", import.meta.url));
  mkdirSync(dir, { recursive: true });
  writeFileSync(`${dir}read.json`, `${JSON.stringify(result, null, 2)}\n`);
}

/** Full read, a no-edit poll and parse CPU over QXtend SOAP, against a fresh simulator of N_QX customers. */
async function benchQxtend() {
  let t = Date.parse("2026-03-02T09:00:00Z");
  const clock = { now: () => t };
  const sim = await startQadSimulator({ customers: N_QX, seed: 42, clock });
  const bodies: string[] = [];
  const capture = async (input: string | URL | Request, init?: RequestInit) => {
    const res = await fetch(input, init);
    bodies.push(await res.clone().text());
    return res;
  };
  const qad = new QadClient({ ...sim.clientOptions, protocol: "qxtend", pageSize: PAGE_QX, fetch: capture });
  const fullStart = performance.now();
  const fullCpu = process.cpuUsage();
  let full = 0;
  let contacts = 0;
  for await (const c of qad.customers.list()) {
    full++;
    contacts += c.contacts.length;
  }
  const fullMs = performance.now() - fullStart;
  const fullCpuMs = cpuMs(process.cpuUsage(fullCpu));
  const pages = bodies.length;

  // Incremental: a first poll (full read) then, an hour later with no edits, a second one that must emit nothing.
  const qad2 = new QadClient({ ...sim.clientOptions, protocol: "qxtend", pageSize: PAGE_QX });
  const first = qad2.customers.changes();
  for await (const _ of first) {
    // drain
  }
  t += 3_600_000;
  const pollStart = performance.now();
  const poll = qad2.customers.changes(first.checkpoint());
  for await (const _ of poll) {
    // drain
  }
  const pollMs = performance.now() - pollStart;

  // Parse-only pass over the captured SOAP answers: XML parse + row flattening + mapping + zod validation.
  const o = resolveQxtendOptions(sim.clientOptions.qxtend!);
  const mapping = {
    fields: CUSTOMER_FIELD_DEFAULTS,
    contactFields: CONTACT_FIELD_DEFAULTS,
    sharedSetCode: o.sharedSetCode ?? o.domain ?? "default",
    dateFormat: o.dateFormat,
    centuryPivot: o.centuryPivot,
    activeWhenMissing: o.activeWhenMissing,
  };
  const settings = { rowElement: "cm_mstr", redact: (x: string) => x, isTransientFault: () => false };
  const parseCpu = process.cpuUsage();
  let parsed = 0;
  for (const body of bodies) {
    for (const row of parseQueryResponse(body, settings).rows) {
      flattenRow(row, mapping.contactFields.row);
      validateRow("customers", mapCustomerRow(row, mapping));
      parsed++;
    }
  }
  const parseCpuMs = cpuMs(process.cpuUsage(parseCpu));
  const bytes = bodies.reduce((n, b) => n + Buffer.byteLength(b), 0);
  await sim.close();
  return {
    settings: { customers: N_QX, pageSize: PAGE_QX, simulatorInProcess: true },
    fullRead: {
      records: full,
      contacts,
      requests: pages,
      responseMegabytes: Number((bytes / 1e6).toFixed(1)),
      wallMs: Math.round(fullMs),
      recordsPerSecond: Math.round(full / (fullMs / 1000)),
      processCpuMs: Math.round(fullCpuMs),
      note: "client and simulator share one process, so CPU and wall time include the server side (XML building)",
    },
    pollWithoutEdits: {
      read: poll.stats.read,
      emitted: poll.stats.emitted,
      skippedDuplicates: poll.stats.skippedDuplicates,
      checkpointSeenEntries: Object.keys(poll.checkpoint().seen).length,
      wallMs: Math.round(pollMs),
      note: "QXtend dates have no time of day: the poll re-reads the high-water day (and the day before) and skips it",
    },
    parseAndValidate: {
      records: parsed,
      cpuMs: Math.round(parseCpuMs),
      cpuMicrosPerRecord: Number(((parseCpuMs * 1000) / parsed).toFixed(2)),
    },
  };
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
