import { z } from "zod";
import { QadPagingError, QadResponseParseError } from "../../errors.js";
import type { Transport } from "../transport.js";
import { type BrowseFilter, encodeFilter } from "./filter.js";

/** Browse API settings; every one an assumption about the instance, so every one configurable. */
export interface BrowseOptions {
  /** Browse endpoint, relative to the tenant URL. @default "api/qracore/browses" */
  path?: string;
  /** Total-count endpoint. @default "api/qracore/browses/totalCount" */
  countPath?: string;
  /** `pageAction` of the first page. @default "first" */
  firstPageAction?: string;
  /** `pageAction` of later pages (not captured from a real instance). @default "next" */
  nextPageAction?: string;
  /** Stop with a {@link QadPagingError} after this many pages of one read (runaway-loop guard). @default 10000 */
  maxPages?: number;
  /**
   * Cross-check an empty first page with the total count (QAD answers 200 with zero rows when paging
   * parameters are missing). @default true
   */
  verifyEmptyFirstPage?: boolean;
}

/** @internal */
export interface ResolvedBrowseOptions {
  path: string;
  countPath: string;
  firstPageAction: string;
  nextPageAction: string;
  maxPages: number;
  verifyEmptyFirstPage: boolean;
}

/** @internal */
export function resolveBrowseOptions(o: BrowseOptions = {}): ResolvedBrowseOptions {
  return {
    path: o.path ?? "api/qracore/browses",
    countPath: o.countPath ?? "api/qracore/browses/totalCount",
    firstPageAction: o.firstPageAction ?? "first",
    nextPageAction: o.nextPageAction ?? "next",
    maxPages: o.maxPages ?? 10_000,
    verifyEmptyFirstPage: o.verifyEmptyFirstPage ?? true,
  };
}

const pageSchema = z.object({
  data: z.array(z.record(z.string(), z.unknown())),
  auxillaryData: z
    .object({ HasMoreParams: z.union([z.string(), z.boolean()]).optional() })
    .loose()
    .optional(),
});

/** One browse read. @internal */
export interface BrowseRead {
  browseId: string;
  pageSize: number;
  filters: readonly BrowseFilter[];
  callId: string;
  signal?: AbortSignal;
}

/** Strips the dotted table prefix of browse columns (`customerV2.customerCode` → `customerCode`). @internal */
export function undot(row: Record<string, unknown>, names: Map<string, string> = new Map()): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k in row) {
    // Every row of a browse has the same columns: the stripped name is computed once per column per read.
    let name = names.get(k);
    if (name === undefined) {
      const i = k.lastIndexOf(".");
      name = i >= 0 ? k.slice(i + 1) : k;
      names.set(k, name);
    }
    out[name] = row[k];
  }
  return out;
}

function countOf(body: unknown): number | undefined {
  if (typeof body === "number") return body;
  if (typeof body === "object" && body !== null) {
    const b = body as Record<string, unknown>;
    for (const v of [b.totalCount, b.count, b.data]) {
      if (typeof v === "number" || (typeof v === "string" && v.trim() !== "" && Number.isFinite(Number(v))))
        return Number(v);
      if (typeof v === "object" && v !== null) {
        const n = countOf(v);
        if (n !== undefined) return n;
      }
    }
  }
  return undefined;
}

/** `browses/totalCount` for a browse id and filters. @internal */
export async function browseCount(
  transport: Transport,
  opts: ResolvedBrowseOptions,
  browseId: string,
  filters: readonly BrowseFilter[],
  signal?: AbortSignal,
): Promise<number> {
  const res = await transport.request({
    method: "GET",
    path: opts.countPath,
    query: [["browseId", browseId], ...filters.map((f) => ["filter", encodeFilter(f)] as const)],
    ...(signal ? { signal } : {}),
  });
  const total = countOf(res.body);
  if (total === undefined) {
    throw new QadResponseParseError(`Browse ${browseId} totalCount answer has no count`, {
      bodySnippet: transport.opts.redactor.snippet(JSON.stringify(res.body), 300),
    });
  }
  return total;
}

/**
 * Pages of a generic QAD browse: `pageAction=first` then `next` under one `callId`, until
 * `auxillaryData.HasMoreParams` is "false" (or a short page when the flag is absent).
 * @internal
 */
export async function* browsePages(
  transport: Transport,
  opts: ResolvedBrowseOptions,
  read: BrowseRead,
): AsyncGenerator<Record<string, unknown>[]> {
  const filterParams = read.filters.map((f) => ["filter", encodeFilter(f)] as const);
  const names = new Map<string, string>();
  for (let page = 1; ; page++) {
    if (page > opts.maxPages) {
      throw new QadPagingError(
        "page_cap",
        `Browse ${read.browseId} exceeded the cap of ${opts.maxPages} pages; raise browse.maxPages if this is expected`,
      );
    }
    const res = await transport.request({
      method: "GET",
      path: opts.path,
      query: [
        ["browseId", read.browseId],
        ["page", String(page)],
        ["pageSize", String(read.pageSize)],
        ["pageAction", page === 1 ? opts.firstPageAction : opts.nextPageAction],
        ["callId", read.callId],
        ...filterParams,
      ],
      ...(read.signal ? { signal: read.signal } : {}),
    });
    const parsed = pageSchema.safeParse(res.body);
    if (!parsed.success) {
      throw new QadResponseParseError(`Browse ${read.browseId} page ${page} is not {data:[...]}`, {
        status: res.status,
        bodySnippet: transport.opts.redactor.snippet(JSON.stringify(res.body), 300),
      });
    }
    const rows = parsed.data.data;
    if (page === 1 && rows.length === 0) {
      if (opts.verifyEmptyFirstPage) {
        const total = await browseCount(transport, opts, read.browseId, read.filters, read.signal);
        if (total > 0) {
          throw new QadPagingError(
            "empty_first_page",
            `Browse ${read.browseId} returned an empty first page but totalCount says ${total} rows; ` +
              "the instance may ignore the paging parameters (check browse.firstPageAction)",
          );
        }
      }
      return;
    }
    // A later empty page ends the read even if the flag still says "true": nothing is lost and it cannot loop.
    if (rows.length === 0) return;
    yield rows.map((r) => undot(r, names));
    const flag = parsed.data.auxillaryData?.HasMoreParams;
    const hasMore = flag === undefined ? rows.length >= read.pageSize : flag === true || flag === "true";
    if (!hasMore) return;
  }
}
