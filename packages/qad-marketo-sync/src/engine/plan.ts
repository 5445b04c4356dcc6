import type { z } from "zod";
import { payloadHash } from "../hashing.js";
import { type CompiledMapping, isRejection, type MappedRecord } from "../mapping/mapping.js";
import type { MarketoPayload, SourceItem } from "../ports.js";
import type { AuditEntry, AuditStore, WritableKind } from "../store/audit-store.js";
import { emptyPlan, type Plan, type Planned } from "./execute.js";

/** Field filters per kind (from the gateway's describe), or undefined to send every mapped field. @internal */
export type FieldFilters = Partial<Record<WritableKind, Set<string> | undefined>>;

/** Result of planning one batch. @internal */
export interface Planning {
  plan: Plan;
  /** Rejections, skipped contacts and unchanged payloads: recorded without a Marketo call. */
  entries: AuditEntry[];
  counts: { read: number; rejected: number; mapped: number; unchanged: number; planned: number };
}

/** Context of planning. @internal */
export interface PlanContext<S> {
  tenant: string;
  runId: string;
  schema: z.ZodType<S>;
  mapping: CompiledMapping<S>;
  store: AuditStore;
  filters: FieldFilters;
  now: () => number;
}

const formatIssues = (issues: z.core.$ZodIssue[]) =>
  issues.map((i) => ({ path: i.path.map(String).join("."), message: i.message }));

function filterFields(payload: MarketoPayload, allowed: Set<string> | undefined, keep: string[]): MarketoPayload {
  if (!allowed) return payload;
  const out: MarketoPayload = {};
  for (const [k, v] of Object.entries(payload)) if (allowed.has(k) || keep.includes(k)) out[k] = v;
  return out;
}

// Fields the engine itself relies on are never filtered away.
const KEEP: Record<WritableKind, string[]> = {
  company: ["externalCompanyId", "externalSalesPersonId"],
  namedAccount: ["name"],
  lead: ["email", "externalCompanyId"],
  salesPerson: ["externalSalesPersonId"],
};

/**
 * Source items → validated, mapped, hashed payloads; payloads whose hash equals the last successful write are
 * recorded as unchanged and not planned. Nothing here throws for a bad record: it becomes a rejected entry.
 * @internal
 */
export async function planBatch<S>(items: SourceItem[], ctx: PlanContext<S>): Promise<Planning> {
  const entries: AuditEntry[] = [];
  const counts = { read: items.length, rejected: 0, mapped: 0, unchanged: 0, planned: 0 };
  const at = ctx.now();
  const reject = (key: string, reasons: { code: string; message: string }[]) => {
    counts.rejected++;
    entries.push({
      tenant: ctx.tenant,
      runId: ctx.runId,
      key,
      kind: "customer",
      outcome: "rejected",
      sourceKey: key,
      reasons,
      at,
    });
  };

  // Last occurrence of a key wins: a source that yields a record twice (overlap windows) writes it once.
  const mapped = new Map<string, MappedRecord>();
  items.forEach((item, i) => {
    if (item.type === "invalid") {
      const detail = item.issues?.length ? `: ${item.issues.map((x) => `${x.path} ${x.message}`).join("; ")}` : "";
      reject(item.key ?? `invalid:${ctx.runId}:${at}:${i}`, [
        { code: "invalid_source_row", message: `${item.reason}${detail}` },
      ]);
      return;
    }
    const parsed = ctx.schema.safeParse(item.record);
    if (!parsed.success) {
      const rec = item.record as Record<string, unknown> | null;
      const guess =
        rec && typeof rec === "object" && typeof rec.customerCode === "string"
          ? `${String(rec.sharedSetCode ?? "?")}.${rec.customerCode}`
          : `invalid:${ctx.runId}:${at}:${i}`;
      reject(
        guess,
        formatIssues(parsed.error.issues).map((x) => ({
          code: "validation",
          message: `${x.path || "(record)"}: ${x.message}`,
        })),
      );
      return;
    }
    const m = ctx.mapping.map(parsed.data);
    if (isRejection(m)) {
      reject(m.key ?? `invalid:${ctx.runId}:${at}:${i}`, [m.reason]);
      return;
    }
    mapped.delete(m.key);
    mapped.set(m.key, m);
  });
  counts.mapped = mapped.size;

  const candidates: Record<WritableKind, Map<string, Planned>> = {
    salesPerson: new Map(),
    company: new Map(),
    namedAccount: new Map(),
    lead: new Map(),
  };
  const add = (kind: WritableKind, key: string, sourceKey: string, payload: MarketoPayload) => {
    const filtered = filterFields(payload, ctx.filters[kind], KEEP[kind]);
    candidates[kind].delete(key);
    candidates[kind].set(key, { kind, key, sourceKey, payload: filtered, hash: payloadHash(filtered) });
  };
  for (const m of mapped.values()) {
    if (m.salesPerson) add("salesPerson", String(m.salesPerson.externalSalesPersonId), m.key, m.salesPerson);
    add("company", m.key, m.key, m.company);
    if (m.namedAccount) add("namedAccount", m.key, m.key, m.namedAccount);
    for (const l of m.leads) add("lead", l.key, m.key, l.payload);
    for (const c of m.contactIssues) {
      entries.push({
        tenant: ctx.tenant,
        runId: ctx.runId,
        key: c.key,
        kind: "lead",
        outcome: c.outcome,
        sourceKey: m.key,
        reasons: [c.reason],
        at,
      });
    }
  }

  const plan = emptyPlan();
  await Promise.all(
    (Object.keys(candidates) as WritableKind[]).map(async (kind) => {
      const byKey = candidates[kind];
      if (byKey.size === 0) return;
      const prior = await ctx.store.getSynced(ctx.tenant, kind, [...byKey.keys()]);
      for (const p of byKey.values()) {
        const s = prior.get(p.key);
        if (s && s.hash === p.hash) {
          counts.unchanged++;
          entries.push({
            tenant: ctx.tenant,
            runId: ctx.runId,
            key: p.key,
            kind,
            outcome: "unchanged",
            sourceKey: p.sourceKey,
            reasons: [],
            hash: p.hash,
            marketoId: s.marketoGUID ?? (s.marketoId === undefined ? undefined : String(s.marketoId)),
            at,
          });
          continue;
        }
        p.prior = s;
        plan[kind].push(p);
        counts.planned++;
      }
    }),
  );
  return { plan, entries, counts };
}
