/** Leads of two customers sharing one email (Marketo keeps one lead per email): the reason and audit key. @module */

import type { Reason } from "../ports.js";
import type { Planned } from "./plan.js";

/**
 * The reason an earlier customer's lead is rejected because a later customer's contact has the same email: Marketo
 * keeps one lead per email (matched case-insensitively; lead keys are lower-cased emails), so writing both would
 * make the later one overwrite the earlier one's lead. The later source row wins, as with duplicate keys.
 * @internal
 */
export const duplicateEmailReason = (email: string, winner: string, where: string): Reason => ({
  code: "duplicate_email",
  message: `email ${email} is also the email of a contact of customer ${winner} (${where}); Marketo keeps one lead per email, the later contact is written`,
});

/**
 * The audit key of a superseded lead: the email alone is the key of the lead that is written (audit rows are
 * upserted by run, kind and key), so the superseded one is keyed `email (customer KEY)`.
 * @internal
 */
export const supersededLeadKey = (p: Planned): string => `${p.key} (customer ${p.sourceKey})`;
