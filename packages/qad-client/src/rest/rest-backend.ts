import pLimit from "p-limit";
import type { EntityKind, PageRequest, QadBackend } from "../backend.js";
import { QadResponseParseError } from "../errors.js";
import type { ResolvedDeps } from "../internal/deps.js";
import { uuidFrom } from "../internal/uuid.js";
import { isCalendarDate } from "../records/calendar.js";
import { restAbsenceReason } from "./absence.js";
import { browseCount, browsePages, type ResolvedBrowseOptions } from "./browse/browse.js";
import { type BrowseFilter, where } from "./browse/filter.js";
import type { RestEntityConfig } from "./entities.js";
import { mapRestRow } from "./mapping.js";
import type { PathPolicy } from "./path-policy.js";
import type { Transport } from "./transport.js";

type Row = Record<string, unknown>;

/** @internal */
export interface RestBackendOptions {
  transport: Transport;
  policy: PathPolicy;
  entities: { [K in EntityKind]: RestEntityConfig };
  browse: ResolvedBrowseOptions;
  deps: ResolvedDeps;
  /** Rows per page of the contacts browse. */
  contactsPageSize: number;
  /** Probe path for `available()`. */
  probePath: string | false;
  /** Concurrent contact lookups for sparse (modified-since) pages. */
  contactsConcurrency: number;
  /** How `modifiedSince` becomes browse filters. */
  sinceFilter: "split" | "day";
}

/**
 * The QAD Adaptive ERP REST protocol: browse API for lists and polls (customers joined with their contacts one
 * extra request per page), business-document endpoints for single reads.
 */
export class RestBackend implements QadBackend {
  /** Always "rest". */
  readonly protocol = "rest" as const;

  constructor(private readonly o: RestBackendOptions) {}

  /**
   * Pages of canonical-shaped, unvalidated rows, ordered by key. With `modifiedSince` and the default "split"
   * filter there are two key-ordered runs: the rest of the since-day, then the later days.
   */
  async *pages(entity: EntityKind, req: PageRequest): AsyncIterable<unknown[]> {
    const cfg = this.o.entities[entity];
    await this.o.policy.check(this.o.browse.path, req.signal);
    const since = req.modifiedSince;
    const dateField = cfg.lastModifiedDateField;
    // "split": (date = D and time >= T), then (date > D), so a poll moves only the rows of its window, not a whole
    // day's edits; "day": date >= D only. The time of day is also re-applied here in both cases.
    const runs: BrowseFilter[][] = !since
      ? [[]]
      : this.o.sinceFilter === "day" || since.time === 0
        ? [[where(dateField).ge(since.date)]]
        : [
            [where(dateField).eq(since.date), where(cfg.lastModifiedTimeField).ge(since.time)],
            [where(dateField).gt(since.date)],
          ];
    for (const filters of runs) yield* this.#run(entity, cfg, filters, req);
  }

  async *#run(
    entity: EntityKind,
    cfg: RestEntityConfig,
    filters: BrowseFilter[],
    req: PageRequest,
  ): AsyncIterable<unknown[]> {
    const since = req.modifiedSince;
    const rows = browsePages(this.o.transport, this.o.browse, {
      browseId: cfg.browseId,
      pageSize: req.pageSize,
      filters,
      callId: uuidFrom(this.o.deps.random),
      ...(req.signal ? { signal: req.signal } : {}),
    });
    for await (const page of rows) {
      const kept = since ? page.filter((r) => modifiedAtOrAfter(r, cfg, since)) : page;
      if (entity === "customers" && cfg.contactsBrowseId) {
        // A full read's page is a contiguous key range, so one range query fetches exactly its contacts. A
        // modified-since page is sparse: a range would drag in every customer between its first and last key.
        const contacts = since
          ? await this.#contactsSparse(kept, cfg.contactsBrowseId, req.signal)
          : await this.#contactsFor(kept, cfg.contactsBrowseId, req.signal);
        yield kept.map((r) => mapRestRow(entity, r, cfg, contacts.get(keyOf(r)) ?? []));
      } else {
        yield kept.map((r) => mapRestRow(entity, r, cfg));
      }
    }
  }

  /**
   * Reads business documents by key from `{path}?<keys>&viewUri=...` → `{"data":{"<responseKey>":[...]}}`.
   */
  async documents(entity: EntityKind, keys: Record<string, string>, signal?: AbortSignal): Promise<unknown[]> {
    const cfg = this.o.entities[entity];
    const path = await this.o.policy.check(cfg.path, signal);
    const res = await this.o.transport.request({
      method: "GET",
      path,
      query: [...Object.entries(keys), ["viewUri", cfg.viewUri]],
      ...(signal ? { signal } : {}),
    });
    const data = (res.body as { data?: unknown } | null)?.data;
    const rows = typeof data === "object" && data !== null ? (data as Row)[cfg.responseKey] : undefined;
    if (!Array.isArray(rows)) {
      throw new QadResponseParseError(`Expected {"data":{"${cfg.responseKey}":[...]}} from ${cfg.path}`, {
        status: res.status,
        bodySnippet: this.o.transport.opts.redactor.snippet(JSON.stringify(res.body), 300),
      });
    }
    return rows.map((r) => (typeof r === "object" && r !== null ? mapRestRow(entity, r as Row, cfg) : r));
  }

  /** True when the REST face answers (the probe path returns JSON with a valid token). */
  async available(signal?: AbortSignal): Promise<boolean> {
    return (await this.probe(signal)).available;
  }

  /**
   * Probes REST with `probePath` (authenticated, so the token endpoint is exercised too). Resolves
   * `{ available: false, reason }` only when REST is not there (connection refused, unknown host, HTTP
   * 404/405/501, a non-JSON page); rejects with the typed error when REST is there but failing (401 after
   * renewal, 403, wrong credentials, 5xx or timeouts after retries), so protocol "auto" does not hide it.
   * @internal
   */
  async probe(
    signal?: AbortSignal,
  ): Promise<{ available: true; reason: string } | { available: false; reason: string }> {
    if (this.o.probePath === false) return { available: true, reason: "probe disabled (restProbePath: false)" };
    try {
      await this.o.transport.request({ method: "GET", path: this.o.probePath, ...(signal ? { signal } : {}) });
      return { available: true, reason: `${this.o.probePath} answered` };
    } catch (e) {
      if (signal?.aborted) throw e;
      const reason = restAbsenceReason(e);
      if (reason === undefined) throw e;
      return { available: false, reason };
    }
  }

  /**
   * Contacts of a sparse page: when the key range between its first and last customer holds few contacts (edits
   * clustered by key, small tables) one range read is cheapest, as counted first; otherwise one lookup per customer.
   */
  async #contactsSparse(rows: Row[], browseId: string, signal?: AbortSignal): Promise<Map<string, Row[]>> {
    const out = new Map<string, Row[]>();
    for (const group of bySharedSet(rows)) {
      const codes = group.map((r) => r.customerCode as string).sort();
      const filters = [
        where("sharedSetCode").eq(group[0]!.sharedSetCode as string),
        where("customerCode").range(codes[0]!, codes[codes.length - 1]!),
      ];
      const inRange =
        group.length === 1
          ? Number.POSITIVE_INFINITY
          : await browseCount(this.o.transport, this.o.browse, browseId, filters, signal);
      const found =
        inRange <= Math.max(this.o.contactsPageSize * 2, group.length * 4)
          ? await this.#contactsFor(group, browseId, signal)
          : await this.#contactsByKey(group, browseId, signal);
      for (const [k, v] of found) out.set(k, v);
    }
    return out;
  }

  async #contactsByKey(rows: Row[], browseId: string, signal?: AbortSignal): Promise<Map<string, Row[]>> {
    const out = new Map<string, Row[]>();
    const limit = pLimit(this.o.contactsConcurrency);
    const keyed = rows.filter((r) => typeof r.sharedSetCode === "string" && typeof r.customerCode === "string");
    await Promise.all(
      keyed.map((r) =>
        limit(async () => {
          const filters = [
            where("sharedSetCode").eq(r.sharedSetCode as string),
            where("customerCode").eq(r.customerCode as string),
          ];
          const list: Row[] = [];
          for await (const page of this.#contactPages(browseId, filters, signal)) list.push(...page);
          out.set(keyOf(r), list);
        }),
      ),
    );
    return out;
  }

  /** Pages of the contacts browse for `filters` (an empty first page is legitimate here: no contacts). */
  #contactPages(browseId: string, filters: readonly BrowseFilter[], signal?: AbortSignal) {
    return browsePages(
      this.o.transport,
      { ...this.o.browse, verifyEmptyFirstPage: false },
      {
        browseId,
        pageSize: this.o.contactsPageSize,
        filters,
        callId: uuidFrom(this.o.deps.random),
        ...(signal ? { signal } : {}),
      },
    );
  }

  async #contactsFor(rows: Row[], browseId: string, signal?: AbortSignal): Promise<Map<string, Row[]>> {
    const out = new Map<string, Row[]>();
    const bySet = new Map<string, string[]>();
    for (const r of rows) {
      if (typeof r.sharedSetCode !== "string" || typeof r.customerCode !== "string") continue;
      const codes = bySet.get(r.sharedSetCode) ?? [];
      codes.push(r.customerCode);
      bySet.set(r.sharedSetCode, codes);
    }
    for (const [set, codes] of bySet) {
      codes.sort();
      const filters = [
        where("sharedSetCode").eq(set),
        where("customerCode").range(codes[0]!, codes[codes.length - 1]!),
      ];
      for await (const page of this.#contactPages(browseId, filters, signal)) {
        for (const c of page) {
          const k = keyOf(c);
          const list = out.get(k) ?? [];
          list.push(c);
          out.set(k, list);
        }
      }
    }
    return out;
  }
}

/** Rows with a string key, grouped by shared set. */
function bySharedSet(rows: Row[]): Row[][] {
  const groups = new Map<string, Row[]>();
  for (const r of rows) {
    if (typeof r.sharedSetCode !== "string" || typeof r.customerCode !== "string") continue;
    const g = groups.get(r.sharedSetCode) ?? [];
    g.push(r);
    groups.set(r.sharedSetCode, g);
  }
  return [...groups.values()];
}

function keyOf(r: Row): string {
  return `${String(r.sharedSetCode)}\u0000${String(r.customerCode)}`;
}

/**
 * Re-applies `modifiedSince` to a row the server returned. Only a possible stamp is compared: a row whose date is
 * not a calendar day (`2026-11-45`, `2026-02-30`, `31/12/2025`) or whose time is not a second of the day is kept, so
 * validation reports it as an invalid record, as a full list does, instead of a string comparison dropping it unseen.
 */
function modifiedAtOrAfter(r: Row, cfg: RestEntityConfig, since: { date: string; time: number }): boolean {
  const d = r[cfg.lastModifiedDateField];
  // The day part, as the mapping reads it (`2026-03-02T10:00:00` is the day 2026-03-02).
  const date = typeof d === "string" ? d.slice(0, 10) : undefined;
  if (!isCalendarDate(date)) return true;
  if (date !== since.date) return date > since.date;
  const t = Number(r[cfg.lastModifiedTimeField] ?? 0);
  if (!Number.isInteger(t) || t < 0 || t > 86_399) return true;
  return t >= since.time;
}
