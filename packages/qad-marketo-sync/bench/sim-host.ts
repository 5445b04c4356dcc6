// Runs the simulators in their own process, so the benchmark's CPU figures measure the sync process only.
// Protocol (IPC): parent sends { cmd: "start", customers, timeScale, seed, marketo: "simulator" | "fast" } → child
// answers { qad, marketo } client options; { cmd: "inspect" } → inspection; { cmd: "close" } → exit.
import { startMarketoSimulator } from "@ml/marketo-client/testing";
import { startQadSimulator } from "@ml/qad-client/testing";
import { startFastMarketo } from "./fast-marketo.js";

type Msg =
  | { cmd: "start"; customers: number; timeScale: number; seed: number; marketo: "simulator" | "fast" }
  | { cmd: "inspect" }
  | { cmd: "close" };

let close: (() => Promise<void>) | undefined;
let inspect: (() => unknown) | undefined;

process.on("message", async (m: Msg) => {
  if (m.cmd === "start") {
    const qad = await startQadSimulator({ customers: m.customers, seed: m.seed, maxPageSize: 5000 });
    if (m.marketo === "fast") {
      const mk = await startFastMarketo({ windowMs: 20_000 * m.timeScale, latencyMs: 40 });
      close = async () => {
        await qad.close();
        await mk.close();
      };
      inspect = () => ({ fast: mk.stats() });
      process.send?.({ qad: qad.clientOptions, marketo: mk.clientOptions });
      return;
    }
    const mk = await startMarketoSimulator({ timeScale: m.timeScale, seed: m.seed, latencyMs: 2 });
    close = async () => {
      await qad.close();
      await mk.close();
    };
    inspect = () => ({
      inspect: mk.inspect(),
      calls: mk.callLog().map((c) => ({ at: c.at, method: c.method, path: c.path, status: c.status, code: c.code })),
    });
    process.send?.({ qad: qad.clientOptions, marketo: mk.clientOptions });
  } else if (m.cmd === "inspect") {
    process.send?.(inspect?.());
  } else if (m.cmd === "close") {
    await close?.();
    process.send?.({ closed: true });
    process.exit(0);
  }
});
