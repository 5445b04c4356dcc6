import { type Customer, isQadInvalidRecord, type QadCheckpoint, type QadClient } from "@ml/qad-client";
import { qadCustomerSourceOptionsSchema, validate } from "../engine/options.js";
import { defaultExternalCompanyId } from "../mapping/defaults.js";
import type { CustomerSource, JsonValue, SourceItem, SourceKey, SourceRead } from "../ports.js";
import type { SourceCustomer } from "../source/customer-schema.js";

/** Options of {@link qadCustomerSource}. */
export interface QadCustomerSourceOptions {
  /** Seconds re-read below the last high-water mark (records stamped late). @default the client's (900) */
  overlapSeconds?: number;
  /** Where the very first poll starts; omitted means a full read. */
  since?: Date;
  /** Rows per QAD page. @default the client's */
  pageSize?: number;
  /**
   * The audit key of an invalid row, from the row as read. Match it to the sync's `externalCompanyId` so a rejected
   * row and its later valid version share a key.
   * @default the default mapping's key of the row's codes (`sharedSetCode.customerCode`, `.` and `%` escaped)
   */
  invalidKey?: (raw: unknown, qadKey: string | undefined) => string | undefined;
  /**
   * The key `keys()` lists for a customer (reconcile compares it with the synced keys). Match it to the sync's
   * `keyOf` / `mapping.externalCompanyId` when you change those.
   * @default the default mapping's key (`sharedSetCode.customerCode`, `.` and `%` escaped: `defaultExternalCompanyId`)
   */
  keyOf?: (customer: Customer) => string;
  /** Rows per QAD page of the `keys()` listing. @default 1000 */
  keysPageSize?: number;
}

/** The default mapping's key of a customer's two codes, given trimmed as the edge schema trims them (escaped: {@link defaultExternalCompanyId}). */
const companyKeyOf = (sharedSetCode: string, customerCode: string): string =>
  defaultExternalCompanyId({ sharedSetCode, customerCode } as SourceCustomer);

/**
 * The key of an invalid row: the key the default mapping gives the row's codes once valid (trimmed, as the edge
 * schema trims them, and escaped), so a rejected row and its later valid version share one key even for codes
 * holding `.` or `%`. Without codes in the row, QAD's own `sharedSetCode/customerCode` key, split at its first `/`.
 */
const defaultInvalidKey = (raw: unknown, qadKey: string | undefined): string | undefined => {
  const r = (typeof raw === "object" && raw !== null ? raw : {}) as Record<string, unknown>;
  if (typeof r.sharedSetCode === "string" && typeof r.customerCode === "string" && r.customerCode.trim() !== "") {
    return companyKeyOf(r.sharedSetCode.trim(), r.customerCode.trim());
  }
  if (qadKey === undefined) return undefined;
  const at = qadKey.indexOf("/");
  return at < 0 ? qadKey : companyKeyOf(qadKey.slice(0, at).trim(), qadKey.slice(at + 1).trim());
};

/**
 * The engine's {@link CustomerSource} over `@ml/qad-client`: an incremental poll of customers (REST or QXtend, as
 * the client is configured) from the saved checkpoint, with invalid rows yielded as values so the engine rejects
 * them into the audit trail. The QAD checkpoint only advances once a poll has been read to the end: a stopped run
 * re-reads its window next time, and unchanged records cost no Marketo call (content hashes).
 *
 * @example
 * const qad = new QadClient({ tenantUrl, auth: { kind: "password", clientId, username, password } });
 * const sync = createSync({ source: qadCustomerSource(qad), marketo, store });
 */
export function qadCustomerSource(
  qad: Pick<QadClient, "customers">,
  options: QadCustomerSourceOptions = {},
): CustomerSource {
  validate(qadCustomerSourceOptionsSchema, options, "qadCustomerSource", "options");
  const invalidKey = options.invalidKey ?? defaultInvalidKey;
  const keyOf = options.keyOf ?? ((c: Customer) => companyKeyOf(c.sharedSetCode.trim(), c.customerCode.trim()));
  return {
    /**
     * Every customer QAD lists now, as keys with the `isActive` flag. The QAD client has no field selection, so the
     * rows come whole (in large pages) and only the key and flag are kept; an invalid row still counts as present
     * (under its key, when one can be told), so it is never taken for a deletion. A failed listing throws.
     */
    async *keys(keyOptions = {}): AsyncIterable<SourceKey> {
      const list = qad.customers.list({
        invalid: "emit",
        pageSize: options.keysPageSize ?? 1000,
        ...(keyOptions.signal ? { signal: keyOptions.signal } : {}),
      });
      for await (const row of list) {
        if (isQadInvalidRecord(row)) {
          const key = invalidKey(row.raw, row.key);
          if (key !== undefined) yield { key };
        } else {
          yield { key: keyOf(row), active: row.isActive };
        }
      }
    },
    read(from, readOptions = {}): SourceRead {
      const poll = qad.customers.changes((from ?? undefined) as QadCheckpoint | undefined, {
        invalid: "emit",
        ...(options.overlapSeconds !== undefined ? { overlapSeconds: options.overlapSeconds } : {}),
        ...(options.since ? { since: options.since } : {}),
        ...(options.pageSize !== undefined ? { pageSize: options.pageSize } : {}),
        ...(readOptions.signal ? { signal: readOptions.signal } : {}),
      });
      return {
        checkpoint: () => poll.checkpoint() as unknown as JsonValue,
        async *[Symbol.asyncIterator](): AsyncIterator<SourceItem> {
          for await (const row of poll) {
            if (isQadInvalidRecord(row)) {
              yield {
                type: "invalid",
                key: invalidKey(row.raw, row.key),
                reason: "QAD row failed validation",
                issues: row.issues.map((i) => {
                  const at = i.indexOf(": ");
                  return at > 0 ? { path: i.slice(0, at), message: i.slice(at + 2) } : { path: "", message: i };
                }),
              };
            } else {
              yield { type: "record", record: row };
            }
          }
        },
      };
    },
  };
}
