import type { ErrorInfo } from "../errors.js";
import type { CarriedRecord, RecordRef, WritableKind } from "../store/audit-store.js";
import type { CapabilityTracker } from "./capabilities.js";
import { carriedId } from "./carry-forward.js";
import { type FieldFilters, MAX_BATCH, refit } from "./plan.js";
import { type RedriveDeps, redrive } from "./redrive.js";
import { fromCarried } from "./replay.js";

const OBJECT_OF: Partial<Record<WritableKind, "companies" | "salesPersons">> = {
  company: "companies",
  salesPerson: "salesPersons",
};

/**
 * The first step of every sync run: retries the carried-forward records that are due (pending, `nextAt` passed),
 * page by page in (kind, key) order. Records whose object is still read-only are left for a later run (they are
 * not attempted and do not count as attempts). A payload written since (by a newer run or a replay) is not sent;
 * the carried row is cleared. Answers a fatal error, if one stopped it.
 * @internal
 */
export async function retryCarried(
  deps: Omit<RedriveDeps, "replay" | "carried"> & {
    capabilities: CapabilityTracker;
    /** This run's describe answers: a payload carried while describe was unavailable is fitted as planning would. */
    filters: FieldFilters;
    dropped: Set<string>;
  },
): Promise<{ fatal?: ErrorInfo | undefined }> {
  let after: RecordRef | undefined;
  const dueBy = deps.now();
  for (;;) {
    if (deps.stop.aborted) return {};
    const page: CarriedRecord[] = await deps.store.listCarried({
      tenant: deps.tenant,
      state: "pending",
      dueBy,
      limit: MAX_BATCH,
      ...(after ? { after } : {}),
    });
    if (page.length === 0) return {};
    const last = page[page.length - 1]!;
    after = { kind: last.kind, key: last.key };
    const due = page.filter((c) => {
      const object = OBJECT_OF[c.kind];
      return object === undefined || deps.capabilities.writable(object);
    });
    if (due.length > 0) {
      const known = new Map(due.map((c) => [carriedId(c.kind, c.key), c]));
      const candidates = due.map((c) => {
        const fitted = refit(c.kind, c.payload, deps.filters, deps.dropped);
        return {
          ...fromCarried(c, [
            {
              code: "carried_forward",
              message: `carried forward since run ${c.runId} (${c.cause}); attempt ${c.attempts + 1}`,
            },
            ...fitted.notes,
          ]),
          payload: fitted.payload,
          hash: fitted.hash,
        };
      });
      const r = await redrive(candidates, { ...deps, replay: false, carried: known });
      deps.book.carried.retried += r.planned;
      deps.book.carried.written += r.written;
      if (r.fatal) return { fatal: r.fatal };
    }
    if (page.length < MAX_BATCH) return {};
  }
}
