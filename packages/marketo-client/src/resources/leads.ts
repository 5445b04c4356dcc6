import { z } from "zod";
import { MarketoResponseParseError } from "../errors.js";
import { syncInBatches } from "../internal/batch-sync.js";
import { type FilterReadParams, filterRead } from "../internal/filter-read.js";
import { assertOneOf, assertOptions, assertParams, assertRecords } from "../internal/validate.js";
import type { Paged } from "../paging.js";
import type { ResourceContext, WriteOptions } from "./object-resource.js";
import {
  type CallOptions,
  callFields,
  describeSchema,
  type Lead,
  type ObjectDescription,
  type SyncResult,
} from "./types.js";

/** Parameters of a lead sync. */
export interface LeadSyncParams {
  /**
   * What to do with each lead.
   * @default "createOrUpdate"
   */
  action?: "createOnly" | "updateOnly" | "createOrUpdate" | "createDuplicate";
  /**
   * Field to match leads on; must be present in every record.
   * @default "email"
   */
  lookupField?: string;
  /** Lead partition to write to (instances with partitions). */
  partitionName?: string;
  /** Leads; more than 300 are split into several requests. */
  input: readonly Lead[];
}

/** One lead field as `leads/describe.json` reports it (custom members kept). */
export interface LeadField {
  id: number;
  displayName: string;
  dataType: string;
  length?: number;
  /** REST name; fields without it are not available through REST. */
  rest?: { name: string; readOnly?: boolean };
  soap?: { name: string; readOnly?: boolean };
  [key: string]: unknown;
}

const leadFieldSchema = z.looseObject({
  id: z.number(),
  displayName: z.string(),
  dataType: z.string(),
  length: z.number().optional(),
  rest: z.looseObject({ name: z.string(), readOnly: z.boolean().optional() }).optional(),
  soap: z.looseObject({ name: z.string(), readOnly: z.boolean().optional() }).optional(),
});

/**
 * The value leads are deduplicated and serialised by within one call: Marketo matches emails case-insensitively, so
 * `Ann@X.com` and `ann@x.com` are one lead and must never go out in two concurrent requests (an upsert race would
 * create two leads). Other lookup fields are compared as given.
 */
function lookupKey(value: unknown, caseless: boolean): string | undefined {
  if (value === undefined || value === null || value === "") return undefined;
  const text = String(value);
  return caseless ? text.trim().toLowerCase() : text;
}

const ACTIONS = ["createOnly", "updateOnly", "createOrUpdate", "createDuplicate"] as const;

/** Leads (`/rest/v1/leads.json`). Always writable through the API, even with a native CRM sync. */
export class Leads {
  readonly #ctx: ResourceContext;

  /** @internal */
  constructor(ctx: ResourceContext) {
    this.#ctx = ctx;
  }

  /**
   * Creates or updates leads, matched on `lookupField`. Duplicates of the lookup value in the input are resolved before
   * sending (last write wins; the others are `skipped` with `1036`). Emails are compared case-insensitively (and
   * trimmed), as Marketo matches them, so two case variants of one address are one lead. `createDuplicate` skips this
   * deduplication.
   */
  async sync(params: LeadSyncParams, options?: WriteOptions): Promise<SyncResult> {
    assertParams(params, "leads sync", "{ input: [...] }");
    assertOptions(options, "leads sync");
    const action = params.action ?? "createOrUpdate";
    assertOneOf(action, ACTIONS, "action");
    assertRecords(params.input, "leads sync");
    const lookupField = params.lookupField ?? "email";
    const caseless = lookupField.toLowerCase() === "email";
    return syncInBatches<Lead>(
      {
        transport: this.#ctx.transport,
        capabilities: this.#ctx.capabilities,
        path: "/v1/leads.json",
        keyOf: action === "createDuplicate" ? undefined : (r) => lookupKey(r[lookupField], caseless),
        keyName: caseless ? `${lookupField} (matched case-insensitively)` : lookupField,
        body: (input) => ({
          action,
          lookupField,
          ...(params.partitionName !== undefined ? { partitionName: params.partitionName } : {}),
          input,
        }),
        retry: options?.retry ?? (action === "createOnly" || action === "createDuplicate" ? "unsafe" : "safe"),
        batchSize: this.#ctx.batchSize,
        maxBodyBytes: this.#ctx.maxBodyBytes,
        call: options,
      },
      params.input,
    );
  }

  /** Reads leads by a searchable field (`email`, `id`, ...), paged. */
  get(params: FilterReadParams, options?: CallOptions): Paged<Lead> {
    return filterRead(this.#ctx.transport, "/v1/leads.json", params, z.looseObject({}) as z.ZodType<Lead>, options);
  }

  /** Every lead field with its REST name and data type (`leads/describe.json`). Build bulk field lists from it. */
  async describe(options?: CallOptions): Promise<LeadField[]> {
    const env = await this.#ctx.transport.request<unknown>({
      method: "GET",
      api: "rest",
      path: "/v1/leads/describe.json",
      retry: "safe",
      ...callFields(options),
    });
    const parsed = z.array(leadFieldSchema).safeParse(env.result);
    if (!parsed.success) {
      throw new MarketoResponseParseError("Unexpected leads describe shape", {
        code: "PARSE",
        requestId: env.requestId,
      });
    }
    return parsed.data as LeadField[];
  }

  /** Searchable fields and fields with `updateable` / `crmManaged` flags (`leads/describe2.json`). */
  async describe2(options?: CallOptions): Promise<ObjectDescription> {
    const env = await this.#ctx.transport.request<unknown>({
      method: "GET",
      api: "rest",
      path: "/v1/leads/describe2.json",
      retry: "safe",
      ...callFields(options),
    });
    const parsed = describeSchema.safeParse(env.result[0] ?? {});
    if (!parsed.success) {
      throw new MarketoResponseParseError("Unexpected leads describe2 shape", {
        code: "PARSE",
        requestId: env.requestId,
      });
    }
    return parsed.data as ObjectDescription;
  }

  /** Deletes leads by id; one result per input record. */
  async delete(params: { input: readonly { id: number }[] }, options?: WriteOptions): Promise<SyncResult> {
    assertParams(params, "leads delete", "{ input: [{ id }] }");
    assertOptions(options, "leads delete");
    assertRecords(params.input, "leads delete");
    return syncInBatches<{ id: number }>(
      {
        transport: this.#ctx.transport,
        capabilities: this.#ctx.capabilities,
        path: "/v1/leads/delete.json",
        keyOf: (r) => (r.id === undefined ? undefined : String(r.id)),
        keyName: "id",
        body: (input) => ({ input }),
        retry: options?.retry ?? "unsafe",
        batchSize: this.#ctx.batchSize,
        maxBodyBytes: this.#ctx.maxBodyBytes,
        call: options,
      },
      params.input,
    );
  }
}
