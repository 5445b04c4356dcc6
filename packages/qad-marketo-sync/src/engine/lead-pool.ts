import type { Reason } from "../ports.js";
import { duplicateEmailReason } from "./lead-emails.js";
import { MAX_BATCH, type Planned } from "./plan.js";

/** A lead of one customer that the lead of another customer with the same email superseded in this run. @internal */
export interface SupersededLead {
  /** The earlier lead (never written in this run). */
  lead: Planned;
  /** `duplicate_email`, naming the customer whose lead is written instead. */
  reason: Reason;
}

/** A lead a batch found unchanged (its payload is what Marketo holds): it takes its email like a written one. @internal */
export interface LeadRef {
  key: string;
  sourceKey: string;
}

/** One batch's turn in a {@link LeadPool}. @internal */
export interface LeadTicket {
  /**
   * Waits for the earlier batches' turns, adds this batch's own leads to the pool (a newer payload of a key replaces
   * the pooled one) and answers the leads to write now: whole calls of 300, or everything on the final turn.
   * `unchanged` are the batch's leads found unchanged: they are not written, but they take their email like the
   * batch's own leads do (a pooled lead of another customer with that email is superseded).
   */
  take(own: Planned[], unchanged?: readonly LeadRef[]): Promise<Planned[]>;
  /** Ends the turn without leads (the batch failed before reaching its leads); later turns may go on. */
  release(): void;
  /**
   * The lowest batch number whose leads are still pooled after this turn, or `Infinity`. Known once `take` (or
   * `release`) has run; a batch's checkpoint must not be saved while an earlier batch's leads wait in the pool.
   */
  pendingFrom(): number;
  /**
   * Pooled leads of earlier customers (this batch's or earlier batches') that this turn's leads superseded: one
   * customer's contact took the email of another customer's contact. Known once `take` has run; the batch audits
   * each as `rejected` (`duplicate_email`) under `supersededLeadKey` (`lead-emails.ts`).
   */
  superseded(): SupersededLead[];
}

/**
 * Pools leads across the batches of a run, so every lead call but the last carries 300 leads (a batch of 300
 * customers has any number of contacts). Turns are taken in dispatch order: {@link LeadPool.ticket} is called
 * synchronously when a batch is dispatched, and each turn waits for the previous one.
 *
 * Emails across customers: a pooled lead replaced by a lead of another customer (same email) is never silently
 * dropped; the turn reports it ({@link LeadTicket.superseded}). A lead whose email another customer's lead took
 * earlier in the run and was already written (or found unchanged) is still written (the later source row wins) with
 * a `duplicate_email` note naming that customer. For this the pool remembers, per email, the customer whose lead last
 * took it in the run (about 100 bytes per distinct email, for the length of the run).
 * @internal
 */
export class LeadPool {
  #pool: (Planned & { origin: number })[] = [];
  #tail: Promise<void> = Promise.resolve();
  /** Email → the customer (source key) whose lead last took it in this run, and the batch. */
  #owners = new Map<string, { sourceKey: string; batch: number }>();

  /** Takes the next turn for batch `batch`; `final` flushes the pool. */
  ticket(batch: number, final: boolean): LeadTicket {
    const previous = this.#tail;
    let done!: () => void;
    this.#tail = new Promise<void>((r) => {
      done = r;
    });
    let pendingFrom = Number.POSITIVE_INFINITY;
    let settled = false;
    const superseded: SupersededLead[] = [];
    const settle = () => {
      if (settled) return;
      settled = true;
      pendingFrom = this.#pool.reduce((m, p) => Math.min(m, p.origin), Number.POSITIVE_INFINITY);
      done();
    };
    return {
      take: async (own, unchanged = []) => {
        await previous;
        if (settled) return [];
        const where = `batch ${batch}`;
        const byKey = new Map<string, Planned & { origin: number }>();
        for (const p of this.#pool) byKey.set(p.key, p);
        const claim = (key: string, sourceKey: string): { sourceKey: string; batch: number } | undefined => {
          const pooled = byKey.get(key);
          if (pooled && pooled.sourceKey !== sourceKey) {
            const { origin: _origin, ...lead } = pooled;
            superseded.push({ lead, reason: duplicateEmailReason(key, sourceKey, where) });
          }
          byKey.delete(key);
          const before = this.#owners.get(key);
          this.#owners.set(key, { sourceKey, batch });
          // Taken earlier in the run by another customer and no longer pooled: written (or unchanged) already.
          return !pooled && before && before.sourceKey !== sourceKey ? before : undefined;
        };
        for (const u of unchanged) claim(u.key, u.sourceKey);
        for (const p of own) {
          const earlier = claim(p.key, p.sourceKey);
          const lead: Planned & { origin: number } = { ...p, origin: batch };
          if (earlier) {
            lead.notes = [
              ...(p.notes ?? []),
              {
                code: "duplicate_email",
                message: `email ${p.key} is also the email of a contact of customer ${earlier.sourceKey} (batch ${earlier.batch}), whose lead was written (or found unchanged) earlier in this run; Marketo keeps one lead per email, this later contact is written over it`,
              },
            ];
          }
          byKey.set(p.key, lead);
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
      superseded: () => superseded,
    };
  }

  /** Leads still pooled. */
  size(): number {
    return this.#pool.length;
  }
}
