import type { Emitter } from "../events.js";
import type { Logger } from "../internal/runtime.js";
import type { CrmObject, GatewayCapability, MarketoGateway } from "../ports.js";
import type { CapabilityCache } from "./capability-cache.js";

/**
 * What the engine may write on this instance, for one run: probed before the first write (through the
 * {@link CapabilityCache}, which re-probes after its TTL), flipped to read-only by any 1018 answer (per record or per
 * request), never flipped back within a run.
 * @internal
 */
export class CapabilityTracker {
  readonly #known = new Map<CrmObject, GatewayCapability>();
  readonly #gateway: MarketoGateway;
  readonly #emitter: Emitter;
  readonly #logger: Logger;
  readonly #cache: CapabilityCache | undefined;
  readonly #refresh: boolean;

  /**
   * `cache` keeps answers across runs (with a TTL); without it every run asks the gateway. `refresh` probes afresh
   * whatever the cache holds (manual replay).
   */
  constructor(gateway: MarketoGateway, emitter: Emitter, logger: Logger, cache?: CapabilityCache, refresh = false) {
    this.#gateway = gateway;
    this.#emitter = emitter;
    this.#logger = logger;
    this.#cache = cache;
    this.#refresh = refresh;
  }

  /**
   * Probes once per run; a failed probe assumes writable and lets a 1018 correct it. Emits `capability` only when the
   * answer differs from the one known before (kept by the cache across runs and restarts), or is the first one:
   * an assumption after a failed probe is not an answer and emits nothing.
   */
  async probe(object: CrmObject, signal?: AbortSignal): Promise<GatewayCapability> {
    const known = this.#known.get(object);
    if (known) return known;
    const before = this.#cache ? await this.#cache.previous(object).catch(() => undefined) : undefined;
    let cap: GatewayCapability;
    try {
      cap = this.#cache
        ? await this.#cache.answer(object, { signal, refresh: this.#refresh })
        : await this.#gateway.capability(object, { signal });
    } catch (e) {
      this.#logger.warn(
        { object, err: e instanceof Error ? e.message : String(e) },
        "capability probe failed; assuming writable until Marketo says 1018",
      );
      cap = { object, writable: true, source: "default" };
    }
    // A 1018 learned while the probe was in flight wins.
    const raced = this.#known.get(object);
    if (raced) return raced;
    this.#known.set(object, cap);
    if (cap.source !== "default" && before?.writable !== cap.writable) this.#changed(cap, before);
    return cap;
  }

  writable(object: CrmObject): boolean {
    return this.#known.get(object)?.writable ?? true;
  }

  reason(object: CrmObject): string {
    return this.#known.get(object)?.reason ?? `${object} are owned by a CRM sync`;
  }

  /** A 1018: read-only for the rest of the run (and in the cache until its TTL passes); emits a change if it is one. */
  markReadOnly(object: CrmObject, reason: string): void {
    const known = this.#known.get(object);
    if (known?.writable === false) return;
    // What was known before: the cache's answer (a failed probe's assumption is not one), else this run's.
    const before = this.#cache ? this.#cache.peek(object) : known;
    const cap: GatewayCapability = { object, writable: false, source: "1018", reason };
    this.#known.set(object, cap);
    this.#cache?.learn(cap);
    this.#logger.warn({ object, reason }, "Marketo answered 1018: object is read-only, reading it instead");
    if (before?.writable !== false) this.#changed(cap, before);
  }

  #changed(cap: GatewayCapability, before: GatewayCapability | undefined): void {
    this.#emitter.emit("capability", { ...cap, previous: before?.writable });
  }

  readOnly(): { object: string; reason?: string | undefined }[] {
    return [...this.#known.values()].filter((c) => !c.writable).map((c) => ({ object: c.object, reason: c.reason }));
  }
}
