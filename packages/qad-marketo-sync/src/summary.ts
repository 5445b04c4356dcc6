import type { ReconcileTotals } from "./engine/reconcile.js";
import type { ErrorInfo } from "./errors.js";
import type { Outcome, RecordKind, RunStatus } from "./store/audit-store.js";

/** Records per outcome, per kind. */
export type OutcomeCounts = Record<RecordKind, Record<Outcome, number>>;

/** What a run did. JSON-serialisable (it is stored with the run). */
export interface RunSummary {
  /** Run id. */
  runId: string;
  /** Tenant pair. */
  tenant: string;
  /** What started it. */
  trigger: "manual" | "schedule" | "replay";
  /**
   * How it ended: `completed` (input gone through, every record written or accounted for); `degraded` (input gone
   * through, but some writes failed: those records are carried forward and retried by later runs); `stopped`
   * (graceful stop or abort; checkpoint saved up to the last recorded batch); `failed` (a fatal error, a store or
   * source failure, a lost lease, or every write failed as a whole, e.g. Marketo unreachable: see `error`; the
   * records are carried forward all the same).
   */
  status: Exclude<RunStatus, "running">;
  /** Start (ms since epoch). */
  startedAt: number;
  /** End (ms since epoch). */
  finishedAt: number;
  /** `finishedAt - startedAt`. */
  durationMs: number;
  /** Records per outcome per kind. */
  outcomes: OutcomeCounts;
  /** Source items read. */
  sourceItems: number;
  /** Batches committed. */
  batches: number;
  /** Whether a source checkpoint was saved. */
  checkpointSaved: boolean;
  /** Marketo calls made during the run, as the gateway counts them. */
  marketoCalls: number;
  /** Marketo write calls the engine issued (sync endpoints). */
  marketoWriteCalls: number;
  /** Today's quota left after the run. */
  quotaLeft: number;
  /** Objects the run found read-only (CRM sync), with the reason. */
  readOnly: { object: string; reason?: string | undefined }[];
  /** Mapped fields not sent because the instance does not have them (`kind.field`, from describe). */
  droppedFields: string[];
  /** Account contexts updated by the read-back. */
  contextsUpdated: number;
  /** Carried-forward records: retried and written by this run, and left after it. */
  carried: CarriedSummary;
  /** Why the run failed or stopped early, when it did. */
  error?: ErrorInfo | undefined;
  /** The periodic reconcile of this run (`SyncOptions.reconcile`), when one was due. */
  reconcile?: ReconcileTotals | undefined;
}

/** Carry-forward figures of a run (see `SyncOptions.carryForward`). */
export interface CarriedSummary {
  /** Carried records this run tried to write again (due ones, before reading the source). */
  retried: number;
  /** Of those, records Marketo accepted. */
  written: number;
  /** Records still carried forward after the run, to be retried by later runs. */
  pending: number;
  /** Records dead-lettered after the configured number of attempts (replay them by hand). */
  dead: number;
}

const OUTCOMES: Outcome[] = ["created", "updated", "unchanged", "rejected", "skipped", "failed"];
const KINDS: RecordKind[] = ["customer", "salesPerson", "company", "namedAccount", "lead"];

/** Zeroed counts. @internal */
export function emptyOutcomes(): OutcomeCounts {
  const out = {} as OutcomeCounts;
  for (const k of KINDS) {
    out[k] = {} as Record<Outcome, number>;
    for (const o of OUTCOMES) out[k][o] = 0;
  }
  return out;
}
