export { type RestFault, type RestFaultKind, RestSimFaults } from "./faults.js";
export * from "./qxtend/index.js";
export {
  type QadSimCredentials,
  type QadSimData,
  type QadSimInspection,
  type QadSimulator,
  type QadSimulatorOptions,
  startQadSimulator,
} from "./simulator.js";
export {
  type CorruptionKind,
  type QadSimCorruptRow,
  type QadSimRow,
  QadSimStore,
  type QadSimStoreOptions,
} from "./store.js";
