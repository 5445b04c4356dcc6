export { awkwardValue } from "./csv-writer.js";
export type { BulkSimulatorFaults, BulkSimulatorOptions, BulkSyntheticOptions } from "./options.js";
export {
  type BulkSimFileRequest,
  type BulkSimInspection,
  type BulkSimulator,
  createBulkSimulator,
} from "./simulator.js";
