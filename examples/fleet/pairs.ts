/**
 * What a worker needs to build the sync of one tenant pair. In production this comes from your configuration and the
 * credential vault; the launcher of this example passes the simulators' settings in `FLEET_EXAMPLE` (JSON).
 */
import type { MarketoClientOptions } from "@ml/marketo-client";
import type { QadClientOptions } from "@ml/qad-client";
import type { FleetJobOptions } from "@ml/qad-marketo-sync/fleet";

/**
 * Job settings of every process of the fleet (the queue keeps the last process's settings, so all must agree). The
 * short expiry makes the demo's takeover quick; in production set it above your longest run.
 */
export const JOB: FleetJobOptions = { expireInSeconds: 15, retryDelaySeconds: 1, retryBackoff: false };

/** Settings shared by the launcher and its workers. */
export interface FleetExampleConfig {
  /** PostgreSQL URL (pg-boss, the audit store and the shared Marketo quota). */
  databaseUrl: string;
  /** Schema prefix: `<schema>_boss` for pg-boss, `<schema>` for the store and the limiter. */
  schema: string;
  /** QAD client options per tenant pair. */
  qad: Record<string, QadClientOptions>;
  /** Marketo client options (the pairs share one Marketo instance here). */
  marketo: MarketoClientOptions;
  /** Source records per batch. */
  batchSize: number;
}

/** Reads the settings the launcher passed. */
export function readConfig(env: Record<string, string | undefined> = process.env): FleetExampleConfig {
  const raw = env.FLEET_EXAMPLE;
  if (!raw) throw new Error("FLEET_EXAMPLE is not set: start workers with `pnpm --filter @ml/examples run fleet`");
  return JSON.parse(raw) as FleetExampleConfig;
}
