/**
 * A Marketo simulator in a child process (Marketo runs on another machine, so its work must not delay the client's
 * timers). Used by the quota bench. Child side: `tsx bench/sim-host.ts <timeScale> <latencyMs>`; it answers IPC
 * messages `reset`, `inspect` and `close`.
 */
import { fork } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { type SimCallRecord, type SimInspection, startMarketoSimulator } from "../src/testing/index.js";

type ClientOptions = Awaited<ReturnType<typeof startMarketoSimulator>>["clientOptions"];
type ChildMsg =
  | { type: "ready"; clientOptions: ClientOptions }
  | { type: "inspect"; inspect: SimInspection; log: SimCallRecord[] }
  | { type: "done" };

/** Parent side: the simulator's client options and its controls. */
export interface RemoteSimulator {
  clientOptions: ClientOptions;
  /** Clears the simulator's counters and call log. */
  reset(): Promise<void>;
  /** Counters and the call log (arrival times are the simulator's real clock, the same machine's as the client's). */
  inspect(): Promise<{ inspect: SimInspection; log: SimCallRecord[] }>;
  close(): Promise<void>;
}

async function serve(timeScale: number, latencyMs: number): Promise<void> {
  const sim = await startMarketoSimulator({ timeScale, latencyMs });
  process.on("message", async (m: { type: string }) => {
    if (m.type === "reset") {
      sim.resetInspection();
      process.send?.({ type: "done" });
    } else if (m.type === "inspect") {
      process.send?.({ type: "inspect", inspect: sim.inspect(), log: sim.callLog() });
    } else if (m.type === "close") {
      await sim.close();
      process.exit(0);
    }
  });
  process.send?.({ type: "ready", clientOptions: sim.clientOptions });
}

/** Starts a simulator in a child process. */
export async function remoteSimulator(timeScale: number, latencyMs: number): Promise<RemoteSimulator> {
  const child = fork(fileURLToPath(import.meta.url), ["--serve", String(timeScale), String(latencyMs)], {
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const next = async <T extends ChildMsg["type"]>(type: T) => {
    for (;;) {
      const [m] = (await once(child, "message")) as [ChildMsg];
      if (m.type === type) return m as Extract<ChildMsg, { type: T }>;
    }
  };
  const ready = await next("ready");
  return {
    clientOptions: ready.clientOptions,
    reset: async () => {
      child.send({ type: "reset" });
      await next("done");
    },
    inspect: async () => {
      child.send({ type: "inspect" });
      const m = await next("inspect");
      return { inspect: m.inspect, log: m.log };
    },
    close: async () => {
      child.send({ type: "close" });
      await once(child, "exit");
    },
  };
}

if (process.argv[2] === "--serve") await serve(Number(process.argv[3]), Number(process.argv[4]));
