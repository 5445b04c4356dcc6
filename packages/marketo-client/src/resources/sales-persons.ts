import { ObjectResource, type ResourceContext } from "./object-resource.js";
import type { SalesPerson } from "./types.js";

/** Sales persons (`/rest/v1/salespersons.json`), deduplicated by `externalSalesPersonId`. CRM-owned when synced natively. */
export class SalesPersons extends ObjectResource<SalesPerson> {
  /** @internal */
  constructor(ctx: ResourceContext) {
    super(ctx, {
      segment: "salespersons",
      label: "sales persons",
      dedupeFields: ["externalSalesPersonId"],
      idField: "id",
      capability: "salesPersons",
      sendDedupeBy: () => true,
    });
  }
}
