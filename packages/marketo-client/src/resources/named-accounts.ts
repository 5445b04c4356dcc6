import { ObjectResource, type ResourceContext } from "./object-resource.js";
import type { NamedAccount } from "./types.js";

/**
 * Named accounts (ABM, `/rest/v1/namedaccounts.json`), deduplicated by `name`, identified by `marketoGUID`.
 * `dedupeBy` is sent with `updateOnly` only, as Marketo requires.
 */
export class NamedAccounts extends ObjectResource<NamedAccount> {
  /** @internal */
  constructor(ctx: ResourceContext) {
    super(ctx, {
      segment: "namedaccounts",
      label: "named accounts",
      dedupeFields: ["name"],
      idField: "marketoGUID",
      sendDedupeBy: (action) => action === "updateOnly",
    });
  }
}
