import { errorInfo } from "../errors.js";
import type { Clock, Logger } from "../internal/runtime.js";
import type { MarketoGateway } from "../ports.js";
import type { WritableKind } from "../store/audit-store.js";
import type { FieldFilters } from "./plan.js";

const OBJECTS = {
  company: "companies",
  namedAccount: "namedAccounts",
  lead: "leads",
  salesPerson: "salesPersons",
} as const;

/**
 * Describe answers per kind, cached for `ttlMs`: they change only when an admin edits the schema, so an unchanged
 * re-run costs no call. A failed describe sends every mapped field for that kind, and is not cached.
 * @internal
 */
export class FieldFilterCache {
  #cache: { at: number; filters: FieldFilters } | undefined;

  constructor(
    readonly deps: { gateway: MarketoGateway; enabled: boolean; ttlMs: number; clock: Clock; logger: Logger },
  ) {}

  async load(signal?: AbortSignal): Promise<FieldFilters> {
    const { gateway, clock, logger } = this.deps;
    if (!this.deps.enabled || !gateway.fields) return {};
    if (this.#cache && clock.now() - this.#cache.at < this.deps.ttlMs) return this.#cache.filters;
    const out: FieldFilters = {};
    let failed = false;
    for (const [kind, object] of Object.entries(OBJECTS) as [WritableKind, (typeof OBJECTS)[WritableKind]][]) {
      try {
        out[kind] = await gateway.fields(object, { signal });
      } catch (e) {
        failed = true;
        logger.warn({ object, err: errorInfo(e) }, "describe failed; sending every mapped field");
      }
    }
    // A failed describe (Marketo unreachable) is asked again next run rather than trusted for the TTL.
    if (!failed) this.#cache = { at: clock.now(), filters: out };
    return out;
  }
}
