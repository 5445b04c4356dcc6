/** Options of the simulated bulk extract. */

/** Faults the bulk simulator injects into file downloads and job outcomes. */
export interface BulkSimulatorFaults {
  /** Cut the connection after this many bytes of a file response, once per job (then Range requests succeed). */
  dropConnectionAfterBytes?: number | undefined;
  /**
   * Truncate files at this byte. `"serve"`: status announces the full size and checksum but only these bytes are
   * served (a Range request beyond answers 416). `"file"`: the file itself is cut and status describes the cut file.
   */
  truncateAtByte?: number | undefined;
  /** How {@link BulkSimulatorFaults.truncateAtByte} applies. @default "serve" */
  truncateMode?: "serve" | "file" | undefined;
  /** Announce a wrong `fileChecksum` for every file. */
  corruptChecksum?: boolean | undefined;
  /** Insert NUL bytes into some string values of every file (the source data stays clean). */
  nulBytes?: boolean | undefined;
  /**
   * Rewrite the string values of every file's rows into the awkward forms Marketo files are known for: a quoted
   * multi-line value with quotes and commas, U+2028/U+2029, a literal `null`, an embedded NUL byte (see
   * `awkwardValue`; the source data stays as it is).
   */
  awkwardValues?: boolean | undefined;
  /** Files of completed jobs answer 404, as after Marketo's 7-day file retention. */
  expireFiles?: boolean | undefined;
  /** The next N jobs end `Failed` instead of `Completed`. */
  failJobs?: number | undefined;
}

/** Synthetic file sizes per object: the file holds generated rows instead of the stored records. */
export interface BulkSyntheticOptions {
  /** Rows of every leads export file. */
  leads?:
    | {
        /** Rows generated per file. */
        rows: number;
      }
    | undefined;
  /** Rows of every activities export file. */
  activities?:
    | {
        /** Rows generated per file. */
        rows: number;
      }
    | undefined;
}

/** Options of the bulk simulator. Times are simulated ms (the simulator's clock runs `1 / timeScale` times faster). */
export interface BulkSimulatorOptions {
  /** Jobs processing at once. @default 2 */
  maxProcessing?: number | undefined;
  /**
   * Jobs queued or processing at once (Marketo counts both); one more enqueue answers 1029 "Too many jobs in queue".
   * @default 10
   */
  maxQueued?: number | undefined;
  /**
   * Export bytes per day (US Central); past it, create and enqueue answer 1029 "Export daily quota exceeded".
   * @default 500 MB
   */
  dailyQuotaBytes?: number | undefined;
  /** A status changes at most once per step: Queued → Processing → Completed each take one step. @default 60_000 */
  stepMs?: number | undefined;
  /** Filters answered with 1035 (e.g. `["updatedAt"]`). @default [] */
  unsupportedFilters?: string[] | undefined;
  /** Longest createdAt/updatedAt window, in days (1003 beyond). @default 31 */
  maxWindowDays?: number | undefined;
  /** Generate files instead of exporting the stored records. */
  synthetic?: BulkSyntheticOptions | undefined;
  /** Only the API user (bearer token) that created a job sees it. @default false */
  ownerCheck?: boolean | undefined;
  /** Faults to inject. */
  faults?: BulkSimulatorFaults | undefined;
}
