// Loads every public entry point of every package from its built output, once with import() and once with require(),
// and fails when one does not load or exports nothing.
import { readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const root = new URL("../packages/", import.meta.url).pathname;
let failures = 0;
for (const dir of readdirSync(root)) {
  const pkgPath = join(root, dir, "package.json");
  const pkg = JSON.parse(readFileSync(pkgPath, "utf8"));
  const require = createRequire(pkgPath);
  for (const [sub, target] of Object.entries(pkg.exports)) {
    if (typeof target === "string") continue;
    const esm = await import(pathToFileURL(join(root, dir, target.import.default)).href);
    const cjs = require(join(root, dir, target.require.default));
    const ok = Object.keys(esm).length > 0 && Object.keys(cjs).length > 0;
    if (!ok) failures++;
    console.log(
      `${ok ? "ok  " : "FAIL"} ${pkg.name}${sub.slice(1)}: esm ${Object.keys(esm).length}, cjs ${Object.keys(cjs).length} exports`,
    );
  }
}
process.exit(failures ? 1 : 0);
