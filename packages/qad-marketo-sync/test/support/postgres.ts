import { randomUUID } from "node:crypto";
import pg from "pg";

/**
 * The variable that points the PostgreSQL tests at a server (an admin connection URL: the tests create and drop
 * databases of their own through it), e.g. `ML_TEST_PG_URL=postgres://postgres@127.0.0.1:5432/postgres`.
 */
export const PG_URL_VARIABLE = "ML_TEST_PG_URL";

const url = process.env[PG_URL_VARIABLE];

/** True when the PostgreSQL tests run. In CI they always do: a missing server fails the run instead of skipping. */
export const hasPostgres = url !== undefined && url !== "";

if (!hasPostgres) {
  if (process.env.CI === "true") {
    throw new Error(`CI=true but ${PG_URL_VARIABLE} is not set: the PostgreSQL tests must run in CI`);
  }
  console.warn(
    `\n*** PostgreSQL tests SKIPPED: set ${PG_URL_VARIABLE}=postgres://postgres@127.0.0.1:5432/postgres to run them ***\n`,
  );
}

/** A scratch database of one test file: created empty, dropped (with its connections) by `drop()`. */
export interface ScratchDatabase {
  /** Connection URL of the scratch database. */
  url: string;
  /** Database name. */
  name: string;
  /** Drops the database, terminating connections still open to it. */
  drop(): Promise<void>;
}

/** Creates an empty database with a unique name on the server named by {@link PG_URL_VARIABLE}. */
export async function createScratchDatabase(prefix = "mlsync"): Promise<ScratchDatabase> {
  if (!url) throw new Error(`${PG_URL_VARIABLE} is not set`);
  const name = `${prefix}_${randomUUID().replaceAll("-", "").slice(0, 16)}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const target = new URL(url);
  target.pathname = `/${name}`;
  return {
    url: target.toString(),
    name,
    async drop() {
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}
