/**
 * Connection handling of the PostgreSQL stores: the pools they create, transactions on a pooled client, and driver
 * errors mapped to
 * {@link SyncError} with code `store` (retryable when the failure was the connection, a deadlock or a serialisation
 * conflict, so the engine may try again).
 *
 * @module
 * @internal
 */

import pg from "pg";
import { isSyncError, SyncError } from "../errors.js";

// SQLSTATE classes where trying again may succeed: connection exceptions, transaction rollbacks (deadlock,
// serialisation), insufficient resources, operator intervention (server shutting down).
const RETRYABLE_SQLSTATE = /^(08|40|53|57P)/;
const RETRYABLE_NODE_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "EHOSTUNREACH", "ENOTFOUND"]);

/** Whether a driver error says trying again may succeed. @internal */
export function isRetryableDriverError(e: unknown): boolean {
  if (typeof e !== "object" || e === null) return false;
  const code = (e as { code?: unknown }).code;
  if (typeof code === "string" && (RETRYABLE_SQLSTATE.test(code) || RETRYABLE_NODE_CODES.has(code))) return true;
  const message = (e as { message?: unknown }).message;
  return typeof message === "string" && /Connection terminated|connection timeout/i.test(message);
}

/**
 * A {@link SyncError} (code `store`) for a failed store operation; errors of this package pass through unchanged. The
 * message names the operation and the driver's message (never parameters, so no payload or sealed value).
 * @internal
 */
export function storeError(operation: string, e: unknown): SyncError {
  if (isSyncError(e)) return e;
  const message = e instanceof Error ? e.message : String(e);
  return new SyncError("store", `PostgreSQL store: ${operation} failed: ${message}`, {
    cause: e,
    retryable: isRetryableDriverError(e),
  });
}

/**
 * A pool a store creates (and ends on close). An idle client losing its connection (server restart, failover, a
 * terminated backend) emits `error` on the pool; pg has already discarded it, and the next query fails (and is
 * reported) on its own. Without a listener that event would crash the process.
 * @internal
 */
export function createPool(connectionString: string, max?: number): pg.Pool {
  const pool = new pg.Pool(max === undefined ? { connectionString } : { connectionString, max });
  pool.on("error", () => {});
  return pool;
}

/**
 * Runs `fn` in one transaction on one pooled client: COMMIT when it resolves, ROLLBACK when it throws. A client whose
 * rollback failed is destroyed instead of being returned to the pool.
 * @internal
 */
export async function inTransaction<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query("BEGIN");
    try {
      const result = await fn(client);
      await client.query("COMMIT");
      return result;
    } catch (e) {
      await client.query("ROLLBACK").catch((rollbackError: unknown) => {
        broken = rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError));
      });
      throw e;
    }
  } finally {
    client.release(broken);
  }
}
