/**
 * Where the limiter keeps its counters. The in-memory store serves one process; a shared store (PostgreSQL, Redis)
 * implements the same interface so several processes share one Marketo instance's quota. Every method receives the
 * time from the client's injected clock, and `reserve` must be atomic: check and record in one step.
 *
 * @module
 */

/** Limits a reservation is checked against. */
export interface ReserveLimits {
  /** Calls allowed per sliding window. */
  callsPerWindow: number;
  /** Sliding window length in ms. */
  windowMs: number;
  /** Calls allowed in flight at once. */
  maxConcurrent: number;
  /** Calls allowed today before this client stops itself (daily quota minus reserve). */
  dailyCeiling: number;
  /** A slot not released within this many ms is treated as finished (a crashed worker must not hold it forever). */
  leaseMs: number;
}

/** Counters after an operation, as the store sees them (across every client sharing it). */
export interface LimiterState {
  /** Calls counted in the current sliding window (in flight, or finished less than `windowMs` ago). */
  windowCalls: number;
  /** Calls in flight. */
  inFlight: number;
  /** Calls counted against today's quota (local count, raised to Marketo's own count when synced). */
  dailyUsed: number;
  /** Until when every call is held back (ms since epoch); 0 when not paused. */
  pausedUntil: number;
}

/** Answer of {@link LimiterStore.reserve}. */
export type Reservation =
  | { granted: true; slotId: string; state: LimiterState }
  | {
      granted: false;
      /** Which limit refused the slot. */
      reason: "paused" | "window" | "concurrency" | "daily";
      /** Earliest time (ms since epoch) a retry can succeed, when the store can tell; otherwise wait for a release. */
      retryAt?: number;
      state: LimiterState;
    };

/** Storage of the limiter's state, keyed by Marketo instance (e.g. the REST base URL). */
export interface LimiterStore {
  /**
   * Atomically: if not paused, the window has room, fewer than `maxConcurrent` are in flight and today's count is under
   * the ceiling, record a call started at `now` (counting it against the window and the day) and grant a slot.
   */
  reserve(key: string, now: number, day: string, limits: ReserveLimits): Promise<Reservation>;
  /**
   * Marks a slot finished at `now`. The call keeps counting in the window until `now + windowMs`: the server saw it
   * arrive at some moment before `now`, so this is the earliest time it is sure to have left the server's window.
   * `callerNow` is the caller's clock when it calls (≥ `now`): a store with a clock of its own (the database's) uses
   * `callerNow − now` as how long ago the answer arrived.
   */
  release(key: string, slotId: string, now: number, callerNow?: number): Promise<void>;
  /**
   * Holds back every call until `until` (never shortens an existing pause). `callerNow` is the caller's clock when it
   * calls, so a store with a clock of its own can hold calls for `until − callerNow`.
   */
  pause(key: string, until: number, callerNow?: number): Promise<void>;
  /** Raises today's count to at least `used` (Marketo's own count from `stats/usage.json`). */
  raiseDailyUsed(key: string, day: string, used: number): Promise<void>;
  /** Current counters. */
  state(
    key: string,
    now: number,
    day: string,
    limits: Pick<ReserveLimits, "windowMs" | "leaseMs">,
  ): Promise<LimiterState>;
  /** Synchronous counters when the store can answer without I/O (the in-memory store can); used by `quota()`. */
  peek?(key: string, now: number, day: string, limits: Pick<ReserveLimits, "windowMs" | "leaseMs">): LimiterState;
}

interface Slot {
  start: number;
  end: number | undefined;
}

interface InstanceState {
  slots: Map<string, Slot>;
  pausedUntil: number;
  day: string;
  dailyUsed: number;
  nextId: number;
}

/**
 * The default {@link LimiterStore}: state in this process's memory. Each `MarketoClient` creates its own unless you pass
 * one in; share one instance between clients of the same Marketo instance in one process to share the quota.
 */
export class InMemoryLimiterStore implements LimiterStore {
  readonly #instances = new Map<string, InstanceState>();

  #get(key: string, day: string): InstanceState {
    let s = this.#instances.get(key);
    if (!s) {
      s = { slots: new Map(), pausedUntil: 0, day, dailyUsed: 0, nextId: 1 };
      this.#instances.set(key, s);
    }
    if (s.day !== day) {
      s.day = day;
      s.dailyUsed = 0;
    }
    return s;
  }

  #count(s: InstanceState, now: number, windowMs: number, leaseMs: number) {
    let windowCalls = 0;
    let inFlight = 0;
    let earliestExit = Number.POSITIVE_INFINITY;
    for (const [id, slot] of s.slots) {
      const end = slot.end ?? (now - slot.start > leaseMs ? slot.start + leaseMs : undefined);
      if (end === undefined) {
        inFlight++;
        windowCalls++;
      } else if (end + windowMs > now) {
        windowCalls++;
        earliestExit = Math.min(earliestExit, end + windowMs);
      } else {
        s.slots.delete(id);
      }
    }
    return { windowCalls, inFlight, earliestExit };
  }

  #state(s: InstanceState, counts: { windowCalls: number; inFlight: number }): LimiterState {
    return {
      windowCalls: counts.windowCalls,
      inFlight: counts.inFlight,
      dailyUsed: s.dailyUsed,
      pausedUntil: s.pausedUntil,
    };
  }

  async reserve(key: string, now: number, day: string, limits: ReserveLimits): Promise<Reservation> {
    const s = this.#get(key, day);
    const counts = this.#count(s, now, limits.windowMs, limits.leaseMs);
    const state = this.#state(s, counts);
    if (s.dailyUsed >= limits.dailyCeiling) return { granted: false, reason: "daily", state };
    if (s.pausedUntil > now) return { granted: false, reason: "paused", retryAt: s.pausedUntil, state };
    if (counts.inFlight >= limits.maxConcurrent) return { granted: false, reason: "concurrency", state };
    if (counts.windowCalls >= limits.callsPerWindow) {
      return Number.isFinite(counts.earliestExit)
        ? { granted: false, reason: "window", retryAt: counts.earliestExit, state }
        : { granted: false, reason: "window", state };
    }
    const slotId = String(s.nextId++);
    s.slots.set(slotId, { start: now, end: undefined });
    s.dailyUsed++;
    return {
      granted: true,
      slotId,
      state: { ...state, windowCalls: counts.windowCalls + 1, inFlight: counts.inFlight + 1, dailyUsed: s.dailyUsed },
    };
  }

  async release(key: string, slotId: string, now: number): Promise<void> {
    const slot = this.#instances.get(key)?.slots.get(slotId);
    if (slot && slot.end === undefined) slot.end = Math.max(now, slot.start);
  }

  async pause(key: string, until: number): Promise<void> {
    const s = this.#instances.get(key);
    if (s) s.pausedUntil = Math.max(s.pausedUntil, until);
    else this.#instances.set(key, { slots: new Map(), pausedUntil: until, day: "", dailyUsed: 0, nextId: 1 });
  }

  async raiseDailyUsed(key: string, day: string, used: number): Promise<void> {
    const s = this.#get(key, day);
    s.dailyUsed = Math.max(s.dailyUsed, used);
  }

  async state(
    key: string,
    now: number,
    day: string,
    limits: Pick<ReserveLimits, "windowMs" | "leaseMs">,
  ): Promise<LimiterState> {
    return this.peek(key, now, day, limits);
  }

  peek(key: string, now: number, day: string, limits: Pick<ReserveLimits, "windowMs" | "leaseMs">): LimiterState {
    const s = this.#get(key, day);
    return this.#state(s, this.#count(s, now, limits.windowMs, limits.leaseMs));
  }
}
