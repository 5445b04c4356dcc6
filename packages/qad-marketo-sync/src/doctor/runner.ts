import { errorInfo } from "../errors.js";
import type { Sleep } from "../internal/runtime.js";
import type { DoctorCheck, DoctorCheckId, DoctorStatus } from "./types.js";

/** What a check function answers (the runner adds id and title). @internal */
export type Outcome = Omit<DoctorCheck, "id" | "title">;

/** One check: an id, a title and the work, given a signal that aborts at its time limit. @internal */
export interface CheckDef {
  id: DoctorCheckId;
  title: string;
  run(signal: AbortSignal): Promise<Outcome>;
}

/** How the runner limits and cancels checks. @internal */
export interface RunLimits {
  timeoutMs: number;
  timeouts: Partial<Record<DoctorCheckId, number>>;
  sleep: Sleep;
  signal?: AbortSignal | undefined;
}

const RANK: Record<DoctorStatus, number> = { skip: 0, pass: 1, warn: 2, fail: 3 };

/** The worst of some statuses (`skip` for none). @internal */
export function worstOf(statuses: Iterable<DoctorStatus>): DoctorStatus {
  let w: DoctorStatus = "skip";
  for (const s of statuses) if (RANK[s] > RANK[w]) w = s;
  return w;
}

/** An outcome for an error a check did not expect: its code and (already redacted) message, never the error itself. */
export function errorOutcome(e: unknown, what: string, fix?: string): Outcome {
  const info = errorInfo(e);
  return {
    status: "fail",
    code: info.code,
    detail: `${what}: ${info.message} (code ${info.code}${info.requestId ? `, request ${info.requestId}` : ""})`,
    ...(fix ? { fix } : {}),
  };
}

const seconds = (ms: number) => (ms >= 1000 ? `${Math.round(ms / 100) / 10} s` : `${ms} ms`);

/**
 * Runs one check under its time limit: the check's signal aborts when the limit passes (or the caller cancels), and
 * the runner answers at once without waiting for work that ignores the signal. A thrown error becomes a `fail` line.
 * @internal
 */
export async function runCheck(def: CheckDef, limits: RunLimits): Promise<DoctorCheck> {
  const head = { id: def.id, title: def.title };
  const outer = limits.signal;
  if (outer?.aborted) return { ...head, status: "skip", detail: "cancelled before it started" };
  const limit = limits.timeouts[def.id] ?? limits.timeoutMs;
  const work = new AbortController();
  const timer = new AbortController();
  const TIMEOUT = Symbol("timeout");
  const CANCELLED = Symbol("cancelled");
  let cancel: (v: typeof CANCELLED) => void = () => {};
  const cancelled = new Promise<typeof CANCELLED>((resolve) => {
    cancel = resolve;
  });
  const onAbort = () => {
    work.abort(outer?.reason);
    cancel(CANCELLED);
  };
  outer?.addEventListener("abort", onAbort, { once: true });
  try {
    const timedOut = limits.sleep(limit, timer.signal).then(
      () => TIMEOUT,
      () => new Promise<never>(() => {}),
    );
    const done = def.run(work.signal).catch((e: unknown) => errorOutcome(e, "unexpected error"));
    const r = await Promise.race([done, timedOut, cancelled]);
    if (r === TIMEOUT) {
      work.abort(new Error("doctor check time limit"));
      return {
        ...head,
        status: "fail",
        code: "TIMEOUT",
        detail: `no answer within ${seconds(limit)} (the check was stopped; the other checks carried on)`,
        fix: "check the network path to the system (proxy, firewall, VPN), or raise this check's time limit",
      };
    }
    if (r === CANCELLED) return { ...head, status: "skip", detail: "cancelled" };
    return { ...head, ...(r as Outcome) };
  } finally {
    timer.abort();
    outer?.removeEventListener("abort", onAbort);
  }
}

/** Runs checks one after the other (each may read what earlier ones learned). @internal */
export async function runChain(defs: CheckDef[], limits: RunLimits): Promise<DoctorCheck[]> {
  const out: DoctorCheck[] = [];
  for (const d of defs) out.push(await runCheck(d, limits));
  return out;
}
