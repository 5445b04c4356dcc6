import type { SimActivity } from "../context.js";

/** A stored activity; lead changes carry `fields`. */
export interface StoredActivity extends SimActivity {
  fields?: {
    id: number;
    name: string;
    newValue: string | number | boolean | null;
    oldValue: string | number | boolean | null;
  }[];
}

/** A position in the activity stream: strictly after (`t`, `id`). */
interface Cursor {
  t: number;
  id: number;
}

export function encodeCursor(c: Cursor): string {
  return Buffer.from(`${c.t}:${c.id}`).toString("hex").toUpperCase();
}

export function decodeCursor(token: string): Cursor | undefined {
  if (!/^[0-9A-F]+$/i.test(token)) return undefined;
  const m = /^(-?\d+):(-?\d+)$/.exec(Buffer.from(token, "hex").toString());
  return m ? { t: Number(m[1]), id: Number(m[2]) } : undefined;
}

/** Activities kept in (date, id) order, with Marketo-style token paging. */
export class ActivityLog {
  readonly items: StoredActivity[] = [];
  #nextId = 1;

  add(a: Omit<StoredActivity, "id" | "marketoGUID"> & { id?: number; marketoGUID?: string }): StoredActivity {
    const id = a.id ?? this.#nextId++;
    if (id >= this.#nextId) this.#nextId = id + 1;
    const stored: StoredActivity = { ...a, id, marketoGUID: a.marketoGUID ?? String(id) };
    const t = Date.parse(stored.activityDate);
    let i = this.items.length;
    while (i > 0) {
      const prev = this.items[i - 1]!;
      const pt = Date.parse(prev.activityDate);
      if (pt < t || (pt === t && prev.id < id)) break;
      i--;
    }
    this.items.splice(i, 0, stored);
    return stored;
  }

  /** Removes every activity (ids keep counting up). */
  clear(): void {
    this.items.length = 0;
  }

  /** Index of the first activity strictly after `c`: a binary search, as `items` is kept in (date, id) order. */
  #firstAfter(c: Cursor): number {
    let lo = 0;
    let hi = this.items.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const a = this.items[mid]!;
      const t = Date.parse(a.activityDate);
      if (t > c.t || (t === c.t && a.id > c.id)) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  /**
   * One page: scans at most `scan` activities after the cursor and returns those matching, up to `batchSize`. Pages can
   * therefore be short (even empty) while more activities exist, as Marketo's are.
   */
  page(
    token: string,
    match: (a: StoredActivity) => boolean,
    batchSize: number,
    scan: number,
  ): { items: StoredActivity[]; nextPageToken: string; moreResult: boolean } | undefined {
    const cursor = decodeCursor(token);
    if (!cursor) return undefined;
    let i = this.#firstAfter(cursor);
    const items: StoredActivity[] = [];
    let last: Cursor = cursor;
    let scanned = 0;
    while (i < this.items.length && scanned < scan && items.length < batchSize) {
      const a = this.items[i]!;
      scanned++;
      i++;
      last = { t: Date.parse(a.activityDate), id: a.id };
      if (match(a)) items.push(a);
    }
    return { items, nextPageToken: encodeCursor(last), moreResult: i < this.items.length };
  }
}
