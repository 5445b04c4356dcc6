/** Growing, jittered pauses after Marketo's 606 (window) and 615 (concurrency) answers. */

/** Settings of one {@link RateLimitBackoff}. */
export interface RateLimitBackoffOptions {
  /** First pause, and the shortest one, in ms. */
  baseMs: number;
  /** Longest pause, in ms. */
  capMs: number;
}

/**
 * "Decorrelated jitter": the next pause is drawn uniformly from `[base, 3 · previous]`, capped. Pauses grow while the
 * answers keep coming (the upper bound triples), never drop below `base`, never exceed `cap`, and callers of several
 * integrations that were refused together spread apart instead of retrying in lockstep.
 */
export function decorrelatedJitter(previousMs: number, options: RateLimitBackoffOptions, random: () => number): number {
  const base = Math.max(0, options.baseMs);
  const cap = Math.max(base, options.capMs);
  const upper = Math.min(cap, Math.max(base, previousMs * 3));
  return Math.round(Math.min(cap, base + random() * (upper - base)));
}

/** The pause sequence of one limit code: grows with every refusal, back to the start after a success. */
export class RateLimitBackoff {
  readonly #options: RateLimitBackoffOptions;
  #previous = 0;

  constructor(options: RateLimitBackoffOptions) {
    this.#options = options;
  }

  /** The next pause in ms: the first one is drawn from `[base, 3 · base]`, each later one from `[base, 3 · previous]`. */
  next(random: () => number): number {
    this.#previous = decorrelatedJitter(this.#previous || this.#options.baseMs, this.#options, random);
    return this.#previous;
  }

  /** Starts the sequence again (after a call that was not refused). */
  reset(): void {
    this.#previous = 0;
  }

  /** The last pause handed out; 0 after a reset. */
  get current(): number {
    return this.#previous;
  }
}
