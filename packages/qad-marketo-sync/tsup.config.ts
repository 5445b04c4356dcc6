import { defineConfig } from "tsup";
import { preset } from "../../scripts/tsup-preset.js";

// Built against the sibling packages' published output (dist), not their sources. Database drivers and pg-boss are
// optional peer dependencies: each subpath imports only its own. The private HTTP kernel (runtime defaults) is
// compiled in, like in the clients.
export default defineConfig(
  preset(
    {
      index: "src/index.ts",
      sqlite: "src/sqlite/index.ts",
      postgres: "src/postgres/index.ts",
      fleet: "src/fleet/index.ts",
      doctor: "src/doctor/index.ts",
      testing: "src/testing/index.ts",
    },
    [/^@ml\/(?!http-kernel)/, "better-sqlite3", "pg", "pg-boss"],
    [/^@ml\/http-kernel/],
  ).map((o) => ({ ...o, tsconfig: "tsconfig.build.json" })),
);
