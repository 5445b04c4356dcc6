import { z } from "zod";
import { MarketoResponseParseError, MarketoValidationError } from "../errors.js";
import { toPage } from "../internal/filter-read.js";
import { Paged } from "../paging.js";
import type { ResourceContext } from "./object-resource.js";
import { type CallOptions, callFields } from "./types.js";

/** One activity (custom members kept). */
export interface Activity {
  id?: number;
  marketoGUID?: string;
  leadId: number;
  activityDate: string;
  activityTypeId: number;
  campaignId?: number;
  primaryAttributeValueId?: number;
  primaryAttributeValue?: string;
  attributes: { name: string; value: unknown; apiName?: string }[];
  [key: string]: unknown;
}

/**
 * One "Change Data Value" style record from `activities/leadchanges.json`. `newValue` / `oldValue` carry the field's
 * own type: text as a string, but integers, floats and booleans as JSON numbers and booleans (`null` when empty).
 */
export interface LeadChange extends Activity {
  fields?: {
    id: number;
    name: string;
    newValue?: string | number | boolean | null;
    oldValue?: string | number | boolean | null;
  }[];
}

/** A deleted lead record from `activities/deletedleads.json`. */
export interface DeletedLead {
  id?: number;
  leadId: number;
  activityDate: string;
  activityTypeId: number;
  [key: string]: unknown;
}

/** An activity type. */
export interface ActivityType {
  id: number;
  name: string;
  description?: string;
  apiName?: string;
  primaryAttribute?: { name: string; dataType: string; apiName?: string };
  attributes: { name: string; dataType: string; apiName?: string }[];
  [key: string]: unknown;
}

/** Parameters of {@link Activities.list}. */
export interface ActivityListParams {
  /** Where to start: from {@link Activities.pagingToken}, or a token saved from a page to resume. */
  nextPageToken: string;
  /** Activity type ids, 1 to 10 (Marketo's limit). */
  activityTypeIds: readonly number[];
  /** Only these leads (at most 30). */
  leadIds?: readonly number[];
  /** Only members of this static list. */
  listId?: number;
  /** Only this primary asset (with one activity type). */
  assetIds?: readonly number[];
  /**
   * Records per page, at most 300.
   * @default 300
   */
  batchSize?: number;
}

const attribute = z.looseObject({ name: z.string(), value: z.unknown(), apiName: z.string().optional() });
const activitySchema = z.looseObject({
  id: z.number().optional(),
  marketoGUID: z.string().optional(),
  leadId: z.number(),
  activityDate: z.string(),
  activityTypeId: z.number(),
  campaignId: z.number().optional(),
  primaryAttributeValueId: z.number().optional(),
  primaryAttributeValue: z.string().optional(),
  attributes: z.array(attribute).optional().default([]),
});
const changeValue = z.union([z.string(), z.number(), z.boolean()]).nullable().optional();
const leadChangeSchema = activitySchema.extend({
  fields: z
    .array(
      z.looseObject({
        id: z.number(),
        name: z.string(),
        // The field's own type: Marketo sends integers, floats and booleans unquoted.
        newValue: changeValue,
        oldValue: changeValue,
      }),
    )
    .optional(),
});
const deletedLeadSchema = z.looseObject({
  id: z.number().optional(),
  leadId: z.number(),
  activityDate: z.string(),
  activityTypeId: z.number(),
});
const typeAttr = z.looseObject({ name: z.string(), dataType: z.string(), apiName: z.string().optional() });
const activityTypeSchema = z.looseObject({
  id: z.number(),
  name: z.string(),
  description: z.string().optional(),
  apiName: z.string().optional(),
  primaryAttribute: typeAttr.optional(),
  attributes: z.array(typeAttr).optional().default([]),
});

function ids(name: string, values: readonly number[] | undefined, max: number, required: boolean): void {
  if (values === undefined) {
    if (required) throw new MarketoValidationError(`${name} is required`, { issues: [name] });
    return;
  }
  if (!Array.isArray(values) || (required && values.length === 0) || values.length > max) {
    throw new MarketoValidationError(`${name} must hold ${required ? "1" : "0"} to ${max} ids (Marketo's limit)`, {
      issues: [name],
    });
  }
  if (values.some((v) => !Number.isInteger(v))) {
    throw new MarketoValidationError(`${name} must be integers`, { issues: [name] });
  }
}

/**
 * Activities: a paging token from a date, then pages while `moreResult` (a page can be short, even empty, and still
 * have more). Every page carries the token to resume from; save it.
 */
export class Activities {
  readonly #ctx: ResourceContext;

  /** @internal */
  constructor(ctx: ResourceContext) {
    this.#ctx = ctx;
  }

  /** A paging token marking `since` (`activities/pagingtoken.json`). */
  async pagingToken(since: Date | string, options?: CallOptions): Promise<string> {
    const date = typeof since === "string" ? new Date(since) : since;
    if (!(date instanceof Date) || Number.isNaN(date.getTime())) {
      throw new MarketoValidationError("since must be a valid date", { issues: ["since"] });
    }
    const env = await this.#ctx.transport.request<unknown>({
      method: "GET",
      api: "rest",
      path: "/v1/activities/pagingtoken.json",
      query: { sinceDatetime: date.toISOString() },
      retry: "safe",
      ...callFields(options),
    });
    if (!env.nextPageToken) {
      throw new MarketoResponseParseError("pagingtoken.json answered without nextPageToken", {
        code: "PARSE",
        requestId: env.requestId,
      });
    }
    return env.nextPageToken;
  }

  #paged<T>(
    path: string,
    query: Record<string, string | number | readonly number[] | readonly string[] | undefined>,
    start: string,
    schema: z.ZodType<T>,
    options?: CallOptions,
  ): Paged<T> {
    return new Paged<T>(
      [
        {
          start,
          more: (page) => page.moreResult,
          fetch: async (token, s) => {
            const env = await this.#ctx.transport.request<unknown>({
              method: "GET",
              api: "rest",
              path,
              query: { ...query, nextPageToken: token },
              retry: "safe",
              ...callFields({ ...options, ...(s ? { signal: s } : {}) }),
            });
            const page = toPage(env, schema, path);
            // Activities say "more" only through moreResult; a missing flag means no more.
            page.moreResult = env.moreResult === true;
            return page;
          },
        },
      ],
      options?.signal,
    );
  }

  /**
   * Activities of up to 10 types after the token's date, paged. Resumable: pass a page's `nextPageToken`.
   *
   * @example
   * ```ts
   * const token = await mk.activities.pagingToken(new Date("2026-01-01"));
   * for await (const page of mk.activities.list({ nextPageToken: token, activityTypeIds: [1, 12] }).pages()) {
   *   await store(page.items); await saveCursor(page.nextPageToken);
   * }
   * ```
   */
  list(params: ActivityListParams, options?: CallOptions): Paged<Activity> {
    if (!params?.nextPageToken)
      throw new MarketoValidationError("nextPageToken is required (see pagingToken())", { issues: ["nextPageToken"] });
    ids("activityTypeIds", params.activityTypeIds, 10, true);
    ids("leadIds", params.leadIds, 30, false);
    return this.#paged(
      "/v1/activities.json",
      {
        activityTypeIds: params.activityTypeIds,
        leadIds: params.leadIds,
        listId: params.listId,
        assetIds: params.assetIds,
        batchSize: params.batchSize,
      },
      params.nextPageToken,
      activitySchema as z.ZodType<Activity>,
      options,
    );
  }

  /** Data value changes of lead fields after the token's date, paged (`activities/leadchanges.json`). */
  leadChanges(
    params: {
      nextPageToken: string;
      fields: readonly string[];
      leadIds?: readonly number[];
      listId?: number;
      batchSize?: number;
    },
    options?: CallOptions,
  ): Paged<LeadChange> {
    if (!params?.nextPageToken)
      throw new MarketoValidationError("nextPageToken is required", { issues: ["nextPageToken"] });
    if (!Array.isArray(params.fields) || params.fields.length === 0) {
      throw new MarketoValidationError("fields must list at least one lead field", { issues: ["fields"] });
    }
    ids("leadIds", params.leadIds, 30, false);
    return this.#paged(
      "/v1/activities/leadchanges.json",
      { fields: params.fields, leadIds: params.leadIds, listId: params.listId, batchSize: params.batchSize },
      params.nextPageToken,
      leadChangeSchema as z.ZodType<LeadChange>,
      options,
    );
  }

  /** Leads deleted after the token's date, paged (`activities/deletedleads.json`). */
  deletedLeads(params: { nextPageToken: string; batchSize?: number }, options?: CallOptions): Paged<DeletedLead> {
    if (!params?.nextPageToken)
      throw new MarketoValidationError("nextPageToken is required", { issues: ["nextPageToken"] });
    return this.#paged(
      "/v1/activities/deletedleads.json",
      { batchSize: params.batchSize },
      params.nextPageToken,
      deletedLeadSchema as z.ZodType<DeletedLead>,
      options,
    );
  }

  /** Every activity type of the instance. */
  async types(options?: CallOptions): Promise<ActivityType[]> {
    const env = await this.#ctx.transport.request<unknown>({
      method: "GET",
      api: "rest",
      path: "/v1/activities/types.json",
      retry: "safe",
      ...callFields(options),
    });
    return toPage(env, activityTypeSchema as z.ZodType<ActivityType>, "/v1/activities/types.json").items;
  }
}
