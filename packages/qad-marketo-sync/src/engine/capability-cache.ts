import { errorInfo } from "../errors.js";
import type { Clock, Logger } from "../internal/runtime.js";
import type { CrmObject, GatewayCallOptions, GatewayCapability, JsonValue, MarketoGateway } from "../ports.js";
import type { AuditStore, Lease } from "../store/audit-store.js";

/** Name of the store checkpoint holding the last capability answers. */
export const CAPABILITY_CHECKPOINT = "capabilities";

interface Known {
  cap: GatewayCapability;
  at: number;
}

/**
 * What the engine last learned about each object's writability, kept across runs and restarts: an answer (probe or
 * 1018) is reused for `ttlMs`, then probed again with `{ refresh: true }`, so an instance whose CRM sync was turned
 * off is written again without a restart. The answers are saved in a store checkpoint, so a restarted process keeps
 * the probe time (and re-probes when it is old).
 * @internal
 */
export class CapabilityCache {
  readonly #known = new Map<CrmObject, Known>();
  #loaded = false;
  #dirty = false;

  constructor(
    readonly deps: {
      gateway: MarketoGateway;
      store: AuditStore;
      tenant: string;
      ttlMs: number;
      clock: Clock;
      logger: Logger;
    },
  ) {}

  async #load(): Promise<void> {
    if (this.#loaded) return;
    this.#loaded = true;
    try {
      const v = await this.deps.store.getCheckpoint(this.deps.tenant, CAPABILITY_CHECKPOINT);
      if (!v || typeof v !== "object" || Array.isArray(v)) return;
      for (const [object, raw] of Object.entries(v)) {
        const r = raw as { writable?: unknown; source?: unknown; reason?: unknown; at?: unknown };
        if (typeof r.writable !== "boolean" || typeof r.at !== "number") continue;
        const source = r.source === "probe" || r.source === "1018" ? r.source : "default";
        const cap: GatewayCapability = { object: object as CrmObject, writable: r.writable, source };
        if (typeof r.reason === "string") cap.reason = r.reason;
        this.#known.set(object as CrmObject, { cap, at: r.at });
      }
    } catch (e) {
      this.deps.logger.warn({ err: errorInfo(e) }, "could not load saved capability answers; probing");
    }
  }

  /**
   * The answer for `object`: reused while younger than the TTL, probed again (refreshed) when older, or always when
   * `refresh` is set (a manual replay asks Marketo afresh).
   */
  async answer(
    object: CrmObject,
    options: GatewayCallOptions & { refresh?: boolean } = {},
  ): Promise<GatewayCapability> {
    await this.#load();
    const now = this.deps.clock.now();
    const known = this.#known.get(object);
    if (known && !options.refresh && now - known.at < this.deps.ttlMs) return known.cap;
    const cap = await this.deps.gateway.capability(object, {
      ...(options.signal ? { signal: options.signal } : {}),
      ...(known ? { refresh: true } : {}),
    });
    this.#known.set(object, { cap, at: now });
    this.#dirty = true;
    return cap;
  }

  /**
   * The answer known before this call, whatever its age (loaded from the store on first use), or `undefined` when
   * this tenant pair has none yet: what a new answer is compared with to tell a change.
   */
  async previous(object: CrmObject): Promise<GatewayCapability | undefined> {
    await this.#load();
    return this.#known.get(object)?.cap;
  }

  /** The answer known now (no load: use after {@link CapabilityCache.previous} or {@link CapabilityCache.answer}). */
  peek(object: CrmObject): GatewayCapability | undefined {
    return this.#known.get(object)?.cap;
  }

  /** A 1018 answer: read-only from now, until the TTL passes. */
  learn(cap: GatewayCapability): void {
    this.#known.set(cap.object, { cap, at: this.deps.clock.now() });
    this.#dirty = true;
  }

  /** Saves the answers when they changed (fenced by the run's lease). Never throws. */
  async persist(fence?: Lease): Promise<void> {
    if (!this.#dirty) return;
    const value: Record<string, JsonValue> = {};
    for (const [object, k] of this.#known) {
      value[object] = {
        writable: k.cap.writable,
        source: k.cap.source,
        at: k.at,
        ...(k.cap.reason !== undefined ? { reason: k.cap.reason } : {}),
      };
    }
    try {
      await this.deps.store.saveCheckpoint(this.deps.tenant, CAPABILITY_CHECKPOINT, value, fence);
      this.#dirty = false;
    } catch (e) {
      this.deps.logger.warn({ err: errorInfo(e) }, "could not save capability answers");
    }
  }
}
