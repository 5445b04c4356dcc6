/**
 * Read-only detection for objects a native CRM sync (Salesforce, Dynamics) owns.
 *
 * @module
 */
import type { Logger } from "./internal/runtime.js";
import { assertOneOf, assertOptions } from "./internal/validate.js";
import type { ObjectDescription } from "./resources/types.js";

/** Objects that a native CRM sync can make read-only through the API. */
export type CapabilityObject = "companies" | "opportunities" | "salesPersons";

const CAPABILITY_OBJECTS: readonly CapabilityObject[] = ["companies", "opportunities", "salesPersons"];

/** Whether this client may write an object, and how it knows. */
export interface Capability {
  /** The object. */
  object: CapabilityObject;
  /** `false` when writes would be refused (1018 "CRM Enabled"). */
  writable: boolean;
  /**
   * `1018`: Marketo refused a write with 1018 (certain). `probe`: inferred from describe (`updateable` flags) or leads
   * describe2 (`crmManaged`). `default`: nothing known yet, assumed writable.
   */
  source: "probe" | "1018" | "default";
  /** Why, in words. */
  reason?: string;
}

/** How describe calls reach Marketo (injected by the client). */
export interface CapabilityProbes {
  describe(object: CapabilityObject): Promise<ObjectDescription | undefined>;
  describeLeads2(): Promise<ObjectDescription | undefined>;
}

const SYSTEM_FIELDS = new Set(["createdAt", "updatedAt", "id", "marketoGUID", "seq"]);

/**
 * Capabilities of one client instance. Learned read-only state (1018) is kept for the life of the client and wins over
 * any probe; writes to an object learned read-only are not sent again.
 *
 * Probe inference (documented, not guaranteed by Marketo): the object's describe lists its fields with `updateable`;
 * when every field other than the id, dedupe and system fields is `updateable: false`, the object is taken as
 * read-only. When describe gives no `updateable` flags, leads `describe2` is read instead: any field with
 * `crmManaged: true` means a native CRM sync is on, which makes these three objects read-only.
 */
export class Capabilities {
  readonly #learned = new Map<CapabilityObject, { reason: string; via: "record" | "response" }>();
  readonly #probed = new Map<CapabilityObject, Promise<Capability>>();
  readonly #probes: CapabilityProbes;
  readonly #logger: Logger;

  /** @internal Created by the client. */
  constructor(probes: CapabilityProbes, logger: Logger) {
    this.#probes = probes;
    this.#logger = logger;
  }

  /**
   * Whether `object` is writable. Answers from learned 1018 state without a call; otherwise probes once per client
   * (cached). `{ refresh: true }` forgets both the cached probe and any read-only state learned from a 1018, and
   * probes again: a CRM sync that was switched off is then seen (if it is still on, the next write's 1018 teaches the
   * client again).
   *
   * @example
   * ```ts
   * const cap = await mk.capabilities.get("companies");
   * if (!cap.writable) log.warn(`companies are read-only (${cap.source}): ${cap.reason}`);
   * ```
   */
  async get(object: CapabilityObject, options?: { refresh?: boolean }): Promise<Capability> {
    assertOneOf(object, CAPABILITY_OBJECTS, "capabilities.get object");
    assertOptions(options, "capabilities.get");
    if (options?.refresh) {
      this.#learned.delete(object);
      this.#probed.delete(object);
    }
    const learned = this.#learned.get(object);
    if (learned) return { object, writable: false, source: "1018", reason: learned.reason };
    let probe = this.#probed.get(object);
    if (!probe) {
      probe = this.#probe(object);
      this.#probed.set(object, probe);
      probe.catch(() => this.#probed.delete(object));
    }
    return probe;
  }

  /** @internal Records that Marketo refused a write to `object` with 1018. */
  learnReadOnly(object: CapabilityObject, reason: string, via: "record" | "response"): void {
    if (!this.#learned.has(object)) {
      this.#logger.warn({ object, reason }, "marketo: object is read-only (1018 CRM Enabled); writes to it stop");
      this.#learned.set(object, { reason, via });
    }
  }

  /** @internal Learned read-only state, if any. */
  learned(object: CapabilityObject): { reason: string; via: "record" | "response" } | undefined {
    return this.#learned.get(object);
  }

  async #probe(object: CapabilityObject): Promise<Capability> {
    let description: ObjectDescription | undefined;
    try {
      description = await this.#probes.describe(object);
    } catch (error) {
      this.#logger.debug({ object, err: error }, "marketo: describe probe failed");
    }
    if (description) {
      const keys = new Set([...(description.dedupeFields ?? []), description.idField ?? "", ...SYSTEM_FIELDS]);
      const flagged = description.fields.filter((f) => !keys.has(f.name) && typeof f.updateable === "boolean");
      if (flagged.length > 0) {
        const writable = flagged.some((f) => f.updateable === true);
        return writable
          ? { object, writable: true, source: "probe", reason: "describe lists updateable fields" }
          : {
              object,
              writable: false,
              source: "probe",
              reason: "describe marks every non-key field updateable:false (inferred: native CRM sync owns it)",
            };
      }
    }
    try {
      const leads = await this.#probes.describeLeads2();
      const crm = leads?.fields.filter((f) => f.crmManaged === true) ?? [];
      if (leads?.fields.some((f) => typeof f.crmManaged === "boolean")) {
        return crm.length > 0
          ? {
              object,
              writable: false,
              source: "probe",
              reason: `leads describe2 has ${crm.length} crmManaged field(s) (inferred: native CRM sync is on)`,
            }
          : { object, writable: true, source: "probe", reason: "leads describe2 has no crmManaged field" };
      }
    } catch (error) {
      this.#logger.debug({ object, err: error }, "marketo: describe2 probe failed");
    }
    return { object, writable: true, source: "default", reason: "no probe answer; assumed writable until a 1018" };
  }
}
