import type { Options } from "tsup";

/**
 * Dependencies that publish ESM only. The CommonJS build bundles them so that
 * `require("@ml/...")` works; the ESM build keeps them external.
 */
const ESM_ONLY = [/^ky($|\/)/, /^p-retry($|\/)/, /^p-limit($|\/)/, /^is-network-error($|\/)/, /^yocto-queue($|\/)/];

/** One tsup preset for every package: ESM + CJS, each with its own declaration files. */
export function preset(entry: Record<string, string>, external: (string | RegExp)[] = []): Options[] {
  const common: Options = {
    entry,
    target: "node20",
    platform: "node",
    sourcemap: true,
    dts: true,
    splitting: false,
    treeshake: true,
    external,
  };
  return [
    { ...common, format: "esm", outExtension: () => ({ js: ".js", dts: ".d.ts" }) },
    { ...common, format: "cjs", noExternal: ESM_ONLY, outExtension: () => ({ js: ".cjs", dts: ".d.cts" }) },
  ];
}
