import type { Options } from "tsup";

/**
 * Dependencies that publish ESM only. The CommonJS build bundles them so that
 * `require("@ml/...")` works; the ESM build keeps them external.
 */
const ESM_ONLY = [/^p-retry($|\/)/, /^p-limit($|\/)/, /^is-network-error($|\/)/, /^yocto-queue($|\/)/];

/**
 * One tsup preset for every package: ESM + CJS, each with its own declaration files. `bundle` lists private
 * workspace packages (the HTTP kernel) compiled into this package's output, so the published package never
 * depends on them.
 */
export function preset(
  entry: Record<string, string>,
  external: (string | RegExp)[] = [],
  bundle: RegExp[] = [],
): Options[] {
  const common: Options = {
    entry,
    target: "node20",
    platform: "node",
    sourcemap: true,
    // `@internal` members stay out of the published declarations.
    dts: { compilerOptions: { stripInternal: true } },
    splitting: false,
    treeshake: true,
    external,
  };
  return [
    { ...common, format: "esm", noExternal: bundle, outExtension: () => ({ js: ".js", dts: ".d.ts" }) },
    {
      ...common,
      format: "cjs",
      noExternal: [...ESM_ONLY, ...bundle],
      outExtension: () => ({ js: ".cjs", dts: ".d.cts" }),
    },
  ];
}
