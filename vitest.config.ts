import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const src = (p: string) => fileURLToPath(new URL(`./packages/${p}`, import.meta.url));

// Tests import the packages by their public names; these aliases point them at the sources so no build is needed.
export default defineConfig({
  resolve: {
    alias: [
      { find: /^@ml\/http-kernel\/testing$/, replacement: src("http-kernel/src/testing/index.ts") },
      { find: /^@ml\/http-kernel$/, replacement: src("http-kernel/src/index.ts") },
      { find: /^@ml\/marketo-client\/testing$/, replacement: src("marketo-client/src/testing/index.ts") },
      { find: /^@ml\/marketo-client$/, replacement: src("marketo-client/src/index.ts") },
      { find: /^@ml\/qad-client\/testing$/, replacement: src("qad-client/src/testing/index.ts") },
      { find: /^@ml\/qad-client$/, replacement: src("qad-client/src/index.ts") },
      {
        find: /^@ml\/qad-marketo-sync\/(sqlite|postgres|fleet|testing|doctor)$/,
        replacement: src("qad-marketo-sync/src/$1/index.ts"),
      },
      { find: /^@ml\/qad-marketo-sync$/, replacement: src("qad-marketo-sync/src/index.ts") },
    ],
  },
  test: {
    include: ["packages/*/test/**/*.test.ts", "examples/test/**/*.test.ts"],
    typecheck: { enabled: true, include: ["packages/*/test/**/*.test-d.ts"], tsconfig: "./tsconfig.json" },
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: "forks",
  },
});
