/**
 * The hardened fetch both clients send every request through:
 *
 * - redirects are never followed by fetch (`redirect: "manual"`): one to another origin is a typed `redirect` error
 *   naming the status and the target origin; one to the same origin is followed only for GET/HEAD (no body to
 *   re-send), at most `maxRedirects` times; any other is refused. No body and no credential ever leaves for another
 *   origin.
 * - one deadline covers the headers AND the body together (`timeoutMs`); it aborts the request, so a body trickling
 *   one byte a second or headers followed by silence end with a typed `timeout` error. Streaming downloads may
 *   instead bound the gap between chunks (`bodyIdleMs`).
 * - every body has a byte limit, counted on the decoded bytes as they stream (a gzip bomb stops at the limit), and
 *   a declared `Content-Length` (encoded bytes) over `maxEncodedBytes` is refused before any byte is read. DEFLATE
 *   never shrinks data, so the decoded count also bounds the encoded bytes of an undeclared body.
 * - failures are {@link HttpKernelError}s holding host, cause code and limit only: never the fetch error or its
 *   Request (whose headers hold `Authorization`).
 */
import { causeCodeOf, HttpKernelError, isKernelError, NOT_SENT_CODES } from "./errors.js";
import type { FetchLike } from "./runtime.js";

/** One request through {@link hardenedFetch}. */
export interface HardenedRequest {
  /** Absolute URL. */
  url: string | URL;
  /** HTTP method. */
  method: string;
  /** Request headers (credentials included: they only ever go to this URL's origin). */
  headers?: Record<string, string> | undefined;
  /** Request body; sent once, never re-sent on a redirect. */
  body?: string | URLSearchParams | Uint8Array | undefined;
  /** The caller's cancellation; when it aborts, its reason is thrown as is. */
  signal?: AbortSignal | undefined;
  /** The fetch to call. */
  fetch: FetchLike;
  /** One deadline for headers and body together, in ms (headers only when `bodyIdleMs` is set). */
  timeoutMs: number;
  /** Streaming mode: after the headers, the body must deliver a chunk at least every `bodyIdleMs` ms. */
  bodyIdleMs?: number | undefined;
  /** Largest body, in decoded bytes. */
  maxBodyBytes: number;
  /** Largest declared `Content-Length` (encoded bytes). @default maxBodyBytes */
  maxEncodedBytes?: number | undefined;
  /** Same-origin GET/HEAD redirects followed at most. @default 5 */
  maxRedirects?: number | undefined;
  /**
   * Finds, in a fetch failure's cause chain, a typed and secret-free error of the caller's own (e.g. a refusal by a
   * connect-time network policy) to throw as is instead of the kernel's summary.
   */
  recognise?: ((error: unknown) => unknown) | undefined;
  /**
   * The timers the deadline (`timeoutMs`, `bodyIdleMs`) runs on. Inject fake ones (e.g. `FakeTime.timers` of
   * `@ml/http-kernel/testing`) to move the deadline by hand in tests. @default {@link realTimers}
   */
  timers?: DeadlineTimers | undefined;
}

/** The timer functions the kernel's deadline is armed and cleared with. */
export interface DeadlineTimers {
  /** Calls `fn` once after `ms` milliseconds; returns a handle for `clearTimeout`. */
  setTimeout(fn: () => void, ms: number): unknown;
  /** Cancels a timer `setTimeout` returned (a fired or cleared one is ignored). */
  clearTimeout(handle: unknown): void;
}

/** The real timers: the global `setTimeout` (unref'd, so a pending deadline never keeps a process alive) and `clearTimeout`. */
export const realTimers: DeadlineTimers = {
  setTimeout(fn, ms) {
    const t = setTimeout(fn, ms);
    t.unref?.();
    return t;
  },
  clearTimeout(handle) {
    clearTimeout(handle as ReturnType<typeof setTimeout>);
  },
};

/** An answer whose body is bounded by the request's deadline and byte limit. */
export interface HardenedResponse {
  /** HTTP status. */
  readonly status: number;
  /** Whether the status is 2xx. */
  readonly ok: boolean;
  /** Response headers. */
  readonly headers: Headers;
  /** The URL answered (after same-origin redirects). */
  readonly url: string;
  /** The bounded body stream (null for a body-less answer). Errors are {@link HttpKernelError}s. */
  readonly body: ReadableStream<Uint8Array> | null;
  /**
   * Reads the whole body as UTF-8 text, within the deadline and the byte limit (or the lower `maxBytes`, e.g. for a
   * JSON answer on a streaming download).
   */
  text(maxBytes?: number): Promise<string>;
  /** Drops the body and frees the connection. */
  cancel(): Promise<void>;
  /** The answer as a `Response` whose body is the bounded stream. */
  toResponse(): Response;
}

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
const NULL_BODY_STATUSES = new Set([101, 103, 204, 205, 304]);

/** Rejects with the signal's reason as soon as it aborts, whatever `promise` does. */
function raceSignal<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener("abort", onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(e);
      },
    );
  });
}

async function drop(res: Response): Promise<void> {
  await res.body?.cancel().catch(() => {});
}

/** Sends `req` under the kernel's rules (see the module doc); throws {@link HttpKernelError} or the caller's abort reason. */
export async function hardenedFetch(req: HardenedRequest): Promise<HardenedResponse> {
  let url = new URL(req.url);
  const method = req.method.toUpperCase();
  const host = url.host;
  const maxRedirects = req.maxRedirects ?? 5;
  const maxEncoded = req.maxEncodedBytes ?? req.maxBodyBytes;
  const deadline = new AbortController();
  const signal = req.signal ? AbortSignal.any([req.signal, deadline.signal]) : deadline.signal;
  const timers = req.timers ?? realTimers;
  let timer: unknown;
  const arm = (ms: number, what: string) => {
    if (timer !== undefined) timers.clearTimeout(timer);
    timer = timers.setTimeout(
      () => deadline.abort(new HttpKernelError("timeout", `${method} ${host}: ${what} ${ms} ms`, { host, limit: ms })),
      ms,
    );
  };
  const finish = () => {
    if (timer !== undefined) timers.clearTimeout(timer);
    timer = undefined;
  };
  /** What to throw for `e`: the caller's abort, the deadline, a kernel error, or a plain summary of a fetch failure. */
  const failure = (e: unknown): unknown => {
    if (req.signal?.aborted) return req.signal.reason;
    if (deadline.signal.aborted) return deadline.signal.reason;
    if (isKernelError(e)) return e;
    const own = req.recognise?.(e);
    if (own !== undefined) return own;
    const code = causeCodeOf(e);
    return new HttpKernelError("network", `${method} ${host} failed (${code ?? "network error"})`, {
      host,
      causeCode: code,
      maybeSent: !(code !== undefined && NOT_SENT_CODES.has(code)),
    });
  };
  const redirectError = (status: number, target: string, why: string) =>
    new HttpKernelError("redirect", `${method} ${host} answered HTTP ${status} redirecting to ${target}: ${why}`, {
      host,
      status,
      targetOrigin: target,
      maybeSent: true,
    });

  arm(req.timeoutMs, "no complete answer within");
  let res!: Response;
  try {
    for (let hop = 0; ; hop++) {
      res = await raceSignal(
        req.fetch(url.href, {
          method,
          ...(req.headers ? { headers: req.headers } : {}),
          ...(hop === 0 && req.body !== undefined ? { body: req.body } : {}),
          redirect: "manual",
          signal,
        }),
        signal,
      );
      if (res.redirected && res.url && new URL(res.url).origin !== url.origin) {
        // An injected fetch that follows redirects itself: its answer comes from elsewhere and is not trusted.
        await drop(res);
        throw redirectError(0, new URL(res.url).origin, "followed by the fetch implementation; refused");
      }
      if (!REDIRECT_STATUSES.has(res.status)) break;
      const location = res.headers.get("location");
      if (location === null) break;
      await drop(res);
      let target: URL;
      try {
        target = new URL(location, url);
      } catch {
        throw redirectError(res.status, "an unreadable Location", "refused");
      }
      if (target.origin !== url.origin) throw redirectError(res.status, target.origin, "another origin; not followed");
      if (method !== "GET" && method !== "HEAD") {
        throw redirectError(res.status, target.origin, `a ${method} is never repeated on a redirect`);
      }
      if (hop >= maxRedirects) throw redirectError(res.status, target.origin, `more than ${maxRedirects} redirects`);
      url = target;
    }
  } catch (e) {
    finish();
    throw failure(e);
  }

  const declared = Number(res.headers.get("content-length") ?? Number.NaN);
  if (Number.isFinite(declared) && declared > maxEncoded) {
    finish();
    await drop(res);
    throw new HttpKernelError(
      "too_large",
      `${method} ${host}: the answer declares ${declared} bytes, over the limit of ${maxEncoded}`,
      { host, limit: maxEncoded },
    );
  }
  if (req.bodyIdleMs !== undefined) arm(req.bodyIdleMs, "the body stalled for");

  const source = NULL_BODY_STATUSES.has(res.status) ? null : res.body;
  let received = 0;
  let body: ReadableStream<Uint8Array> | null = null;
  if (source === null) {
    finish();
  } else {
    const reader = source.getReader();
    body = new ReadableStream<Uint8Array>(
      {
        async pull(controller) {
          try {
            const chunk = await raceSignal(reader.read(), signal);
            if (chunk.done) {
              finish();
              controller.close();
              return;
            }
            received += chunk.value.byteLength;
            if (received > req.maxBodyBytes) {
              throw new HttpKernelError(
                "too_large",
                `${method} ${host}: the answer is over the limit of ${req.maxBodyBytes} bytes`,
                { host, limit: req.maxBodyBytes },
              );
            }
            if (req.bodyIdleMs !== undefined) arm(req.bodyIdleMs, "the body stalled for");
            controller.enqueue(chunk.value);
          } catch (e) {
            const err = failure(e);
            finish();
            // Stop the transfer (and the decoder) at once: abort the request and drop what is buffered.
            if (!deadline.signal.aborted) deadline.abort(err);
            reader.cancel().catch(() => {});
            controller.error(err);
          }
        },
        cancel(reason) {
          finish();
          if (!deadline.signal.aborted) deadline.abort(reason);
          return reader.cancel(reason).catch(() => {});
        },
      },
      { highWaterMark: 0 },
    );
  }

  const status = res.status;
  const headers = res.headers;
  const answered = url.href;
  const stream = body;
  return {
    status,
    ok: status >= 200 && status < 300,
    headers,
    url: answered,
    body: stream,
    async text(maxBytes?: number) {
      if (stream === null) return "";
      const limit = Math.min(maxBytes ?? req.maxBodyBytes, req.maxBodyBytes);
      const chunks: Uint8Array[] = [];
      let total = 0;
      const reader = stream.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        total += value.byteLength;
        if (total > limit) {
          await reader.cancel().catch(() => {});
          throw new HttpKernelError("too_large", `${method} ${host}: the answer is over the limit of ${limit} bytes`, {
            host,
            limit,
          });
        }
        chunks.push(value);
      }
      return Buffer.concat(chunks).toString("utf8");
    },
    async cancel() {
      finish();
      await stream?.cancel().catch(() => {});
    },
    toResponse() {
      return new Response(stream, { status, statusText: res.statusText, headers });
    },
  };
}
