import { MarketoQuotaExceededError } from "../errors.js";
import type { Clock, Logger, Sleep } from "../internal/runtime.js";
import { RateLimitBackoff } from "./backoff.js";
import { quotaDay } from "./day.js";
import type { LimiterState, LimiterStore, ReserveLimits } from "./limiter-store.js";

/** Resolved limits of one client (see `MarketoClientOptions.limits`). */
export interface ResolvedLimits {
  callsPerWindow: number;
  windowMs: number;
  maxConcurrent: number;
  dailyQuota: number;
  dailyReserve: number;
  leaseMs: number;
  rateLimitPauseMs: number;
  concurrencyPauseMs: number;
  rateLimitMaxPauseMs: number;
  pollMs: number;
}

/** A granted call slot; release it exactly once when the answer has arrived. */
export interface LimiterSlot {
  /** When the slot was granted (ms, injected clock). */
  readonly grantedAt: number;
  /**
   * Marketo refused this call with 606 or 615 (another integration is using the instance): closes the shared gate for
   * a growing, jittered pause (see {@link RateLimitBackoff}) and returns it in ms. Call it before `release`, so no
   * queued call slips out between the two. Refusals of calls granted before the last pause was set belong to the same
   * burst and do not grow the pause again.
   */
  rateLimited(code: "606" | "615", random: () => number): Promise<number>;
  /**
   * Frees the slot. `answeredAt` (ms, injected clock) is when the answer's headers arrived, if known: the call then
   * leaves the window `windowMs` after that moment. Default: now.
   */
  release(answeredAt?: number): Promise<void>;
}

interface Waiter {
  resolve(slot: LimiterSlot): void;
  reject(error: unknown): void;
  signal: AbortSignal | undefined;
  onAbort?: () => void;
}

/**
 * Quota-aware limiter of one client: a sliding window of calls, a cap on calls in flight, a daily ceiling, and a shared
 * "paused until" gate that a 606/615 answer sets so queued calls wait too. Waiters are served in FIFO order; only the
 * head of the queue asks the store for a slot, so a thousand queued calls cost one store check per wake-up.
 */
export class Limiter {
  readonly #store: LimiterStore;
  readonly #key: string;
  readonly #limits: ResolvedLimits;
  readonly #clock: Clock;
  readonly #sleep: Sleep;
  readonly #logger: Logger;
  readonly #queue: Waiter[] = [];
  #pumping = false;
  #wake: (() => void) | undefined;
  #generation = 0;
  #last: LimiterState = { windowCalls: 0, inFlight: 0, dailyUsed: 0, pausedUntil: 0 };
  #callsMade = 0;
  readonly #backoff: Record<"606" | "615", RateLimitBackoff>;
  /** When the last 606/615 pause was set: refusals of calls granted before it are the same burst. */
  #limitedAt = Number.NEGATIVE_INFINITY;

  constructor(options: {
    store: LimiterStore;
    key: string;
    limits: ResolvedLimits;
    clock: Clock;
    sleep: Sleep;
    logger: Logger;
  }) {
    this.#store = options.store;
    this.#key = options.key;
    this.#limits = options.limits;
    this.#clock = options.clock;
    this.#sleep = options.sleep;
    this.#logger = options.logger;
    const l = options.limits;
    this.#backoff = {
      "606": new RateLimitBackoff({ baseMs: l.rateLimitPauseMs, capMs: l.rateLimitMaxPauseMs }),
      "615": new RateLimitBackoff({
        baseMs: l.concurrencyPauseMs,
        capMs: Math.min(l.rateLimitMaxPauseMs, Math.max(l.concurrencyPauseMs, l.windowMs)),
      }),
    };
  }

  /** The limits in force. */
  get limits(): Readonly<ResolvedLimits> {
    return this.#limits;
  }

  get #reserveLimits(): ReserveLimits {
    const l = this.#limits;
    return {
      callsPerWindow: l.callsPerWindow,
      windowMs: l.windowMs,
      maxConcurrent: l.maxConcurrent,
      dailyCeiling: Math.max(0, l.dailyQuota - l.dailyReserve),
      leaseMs: l.leaseMs,
    };
  }

  /** Waits for a slot (FIFO). Rejects with {@link MarketoQuotaExceededError} at the daily ceiling, or on abort. */
  acquire(signal?: AbortSignal): Promise<LimiterSlot> {
    signal?.throwIfAborted();
    return new Promise<LimiterSlot>((resolve, reject) => {
      const waiter: Waiter = { resolve, reject, signal };
      if (signal) {
        waiter.onAbort = () => {
          const i = this.#queue.indexOf(waiter);
          if (i >= 0) {
            this.#queue.splice(i, 1);
            reject(signal.reason);
            this.#poke();
          }
        };
        signal.addEventListener("abort", waiter.onAbort, { once: true });
      }
      this.#queue.push(waiter);
      void this.#pump();
    });
  }

  /** Holds every call (queued or new) of this instance back until `until`. */
  async pause(until: number): Promise<void> {
    await this.#store.pause(this.#key, until, this.#clock.now());
    this.#last = { ...this.#last, pausedUntil: Math.max(this.#last.pausedUntil, until) };
  }

  /** Raises today's count to Marketo's own figure. */
  async raiseDailyUsed(used: number): Promise<void> {
    await this.#store.raiseDailyUsed(this.#key, quotaDay(this.#clock.now()), used);
    this.#poke();
  }

  /** Marks today's quota as used up (after a 607). */
  async exhaustDaily(): Promise<void> {
    await this.raiseDailyUsed(this.#limits.dailyQuota);
  }

  /** Calls this client has been granted since it was created. */
  get callsMade(): number {
    return this.#callsMade;
  }

  /** Latest counters: exact for stores with `peek`, otherwise as of the last store operation. */
  snapshot(): LimiterState {
    const now = this.#clock.now();
    if (this.#store.peek) {
      return this.#store.peek(this.#key, now, quotaDay(now), this.#limits);
    }
    return this.#last;
  }

  #poke(): void {
    this.#generation++;
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  async #pump(): Promise<void> {
    if (this.#pumping) return;
    this.#pumping = true;
    try {
      while (this.#queue.length > 0) {
        const head = this.#queue[0]!;
        const generation = this.#generation;
        const now = this.#clock.now();
        let result: Awaited<ReturnType<LimiterStore["reserve"]>>;
        try {
          result = await this.#store.reserve(this.#key, now, quotaDay(now), this.#reserveLimits);
        } catch (error) {
          this.#dequeue(head)?.reject(error);
          continue;
        }
        this.#last = result.state;
        if (this.#queue[0] !== head) {
          // The head was aborted while the store answered: give a granted slot back.
          if (result.granted) {
            const at = this.#clock.now();
            await this.#store.release(this.#key, result.slotId, at, at);
          }
          continue;
        }
        if (result.granted) {
          this.#dequeue(head);
          this.#callsMade++;
          head.resolve(this.#slot(result.slotId, this.#clock.now()));
          continue;
        }
        if (result.reason === "daily") {
          const ceiling = this.#reserveLimits.dailyCeiling;
          const error = new MarketoQuotaExceededError(
            `Daily API budget reached: ${result.state.dailyUsed} of ${this.#limits.dailyQuota} calls used (this client stops at ${ceiling}, keeping ${this.#limits.dailyReserve} in reserve). The quota resets at 00:00 US Central.`,
            { code: "DAILY_BUDGET", dailyUsed: result.state.dailyUsed, dailyLimit: this.#limits.dailyQuota },
          );
          // Every queued call would get the same answer.
          for (const w of this.#queue.splice(0)) this.#settle(w)?.reject(error);
          break;
        }
        await this.#wait(result.retryAt, generation);
      }
    } finally {
      this.#pumping = false;
    }
  }

  #dequeue(w: Waiter): Waiter | undefined {
    const i = this.#queue.indexOf(w);
    if (i >= 0) this.#queue.splice(i, 1);
    return this.#settle(w);
  }

  #settle(w: Waiter): Waiter {
    if (w.onAbort) w.signal?.removeEventListener("abort", w.onAbort);
    return w;
  }

  /** Waits until `retryAt` (or a poll interval when unknown), or until a release wakes the queue. */
  async #wait(retryAt: number | undefined, generation: number): Promise<void> {
    // A release that happened while the store answered must not be lost.
    if (generation !== this.#generation) return;
    const now = this.#clock.now();
    const ms =
      retryAt === undefined ? this.#limits.pollMs : Math.max(1, Math.min(retryAt - now, this.#limits.windowMs));
    const controller = new AbortController();
    this.#wake = () => controller.abort();
    try {
      await this.#sleep(ms, controller.signal);
    } catch {
      // Woken by a release or an abort: loop and ask the store again.
    } finally {
      this.#wake = undefined;
    }
  }

  /** Closes the gate after a 606/615 and returns the pause in ms. */
  async #rateLimited(code: "606" | "615", grantedAt: number, random: () => number): Promise<number> {
    const now = this.#clock.now();
    const backoff = this.#backoff[code];
    if (grantedAt <= this.#limitedAt && backoff.current > 0) {
      // Sent before the gate closed: the same burst of refusals, already paused for.
      return Math.max(0, this.#last.pausedUntil - now);
    }
    const ms = backoff.next(random);
    this.#limitedAt = now;
    await this.pause(now + ms);
    return ms;
  }

  /** A call granted after the last pause was answered without 606/615: the squeeze is over. */
  #answered(grantedAt: number): void {
    if (grantedAt <= this.#limitedAt) return;
    this.#backoff["606"].reset();
    this.#backoff["615"].reset();
  }

  #slot(slotId: string, grantedAt: number): LimiterSlot {
    let released = false;
    let limited = false;
    return {
      grantedAt,
      rateLimited: (code, random) => {
        limited = true;
        return this.#rateLimited(code, grantedAt, random);
      },
      release: async (answeredAt?: number) => {
        if (released) return;
        released = true;
        if (answeredAt !== undefined && !limited) this.#answered(grantedAt);
        try {
          const now = this.#clock.now();
          await this.#store.release(this.#key, slotId, Math.min(answeredAt ?? now, now), now);
        } catch (error) {
          this.#logger.warn({ err: error }, "marketo limiter: release failed; the slot expires with its lease");
        }
        this.#poke();
      },
    };
  }
}
