import type { EntityKind, QadBackend } from "../backend.js";
import { QadConfigError, type QadQxtendMessage } from "../errors.js";
import { type InvalidRowMode, toValidationError, validateRow } from "../internal/validate.js";
import { type ChangesOptions, createPoll, type QadPoll } from "../polling/changes.js";
import { instantOfDate, parseCheckpoint, type QadCheckpoint, type QadInstant } from "../polling/checkpoint.js";
import type { EntityRecordMap } from "../records/entities.js";
import { isQadInvalidRecord, type QadInvalidRecord } from "../records/invalid-record.js";
import type { RestBackend } from "../rest/rest-backend.js";

/** Options of `list()`. */
export interface ListOptions {
  /** Only records modified at/after this instant (QAD day + seconds, or a Date read in UTC). */
  modifiedSince?: QadInstant | Date;
  /** Rows per page. @default the client's pageSize */
  pageSize?: number;
  /** `"emit"` yields invalid rows as {@link QadInvalidRecord}s instead of throwing. @default "throw" */
  invalid?: InvalidRowMode;
  /** Cancels the read. */
  signal?: AbortSignal;
}

/**
 * One page of a list read: an array of records, plus what the server said about the page beyond its rows.
 */
export interface QadPage<T> extends Array<T> {
  /**
   * Warnings the server attached to this page, as readable strings. Over QXtend: the `temp_err_msg` rows of an
   * answer with `result` warning (`"<number>: <description> (field <field>)"`, parts present when given); they are
   * also logged at warn. Over REST: always empty.
   */
  warnings: string[];
}

/** A list read: `for await` over records, or `.pages()` for whole pages. */
export interface QadList<T> extends AsyncIterable<T> {
  /** The same read, page by page (each page validated as a whole), with the page's {@link QadPage.warnings}. */
  pages(): AsyncIterable<QadPage<T>>;
}

/** Readable form of the warning rows a backend page may carry (QXtend pages do). */
function pageWarnings(page: unknown): string[] {
  const rows = (page as { warnings?: unknown }).warnings;
  if (!Array.isArray(rows)) return [];
  return rows.map((m: QadQxtendMessage) => {
    const n = m.number === undefined ? "" : `${m.number}: `;
    const f = m.field ? ` (field ${m.field})` : "";
    return `${n}${m.description}${f}`;
  });
}

/** @internal */
export interface ResourceContext {
  backend(): Promise<QadBackend>;
  rest(): RestBackend | undefined;
  pageSize: number;
  now(): number;
}

/**
 * One business document kind (`qad.customers`, `qad.items`...). Thin: the backend reads, this validates and
 * shapes the results.
 */
export class EntityResource<K extends EntityKind> {
  /** @internal */
  constructor(
    readonly kind: K,
    private readonly ctx: ResourceContext,
  ) {}

  /**
   * All records (or those modified since an instant), as an async iterator over records.
   * @example
   * for await (const c of qad.customers.list({ pageSize: 500 })) console.log(c.customerCode);
   */
  list(options?: ListOptions & { invalid?: "throw" }): QadList<EntityRecordMap[K]>;
  list(options: ListOptions & { invalid: "emit" }): QadList<EntityRecordMap[K] | QadInvalidRecord>;
  list(options: ListOptions = {}): QadList<EntityRecordMap[K] | QadInvalidRecord> {
    const kind = this.kind;
    const ctx = this.ctx;
    const since = options.modifiedSince instanceof Date ? instantOfDate(options.modifiedSince) : options.modifiedSince;
    async function* pages(): AsyncGenerator<QadPage<EntityRecordMap[K] | QadInvalidRecord>> {
      const b = await ctx.backend();
      for await (const page of b.pages(kind, {
        pageSize: options.pageSize ?? ctx.pageSize,
        ...(since ? { modifiedSince: since } : {}),
        ...(options.signal ? { signal: options.signal } : {}),
      })) {
        const out: (EntityRecordMap[K] | QadInvalidRecord)[] = [];
        for (const raw of page) {
          const v = validateRow(kind, raw);
          if (isQadInvalidRecord(v) && options.invalid !== "emit") throw toValidationError(kind, v);
          out.push(v);
        }
        yield Object.assign(out, { warnings: pageWarnings(page) });
      }
    }
    return {
      pages,
      async *[Symbol.asyncIterator]() {
        for await (const page of pages()) yield* page;
      },
    };
  }

  /**
   * Records changed since `checkpoint` (or all records, or those since `options.since`, on the first poll), each
   * change exactly once across polls. Iterate fully, then persist `poll.checkpoint()`.
   * @example
   * const poll = qad.customers.changes(saved, { invalid: "emit" });
   * for await (const c of poll) if (!isQadInvalidRecord(c)) upsert(c);
   * save(poll.checkpoint());
   */
  changes(
    checkpoint?: QadCheckpoint | null,
    options?: ChangesOptions & { invalid?: "throw" },
  ): QadPoll<EntityRecordMap[K]>;
  changes(
    checkpoint: QadCheckpoint | null | undefined,
    options: ChangesOptions & { invalid: "emit" },
  ): QadPoll<EntityRecordMap[K] | QadInvalidRecord>;
  changes(
    checkpoint?: QadCheckpoint | null,
    options: ChangesOptions = {},
  ): QadPoll<EntityRecordMap[K] | QadInvalidRecord> {
    const start = parseCheckpoint(checkpoint, this.kind);
    return createPoll(this.kind, () => this.ctx.backend(), start, {
      ...options,
      pageSize: options.pageSize ?? this.ctx.pageSize,
      now: () => this.ctx.now(),
    });
  }

  /**
   * Reads business documents by key over REST (`{path}?<key fields>&viewUri=...`), e.g.
   * `qad.customers.get({ sharedSetCode: "SS1", customerCode: "C0001" })`. Returns the validated records.
   * @throws {QadConfigError} on the QXtend protocol, which has no document endpoint.
   */
  async get(keys: Record<string, string>, options: { signal?: AbortSignal } = {}): Promise<EntityRecordMap[K][]> {
    const rest = this.ctx.rest();
    if (!rest) throw new QadConfigError(`${this.kind}.get() needs the REST protocol`);
    const rows = await rest.documents(this.kind, keys, options.signal);
    return rows.map((raw) => {
      const v = validateRow(this.kind, raw);
      if (isQadInvalidRecord(v)) throw toValidationError(this.kind, v);
      return v;
    });
  }
}
