import { defineConfig } from "tsup";
import { preset } from "../../scripts/tsup-preset.js";

// The private HTTP kernel is compiled in: the published package depends on neither it nor the other client.
export default defineConfig(
  preset({ index: "src/index.ts", testing: "src/testing/index.ts" }, [], [/^@ml\/http-kernel/]),
);
