import { ObjectResource, type ResourceContext } from "./object-resource.js";
import type { Opportunity, OpportunityRole } from "./types.js";

/** Opportunity roles (`/rest/v1/opportunities/roles.json`), deduplicated by `externalOpportunityId` + `leadId` + `role`. */
export class OpportunityRoles extends ObjectResource<OpportunityRole> {
  /** @internal */
  constructor(ctx: ResourceContext) {
    super(ctx, {
      segment: "opportunities/roles",
      label: "opportunity roles",
      dedupeFields: ["externalOpportunityId", "leadId", "role"],
      idField: "marketoGUID",
      // Roles do not exist with a native CRM sync; a 1018 on them means opportunities are CRM-owned too.
      capability: "opportunities",
      sendDedupeBy: () => true,
    });
  }
}

/** Opportunities (`/rest/v1/opportunities.json`), deduplicated by `externalOpportunityId`, identified by `marketoGUID`. */
export class Opportunities extends ObjectResource<Opportunity> {
  /** Roles linking leads to opportunities. */
  readonly roles: OpportunityRoles;

  /** @internal */
  constructor(ctx: ResourceContext) {
    super(ctx, {
      segment: "opportunities",
      label: "opportunities",
      dedupeFields: ["externalOpportunityId"],
      idField: "marketoGUID",
      capability: "opportunities",
      sendDedupeBy: () => true,
    });
    this.roles = new OpportunityRoles(ctx);
  }
}
