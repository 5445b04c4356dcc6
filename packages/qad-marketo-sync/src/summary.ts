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
  /** How it ended: `completed`, `stopped` (graceful stop or abort; checkpoint saved up to the last batch) or `failed`. */
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
  /** Why the run failed or stopped early, when it did. */
  error?: ErrorInfo | undefined;
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
