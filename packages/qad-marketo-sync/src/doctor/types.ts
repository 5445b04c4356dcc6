import type { MarketoClient } from "@ml/marketo-client";
import type { QadClient } from "@ml/qad-client";
import type { Sleep } from "../internal/runtime.js";
import type { SyncMapping } from "../mapping/mapping.js";
import type { JsonValue } from "../ports.js";
import type { SourceCustomer } from "../source/customer-schema.js";

/**
 * The verdict of one check: `pass` (fits), `warn` (works, with a consequence worth knowing), `fail` (a sync would not
 * work, or not as configured), `skip` (not checked: an earlier check it depends on failed, or input is missing).
 */
export type DoctorStatus = "pass" | "warn" | "fail" | "skip";

/** Ids of the checks, in report order. */
export type DoctorCheckId =
  | "qad.reach"
  | "qad.auth"
  | "qad.protocol"
  | "qad.paths"
  | "qad.sample"
  | "marketo.auth"
  | "marketo.quota"
  | "marketo.crm.companies"
  | "marketo.crm.opportunities"
  | "marketo.crm.salesPersons"
  | "marketo.fields.companies"
  | "marketo.fields.namedAccounts"
  | "marketo.fields.leads"
  | "marketo.fields.salesPersons"
  | "marketo.cost";

/** One line of a {@link DoctorReport}. */
export interface DoctorCheck {
  /** Stable id, e.g. `qad.auth`. */
  id: DoctorCheckId;
  /** What was checked, in a few words. */
  title: string;
  /** The verdict. */
  status: DoctorStatus;
  /** What was found, in words (never a secret: error messages come redacted from the clients). */
  detail: string;
  /** What to do about a `warn` or `fail` (or, on a `pass`, how to get the optional part too). */
  fix?: string | undefined;
  /** The error code, when the check failed on an error (`AUTH`, `http`, `TIMEOUT`, ...). */
  code?: string | undefined;
  /** Figures behind the verdict, for a CLI or a JSON report (counts, call estimates, missing fields...). */
  data?: { [key: string]: JsonValue } | undefined;
}

/** What {@link doctor} answers: one {@link DoctorCheck} per check, in a fixed order, and the worst verdict. */
export interface DoctorReport {
  /** Every check, in report order (QAD first, then Marketo). */
  checks: DoctorCheck[];
  /** The worst status: `fail` > `warn` > `pass` > `skip` (`skip` only when nothing was checked). */
  worst: DoctorStatus;
}

/** Options of {@link doctor}. */
export interface DoctorOptions {
  /** The QAD client to check (REST, QXtend or auto, as it is configured). */
  qad: QadClient;
  /** The Marketo client to check. */
  marketo: MarketoClient;
  /** The mapping a sync would use. @default defaultMapping */
  mapping?: SyncMapping<SourceCustomer> | undefined;
  /**
   * Expected number of QAD customers, for the call cost of a first sync. Without it the cost check is skipped.
   */
  customers?: number | undefined;
  /** Cancels every check still running (they end as `skip`). */
  signal?: AbortSignal | undefined;
  /**
   * Time limit of each check, so one hang does not hold the others; a check over it fails with code `TIMEOUT`.
   * @default 30000
   */
  timeoutMs?: number | undefined;
  /** Per-check time limits, overriding `timeoutMs`. */
  timeouts?: Partial<Record<DoctorCheckId, number>> | undefined;
  /**
   * Customers read by the sample check (one page).
   * @default 50
   */
  samplePageSize?: number | undefined;
  /** Waits the time limits (injectable for tests). @default a real timer */
  sleep?: Sleep | undefined;
}
