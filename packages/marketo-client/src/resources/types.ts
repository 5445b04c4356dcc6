/**
 * Shapes shared by every resource: records open to custom fields, per-record results and sync results.
 *
 * @module
 */
import { z } from "zod";

export type {
  Company,
  Lead,
  MarketoReason,
  MarketoRecord,
  NamedAccount,
  ObjectDescription,
  Opportunity,
  OpportunityRole,
  RecordResult,
  RecordStatus,
  SalesPerson,
  SyncAction,
  SyncResult,
} from "../records.js";

/** Per-call options accepted by every method. */
export interface CallOptions {
  /** Cancels the call, including waits in the limiter and between retries. */
  signal?: AbortSignal;
  /** Retries of transient failures for this call (each request of it), instead of the client's `retry.maxRetries`. */
  maxRetries?: number;
}

/** @internal The per-call fields a resource forwards to each transport request. */
export function callFields(options: CallOptions | undefined): { signal?: AbortSignal; maxRetries?: number } {
  return {
    ...(options?.signal ? { signal: options.signal } : {}),
    ...(options?.maxRetries !== undefined ? { maxRetries: options.maxRetries } : {}),
  };
}

const code = z.union([z.string(), z.number()]).transform(String);

/** @internal */
export const recordResultSchema = z.looseObject({
  seq: z.number().int().optional(),
  id: z.number().optional(),
  marketoGUID: z.string().optional(),
  status: z.enum(["created", "updated", "deleted", "skipped", "added", "removed"]).optional(),
  reasons: z.array(z.looseObject({ code, message: z.string().optional().default("") })).optional(),
});

/** @internal */
export const describeSchema = z.looseObject({
  name: z.string().optional(),
  idField: z.string().optional(),
  dedupeFields: z.array(z.string()).optional(),
  searchableFields: z.array(z.array(z.string())).optional(),
  fields: z
    .array(
      z.looseObject({
        name: z.string(),
        dataType: z.string().optional(),
        displayName: z.string().optional(),
        length: z.number().optional(),
        updateable: z.boolean().optional(),
        crmManaged: z.boolean().optional(),
      }),
    )
    .optional()
    .default([]),
});

/** @internal A record object from the wire, custom fields kept. */
export const recordSchema = z.record(z.string(), z.unknown());
