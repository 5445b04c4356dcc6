/** A manual clock with a sleep that only advances when the test says so. */
export class FakeTime {
  #now: number;
  #timers: { at: number; resolve: () => void; reject: (e: unknown) => void }[] = [];
  readonly sleeps: number[] = [];

  constructor(start = Date.parse("2026-03-02T12:00:00Z")) {
    this.#now = start;
  }

  readonly clock = { now: () => this.#now };

  readonly sleep = (ms: number, signal?: AbortSignal): Promise<void> => {
    this.sleeps.push(ms);
    return new Promise<void>((resolve, reject) => {
      if (signal?.aborted) {
        reject(signal.reason);
        return;
      }
      const timer = { at: this.#now + Math.max(0, ms), resolve, reject };
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

  /** Moves time forward, firing due sleeps in order and letting promise chains run between them. */
  async advance(ms: number): Promise<void> {
    const target = this.#now + ms;
    for (;;) {
      await flush();
      const due = this.#timers.filter((t) => t.at <= target).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      this.#now = Math.max(this.#now, due.at);
      this.#timers = this.#timers.filter((t) => t !== due);
      due.resolve();
    }
    this.#now = target;
    await flush();
  }

  get pending(): number {
    return this.#timers.length;
  }
}

/** Lets queued promise callbacks run. */
export async function flush(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise<void>((r) => setImmediate(r));
}
