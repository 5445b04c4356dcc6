export type {
  BulkSimFileRequest,
  BulkSimInspection,
  BulkSimulator,
  BulkSimulatorFaults,
  BulkSimulatorOptions,
  BulkSyntheticOptions,
} from "./bulk/index.js";
export type { SimActivity, SimContext, SimRequest, SimResponse } from "./context.js";
export type { FaultCode, FaultSpec, InjectedFault } from "./faults.js";
export {
  type LimiterContractMatchers,
  type LimiterContractTestApi,
  limiterStoreContract,
} from "./limiter-store-contract.js";
export type {
  MarketoSimulator,
  MarketoSimulatorOptions,
  SimActivitySeed,
  SimCallRecord,
  SimCompany,
  SimCustomFieldObject,
  SimFieldSpec,
  SimFieldType,
  SimInspection,
  SimLead,
  SimNamedAccount,
  SimObjectData,
  SimOpportunity,
  SimOpportunityRole,
  SimSalesPerson,
  SimStoredTimestamps,
} from "./simulator.js";
export { startMarketoSimulator } from "./simulator.js";
