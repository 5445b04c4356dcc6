/** Injectable runtime services of the sync engine, with real defaults (written once, in the private HTTP kernel). */
export type { Clock, Logger, Sleep } from "@ml/http-kernel";
/** @internal */
export { realSleep, silentLogger, systemClock } from "@ml/http-kernel";
