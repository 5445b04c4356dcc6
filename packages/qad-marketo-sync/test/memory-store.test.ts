import { createMemoryStore } from "../src/index.js";
import { runAuditStoreContract } from "./support/audit-store-contract.js";

runAuditStoreContract("memory", (clock) => createMemoryStore({ clock }));
