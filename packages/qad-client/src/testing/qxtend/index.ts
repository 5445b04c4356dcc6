export { type QxtendSimFault, QxtendSimFaults, type SimQxtendMessage } from "./faults.js";
export {
  createQxtendHandler,
  type QxtendHandler,
  type QxtendSimInspection,
  type QxtendSimOptions,
  type QxtendSimRequest,
  type QxtendSimResponse,
  type QxtendSimStore,
} from "./handler.js";
export type { SimDocumentKind } from "./rows.js";
