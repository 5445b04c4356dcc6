import type { ZodType } from "zod";
import type { Capabilities, CapabilityObject } from "../capabilities.js";
import { MarketoResponseParseError } from "../errors.js";
import { syncInBatches } from "../internal/batch-sync.js";
import { type FilterReadParams, filterRead } from "../internal/filter-read.js";
import { assertOneOf, assertOptions, assertParams, assertRecords } from "../internal/validate.js";
import type { Paged } from "../paging.js";
import type { Transport } from "../transport/transport.js";
import {
  type CallOptions,
  callFields,
  describeSchema,
  type MarketoRecord,
  type ObjectDescription,
  recordSchema,
  type SyncAction,
  type SyncResult,
} from "./types.js";

/** Options of a write call. */
export interface WriteOptions extends CallOptions {
  /**
   * Whether a failed attempt whose outcome is unknown (network error or 5xx after sending) may be sent again.
   * Defaults per call: `safe` for `createOrUpdate` and `updateOnly` (repeating them lands on the same state),
   * `unsafe` for `createOnly` and deletes. Marketo's 6xx answers mean "not executed" and are always retried.
   */
  retry?: "safe" | "unsafe";
}

/** Parameters of a sync. */
export interface SyncParams<T> {
  /**
   * What to do with each record.
   * @default "createOrUpdate"
   */
  action?: SyncAction;
  /**
   * Match records by the object's dedupe fields or by its id field.
   * @default "dedupeFields"
   */
  dedupeBy?: "dedupeFields" | "idField";
  /** Records; more than 300 are split into several requests, results come back in input order. */
  input: readonly T[];
}

/** Parameters of a delete. */
export interface DeleteParams<T> {
  /**
   * Identify records by dedupe fields or by id field.
   * @default "dedupeFields"
   */
  deleteBy?: "dedupeFields" | "idField";
  /** Records carrying only the key fields. */
  input: readonly T[];
}

/** @internal Static description of one object type. */
export interface ObjectSpec {
  /** Path segment, e.g. `companies`, `opportunities/roles`. */
  segment: string;
  /** Name in messages. */
  label: string;
  dedupeFields: readonly string[];
  idField: string;
  capability?: CapabilityObject;
  /** Whether `dedupeBy` is sent (named accounts accept it with updateOnly only). */
  sendDedupeBy: (action: SyncAction) => boolean;
}

/** @internal Shared dependencies of resources. */
export interface ResourceContext {
  transport: Transport;
  capabilities: Capabilities;
  batchSize: number;
  maxBodyBytes: number;
}

const ACTIONS = ["createOnly", "updateOnly", "createOrUpdate"] as const;
const BY = ["dedupeFields", "idField"] as const;

function keyOf(fields: readonly string[]): (r: MarketoRecord) => string | undefined {
  return (r) => {
    const parts = fields.map((f) => r[f]);
    if (parts.some((p) => p === undefined || p === null || p === "")) return undefined;
    return JSON.stringify(parts);
  };
}

/**
 * Sync, read, describe and delete of one object type. Resource classes are thin configurations of this one.
 * @typeParam T - the record type.
 */
export class ObjectResource<T extends MarketoRecord> {
  /** @internal */
  protected readonly ctx: ResourceContext;
  /** @internal */
  protected readonly spec: ObjectSpec;

  /** @internal Created by the client. */
  constructor(ctx: ResourceContext, spec: ObjectSpec) {
    this.ctx = ctx;
    this.spec = spec;
  }

  /**
   * Creates or updates records. Duplicates of a dedupe key in the input are resolved before sending (last write wins;
   * the others come back `skipped` with reason `1036`). Never throws for per-record failures: read `results`.
   *
   * @example
   * ```ts
   * const { results } = await mk.companies.sync({ input: [{ externalCompanyId: "C-1", company: "Acme" }] });
   * for (const r of results) if (r.status === "skipped") console.warn(r.index, r.reasons);
   * ```
   */
  async sync(params: SyncParams<T>, options?: WriteOptions): Promise<SyncResult> {
    assertParams(params, `${this.spec.label} sync`, "{ input: [...] }");
    assertOptions(options, `${this.spec.label} sync`);
    const action = params.action ?? "createOrUpdate";
    const dedupeBy = params.dedupeBy ?? "dedupeFields";
    assertOneOf(action, ACTIONS, "action");
    assertOneOf(dedupeBy, BY, "dedupeBy");
    assertRecords(params.input, `${this.spec.label} sync`);
    const keyFields = dedupeBy === "idField" ? [this.spec.idField] : this.spec.dedupeFields;
    return syncInBatches<T>(
      {
        transport: this.ctx.transport,
        capabilities: this.ctx.capabilities,
        path: `/v1/${this.spec.segment}.json`,
        object: this.spec.capability,
        keyOf: keyOf(keyFields),
        keyName: keyFields.join("+"),
        body: (input) => ({ action, ...(this.spec.sendDedupeBy(action) ? { dedupeBy } : {}), input }),
        retry: options?.retry ?? (action === "createOnly" ? "unsafe" : "safe"),
        batchSize: this.ctx.batchSize,
        maxBodyBytes: this.ctx.maxBodyBytes,
        call: options,
      },
      params.input,
    );
  }

  /**
   * Reads records matching a filter, as a lazy paged iterator. More than 300 values are split into several reads.
   *
   * @example
   * ```ts
   * const all = await mk.companies.get({ filterType: "externalCompanyId", filterValues: ["C-1", "C-2"] }).toArray();
   * ```
   */
  get(params: FilterReadParams, options?: CallOptions): Paged<T> {
    return filterRead(
      this.ctx.transport,
      `/v1/${this.spec.segment}.json`,
      params,
      recordSchema as unknown as ZodType<T>,
      options,
    );
  }

  /** Describes the object: fields (with `updateable`), dedupe fields, searchable fields. */
  async describe(options?: CallOptions): Promise<ObjectDescription> {
    const env = await this.ctx.transport.request<unknown>({
      method: "GET",
      api: "rest",
      path: `/v1/${this.spec.segment}/describe.json`,
      retry: "safe",
      ...callFields(options),
    });
    const parsed = describeSchema.safeParse(env.result[0] ?? {});
    if (!parsed.success) {
      throw new MarketoResponseParseError(`Unexpected describe shape for ${this.spec.label}`, {
        code: "PARSE",
        requestId: env.requestId,
      });
    }
    return parsed.data as ObjectDescription;
  }

  /** Deletes records by dedupe fields or id field; one result per input record. */
  async delete(params: DeleteParams<T>, options?: WriteOptions): Promise<SyncResult> {
    assertParams(params, `${this.spec.label} delete`, "{ input: [...] }");
    assertOptions(options, `${this.spec.label} delete`);
    const deleteBy = params.deleteBy ?? "dedupeFields";
    assertOneOf(deleteBy, BY, "deleteBy");
    assertRecords(params.input, `${this.spec.label} delete`);
    const keyFields = deleteBy === "idField" ? [this.spec.idField] : this.spec.dedupeFields;
    return syncInBatches<T>(
      {
        transport: this.ctx.transport,
        capabilities: this.ctx.capabilities,
        path: `/v1/${this.spec.segment}/delete.json`,
        object: this.spec.capability,
        keyOf: keyOf(keyFields),
        keyName: keyFields.join("+"),
        body: (input) => ({ deleteBy, input }),
        retry: options?.retry ?? "unsafe",
        batchSize: this.ctx.batchSize,
        maxBodyBytes: this.ctx.maxBodyBytes,
        call: options,
      },
      params.input,
    );
  }
}
