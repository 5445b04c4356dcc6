import { ObjectResource, type ResourceContext } from "./object-resource.js";
import type { Company } from "./types.js";

/**
 * Companies (`/rest/v1/companies.json`), deduplicated by `externalCompanyId`. Read-only when a native CRM sync owns
 * them (see `mk.capabilities`). Sync sales persons first when companies carry `externalSalesPersonId` (718).
 */
export class Companies extends ObjectResource<Company> {
  /** @internal */
  constructor(ctx: ResourceContext) {
    super(ctx, {
      segment: "companies",
      label: "companies",
      dedupeFields: ["externalCompanyId"],
      idField: "id",
      capability: "companies",
      sendDedupeBy: () => true,
    });
  }
}
