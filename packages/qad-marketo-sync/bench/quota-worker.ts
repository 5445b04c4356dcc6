// Worker process of the 4-worker quota bench (packages/marketo-client/bench/quota.bench.ts forks it). Modes:
//   --setup <adminUrl>         create a scratch database, send { url, name }, exit
//   --work <dbUrl> <w> <n>     open the PostgreSQL LimiterStore, send "ready"; on { type: "start", options } send n
//                              company writes at once through one MarketoClient, send { done, failed }, exit
//   --drop <adminUrl> <name>   drop the scratch database, exit
import { randomUUID } from "node:crypto";
import pg from "pg";
import { MarketoClient, type MarketoClientOptions } from "../../marketo-client/src/index.js";
import { createPostgresLimiterStore } from "../src/postgres/limiter-store.js";

const [mode, a, b, c] = process.argv.slice(2);

if (mode === "--setup") {
  const name = `mlquota_${randomUUID().replaceAll("-", "").slice(0, 16)}`;
  const admin = new pg.Client({ connectionString: a });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(a!);
  url.pathname = `/${name}`;
  process.send?.([{ url: url.toString(), name }], () => process.exit(0));
} else if (mode === "--drop") {
  const admin = new pg.Client({ connectionString: a });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(b!)} WITH (FORCE)`);
  await admin.end();
} else if (mode === "--work") {
  const worker = Number(b);
  const calls = Number(c);
  const pool = new pg.Pool({ connectionString: a, max: 4 });
  const limiterStore = await createPostgresLimiterStore({ pool, schema: "quota" });
  process.once("message", async (m: { type: "start"; options: MarketoClientOptions }) => {
    const mk = new MarketoClient({ ...m.options, limiterStore, usageSync: false });
    const settled = await Promise.allSettled(
      Array.from({ length: calls }, (_, i) => mk.companies.sync({ input: [{ externalCompanyId: `W${worker}-${i}` }] })),
    );
    const failed = settled.filter((s) => s.status === "rejected");
    for (const f of failed.slice(0, 3)) console.error(`worker ${worker}:`, (f as PromiseRejectedResult).reason);
    await pool.end();
    process.send?.({ done: calls - failed.length, failed: failed.length }, () => process.exit(0));
  });
  process.send?.({ type: "ready" });
}
