import { describe, expect, it } from "vitest";
import { createMemoryStore } from "../src/index.js";
import { runAuditStoreContract, runSecretStoreContract } from "../src/testing/index.js";

const t = { describe, it, expect };
runAuditStoreContract("memory", (clock) => createMemoryStore({ clock }), t);
runSecretStoreContract("memory", () => createMemoryStore(), t);
