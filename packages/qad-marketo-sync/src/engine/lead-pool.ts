import { MAX_BATCH, type Planned } from "./plan.js";

/** One batch's turn in a {@link LeadPool}. @internal */
export interface LeadTicket {
  /**
   * Waits for the earlier batches' turns, adds this batch's own leads to the pool (a newer payload of a key replaces
   * the pooled one) and answers the leads to write now: whole calls of 300, or everything on the final turn.
   */
  take(own: Planned[]): Promise<Planned[]>;
  /** Ends the turn without leads (the batch failed before reaching its leads); later turns may go on. */
  release(): void;
  /**
   * The lowest batch number whose leads are still pooled after this turn, or `Infinity`. Known once `take` (or
   * `release`) has run; a batch's checkpoint must not be saved while an earlier batch's leads wait in the pool.
   */
  pendingFrom(): number;
}

/**
 * Pools leads across the batches of a run, so every lead call but the last carries 300 leads (a batch of 300
 * customers has any number of contacts). Turns are taken in dispatch order: {@link LeadPool.ticket} is called
 * synchronously when a batch is dispatched, and each turn waits for the previous one.
 * @internal
 */
export class LeadPool {
  #pool: (Planned & { origin: number })[] = [];
  #tail: Promise<void> = Promise.resolve();

  /** Takes the next turn for batch `batch`; `final` flushes the pool. */
  ticket(batch: number, final: boolean): LeadTicket {
    const previous = this.#tail;
    let done!: () => void;
    this.#tail = new Promise<void>((r) => {
      done = r;
    });
    let pendingFrom = Number.POSITIVE_INFINITY;
    let settled = false;
    const settle = () => {
      if (settled) return;
      settled = true;
      pendingFrom = this.#pool.reduce((m, p) => Math.min(m, p.origin), Number.POSITIVE_INFINITY);
      done();
    };
    return {
      take: async (own) => {
        await previous;
        if (settled) return [];
        const byKey = new Map<string, Planned & { origin: number }>();
        for (const p of this.#pool) byKey.set(p.key, p);
        for (const p of own) {
          byKey.delete(p.key);
          byKey.set(p.key, { ...p, origin: batch });
        }
        const all = [...byKey.values()];
        const cut = final ? all.length : all.length - (all.length % MAX_BATCH);
        this.#pool = all.slice(cut);
        settle();
        return all.slice(0, cut).map(({ origin: _origin, ...p }) => p);
      },
      release: () => {
        // A turn released without taking still waits for its predecessor, so turns stay in order.
        if (settled) return;
        void previous.then(settle);
      },
      pendingFrom: () => pendingFrom,
    };
  }

  /** Leads still pooled. */
  size(): number {
    return this.#pool.length;
  }
}
