import { compareInstants, type QadInstant } from "./checkpoint.js";

/**
 * What one poll has delivered, by key → version stamp, held in memory bounded by the overlap window rather than by
 * the number of rows read:
 *
 * - `windowed`: versions stamped at or after the moving cutoff (the start of the next poll's overlap window below
 *   the high-water mark seen so far), plus versions without a readable instant. These make the next checkpoint's
 *   `seen`. As the high-water mark only rises, the cutoff only rises, so an entry older than the current cutoff can
 *   never be part of the checkpoint: it is pruned (in sweeps, each after the map has doubled, so O(1) amortised).
 * - `recent`: the last `recentCapacity` versions delivered, whatever their stamp. A row read twice with the same
 *   stamp inside one poll and older than the window can only be a page shift (offset paging: rows deleted in front
 *   of the read position move the next page back), which repeats rows just delivered.
 *
 * A version is a duplicate when either part holds it.
 * @internal
 */
export class DeliveredKeys {
  readonly #windowed = new Map<string, { stamp: string; at: QadInstant | undefined }>();
  readonly #recent = new Map<string, string>();
  readonly #recentCapacity: number;
  readonly #minSweep: number;
  #cutoff: QadInstant | undefined;
  #sweepAt: number;
  #peak = 0;

  constructor(recentCapacity: number, minSweep = 1024) {
    if (!Number.isInteger(recentCapacity) || recentCapacity < 1) throw new RangeError("recentCapacity must be >= 1");
    this.#recentCapacity = recentCapacity;
    this.#minSweep = minSweep;
    this.#sweepAt = minSweep;
  }

  /** True when this poll already delivered exactly this version of `key`. */
  has(key: string, stamp: string): boolean {
    return this.#windowed.get(key)?.stamp === stamp || this.#recent.get(key) === stamp;
  }

  /** Records a delivered version (`at`: its instant, when readable). */
  add(key: string, stamp: string, at: QadInstant | undefined): void {
    this.#recent.delete(key);
    this.#recent.set(key, stamp);
    if (this.#recent.size > this.#recentCapacity) {
      const oldest = this.#recent.keys().next().value as string;
      this.#recent.delete(oldest);
    }
    if (at === undefined || this.#cutoff === undefined || compareInstants(at, this.#cutoff) >= 0) {
      this.#windowed.set(key, { stamp, at });
    } else {
      // A newer delivery of the key below the window supersedes an older one kept above it (clock oddities).
      this.#windowed.delete(key);
    }
    if (this.#windowed.size >= this.#sweepAt) this.#sweep();
    this.#peak = Math.max(this.#peak, this.#windowed.size + this.#recent.size);
  }

  /** Moves the cutoff up (never down): versions stamped before it are no longer kept for the checkpoint. */
  advance(cutoff: QadInstant | undefined): void {
    if (cutoff && (this.#cutoff === undefined || compareInstants(cutoff, this.#cutoff) > 0)) this.#cutoff = cutoff;
  }

  /** The versions at or after `cutoff` (and those without an instant), for the checkpoint. */
  *entries(cutoff: QadInstant | undefined): IterableIterator<[string, string]> {
    for (const [k, v] of this.#windowed) {
      if (!cutoff || !v.at || compareInstants(v.at, cutoff) >= 0) yield [k, v.stamp];
    }
  }

  /** Entries held now, and the most held at any time (both parts). */
  get size(): { now: number; peak: number } {
    return { now: this.#windowed.size + this.#recent.size, peak: this.#peak };
  }

  #sweep(): void {
    const cutoff = this.#cutoff;
    if (cutoff) {
      for (const [k, v] of this.#windowed) if (v.at && compareInstants(v.at, cutoff) < 0) this.#windowed.delete(k);
    }
    this.#sweepAt = Math.max(this.#minSweep, this.#windowed.size * 2);
  }
}
