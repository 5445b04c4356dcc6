import type { AuditEntry, AuditStore } from "../store/audit-store.js";

/** One name claimed by a batch of this run. */
interface Claim {
  key: string;
  batch: number;
  /** Commit number after which the store answers this claim itself; unset while the batch is not committed. */
  committedAt?: number | undefined;
}

/** Who owns names, as one batch sees them while it claims. @internal */
export interface NameView {
  /** The key owning a normalised name, if any. */
  owner(name: string): string | undefined;
  /** Claims a normalised name for a key. */
  claim(name: string, key: string): void;
}

/**
 * The named-account names of a run without holding every name: owners come from the store's index
 * ({@link AuditStore.namedAccountKeys}), asked per batch, plus the names claimed by this run's batches that the store
 * cannot answer yet: those of batches not committed (at most `batchConcurrency + readAhead` batches), and those whose
 * write did not succeed (failed, skipped or held back: they keep their name for the rest of the run, as a carried
 * record may still be written under it).
 *
 * Batches claim one at a time, in the order they asked ({@link open} hands out the views in call order), so which of
 * two customers keeps a shared name never depends on which store answer comes back first. A committed claim is
 * dropped once no lookup that started before its commit is still open: every later lookup finds it in the store.
 * @internal
 */
export class NameClaims {
  private readonly claims = new Map<string, Claim>();
  /** Names claimed per batch not yet committed. */
  private readonly byBatch = new Map<number, string[]>();
  /** Names whose claim was committed and may be left to the store (checked by {@link collect}). */
  private releasing: string[] = [];
  private commits = 0;
  /** Commit number at the start of the open lookup, if one is open. */
  private openSince: number | undefined;
  private turn: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: AuditStore,
    private readonly tenant: string,
  ) {}

  /** Names held by this run in memory (for tests and the benchmark): bounded by the batches in flight. */
  get size(): number {
    return this.claims.size;
  }

  /**
   * The view of one batch for the given normalised names; `done` must be called when its claims are made (the next
   * batch's view is handed out after it).
   */
  async open(batch: number, names: string[]): Promise<{ view: NameView; done: () => void }> {
    const previous = this.turn;
    let release = () => {};
    this.turn = new Promise<void>((r) => {
      release = r;
    });
    await previous;
    const since = this.commits;
    this.openSince = since;
    let stored: Map<string, string>;
    try {
      stored = names.length === 0 ? new Map() : await this.store.namedAccountKeys(this.tenant, names);
    } catch (e) {
      this.openSince = undefined;
      release();
      throw e;
    }
    const view: NameView = {
      owner: (name) => {
        const c = this.claims.get(name);
        if (c && (c.committedAt === undefined || c.committedAt > since)) return c.key;
        return stored.get(name);
      },
      claim: (name, key) => {
        this.claims.set(name, { key, batch });
        let list = this.byBatch.get(batch);
        if (!list) {
          list = [];
          this.byBatch.set(batch, list);
        }
        list.push(name);
      },
    };
    let closed = false;
    return {
      view,
      done: () => {
        if (closed) return;
        closed = true;
        this.openSince = undefined;
        this.collect();
        release();
      },
    };
  }

  /**
   * A batch was recorded durably (its synced state is in the store): its claims of named accounts written or found
   * unchanged are left to the store; the others stay claimed for the rest of the run.
   */
  committed(batch: number, entries: readonly AuditEntry[]): void {
    this.commits++;
    const names = this.byBatch.get(batch);
    this.byBatch.delete(batch);
    if (!names) return;
    const stored = new Set<string>();
    for (const e of entries) {
      if (
        e.kind === "namedAccount" &&
        (e.outcome === "created" || e.outcome === "updated" || e.outcome === "unchanged")
      ) {
        stored.add(e.key);
      }
    }
    for (const name of names) {
      const c = this.claims.get(name);
      if (c && c.batch === batch && stored.has(c.key)) {
        c.committedAt = this.commits;
        this.releasing.push(name);
      }
    }
    this.collect();
  }

  /** Drops the committed claims every later lookup finds in the store. */
  private collect(): void {
    const horizon = this.openSince ?? this.commits;
    const keep: string[] = [];
    for (const name of this.releasing) {
      const c = this.claims.get(name);
      if (c?.committedAt === undefined) continue; // claimed again by a later batch
      if (c.committedAt <= horizon) this.claims.delete(name);
      else keep.push(name);
    }
    this.releasing = keep;
  }
}
