import { defineConfig } from "tsup";
import { preset } from "../../scripts/tsup-preset.js";

// Built against the sibling packages' published output (dist), not their sources.
export default defineConfig(
  preset({ index: "src/index.ts" }, [/^@ml\//]).map((o) => ({ ...o, tsconfig: "tsconfig.build.json" })),
);
