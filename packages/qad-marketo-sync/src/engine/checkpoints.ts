import type { JsonValue } from "../ports.js";

/** A checkpoint a batch commit may save: the source position after batch `through`. @internal */
export interface EarnedCheckpoint {
  /** The last batch the checkpoint covers. */
  through: number;
  /** The source's checkpoint taken right after that batch's last item. */
  value: JsonValue;
}

/**
 * The checkpoint rule of a run: the saved source checkpoint never passes a record that is not durably recorded.
 * Batches are numbered in dispatch (source) order. Batch `n` may save the checkpoint of batch `m <= n` only when
 * every batch up to `n` has committed in order, none failed, and no batch up to `m` still has leads waiting in the
 * lead pool (`pendingFrom` is the lowest batch with pooled leads). A failed commit ends all earning for the run.
 * @internal
 */
export class CheckpointLedger {
  readonly #values = new Map<number, JsonValue | undefined>();
  #committedThrough = 0;
  #savedThrough = 0;
  #broken = false;

  /** Records the checkpoint taken after batch `n`'s last item (`undefined`: the source gave none). */
  register(batch: number, value: JsonValue | undefined): void {
    this.#values.set(batch, value);
  }

  /** The checkpoint batch `n`'s commit may carry, or `undefined`. Does not change the ledger. */
  earned(batch: number, pendingFrom: number): EarnedCheckpoint | undefined {
    if (this.#broken || batch !== this.#committedThrough + 1) return undefined;
    const through = Math.min(batch, pendingFrom - 1);
    if (through <= this.#savedThrough) return undefined;
    const value = this.#values.get(through);
    return value === undefined ? undefined : { through, value };
  }

  /** Batch `n` is durably committed, with the checkpoint it carried (if any). */
  committed(batch: number, saved: EarnedCheckpoint | undefined): void {
    if (this.#broken || batch !== this.#committedThrough + 1) {
      throw new Error(`batch ${batch} committed out of order (after ${this.#committedThrough})`);
    }
    this.#committedThrough = batch;
    if (saved) {
      this.#savedThrough = saved.through;
      for (const k of this.#values.keys()) if (k <= saved.through) this.#values.delete(k);
    }
  }

  /** A batch could not be recorded: no later batch earns a checkpoint in this run. */
  failed(): void {
    this.#broken = true;
  }

  /** The checkpoint of the last registered batch (for the flush batch of a stopped run). */
  last(batch: number): JsonValue | undefined {
    return this.#values.get(batch);
  }

  /** The last batch the saved checkpoint covers (0: none saved in this run). */
  savedThrough(): number {
    return this.#savedThrough;
  }

  /** True once a commit failed. */
  isBroken(): boolean {
    return this.#broken;
  }
}
