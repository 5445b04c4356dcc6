/**
 * One pg-boss queue per tenant pair, with the `stately` policy, and the job settings fleets use.
 *
 * @module
 */

import type PgBoss from "pg-boss";
import { SyncConfigError } from "../errors.js";

/** Job settings of every pair's queue (pg-boss queue options). */
export interface FleetJobOptions {
  /**
   * How long a job may stay active before pg-boss fails it (and retries it on another worker). pg-boss 10 has no
   * heartbeat: this is the takeover delay of a killed worker's pair (plus up to one maintenance interval), and a run
   * longer than it sees its job retried while it still runs (the retry finds the lease held and defers: correct,
   * but it uses up a retry). Set it above your longest run. At most 24 hours.
   * @default 900 (15 minutes)
   */
  expireInSeconds?: number;
  /** Retries of a failed job (a run that `failed`, threw, or whose worker died). @default 3 */
  retryLimit?: number;
  /** Delay before the first retry, in seconds. @default 30 */
  retryDelaySeconds?: number;
  /** Exponential backoff (with jitter) between retries. @default true */
  retryBackoff?: boolean;
}

/** The resolved job settings. @internal */
export interface ResolvedJobOptions {
  expireInSeconds: number;
  retryLimit: number;
  retryDelay: number;
  retryBackoff: boolean;
}

/** The data of every fleet job. */
export interface FleetJobData {
  /** The tenant pair to sync. */
  tenant: string;
  /** What queued it: the pair's cron schedule, `runNow`, or a continuation (after a stop or an `alreadyRunning`). */
  trigger: "schedule" | "runNow" | "continue";
}

const TENANT = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}$/;

/** Default queue name prefix. */
export const DEFAULT_QUEUE_PREFIX = "qad-marketo-sync";

/** Checks a tenant pair name usable in a fleet. @internal */
export function checkTenant(tenant: string): string {
  if (!TENANT.test(tenant)) {
    throw new SyncConfigError(
      `tenant ${JSON.stringify(tenant)}: fleet tenant names are 1-100 letters, digits, "_", "." or "-"`,
    );
  }
  return tenant;
}

/** Resolves job settings, checking them. @internal */
export function resolveJobOptions(o: FleetJobOptions = {}): ResolvedJobOptions {
  const r = {
    expireInSeconds: o.expireInSeconds ?? 900,
    retryLimit: o.retryLimit ?? 3,
    retryDelay: o.retryDelaySeconds ?? 30,
    retryBackoff: o.retryBackoff ?? true,
  };
  if (!Number.isInteger(r.expireInSeconds) || r.expireInSeconds < 1 || r.expireInSeconds >= 24 * 3600) {
    throw new SyncConfigError("job.expireInSeconds must be an integer from 1 to 86399");
  }
  if (!Number.isInteger(r.retryLimit) || r.retryLimit < 0) throw new SyncConfigError("job.retryLimit must be ≥ 0");
  if (!Number.isInteger(r.retryDelay) || r.retryDelay < 0) {
    throw new SyncConfigError("job.retryDelaySeconds must be ≥ 0");
  }
  return r;
}

/** Queue names of one fleet. @internal */
export class QueueNames {
  readonly #prefix: string;

  constructor(prefix: string) {
    if (!/^[A-Za-z0-9_-]{1,50}$/.test(prefix)) {
      throw new SyncConfigError("queuePrefix must be 1-50 letters, digits, '_' or '-'");
    }
    this.#prefix = `${prefix}.`;
  }

  /** The queue of a tenant pair. */
  of(tenant: string): string {
    return this.#prefix + checkTenant(tenant);
  }

  /** The tenant of a queue of this fleet, or undefined. */
  tenantOf(queue: string): string | undefined {
    if (!queue.startsWith(this.#prefix)) return undefined;
    const tenant = queue.slice(this.#prefix.length);
    return TENANT.test(tenant) ? tenant : undefined;
  }
}

/**
 * Creates a pair's queue with the `stately` policy, or checks an existing one has it: the policy is what guarantees
 * at most one active job per pair, so a queue made with another policy is a configuration error. An existing queue
 * whose job settings differ gets this process's settings (for jobs queued from now on; pg-boss copies them into each
 * job when it is sent): give every process of a fleet the same `job` options.
 * @returns whether the queue's settings were changed
 * @internal
 */
export async function ensureQueue(boss: PgBoss, name: string, job: ResolvedJobOptions): Promise<boolean> {
  await boss.createQueue(name, { name, policy: "stately", ...job });
  const q = await boss.getQueue(name);
  if (q?.policy !== "stately") {
    throw new SyncConfigError(
      `pg-boss queue ${name} exists with policy ${q?.policy ?? "unknown"}; fleets need "stately" (delete the queue)`,
    );
  }
  const same =
    q.expireInSeconds === job.expireInSeconds &&
    q.retryLimit === job.retryLimit &&
    q.retryDelay === job.retryDelay &&
    q.retryBackoff === job.retryBackoff;
  if (!same) await boss.updateQueue(name, { name, policy: "stately", ...job });
  return !same;
}
