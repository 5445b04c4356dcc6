#!/usr/bin/env node
// The packages as users receive them: packs the three published packages (pnpm pack turns `workspace:^` into real
// versions), installs the tarballs with `npm install --engine-strict` into two scratch projects outside the
// workspace, one ESM TypeScript project (type-checked with tsc, module NodeNext) and one CommonJS project, and runs
// a small sync in each against the bundled simulators (loopback only). Any failure exits non-zero.
//
//   node scripts/tarball-install.mjs            (after `pnpm build`; CI runs it)
//   KEEP_SCRATCH=1 node scripts/tarball-install.mjs   keeps the scratch folders for a look
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const PUBLISHED = ["marketo-client", "qad-client", "qad-marketo-sync"];
const scratch = mkdtempSync(join(tmpdir(), "ml-tarballs-"));
const packs = join(scratch, "packs");
mkdirSync(packs);

function run(cmd, args, cwd, extraEnv = {}) {
  console.log(`$ (${cwd.replace(scratch, "<scratch>")}) ${cmd} ${args.join(" ")}`);
  execFileSync(cmd, args, { cwd, stdio: "inherit", env: { ...process.env, ...extraEnv } });
}

for (const dir of PUBLISHED) run("pnpm", ["pack", "--pack-destination", packs], join(root, "packages", dir));
const tarballs = readdirSync(packs)
  .filter((f) => f.endsWith(".tgz"))
  .map((f) => join(packs, f));
if (tarballs.length !== PUBLISHED.length) throw new Error(`expected ${PUBLISHED.length} tarballs, got ${tarballs}`);

// The sync both projects run: both simulators on 127.0.0.1, 40 customers, the in-memory store, one run, then an
// unchanged second run that must write nothing.
const body = (imports) => `${imports}

async function main() {
  const qadSim = await startQadSimulator({ customers: 40, seed: 3 });
  const mkSim = await startMarketoSimulator({ timeScale: 0.01, latencyMs: 0 });
  try {
    const sync = createSync({
      source: qadCustomerSource(new QadClient({ ...qadSim.clientOptions })),
      marketo: marketoGateway(new MarketoClient({ ...mkSim.clientOptions })),
      store: createMemoryStore(),
      readBack: false,
    });
    const first = await sync.runOnce();
    if (first.status !== "completed") throw new Error("first run: " + JSON.stringify(first));
    const created = first.summary.outcomes.company.created;
    const second = await sync.runOnce();
    if (second.status !== "completed") throw new Error("second run: " + JSON.stringify(second));
    const writes = second.summary.marketoWriteCalls;
    if (created < 30 || writes !== 0) throw new Error("unexpected outcome: created " + created + ", rewritten " + writes);
    console.log("small sync ok: " + created + " companies created, second run made " + writes + " write calls");
  } finally {
    await qadSim.close();
    await mkSim.close();
  }
}
main().catch((e) => { console.error(e); process.exit(1); });
`;

const projects = [
  {
    name: "esm-ts",
    pkg: { name: "scratch-esm", private: true, type: "module" },
    file: "main.ts",
    source: body(`import { MarketoClient } from "@ml/marketo-client";
import { startMarketoSimulator } from "@ml/marketo-client/testing";
import { QadClient } from "@ml/qad-client";
import { startQadSimulator } from "@ml/qad-client/testing";
import { createMemoryStore, createSync, marketoGateway, qadCustomerSource } from "@ml/qad-marketo-sync";`),
    extraDeps: ["typescript@~5.9.2", "@types/node@^20.19.0"],
    check: (dir) => {
      writeFileSync(
        join(dir, "tsconfig.json"),
        JSON.stringify({
          compilerOptions: {
            target: "ES2022",
            module: "NodeNext",
            moduleResolution: "NodeNext",
            strict: true,
            outDir: "out",
            types: ["node"],
          },
          files: ["main.ts"],
        }),
      );
      run("npx", ["tsc", "-p", "tsconfig.json"], dir);
      run("node", ["out/main.js"], dir);
    },
  },
  {
    name: "cjs",
    pkg: { name: "scratch-cjs", private: true, type: "commonjs" },
    file: "main.js",
    source: body(`const { MarketoClient } = require("@ml/marketo-client");
const { startMarketoSimulator } = require("@ml/marketo-client/testing");
const { QadClient } = require("@ml/qad-client");
const { startQadSimulator } = require("@ml/qad-client/testing");
const { createMemoryStore, createSync, marketoGateway, qadCustomerSource } = require("@ml/qad-marketo-sync");`),
    extraDeps: [],
    check: (dir) => run("node", ["main.js"], dir),
  },
];

try {
  for (const p of projects) {
    const dir = join(scratch, p.name);
    mkdirSync(dir);
    writeFileSync(join(dir, "package.json"), JSON.stringify(p.pkg, null, 2));
    writeFileSync(join(dir, p.file), p.source);
    // --engine-strict: any dependency declaring a Node range that excludes this runtime fails the install.
    run("npm", ["install", "--engine-strict", "--no-audit", "--no-fund", ...tarballs, ...p.extraDeps], dir);
    p.check(dir);
    console.log(`ok   ${p.name}: tarballs installed with --engine-strict on Node ${process.versions.node}, sync ran`);
  }
} finally {
  if (!process.env.KEEP_SCRATCH) rmSync(scratch, { recursive: true, force: true });
  else console.log(`scratch kept in ${scratch}`);
}
