import type { z } from "zod";
import { MarketoResponseParseError, MarketoValidationError } from "../errors.js";
import { type Page, Paged } from "../paging.js";
import { type CallOptions, callFields } from "../resources/types.js";
import type { Transport } from "../transport/transport.js";

/** Parameters of a read by filter (companies, leads, opportunities, ...). */
export interface FilterReadParams {
  /** Field to filter on (a searchable field from describe), e.g. `externalCompanyId`, `email`, `id`. */
  filterType: string;
  /** Values to match. More than 300 are split into several requests (Marketo's limit per request). */
  filterValues: readonly (string | number)[];
  /** Fields to return (default: Marketo's default set). */
  fields?: readonly string[];
  /**
   * Records per page, at most 300.
   * @default 300
   */
  batchSize?: number;
  /** Resume from a saved token (applies to the first group of 300 values; use `cursor` for longer reads). */
  nextPageToken?: string;
  /** Resume from a page's `cursor` (same filterType and filterValues), however many values the read has. */
  cursor?: string;
}

/** @internal */
export function encodeCursor(group: number, token: string | undefined): string {
  return Buffer.from(JSON.stringify(token === undefined ? [group] : [group, token])).toString("base64url");
}

/** @internal */
export function decodeCursor(cursor: string): { group: number; token: string | undefined } | undefined {
  try {
    const v = JSON.parse(Buffer.from(cursor, "base64url").toString()) as unknown;
    if (!Array.isArray(v) || !Number.isInteger(v[0]) || v[0] < 0) return undefined;
    if (v.length > 1 && typeof v[1] !== "string") return undefined;
    return { group: v[0] as number, token: v[1] as string | undefined };
  } catch {
    return undefined;
  }
}

/** Splits `values` into groups of at most `size`. */
export function chunk<T>(values: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < values.length; i += size) out.push(values.slice(i, i + size));
  return out;
}

/** A paged read by filter; long URIs are handled by the transport (POST with `_method=GET`). */
export function filterRead<T>(
  transport: Transport,
  path: string,
  params: FilterReadParams,
  item: z.ZodType<T>,
  options: CallOptions | undefined,
): Paged<T> {
  if (!params || typeof params.filterType !== "string" || params.filterType === "") {
    throw new MarketoValidationError("filterType is required", { issues: ["filterType: required"] });
  }
  if (!Array.isArray(params.filterValues) || params.filterValues.length === 0) {
    throw new MarketoValidationError("filterValues must be a non-empty array", { issues: ["filterValues: empty"] });
  }
  const batchSize = params.batchSize ?? 300;
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 300) {
    throw new MarketoValidationError("batchSize must be an integer from 1 to 300", { issues: ["batchSize"] });
  }
  const groups = chunk(params.filterValues, 300);
  let from = { group: 0, token: params.nextPageToken };
  if (params.cursor !== undefined) {
    const c = decodeCursor(params.cursor);
    if (!c || c.group > groups.length) {
      throw new MarketoValidationError("cursor is not a cursor of this read", { issues: ["cursor"] });
    }
    from = c;
  }
  return new Paged<T>(
    groups.slice(from.group).map((values, i) => ({
      start: i === 0 ? from.token : undefined,
      more: (page: Page<T>) => page.nextPageToken !== undefined,
      fetch: async (nextPageToken: string | undefined, s?: AbortSignal) => {
        const env = await transport.request<unknown>({
          method: "GET",
          api: "rest",
          path,
          query: {
            filterType: params.filterType,
            filterValues: values,
            fields: params.fields && params.fields.length > 0 ? params.fields : undefined,
            batchSize,
            nextPageToken,
          },
          retry: "safe",
          ...callFields({ ...options, ...(s ? { signal: s } : {}) }),
        });
        const page = toPage(env, item, path);
        const g = from.group + i;
        page.cursor =
          page.nextPageToken !== undefined ? encodeCursor(g, page.nextPageToken) : encodeCursor(g + 1, undefined);
        return page;
      },
    })),
    options?.signal,
  );
}

/** Validates the items of an envelope into a page. */
export function toPage<T>(
  env: { result: unknown[]; nextPageToken?: string; moreResult?: boolean; requestId?: string; warnings: string[] },
  item: z.ZodType<T>,
  path: string,
): Page<T> {
  const items: T[] = [];
  for (const raw of env.result) {
    const parsed = item.safeParse(raw);
    if (!parsed.success) {
      throw new MarketoResponseParseError(`Unexpected record shape from ${path}: ${parsed.error.issues[0]?.message}`, {
        code: "PARSE",
        requestId: env.requestId,
      });
    }
    items.push(parsed.data);
  }
  return {
    items,
    nextPageToken: env.nextPageToken,
    moreResult: env.moreResult ?? env.nextPageToken !== undefined,
    requestId: env.requestId,
    warnings: env.warnings,
  };
}
