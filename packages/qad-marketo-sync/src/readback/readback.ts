import type { Emitter } from "../events.js";
import type { Logger } from "../internal/runtime.js";
import type { ActivityInfo, MarketoGateway, SalesPersonInfo } from "../ports.js";
import type { AuditStore, Lease } from "../store/audit-store.js";
import { type AccountContext, emptyAccountContext, foldActivity, foldOpportunities } from "./account-context.js";

/** Read-back options. */
export interface ReadBackOptions {
  /** Read opportunities (and their sales persons) of the accounts a run wrote or read. @default true */
  opportunities?: boolean;
  /** Fold lead activity since the last activity checkpoint. @default true */
  activities?: boolean;
  /** How far back the first activity pull reaches, in ms. @default 30 days */
  firstPullLookbackMs?: number;
  /** Use the gateway's bulk activity extract for the first pull, when it has one. @default true */
  bulkFirstPull?: boolean;
  /** Save the activity checkpoint and contexts every this many activities. @default 1000 */
  flushEvery?: number;
}

/** What a read-back did. */
export interface ReadBackResult {
  /** Accounts whose context changed. */
  contextsUpdated: number;
  /** Opportunities read. */
  opportunities: number;
  /** Activities read. */
  activities: number;
  /** Activities folded into a synced account's context. */
  activitiesMatched: number;
}

/** @internal */
export interface ReadBackContext {
  tenant: string;
  gateway: MarketoGateway;
  store: AuditStore;
  emitter: Emitter;
  logger: Logger;
  now: () => number;
  fence?: Lease | undefined;
  signal?: AbortSignal | undefined;
}

/** Name of the activity checkpoint in the store. @internal */
export const ACTIVITY_CHECKPOINT = "activities";

const chunks = <T>(xs: T[], n: number): T[][] => {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += n) out.push(xs.slice(i, i + n));
  return out;
};

/**
 * Reads opportunities, sales persons and lead activity back from Marketo and folds them into account contexts.
 * @internal
 */
export async function readBack(
  accounts: string[],
  options: ReadBackOptions,
  ctx: ReadBackContext,
): Promise<ReadBackResult> {
  const result: ReadBackResult = { contextsUpdated: 0, opportunities: 0, activities: 0, activitiesMatched: 0 };
  const contexts = new Map<string, AccountContext>();
  const load = async (id: string): Promise<AccountContext> => {
    let c = contexts.get(id);
    if (!c) {
      c = (await ctx.store.getAccountContext(ctx.tenant, id)) ?? emptyAccountContext(id, ctx.now());
      contexts.set(id, c);
    }
    return c;
  };
  const dirty = new Set<string>();
  const flush = async () => {
    if (dirty.size === 0) return;
    const changed = [...dirty].map((id) => contexts.get(id)).filter((c): c is AccountContext => c !== undefined);
    await ctx.store.putAccountContexts(ctx.tenant, changed);
    for (const c of changed) ctx.emitter.emit("accountContext", c);
    result.contextsUpdated += changed.length;
    dirty.clear();
  };

  if (options.opportunities !== false && accounts.length > 0) {
    for (const ids of chunks(accounts, 300)) {
      const opps = await ctx.gateway.getOpportunities(ids, { signal: ctx.signal });
      result.opportunities += opps.length;
      const spIds = [...new Set(opps.map((o) => o.externalSalesPersonId).filter((x): x is string => !!x))];
      const salesPersons = new Map<string, SalesPersonInfo>();
      for (const spChunk of chunks(spIds, 300)) {
        for (const sp of await ctx.gateway.getSalesPersons(spChunk, { signal: ctx.signal })) {
          salesPersons.set(sp.externalSalesPersonId, sp);
        }
      }
      const byAccount = new Map<string, typeof opps>();
      for (const o of opps) {
        const list = byAccount.get(o.externalCompanyId) ?? [];
        list.push(o);
        byAccount.set(o.externalCompanyId, list);
      }
      for (const id of ids) {
        const before = await load(id);
        const list = byAccount.get(id) ?? [];
        if (list.length === 0 && before.opportunities.length === 0) continue;
        contexts.set(id, foldOpportunities(before, list, salesPersons, ctx.now()));
        dirty.add(id);
      }
    }
    await flush();
  }

  if (options.activities !== false) {
    // Lead id → account, from the leads this engine wrote.
    const leadAccount = new Map<number, string>();
    for await (const s of ctx.store.listSynced(ctx.tenant, "lead")) {
      if (s.marketoId !== undefined && s.companyKey) leadAccount.set(s.marketoId, s.companyKey);
    }
    const types = ctx.gateway.activityTypes ? await ctx.gateway.activityTypes({ signal: ctx.signal }) : new Map();
    const saved = await ctx.store.getCheckpoint(ctx.tenant, ACTIVITY_CHECKPOINT);
    const token = typeof saved === "string" ? saved : undefined;
    const now = ctx.now();
    const since = new Date(now - (options.firstPullLookbackMs ?? 30 * 86_400_000));
    const flushEvery = options.flushEvery ?? 1000;
    let sinceFlush = 0;
    const fold = async (a: ActivityInfo) => {
      result.activities++;
      const account = leadAccount.get(a.leadId);
      if (!account) return;
      result.activitiesMatched++;
      const name = types.get(a.activityTypeId) ?? String(a.activityTypeId);
      const before = await load(account);
      const after = foldActivity(before, a, name, ctx.now());
      if (after !== before) {
        contexts.set(account, after);
        dirty.add(account);
      }
    };
    let from: { token?: string | undefined; since: Date } = { token, since };
    if (!token && options.bulkFirstPull !== false && ctx.gateway.extractActivities) {
      // A large first pull goes through one bulk export instead of thousands of paged calls.
      const until = new Date(now);
      for await (const a of ctx.gateway.extractActivities(since, until, { signal: ctx.signal })) await fold(a);
      await flush();
      from = { since: until };
    }
    const read = ctx.gateway.activities(from, { signal: ctx.signal });
    for await (const a of read) {
      await fold(a);
      if (++sinceFlush >= flushEvery) {
        sinceFlush = 0;
        // Contexts before the token: a crash in between re-reads activities, and the id high-water mark skips them.
        await flush();
        const t = read.token();
        if (t) await ctx.store.saveCheckpoint(ctx.tenant, ACTIVITY_CHECKPOINT, t, ctx.fence);
      }
    }
    await flush();
    const t = read.token();
    if (t) await ctx.store.saveCheckpoint(ctx.tenant, ACTIVITY_CHECKPOINT, t, ctx.fence);
  }
  return result;
}
