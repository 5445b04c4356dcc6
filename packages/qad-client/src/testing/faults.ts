import { seededRandom } from "./random.js";

/**
 * Failure kinds the REST face can inject:
 * - `sessionExpired`: HTTP 401 and every issued token is revoked (the client must log in again)
 * - `serverError`: HTTP 5xx (`status`, default 503)
 * - `html`: HTTP 200 with an HTML login page instead of JSON
 * - `submitFailure`: HTTP 200 `{"submitResult":{"success":false,"errors":[{fieldName,message}]}}`
 * - `forbidden`: `{"errors":[{"severity":1,"code":"403","message":"Access is denied"}]}` (HTTP `status`, default 403)
 * - `emptyPage`: a browse page answers 200 with zero rows (as when paging parameters are ignored)
 * - `endlessPaging`: a browse page always says `HasMoreParams: "true"` and repeats its rows
 * - `connectionReset`: the socket is destroyed without an answer
 * - `slow`: the answer is held back `delayMs` (real time) before being served normally
 * - `drop`: the request is served, then the answer is cut: headers and part of the body, then the socket is destroyed
 */
export type RestFaultKind =
  | "sessionExpired"
  | "serverError"
  | "html"
  | "submitFailure"
  | "forbidden"
  | "emptyPage"
  | "endlessPaging"
  | "connectionReset"
  | "slow"
  | "drop";

/** One fault to inject. */
export interface RestFault {
  /** What goes wrong. */
  kind: RestFaultKind;
  /** How many requests it hits. @default 1 */
  times?: number;
  /** Chance that a matching request is hit (seeded). @default 1 */
  probability?: number;
  /** Only requests whose path (below the base path, e.g. `api/qracore/browses`) contains this. @default any data path */
  path?: string;
  /** HTTP status for `serverError` / `forbidden`. */
  status?: number;
  /** Delay of a `slow` answer, in real milliseconds. @default 1000 */
  delayMs?: number;
}

interface Armed extends RestFault {
  left: number;
}

/** The REST face's fault queue. */
export class RestSimFaults {
  #armed: Armed[] = [];
  #random: () => number;
  /** Faults served so far, by kind. */
  readonly served: Partial<Record<RestFaultKind, number>> = {};

  constructor(seed = 1) {
    this.#random = seededRandom(seed ^ 0x5eed);
  }

  /** Arms a fault for coming requests. */
  inject(fault: RestFault): void {
    this.#armed.push({ ...fault, left: fault.times ?? 1 });
  }

  /** Drops every armed fault. */
  clear(): void {
    this.#armed = [];
  }

  /** Faults still armed. */
  pending(): number {
    return this.#armed.reduce((n, f) => n + f.left, 0);
  }

  /** @internal Takes the first armed fault matching this request. */
  take(path: string, kinds?: readonly RestFaultKind[]): RestFault | undefined {
    for (const f of this.#armed) {
      if (f.left <= 0) continue;
      if (kinds && !kinds.includes(f.kind)) continue;
      if (f.path !== undefined && !path.includes(f.path)) continue;
      if (f.probability !== undefined && this.#random() >= f.probability) continue;
      f.left--;
      this.served[f.kind] = (this.served[f.kind] ?? 0) + 1;
      this.#armed = this.#armed.filter((a) => a.left > 0);
      return f;
    }
    return undefined;
  }
}
