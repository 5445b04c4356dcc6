import { z } from "zod";
import { toPage } from "../internal/filter-read.js";
import type { ResourceContext } from "./object-resource.js";
import { type CallOptions, callFields } from "./types.js";

/** API usage of one day (`stats/usage.json`). */
export interface Usage {
  /** The day. */
  date: string;
  /** Calls made that day by every API user of the instance. */
  total: number;
  /** Calls per API user. */
  users: { userId: string; count: number }[];
}

const usageSchema = z.looseObject({
  date: z.string(),
  total: z.number().optional().default(0),
  users: z
    .array(z.looseObject({ userId: z.string(), count: z.number() }))
    .optional()
    .default([]),
});

/** API usage statistics. */
export class Stats {
  readonly #ctx: ResourceContext;

  /** @internal */
  constructor(ctx: ResourceContext) {
    this.#ctx = ctx;
  }

  /** Today's API calls of the instance (every API user). This call counts against the quota too. */
  async usage(options?: CallOptions): Promise<Usage> {
    const env = await this.#ctx.transport.request<unknown>({
      method: "GET",
      api: "rest",
      path: "/v1/stats/usage.json",
      retry: "safe",
      ...callFields(options),
    });
    const items = toPage(env, usageSchema as z.ZodType<Usage>, "/v1/stats/usage.json").items;
    return items[0] ?? { date: new Date().toISOString().slice(0, 10), total: 0, users: [] };
  }
}
