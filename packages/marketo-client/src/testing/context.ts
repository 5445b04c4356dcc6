/**
 * Types shared by the Marketo simulator and the handlers it delegates to (the bulk extract handler lives in
 * `./bulk/`). They describe one parsed request, one answer, and the read-only view of the simulated instance that a
 * handler may use.
 *
 * @module
 */

/** One request as the simulator parsed it, after authentication, limit accounting and fault injection. */
export interface SimRequest {
  /** HTTP method, upper case (`GET`, `POST`, ...). A POST with `_method=GET` arrives here as `GET`. */
  method: string;
  /** URL path without the query string, e.g. `/bulk/v1/leads/export/create.json`. */
  path: string;
  /** Query parameters (for a POST with `_method=GET`, the form body's fields are merged in). */
  query: URLSearchParams;
  /** Request headers, lower-case names. */
  headers: Record<string, string | undefined>;
  /** Parsed JSON body or form object; `undefined` when there is no body. */
  body: unknown;
}

/** One answer from a handler. An object body is sent as JSON; strings, buffers and streams are sent as they are. */
export interface SimResponse {
  /** HTTP status code. */
  status: number;
  /** Extra response headers. */
  headers?: Record<string, string>;
  /** Object (sent as JSON), string, Buffer or readable stream. */
  body: unknown | string | Buffer | NodeJS.ReadableStream;
}

/** A simulated activity record as stored by the simulator. */
export interface SimActivity {
  id: number;
  marketoGUID: string;
  leadId: number;
  activityDate: string;
  activityTypeId: number;
  primaryAttributeValueId?: number;
  primaryAttributeValue?: string;
  attributes: { name: string; value: unknown }[];
}

/** The simulated instance as seen by a delegated handler. */
export interface SimContext {
  /** The simulator's clock in ms since epoch (scaled by `timeScale`: sim time runs `1 / timeScale` times faster). */
  now(): number;
  /** The simulator's time scale (1 = real Marketo timing; 0.05 makes a 20 s window last 1 s). */
  timeScale: number;
  /** Seeded random number generator in [0, 1), so simulated runs repeat. */
  random(): number;
  /** Every lead currently stored. */
  leads(): Iterable<Record<string, unknown>>;
  /** Lead field names and data types, as the lead describe endpoint reports them. */
  leadFields(): { name: string; dataType: string }[];
  /** Every activity currently stored. */
  activities(): Iterable<SimActivity>;
  /** An HTTP 200 answer carrying Marketo's `success:false` envelope with one error. */
  envelopeError(code: string, message: string): SimResponse;
}
