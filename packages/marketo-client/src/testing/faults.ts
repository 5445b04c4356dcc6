/**
 * Fault injection for the Marketo simulator.
 *
 * @module
 */

/** What an injected fault answers. */
export type FaultCode =
  /** Marketo envelope code, answered as HTTP 200 + `success:false` (601, 602, 604, 606, 608, 611, 615, 1018 ...). */
  | number
  /** HTTP 502 with an HTML body, as Marketo's edge answers. */
  | 502
  /** HTTP 200 with an HTML page (a proxy's login or error page). */
  | "html"
  /** HTTP 200 with an empty body. */
  | "empty"
  /** The connection is reset without an answer. */
  | "reset"
  /**
   * The call is executed, then its answer is cut: headers and part of the body are sent and the socket is destroyed
   * (a connection dropped mid-answer; the client cannot know whether a write happened).
   */
  | "drop"
  /** The answer is held back `delayMs` real milliseconds (holding its concurrency slot), then served normally. */
  | "slow";

/** A fault to inject. */
export interface FaultSpec {
  /** What to answer. Numbers 500-599 are HTTP statuses with HTML bodies; other numbers are envelope codes. */
  code: FaultCode;
  /**
   * How many matching calls get the fault.
   * @default 1 (or unlimited when `probability` is set)
   */
  times?: number;
  /** Probability in (0, 1] that a matching call gets the fault, drawn from the simulator's seeded generator. */
  probability?: number;
  /** Only calls whose path starts with this string (e.g. `/rest/v1/companies.json`) or matches this RegExp. */
  path?: string | RegExp;
  /** Only calls with this method (after `_method=GET` is applied). */
  method?: string;
  /** Message of an envelope fault. */
  message?: string;
  /** Real milliseconds a `"slow"` answer is held back. @default 1000 */
  delayMs?: number;
}

/** A registered fault. */
export interface InjectedFault {
  /** The spec. */
  readonly spec: FaultSpec;
  /** Calls still to fault (Infinity when unlimited). */
  readonly remaining: number;
  /** Calls faulted so far. */
  readonly fired: number;
}

/** @internal */
export class FaultTable {
  readonly #faults: { spec: FaultSpec; remaining: number; fired: number }[] = [];
  readonly #random: () => number;
  fired = 0;

  constructor(random: () => number) {
    this.#random = random;
  }

  inject(spec: FaultSpec): InjectedFault {
    const entry = {
      spec,
      remaining: spec.times ?? (spec.probability !== undefined ? Number.POSITIVE_INFINITY : 1),
      fired: 0,
    };
    this.#faults.push(entry);
    return entry;
  }

  clear(): void {
    this.#faults.length = 0;
  }

  list(): InjectedFault[] {
    return this.#faults.map((f) => ({ ...f }));
  }

  /** The fault this call gets, if any. */
  take(method: string, path: string): FaultSpec | undefined {
    for (const f of this.#faults) {
      if (f.remaining <= 0) continue;
      const p = f.spec.path;
      if (p !== undefined && (typeof p === "string" ? !path.startsWith(p) : !p.test(path))) continue;
      if (f.spec.method !== undefined && f.spec.method.toUpperCase() !== method) continue;
      if (f.spec.probability !== undefined && this.#random() >= f.spec.probability) continue;
      f.remaining--;
      f.fired++;
      this.fired++;
      return f.spec;
    }
    return undefined;
  }
}
