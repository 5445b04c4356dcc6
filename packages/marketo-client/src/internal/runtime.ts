/** Injectable runtime services shared by every layer, with real defaults (written once, in the private HTTP kernel). */
import type { Clock, FetchLike, Logger, Sleep } from "@ml/http-kernel";

export type { Clock, FetchLike, Logger, Sleep } from "@ml/http-kernel";
export { realSleep, resolveFetch, silentLogger, systemClock } from "@ml/http-kernel";

/** Everything time- or randomness-dependent, resolved once per client. */
export interface Runtime {
  clock: Clock;
  sleep: Sleep;
  random: () => number;
  logger: Logger;
  fetch: FetchLike;
}
