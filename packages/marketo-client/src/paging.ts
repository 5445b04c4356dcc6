/**
 * Paged reads: async iterators over items, with `.pages()` for whole pages and a resumable `nextPageToken`.
 *
 * @module
 */

/** One page of a paged read. */
export interface Page<T> {
  /** Items of this page (may be empty while `moreResult` is still true: keep going). */
  items: T[];
  /**
   * Token of the page AFTER this one. Save it to resume: pass it back as `nextPageToken` to the same method with the
   * same filter. For activities it is always present (it marks how far the stream has been read).
   */
  nextPageToken: string | undefined;
  /** Whether Marketo said more results exist. */
  moreResult: boolean;
  /** Marketo's request id for this page. */
  requestId: string | undefined;
  /** Warnings of this page. */
  warnings: string[];
  /**
   * Reads by filter only: an opaque position AFTER this page, across the groups of 300 filter values. Save it and pass
   * it back as `cursor` with the same filter to resume a read of any size.
   */
  cursor?: string;
}

/** Fetches one page given a token (`undefined` for the first page). */
export type PageFetcher<T> = (nextPageToken: string | undefined, signal?: AbortSignal) => Promise<Page<T>>;

/** When another page should be fetched after `page`. */
export type ContinuePredicate<T> = (page: Page<T>) => boolean;

/**
 * A lazy paged read. Iterate items with `for await`, or whole pages with {@link Paged.pages}. Nothing is fetched until
 * iteration starts, and each iteration starts again from the first page (or the token it was created with).
 *
 * @example
 * ```ts
 * for await (const company of mk.companies.get({ filterType: "externalCompanyId", filterValues: ids })) { ... }
 * for await (const page of mk.activities.list({ nextPageToken, activityTypeIds: [1] }).pages()) {
 *   await save(page.items); await saveCursor(page.nextPageToken);
 * }
 * ```
 */
export class Paged<T> implements AsyncIterable<T> {
  readonly #segments: { fetch: PageFetcher<T>; start: string | undefined; more: ContinuePredicate<T> }[];
  readonly #signal: AbortSignal | undefined;

  /** @internal Build with resource methods, not directly. */
  constructor(
    segments: { fetch: PageFetcher<T>; start: string | undefined; more: ContinuePredicate<T> }[],
    signal?: AbortSignal,
  ) {
    this.#segments = segments;
    this.#signal = signal;
  }

  /** Iterates whole pages. */
  async *pages(): AsyncGenerator<Page<T>, void, undefined> {
    for (const segment of this.#segments) {
      let token = segment.start;
      for (;;) {
        this.#signal?.throwIfAborted();
        const page = await segment.fetch(token, this.#signal);
        yield page;
        if (!segment.more(page) || page.nextPageToken === undefined || page.nextPageToken === token) break;
        token = page.nextPageToken;
      }
    }
  }

  /** Iterates items across pages. */
  async *[Symbol.asyncIterator](): AsyncGenerator<T, void, undefined> {
    for await (const page of this.pages()) yield* page.items;
  }

  /** Reads every item into an array (convenient for small reads). */
  async toArray(): Promise<T[]> {
    const out: T[] = [];
    for await (const item of this) out.push(item);
    return out;
  }
}
