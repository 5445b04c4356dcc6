import { errorInfo } from "../errors.js";
import type { Logger, Sleep } from "../internal/runtime.js";
import type { AuditStore, Lease } from "../store/audit-store.js";

/** Lease settings. @internal */
export interface LeaseKeeperOptions {
  store: AuditStore;
  name: string;
  ttlMs: number;
  renewEveryMs: number;
  sleep: Sleep;
  logger: Logger;
}

/** What a body run under a held lease gets. @internal */
export interface HeldLease {
  /** The lease as acquired (its token fences the run's store writes). */
  lease: Lease;
  /** Aborted when the run must stop: the caller's signal, a stop request, or a lost lease. */
  stop: AbortController;
  /** True once a renewal found the lease gone. */
  lost(): boolean;
}

/**
 * Holds a lease for the duration of `body`, renewing it every `renewEveryMs`; a lost lease (expired and taken by
 * another runner) aborts `stop` so the run ends gracefully after the batch in flight (the store's fence refuses
 * anything later). The lease is released when `body` ends. Answers `undefined` when another runner holds it.
 * @internal
 */
export async function withLease<T>(
  options: LeaseKeeperOptions,
  owner: string,
  signal: AbortSignal | undefined,
  onStart: (held: HeldLease) => void,
  body: (held: HeldLease) => Promise<T>,
): Promise<{ acquired: true; value: T } | { acquired: false; holder: string; expiresAt: number }> {
  const { store, ttlMs, renewEveryMs, sleep, logger } = options;
  const got = await store.acquireLease(options.name, owner, ttlMs);
  if (!got.acquired) return { acquired: false, holder: got.holder, expiresAt: got.expiresAt };
  let lease = got.lease;
  let lost = false;
  const stop = new AbortController();
  const keeper = new AbortController();
  const onAbort = () => stop.abort(signal?.reason);
  let renewing: Promise<void> = Promise.resolve();
  // Everything after the acquisition is inside try/finally: whatever throws (a bad signal, onStart, the body), the
  // lease is released.
  try {
    if (signal?.aborted) stop.abort(signal.reason);
    else signal?.addEventListener("abort", onAbort, { once: true });
    renewing = (async () => {
      while (!keeper.signal.aborted) {
        try {
          await sleep(renewEveryMs, keeper.signal);
        } catch {
          return;
        }
        if (keeper.signal.aborted) return;
        const renewed = await store.renewLease(lease, ttlMs).catch((e) => {
          logger.warn({ err: errorInfo(e) }, "lease renewal failed");
          return lease;
        });
        if (!renewed) {
          lost = true;
          logger.error({ lease: options.name, owner }, "lease lost: stopping the run after the batch in flight");
          stop.abort(new DOMException("lease lost", "AbortError"));
          return;
        }
        lease = renewed;
      }
    })();
    const held: HeldLease = { lease: got.lease, stop, lost: () => lost };
    onStart(held);
    return { acquired: true, value: await body(held) };
  } finally {
    keeper.abort();
    await renewing;
    try {
      signal?.removeEventListener("abort", onAbort);
    } catch {
      // not a real signal (the engine validates it; a direct caller may not have)
    }
    await store.releaseLease(lease).catch((e) => logger.warn({ err: errorInfo(e) }, "lease release failed"));
  }
}
