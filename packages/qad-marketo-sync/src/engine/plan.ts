import type { z } from "zod";
import { payloadHash } from "../hashing.js";
import { sourceIdentity } from "../mapping/defaults.js";
import { type CompiledMapping, isRejection, type MappedRecord } from "../mapping/mapping.js";
import type { FieldSpec, MarketoPayload, Reason, SourceItem } from "../ports.js";
import type { AuditEntry, AuditStore, SyncedState, WritableKind } from "../store/audit-store.js";
import { normName } from "../store/named-account-names.js";
import { visibleText } from "../text/sanitise.js";
import { duplicateEmailReason, supersededLeadKey } from "./lead-emails.js";
import type { NameClaims, NameView } from "./name-claims.js";

/** Marketo accepts at most this many records per write. @internal */
export const MAX_BATCH = 300;

/** Every writable kind, in write order (sales persons before the companies that name them). @internal */
export const WRITABLE_KINDS: readonly WritableKind[] = ["salesPerson", "company", "namedAccount", "lead"];

/** One payload planned for a write. @internal */
export interface Planned {
  kind: WritableKind;
  key: string;
  sourceKey: string;
  payload: MarketoPayload;
  hash: string;
  prior?: SyncedState | undefined;
  replayOf?: string | undefined;
  /** Notes for the audit row (fields shortened, name conflicts resolved). */
  notes?: Reason[] | undefined;
}

/** A plan: payloads per kind, each list free of duplicate keys. @internal */
export type Plan = Record<WritableKind, Planned[]>;

/** @internal */
export function emptyPlan(): Plan {
  return { salesPerson: [], company: [], namedAccount: [], lead: [] };
}

/** Fields per kind (from the gateway's describe), or undefined to send every mapped field as is. @internal */
export type FieldFilters = Partial<Record<WritableKind, Map<string, FieldSpec> | undefined>>;

/** How a named-account name already used by another account is resolved. */
export type NameConflictPolicy = "suffixKey" | "skip";

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
  /** Owners of named-account names: the store's index plus this run's claims not yet in it (shared by the batches). */
  names: NameClaims;
  nameConflicts: NameConflictPolicy;
  /** Mapped fields the instance does not have (`kind.field`), collected for the run summary. */
  dropped: Set<string>;
  now: () => number;
}

export { normName };

const formatIssues = (issues: z.core.$ZodIssue[]) =>
  issues.map((i) => ({ path: visibleText(i.path.map(String).join(".")), message: visibleText(i.message) }));

/**
 * How keys are compared for collisions: Unicode NFC, trimmed, lower-cased. Marketo's documentation does not say
 * whether `externalCompanyId` matches case-insensitively (it does for lead emails and named-account names), so keys
 * equal under this fold are treated as one Marketo company. @internal
 */
export const foldKey = (key: string): string => key.normalize("NFC").trim().toLowerCase();

/** One mapped record of a batch with its place in the batch. */
interface Row {
  m: MappedRecord;
  /** Position in the batch (0-based). */
  index: number;
}

/** Who a row is for key comparison: its key, plus its source identity when that differs from the key. */
const variantOf = (m: MappedRecord): string =>
  m.identity === undefined || m.identity === m.key ? m.key : `${m.key}\u0000${m.identity}`;

/** The key and identity of a {@link variantOf} string. */
const splitVariant = (variant: string): { key: string; identity: string | undefined } => {
  const at = variant.indexOf("\u0000");
  return at < 0
    ? { key: variant, identity: undefined }
    : { key: variant.slice(0, at), identity: variant.slice(at + 1) };
};

/**
 * The keys of one run, by folded key ({@link foldKey}): which record owns each (its {@link variantOf}), or that the
 * key's records were rejected as colliding (then every later record with that folded key is rejected too). About
 * 100 bytes per distinct key, for the length of one run; the only per-record state a run keeps besides read-back's
 * touched accounts. Batches consult it in dispatch (source) order: {@link planBatch} reads and updates it
 * synchronously, before its first `await`.
 */
class RunKeys {
  private readonly owners = new Map<string, string>();
  /** Keys of this run's rejected source rows (one per rejected row: rejections are few). */
  readonly rejected = new Set<string>();
  /** The owning variant of a folded key, `{ rejected: true }` when its records collided, or undefined. */
  get(folded: string): { variant: string; rejected: boolean } | undefined {
    const v = this.owners.get(folded);
    if (v === undefined) return undefined;
    return v.startsWith(POISON) ? { variant: v.slice(1), rejected: true } : { variant: v, rejected: false };
  }
  own(folded: string, variant: string): void {
    this.owners.set(folded, variant);
  }
  poison(folded: string, variant: string): void {
    this.owners.set(folded, `${POISON}${variant}`);
  }
}
const POISON = "\u0001";

/** The run key registry of each planning context (a context lives for one run or one dry run). */
const runKeys = new WeakMap<object, RunKeys>();
const keysOf = (ctx: object): RunKeys => {
  let keys = runKeys.get(ctx);
  if (!keys) {
    keys = new RunKeys();
    runKeys.set(ctx, keys);
  }
  return keys;
};

/** The decision on the records of one batch that share a folded key. */
interface KeyVerdict {
  /** The row to write, if any. */
  winner?: Row | undefined;
  /** Rows rejected, each with its reason. */
  rejected: { row: Row; reason: Reason }[];
}

const describeVariant = (variant: string, where: string) => {
  const { key, identity } = splitVariant(variant);
  return `"${key}" (${identity === undefined ? "" : `customer ${visibleText(identity)}, `}${where})`;
};

/** The reason a row is rejected for sharing its folded key with `other` (a {@link variantOf} string). */
function conflict(row: Row, other: string, where: string, verdict: string): Reason {
  const otherKey = splitVariant(other).key;
  return otherKey === row.m.key
    ? {
        code: "key_collision",
        message: `externalCompanyId "${row.m.key}" is also the key of ${describeVariant(other, where)}; ${verdict}`,
      }
    : {
        code: "key_case_variant",
        message: `externalCompanyId "${row.m.key}" differs from ${describeVariant(other, where)} only in case or surrounding space and may be one Marketo company; ${verdict}`,
      };
}

/**
 * Records whose keys fold to the same value (see {@link foldKey}), within a batch and against the earlier batches of
 * the run ({@link RunKeys}):
 * - one key and one source identity (the same customer read twice, e.g. by an overlapping poll, or `T3` and `T3 `
 *   trimmed by the schema): the later source row wins, every earlier copy in the batch is rejected as
 *   `duplicate_key` (a copy in an earlier batch was written then, and is written again now);
 * - one key, several identities (a key function mapping two customers to one key): `key_collision`;
 * - keys differing in case or surrounding space (`d2` and `D2`): `key_case_variant`.
 * Colliding rows of one batch are all rejected, as writing either would overwrite the other's company; a row
 * colliding with a record of an earlier batch (already written) is rejected, and so is every later row colliding
 * with rows rejected so. Each reason names another record: key, identity, and row (`batch.position`, 1-based).
 */
function judgeKeyGroup(folded: string, rows: Row[], batch: number, keys: RunKeys): KeyVerdict {
  const where = (r: Row) => `row ${batch}.${r.index + 1}`;
  const owner = keys.get(folded);
  const rejected: KeyVerdict["rejected"] = [];
  let candidates = rows;
  if (owner?.rejected) {
    for (const row of rows) {
      rejected.push({ row, reason: conflict(row, owner.variant, "rejected earlier in this run", "rejected") });
    }
    return { rejected };
  }
  if (owner) {
    candidates = [];
    for (const row of rows) {
      if (variantOf(row.m) === owner.variant) candidates.push(row);
      else
        rejected.push({
          row,
          reason: conflict(row, owner.variant, "written earlier in this run", "rejected, the earlier record is kept"),
        });
    }
    if (candidates.length === 0) return { rejected };
  }
  const variants = new Set(candidates.map((r) => variantOf(r.m)));
  if (variants.size > 1) {
    keys.poison(folded, variantOf((candidates[0] as Row).m));
    for (const row of candidates) {
      const other = candidates.find((o) => variantOf(o.m) !== variantOf(row.m)) as Row;
      rejected.push({ row, reason: conflict(row, variantOf(other.m), where(other), "both rejected") });
    }
    return { rejected };
  }
  const last = candidates[candidates.length - 1] as Row;
  if (!owner) keys.own(folded, variantOf(last.m));
  for (const row of candidates.slice(0, -1)) {
    rejected.push({
      row,
      reason: {
        code: "duplicate_key",
        message: `read again later in this batch (${describeVariant(variantOf(last.m), where(last))}); the later source row is written`,
      },
    });
  }
  return { winner: last, rejected };
}

/** Drops fields the instance lacks and shortens over-long strings, saying so. */
function fitFields(
  payload: MarketoPayload,
  fields: Map<string, FieldSpec> | undefined,
  keep: string[],
  dropped: (field: string) => void,
): { payload: MarketoPayload; notes: Reason[] } {
  if (!fields) return { payload, notes: [] };
  const out: MarketoPayload = {};
  const notes: Reason[] = [];
  for (const [k, v] of Object.entries(payload)) {
    const spec = fields.get(k);
    if (!spec && !keep.includes(k)) {
      dropped(k);
      continue;
    }
    const max = spec?.length;
    if (typeof v === "string" && max !== undefined && max > 0 && v.length > max) {
      out[k] = v.slice(0, max);
      notes.push({ code: "truncated", message: `${k} shortened from ${v.length} to ${max} characters` });
    } else {
      out[k] = v;
    }
  }
  return { payload: out, notes };
}

// Fields the engine itself relies on are never filtered away.
const KEEP: Record<WritableKind, string[]> = {
  company: ["externalCompanyId", "externalSalesPersonId"],
  namedAccount: ["name"],
  lead: ["email", "externalCompanyId"],
  salesPerson: ["externalSalesPersonId"],
};

/**
 * Fits a payload mapped earlier (e.g. a carried-forward one, mapped while describe was unavailable) to the
 * instance's fields, as planning does: unknown fields dropped, over-long strings shortened, with notes.
 * @internal
 */
export function refit(
  kind: WritableKind,
  payload: MarketoPayload,
  filters: FieldFilters,
  dropped: Set<string>,
): { payload: MarketoPayload; hash: string; notes: Reason[] } {
  const fitted = fitFields(payload, filters[kind], KEEP[kind], (field) => dropped.add(`${kind}.${field}`));
  return { ...fitted, hash: payloadHash(fitted.payload) };
}

/**
 * Source items → validated, mapped, hashed payloads; payloads whose hash equals the last successful write are
 * recorded as unchanged and not planned. Nothing here throws for a bad record: it becomes a rejected entry.
 * @internal
 */
export async function planBatch<S>(items: SourceItem[], ctx: PlanContext<S>, batch = 0): Promise<Planning> {
  const entries: AuditEntry[] = [];
  const counts = { read: items.length, rejected: 0, mapped: 0, unchanged: 0, planned: 0 };
  const at = ctx.now();
  const keys = keysOf(ctx);
  // Audit rows are upserted by (run, kind, key): each rejected source row of a run gets a key of its own, so every
  // source row keeps its outcome even when several share a key. (Called before planBatch's first await: batches
  // take keys in dispatch order.)
  const reject = (wanted: string, reasons: { code: string; message: string }[], index: number) => {
    const key = keys.rejected.has(wanted) ? `${wanted} (row ${batch}.${index + 1})` : wanted;
    keys.rejected.add(key);
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

  // Rows without a usable key get one naming the run, batch and position: unique in the run.
  const anonymous = (i: number) => `invalid:${ctx.runId}:${batch}:${i}`;
  // Mapped rows grouped by folded key, in source order; judged below (see judgeKeyGroup).
  const groups = new Map<string, Row[]>();
  items.forEach((item, i) => {
    if (item.type === "invalid") {
      const detail = item.issues?.length ? `: ${item.issues.map((x) => `${x.path} ${x.message}`).join("; ")}` : "";
      reject(
        item.key === undefined ? anonymous(i) : visibleText(item.key),
        [{ code: "invalid_source_row", message: visibleText(`${item.reason}${detail}`) }],
        i,
      );
      return;
    }
    const parsed = ctx.schema.safeParse(item.record);
    if (!parsed.success) {
      const rec = item.record as Record<string, unknown> | null;
      const guess =
        rec && typeof rec === "object" && typeof rec.customerCode === "string"
          ? visibleText(
              sourceIdentity({ sharedSetCode: String(rec.sharedSetCode ?? "?"), customerCode: rec.customerCode }) ??
                anonymous(i),
            )
          : anonymous(i);
      reject(
        guess,
        formatIssues(parsed.error.issues).map((x) => ({
          code: "validation",
          message: `${x.path || "(record)"}: ${x.message}`,
        })),
        i,
      );
      return;
    }
    const m = ctx.mapping.map(parsed.data);
    if (isRejection(m)) {
      reject(m.key ?? anonymous(i), [m.reason], i);
      return;
    }
    const folded = foldKey(m.key);
    const group = groups.get(folded);
    if (group) group.push({ m, index: i });
    else groups.set(folded, [{ m, index: i }]);
  });
  // The winners, in the source order of the winning rows (a record read again is written where it was last read).
  const winners: Row[] = [];
  for (const [folded, rows] of groups) {
    const verdict = judgeKeyGroup(folded, rows, batch, keys);
    if (verdict.winner) winners.push(verdict.winner);
    for (const { row, reason } of verdict.rejected) reject(row.m.key, [reason], row.index);
  }
  winners.sort((a, b) => a.index - b.index);
  const mapped = new Map<string, MappedRecord>(winners.map((r) => [r.m.key, r.m]));
  counts.mapped = mapped.size;

  const candidates: Record<WritableKind, Map<string, Planned>> = {
    salesPerson: new Map(),
    company: new Map(),
    namedAccount: new Map(),
    lead: new Map(),
  };
  const fit = (kind: WritableKind, payload: MarketoPayload, notes?: Reason[]) => {
    const fitted = fitFields(payload, ctx.filters[kind], KEEP[kind], (field) => ctx.dropped.add(`${kind}.${field}`));
    // `sanitised` notes of the mapping come first, then what fitting changed.
    if (notes && notes.length > 0) fitted.notes = [...notes, ...fitted.notes];
    return fitted;
  };
  const add = (
    kind: WritableKind,
    key: string,
    sourceKey: string,
    fitted: { payload: MarketoPayload; notes: Reason[] },
  ) => {
    // Two customers' contacts with one email: Marketo keeps one lead, so the later one is written and the earlier is
    // rejected, never dropped silently (across batches: lead-pool.ts).
    const before = candidates[kind].get(key);
    if (kind === "lead" && before && before.sourceKey !== sourceKey) {
      entries.push({
        tenant: ctx.tenant,
        runId: ctx.runId,
        key: supersededLeadKey(before),
        kind,
        outcome: "rejected",
        sourceKey: before.sourceKey,
        reasons: [duplicateEmailReason(key, sourceKey, "read later in this batch")],
        payload: before.payload,
        hash: before.hash,
        at,
      });
    }
    candidates[kind].delete(key);
    const p: Planned = { kind, key, sourceKey, payload: fitted.payload, hash: payloadHash(fitted.payload) };
    if (fitted.notes.length > 0) p.notes = fitted.notes;
    candidates[kind].set(key, p);
  };
  // Skips for a name conflict, recorded in source order with the rest of their customer's entries.
  const conflictSkips = new Map<string, AuditEntry>();
  // Marketo keeps one named account per name: a second customer with the same name would silently update the first
  // one's account. The first key to claim a name owns it; others get "name (externalCompanyId)" or are skipped.
  const claimName = (names: NameView, key: string, fitted: { payload: MarketoPayload; notes: Reason[] }): boolean => {
    const name = String(fitted.payload.name);
    const owner = names.owner(normName(name));
    if (owner === undefined || owner === key) {
      names.claim(normName(name), key);
      return true;
    }
    if (ctx.nameConflicts === "skip") {
      conflictSkips.set(key, {
        tenant: ctx.tenant,
        runId: ctx.runId,
        key,
        kind: "namedAccount",
        outcome: "skipped",
        sourceKey: key,
        reasons: [{ code: "name_conflict", message: `named account "${name}" belongs to ${owner}` }],
        payload: fitted.payload,
        at,
      });
      return false;
    }
    const suffix = ` (${key})`;
    const max = ctx.filters.namedAccount?.get("name")?.length ?? 255;
    const alt = `${name.slice(0, Math.max(0, max - suffix.length))}${suffix}`;
    names.claim(normName(alt), key);
    fitted.payload.name = alt;
    fitted.notes.push({
      code: "name_conflict",
      message: `named account "${name}" belongs to ${owner}; named "${alt}"`,
    });
    return true;
  };
  // Named accounts are fitted first: their names are looked up in one store call, then claimed in source order.
  const accounts = new Map<string, { payload: MarketoPayload; notes: Reason[] }>();
  for (const m of mapped.values())
    if (m.namedAccount) accounts.set(m.key, fit("namedAccount", m.namedAccount, m.notes?.namedAccount));
  if (accounts.size > 0) {
    const wanted = new Set<string>();
    for (const fitted of accounts.values()) wanted.add(normName(String(fitted.payload.name)));
    const { view, done } = await ctx.names.open(batch, [...wanted]);
    try {
      for (const [key, fitted] of accounts) if (!claimName(view, key, fitted)) accounts.delete(key);
    } finally {
      done();
    }
  }
  for (const m of mapped.values()) {
    if (m.salesPerson) {
      add(
        "salesPerson",
        String(m.salesPerson.externalSalesPersonId),
        m.key,
        fit("salesPerson", m.salesPerson, m.notes?.salesPerson),
      );
    }
    add("company", m.key, m.key, fit("company", m.company, m.notes?.company));
    const account = accounts.get(m.key);
    if (account) add("namedAccount", m.key, m.key, account);
    const conflict = conflictSkips.get(m.key);
    if (conflict) entries.push(conflict);
    for (const l of m.leads) add("lead", l.key, m.key, fit("lead", l.payload, l.notes));
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
