// Runs the QAD and Marketo simulators in their own process, so the benchmark's CPU figures measure the sync process
// only. Protocol (IPC): parent sends { cmd: "start", customers, timeScale, seed } → child answers { qad, marketo }
// client options; { cmd: "inspect" } → the Marketo simulator's inspection, call log and this process's CPU;
// { cmd: "close" } → exit.
import { type MarketoSimulator, startMarketoSimulator } from "@ml/marketo-client/testing";
import { type QadSimulator, startQadSimulator } from "@ml/qad-client/testing";

type Msg = { cmd: "start"; customers: number; timeScale: number; seed: number } | { cmd: "inspect" } | { cmd: "close" };

let qad: QadSimulator | undefined;
let mk: MarketoSimulator | undefined;

process.on("message", async (m: Msg) => {
  if (m.cmd === "start") {
    qad = await startQadSimulator({ customers: m.customers, seed: m.seed, maxPageSize: 5000 });
    mk = await startMarketoSimulator({ timeScale: m.timeScale, seed: m.seed, latencyMs: 2 });
    process.send?.({ qad: qad.clientOptions, marketo: mk.clientOptions });
  } else if (m.cmd === "inspect") {
    process.send?.({
      inspect: mk?.inspect(),
      calls: mk?.callLog().map((c) => ({ at: c.at, method: c.method, path: c.path, status: c.status, code: c.code })),
      cpu: process.cpuUsage(),
    });
  } else if (m.cmd === "close") {
    await qad?.close();
    await mk?.close();
    process.send?.({ closed: true });
    process.exit(0);
  }
});
