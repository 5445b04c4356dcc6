/**
 * Test helpers for users of `@ml/qad-marketo-sync`: the contract suites a store of your own must pass. They register
 * tests with the test framework you pass in (`{ describe, it, expect }` from vitest or jest), so this module imports
 * none.
 *
 * @example
 * import { describe, expect, it } from "vitest";
 * import { runAuditStoreContract, runSecretStoreContract } from "@ml/qad-marketo-sync/testing";
 *
 * runAuditStoreContract("my store", (clock) => createMyStore({ clock }), { describe, it, expect });
 * runSecretStoreContract("my store", () => createMyStore(), { describe, it, expect });
 *
 * @module
 */

export type { ContractClock, MakeAuditStore } from "./audit-store-contract.js";
export { runAuditStoreContract } from "./audit-store-contract.js";
export type { MakeSecretStore } from "./secret-store-contract.js";
export { runSecretStoreContract } from "./secret-store-contract.js";
export type { ContractMatchers, ContractTestApi } from "./test-api.js";
