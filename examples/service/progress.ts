/**
 * Progress while a run works, from the sync's events: a cli-progress bar on a terminal, plain lines otherwise (at
 * most one every `everyMs`, and a "still working" line when a phase is silent for that long, so no phase is silent
 * longer than a couple of seconds).
 */
import type { Sync } from "@ml/qad-marketo-sync";
import { SingleBar } from "cli-progress";

/** Options of {@link attachProgress}. */
export interface ProgressOptions {
  /** Plain line output. */
  print: (line: string) => void;
  /** A terminal to draw the bar on; plain lines when absent or not a TTY. */
  tty?: NodeJS.WritableStream & { isTTY?: boolean };
  /** Expected source rows (simulators: the customer count), for the bar's total; unknown otherwise. */
  expected?: number | undefined;
  /** Clock (ms). @default Date.now */
  now?: () => number;
  /** Plain mode: minimum time between lines, and the silence after which a "still working" line is printed. @default 2000 */
  everyMs?: number;
}

/** A progress display subscribed to a sync; `close()` unsubscribes and stops the bar and the heartbeat. */
export interface Progress {
  close(): void;
}

/** Subscribes a progress display to `sync`'s events. */
export function attachProgress(sync: Sync, options: ProgressOptions): Progress {
  const now = options.now ?? Date.now;
  const everyMs = options.everyMs ?? 2_000;
  const useBar = options.tty?.isTTY === true;
  let phase = "idle";
  let read = 0;
  let written = 0;
  let rejected = 0;
  let unchanged = 0;
  let batches = 0;
  let contexts = 0;
  let readBack = "";
  let lastLine = 0;
  let phaseSince = now();
  let bar: SingleBar | undefined;
  let heartbeat: ReturnType<typeof setInterval> | undefined;

  const state = () =>
    `${phase}: ${read} read, ${written} written, ${unchanged} unchanged, ${rejected} rejected, ${batches} batches` +
    (contexts ? `, ${contexts} account contexts updated` : "") +
    (readBack && phase.startsWith("read-back") ? `; read-back: ${readBack}` : "");
  const line = (force = false) => {
    const t = now();
    if (!force && t - lastLine < everyMs) return;
    lastLine = t;
    options.print(`  … ${state()}`);
  };
  const update = () => {
    if (bar) {
      const total = Math.max(options.expected ?? 0, read, 1);
      bar.setTotal(total);
      bar.update(read, { phase, written, rejected, contexts });
    } else line();
  };
  const setPhase = (p: string) => {
    phase = p;
    phaseSince = now();
    if (!bar) line(true);
    else update();
  };

  const off = [
    sync.on("runStarted", (e) => {
      read = written = rejected = unchanged = batches = contexts = 0;
      readBack = "";
      if (useBar && options.tty) {
        bar = new SingleBar({
          stream: options.tty,
          format:
            " {bar} {value}/{total} read | {written} written | {rejected} rejected | {contexts} contexts | {phase}",
          hideCursor: true,
          clearOnComplete: true,
          etaBuffer: 20,
        });
        bar.start(Math.max(options.expected ?? 0, 1), 0, { phase: "starting", written, rejected, contexts });
      }
      setPhase(e.trigger === "replay" ? "replaying" : "reading QAD and writing Marketo");
      if (!bar && heartbeat === undefined) {
        heartbeat = setInterval(() => {
          if (now() - Math.max(lastLine, phaseSince) >= everyMs) line(true);
        }, everyMs);
        heartbeat.unref?.();
      }
    }),
    sync.on("progress", ({ counts }) => {
      read = counts.read;
      written = counts.written;
      rejected = counts.rejected;
      unchanged = counts.unchanged;
      batches = counts.batches;
      // The first batch always gets its line (the run visibly works), later ones at most every `everyMs`.
      if (!bar && batches === 1) line(true);
      else update();
    }),
    sync.on("accountContext", () => {
      contexts++;
      update();
    }),
    sync.on("readBackProgress", (p) => {
      readBack =
        `${p.accounts.done}/${p.accounts.total} accounts, ${p.opportunities} opportunities, ` +
        `${p.activities} activities (${p.activitiesMatched} matched)`;
      const next = p.phase === "done" ? "read-back done" : `read-back (${p.phase})`;
      if (phase !== next) setPhase(next);
      else update();
    }),
    sync.on("runFinished", () => {
      bar?.stop();
      bar = undefined;
      if (heartbeat !== undefined) clearInterval(heartbeat);
      heartbeat = undefined;
    }),
  ];
  return {
    close() {
      for (const f of off) f();
      bar?.stop();
      if (heartbeat !== undefined) clearInterval(heartbeat);
    },
  };
}
