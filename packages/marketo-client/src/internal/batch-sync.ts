import type { Capabilities, CapabilityObject } from "../capabilities.js";
import { isMarketoError, MarketoReadOnlyError, type MarketoReason, MarketoSyncIncompleteError } from "../errors.js";
import {
  type CallOptions,
  callFields,
  type RecordResult,
  recordResultSchema,
  type SyncResult,
} from "../resources/types.js";
import type { Transport, TransportRequest } from "../transport/transport.js";

/** How one object's sync (or delete) request is built. */
export interface BatchSpec<R> {
  transport: Transport;
  capabilities: Capabilities;
  /** Path of the write, e.g. `/v1/companies.json`. */
  path: string;
  /** The object whose 1018 answers flip its capability, if it can be CRM-owned. */
  object?: CapabilityObject | undefined;
  /** The dedupe key of a record, when records with the same key must not share a request. */
  keyOf?: ((record: R) => string | undefined) | undefined;
  /** Name of the key, for messages. */
  keyName?: string;
  /** Request body for a batch of records. */
  body: (records: R[]) => unknown;
  /** Whether repeating the request is harmless (see `TransportRequest.retry`). */
  retry: TransportRequest["retry"];
  batchSize: number;
  maxBodyBytes: number;
  /** Per-call options (signal, maxRetries). */
  call?: CallOptions | undefined;
}

const MAX_ROUNDS = 4;

function skipped(index: number, reason: MarketoReason): RecordResult {
  return { index, seq: index, status: "skipped", reasons: [reason] };
}

/** Splits indexes into batches of at most `size` records and about `maxBytes` of JSON. */
function split<R>(indexes: number[], input: readonly R[], size: number, maxBytes: number): number[][] {
  const out: number[][] = [];
  let current: number[] = [];
  let bytes = 512;
  for (const i of indexes) {
    const b = Buffer.byteLength(JSON.stringify(input[i])) + 1;
    if (current.length > 0 && (current.length >= size || bytes + b > maxBytes)) {
      out.push(current);
      current = [];
      bytes = 512;
    }
    current.push(i);
    bytes += b;
  }
  if (current.length > 0) out.push(current);
  return out;
}

/**
 * Writes `input` in batches and returns one result per input record in input order. Duplicates of a dedupe key are
 * resolved before sending (last write wins; earlier ones are `skipped` with reason `1036`); records the server still
 * reports as duplicates (1036) are sent again in a later request; 1018 flips the object's capability.
 */
export async function syncInBatches<R>(spec: BatchSpec<R>, input: readonly R[]): Promise<SyncResult> {
  const results: (RecordResult | undefined)[] = new Array(input.length);
  const requestIds: string[] = [];
  const warnings: string[] = [];
  const object = spec.object;

  const learned = object ? spec.capabilities.learned(object) : undefined;
  if (object && learned) {
    if (learned.via === "response") {
      throw new MarketoReadOnlyError(
        `${object} are read-only for this Marketo instance (1018 CRM Enabled): ${learned.reason}`,
        {
          code: "1018",
          object,
          errors: [{ code: "1018", message: learned.reason }],
        },
      );
    }
    return {
      results: input.map((_, i) =>
        skipped(i, { code: "1018", message: `${object} are read-only (CRM Enabled, learned earlier): not sent` }),
      ),
      requestIds,
      warnings,
    };
  }

  let pending: number[] = [];
  if (spec.keyOf) {
    const winner = new Map<string, number>();
    input.forEach((r, i) => {
      const k = spec.keyOf!(r);
      if (k !== undefined) winner.set(k, i);
    });
    input.forEach((r, i) => {
      const k = spec.keyOf!(r);
      const w = k === undefined ? i : winner.get(k)!;
      if (w === i) pending.push(i);
      else
        results[i] = skipped(i, {
          code: "1036",
          message: `Duplicate ${spec.keyName ?? "key"} ${JSON.stringify(k)} in the input: record #${w} was sent instead (last write wins)`,
        });
    });
  } else {
    pending = input.map((_, i) => i);
  }

  const failed: number[] = [];
  let firstError: unknown;
  for (let round = 0; pending.length > 0; round++) {
    // Later rounds carry records Marketo saw as duplicates: one request at a time (and, from the third round, one
    // record per request) so two writes of the same key never race.
    const size = round >= 2 ? 1 : spec.batchSize;
    const batches = split(pending, input, size, spec.maxBodyBytes);
    const again: number[] = [];
    const send = (batch: number[]) =>
      spec.transport.request({
        method: "POST",
        api: "rest",
        path: spec.path,
        body: spec.body(batch.map((i) => input[i]!)),
        retry: spec.retry,
        ...callFields(spec.call),
      });
    let settled: PromiseSettledResult<Awaited<ReturnType<typeof send>>>[];
    if (round === 0) {
      settled = await Promise.allSettled(batches.map(send));
    } else {
      settled = [];
      for (const batch of batches) settled.push(...(await Promise.allSettled([send(batch)])));
    }
    settled.forEach((outcome, b) => {
      const batch = batches[b]!;
      if (outcome.status === "rejected") {
        let error = outcome.reason;
        if (object && error instanceof MarketoReadOnlyError) {
          spec.capabilities.learnReadOnly(object, error.message, "response");
          error = new MarketoReadOnlyError(error.message, {
            code: error.code,
            object,
            requestId: error.requestId,
            status: error.status,
            request: error.request,
            errors: error.errors,
          });
        }
        firstError ??= error;
        failed.push(...batch);
        return;
      }
      const env = outcome.value;
      if (env.requestId) requestIds.push(env.requestId);
      warnings.push(...env.warnings);
      const bySeq = new Map<number, ReturnType<typeof recordResultSchema.parse>>();
      env.result.forEach((raw, pos) => {
        const parsed = recordResultSchema.safeParse(raw);
        if (parsed.success) bySeq.set(parsed.data.seq ?? pos, parsed.data);
      });
      batch.forEach((index, seq) => {
        const r = bySeq.get(seq);
        if (!r) {
          results[index] = skipped(index, { code: "NO_RESULT", message: "Marketo returned no result for this record" });
          return;
        }
        const reasons = (r.reasons ?? []).map((x) => ({ code: x.code, message: x.message }));
        if (reasons.some((x) => x.code === "1036") && round < MAX_ROUNDS) {
          again.push(index);
          return;
        }
        const ro = reasons.find((x) => x.code === "1018");
        if (object && ro) spec.capabilities.learnReadOnly(object, ro.message || "CRM Enabled", "record");
        const out: RecordResult = { index, seq, status: r.status ?? (reasons.length ? "skipped" : "updated"), reasons };
        if (r.id !== undefined) out.id = r.id;
        if (r.marketoGUID !== undefined) out.marketoGUID = r.marketoGUID;
        results[index] = out;
      });
    });
    // Records Marketo saw as duplicates of another in the same request go again, alone with their key.
    pending = again.sort((a, b) => a - b);
  }

  if (failed.length > 0) {
    const done = results.filter((r): r is RecordResult => r !== undefined);
    if (done.length === 0 || !isMarketoError(firstError)) throw firstError;
    throw new MarketoSyncIncompleteError(
      `${failed.length} of ${input.length} records were not written: ${firstError.message}`,
      {
        code: firstError.code,
        retryable: firstError.retryable,
        requestId: firstError.requestId,
        cause: firstError,
        partial: { results: done, requestIds, warnings },
        failedIndexes: failed.sort((a, b) => a - b),
      },
    );
  }
  return { results: results as RecordResult[], requestIds, warnings };
}
