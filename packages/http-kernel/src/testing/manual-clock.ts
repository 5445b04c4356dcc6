/**
 * Injected time for tests: a clock the test moves by hand, and a fake time whose `sleep` only resolves when the test
 * advances it. Shared by every package's tests (see issue 8: tests never lean on real time).
 */

/** A clock the test moves by hand: `now()` only changes on `advance` / `set`. */
export interface ManualClock {
  /** The current time, ms since epoch. */
  now(): number;
  /** Moves the clock forward (or back, with a negative `ms`). */
  advance(ms: number): void;
  /** Sets the clock to `t`. */
  set(t: number): void;
}

/** The default start of manual clocks and fake times: 2026-03-02T09:00:00Z. */
export const DEFAULT_TEST_EPOCH = Date.parse("2026-03-02T09:00:00Z");

/** A clock the test moves by hand, starting at `start` (ms since epoch). */
export function manualClock(start: number = DEFAULT_TEST_EPOCH): ManualClock {
  let t = start;
  return {
    now: () => t,
    advance: (ms: number) => {
      t += ms;
    },
    set: (at: number) => {
      t = at;
    },
  };
}

interface Timer {
  at: number;
  seq: number;
  resolve: () => void;
  reject: (e: unknown) => void;
}

/**
 * A manual clock with a sleep that only resolves when the test advances time. Every requested wait is recorded in
 * `sleeps`, so a test can assert on the delays chosen without waiting for them.
 */
export class FakeTime {
  #now: number;
  #seq = 0;
  #timers: Timer[] = [];
  /** Every `sleep(ms)` requested, in order. */
  readonly sleeps: number[] = [];

  /** Starts at `start` (ms since epoch). */
  constructor(start: number = Date.parse("2026-03-02T12:00:00Z")) {
    this.#now = start;
  }

  /** The injected clock. */
  readonly clock = { now: (): number => this.#now };

  /** The injected sleep: resolves once `advance` passes `now + ms`; rejects with the signal's reason on abort. */
  readonly sleep = (ms: number, signal?: AbortSignal): Promise<void> => {
    this.sleeps.push(ms);
    return new Promise<void>((resolve, reject) => {
      if (signal?.aborted) {
        reject(signal.reason);
        return;
      }
      const timer: Timer = { at: this.#now + Math.max(0, ms), seq: this.#seq++, resolve, reject };
      this.#timers.push(timer);
      signal?.addEventListener(
        "abort",
        () => {
          this.#timers = this.#timers.filter((t) => t !== timer);
          reject(signal.reason);
        },
        { once: true },
      );
    });
  };

  /**
   * Injected timers on this fake time (e.g. `hardenedFetch`'s `timers`, for its deadline): a callback runs once
   * `advance` passes `now + ms`, unless cleared first. Counted in `pending`, not recorded in `sleeps`.
   */
  readonly timers = {
    setTimeout: (fn: () => void, ms: number): unknown => {
      const timer: Timer = { at: this.#now + Math.max(0, ms), seq: this.#seq++, resolve: fn, reject: () => {} };
      this.#timers.push(timer);
      return timer;
    },
    clearTimeout: (handle: unknown): void => {
      this.#timers = this.#timers.filter((t) => t !== handle);
    },
  };

  /** The current time, ms since epoch. */
  now(): number {
    return this.#now;
  }

  /** Moves time forward, firing due sleeps in order and letting promise chains run between them. */
  async advance(ms: number): Promise<void> {
    const target = this.#now + ms;
    for (;;) {
      await flush();
      const due = this.#timers.filter((t) => t.at <= target).sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (!due) break;
      this.#now = Math.max(this.#now, due.at);
      this.#timers = this.#timers.filter((t) => t !== due);
      due.resolve();
    }
    this.#now = target;
    await flush();
  }

  /** Advances to the earliest pending sleep and fires it; false when none is pending. */
  async next(): Promise<boolean> {
    await flush();
    const due = [...this.#timers].sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
    if (!due) return false;
    await this.advance(Math.max(0, due.at - this.#now));
    return true;
  }

  /**
   * Awaits `p` while moving time forward in `stepMs` steps, so code that sleeps on this fake time can finish. Throws
   * when `p` has not settled after `maxMs` of fake time (a hang is a failure, never a wait).
   */
  async until<T>(p: Promise<T>, options: { stepMs?: number; maxMs?: number } = {}): Promise<T> {
    const stepMs = options.stepMs ?? 10;
    const maxMs = options.maxMs ?? 3_600_000;
    let settled = false;
    const watched = p.finally(() => {
      settled = true;
    });
    watched.catch(() => {});
    await flush();
    for (let waited = 0; !settled; waited += stepMs) {
      if (waited >= maxMs) throw new Error(`FakeTime.until: not settled after ${maxMs} ms of fake time`);
      await this.advance(stepMs);
    }
    return watched;
  }

  /** How many sleeps are waiting. */
  get pending(): number {
    return this.#timers.length;
  }
}

/**
 * A sleep that never waits: it records the requested delay, advances `clock` (when given) by it and resolves on the
 * next turn. For tests about the delays a component chooses, not about interleavings.
 */
export function recordingSleep(clock?: { advance(ms: number): void }): {
  /** The injected sleep. */
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Every requested delay, in order. */
  sleeps: number[];
} {
  const sleeps: number[] = [];
  const sleep = async (ms: number, signal?: AbortSignal): Promise<void> => {
    signal?.throwIfAborted();
    sleeps.push(ms);
    clock?.advance(Math.max(0, ms));
    await new Promise<void>((r) => setImmediate(r));
    signal?.throwIfAborted();
  };
  return { sleep, sleeps };
}

/** Lets queued promise callbacks (and I/O callbacks ready now) run: `rounds` turns of the event loop. */
export async function flush(rounds = 20): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise<void>((r) => setImmediate(r));
}
