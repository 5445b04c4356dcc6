/**
 * `@ml/qad-marketo-sync/fleet`: many tenant pairs over many worker processes, on pg-boss 10 (an optional peer
 * dependency). One `stately` pg-boss queue per pair, its cron schedule, workers with a concurrency limit, takeover of
 * a killed worker's pair through job expiry and retry, and the engine's lease and fencing as the correctness guard
 * underneath. See the "Fleets" section of the package README.
 *
 * @module
 */

export type {
  Fleet,
  FleetEventName,
  FleetEvents,
  FleetOptions,
  FleetPair,
  FleetStartOptions,
  PairResolver,
} from "./fleet.js";
export { createFleet } from "./fleet.js";
export type { FleetJobData, FleetJobOptions } from "./queues.js";
export { DEFAULT_QUEUE_PREFIX } from "./queues.js";
export type { DeferTiming, JobVerdict } from "./verdict.js";
export { verdictOf } from "./verdict.js";
