/** One `temp_err_msg` row the simulator returns. */
export interface SimQxtendMessage {
  /** tt_msg_nbr. */
  number?: number;
  /** tt_msg_desc. */
  description: string;
  /** tt_msg_sev. @default "error" (or "warning" for a warning fault) */
  severity?: string;
  /** tt_msg_field. */
  field?: string;
  /** tt_msg_data. */
  data?: string;
  /** tt_msg_keys. */
  keys?: string;
}

/** A failure the simulator can be told to produce on coming requests. */
export type QxtendSimFault =
  | {
      /** A SOAP 1.1 Fault with HTTP 500. */
      kind: "soapFault";
      /** @default "soapenv:Server" */
      faultcode?: string;
      /** @default "Simulated fault" */
      faultstring?: string;
      /** Text of the Fault's `detail`. */
      detail?: string;
    }
  | {
      /** HTTP 200 with `result` error and these `temp_err_msg` rows (no data). */
      kind: "resultError";
      /** @default one generic error row */
      messages?: SimQxtendMessage[];
    }
  | {
      /** A normal answer, but with `result` warning and these rows. */
      kind: "warning";
      /** @default one generic warning row */
      messages?: SimQxtendMessage[];
    }
  | {
      /** HTTP 500 with a plain-text body. */
      kind: "http500";
    }
  | {
      /** HTTP 200 with an HTML page (a proxy or login page). */
      kind: "html";
    };

/** A queued fault and how many more requests it applies to. */
interface Queued {
  fault: QxtendSimFault;
  remaining: number;
}

/** Faults waiting to be served, first in first out; each applies to `times` requests. */
export class QxtendSimFaults {
  readonly #queue: Queued[] = [];

  /**
   * Makes the next `times` requests (default 1) fail this way. Faults queue up in order.
   * @example sim.faults.inject({ kind: "soapFault", faultcode: "soapenv:Client", faultstring: "Bad login" });
   */
  inject(fault: QxtendSimFault, options: { times?: number } = {}): void {
    this.#queue.push({ fault, remaining: options.times ?? 1 });
  }

  /** Drops every queued fault. */
  clear(): void {
    this.#queue.length = 0;
  }

  /** How many requests still have a fault waiting. */
  pending(): number {
    return this.#queue.reduce((n, q) => n + q.remaining, 0);
  }

  /** Takes the fault for the current request, if any. @internal */
  take(): QxtendSimFault | undefined {
    const head = this.#queue[0];
    if (!head) return undefined;
    head.remaining--;
    if (head.remaining <= 0) this.#queue.shift();
    return head.fault;
  }
}
