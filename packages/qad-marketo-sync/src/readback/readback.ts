import type { Emitter } from "../events.js";
import type { Logger, Sleep } from "../internal/runtime.js";
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
  /**
   * Use the gateway's bulk activity extract (when it has one) for the first activity pull: `true`, `false`, or
   * `{ minLeads }` to use it only when at least that many synced leads (with a Marketo id) are known, i.e. when the
   * history is large enough to pay off.
   *
   * Off by default: a bulk export waits in Marketo's export queue and its status changes about once a minute, so even
   * a tiny history takes minutes (a first sync of 120 customers sat silent for about 3 minutes), whereas the paged
   * REST read takes one call per 300 activities and starts answering at once. The bulk export saves calls only on
   * large histories (hundreds of thousands of activities: 300,000 activities are 1,000 paged calls, 2% of a 50,000
   * daily quota); for such instances set `{ minLeads: 50_000 }` (or `true`). Later pulls always page from the saved
   * token.
   * @default false
   */
  bulkFirstPull?: boolean | { minLeads: number };
  /** Save the activity checkpoint and contexts every this many activities. @default 1000 */
  flushEvery?: number;
  /**
   * Longest time between two `readBackProgress` events while the read-back works (a slow page, a bulk export being
   * polled), in ms. Events are also emitted at each phase, after each page of opportunities and every 300 activities.
   * @default 2_000
   */
  progressEveryMs?: number;
}

/** Phase of a read-back, as `readBackProgress` reports it. */
export type ReadBackPhase = "opportunities" | "activities" | "bulkActivities" | "done";

/**
 * Progress of a read-back (the `readBackProgress` event): the phase it is in and the counts so far. Emitted when a
 * phase starts, after each page of opportunities (300 accounts), every 300 activities read, after each save of
 * contexts, at least every `progressEveryMs` (2 s) while it works, and once at the end (`phase: "done"`).
 */
export interface ReadBackProgress {
  /** The run whose read-back this is; absent for `refreshAccountContexts`. */
  runId?: string | undefined;
  /** Tenant pair. */
  tenant: string;
  /** What it is doing: reading opportunities, activities (paged), activities (bulk export), or finished. */
  phase: ReadBackPhase;
  /** Accounts whose opportunities were read so far, of `total`. */
  accounts: { done: number; total: number };
  /** Opportunities read so far. */
  opportunities: number;
  /** Activities read so far. */
  activities: number;
  /** Activities folded into a synced account's context so far. */
  activitiesMatched: number;
  /** Account contexts saved so far. */
  contextsUpdated: number;
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
  /** Paces the `readBackProgress` heartbeat (only while someone listens). */
  sleep?: Sleep | undefined;
  fence?: Lease | undefined;
  signal?: AbortSignal | undefined;
  /** The run this read-back follows (named in its progress events). */
  runId?: string | undefined;
}

/** Activities per `readBackProgress` event (one Marketo page). */
const ACTIVITIES_PER_PROGRESS = 300;

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
  let phase: ReadBackPhase = "opportunities";
  const accountsTotal = options.opportunities !== false ? accounts.length : 0;
  let accountsDone = 0;
  const progress = (next?: ReadBackPhase) => {
    if (next) phase = next;
    ctx.emitter.emit("readBackProgress", {
      ...(ctx.runId !== undefined ? { runId: ctx.runId } : {}),
      tenant: ctx.tenant,
      phase,
      accounts: { done: accountsDone, total: accountsTotal },
      opportunities: result.opportunities,
      activities: result.activities,
      activitiesMatched: result.activitiesMatched,
      contextsUpdated: result.contextsUpdated,
    });
  };
  // A heartbeat while someone listens, so no phase is silent for long (a slow page, a bulk export being polled).
  const heartbeat = new AbortController();
  const beating =
    ctx.sleep && ctx.emitter.has("readBackProgress")
      ? (async (sleep: Sleep) => {
          const every = options.progressEveryMs ?? 2_000;
          while (!heartbeat.signal.aborted) {
            try {
              await sleep(every, heartbeat.signal);
            } catch {
              return;
            }
            if (!heartbeat.signal.aborted) progress();
          }
        })(ctx.sleep)
      : Promise.resolve();
  try {
    await readBackPhases(accounts, options, ctx, result, {
      progress,
      opportunitiesRead: (n) => {
        accountsDone += n;
      },
    });
  } finally {
    heartbeat.abort();
    await beating;
  }
  progress("done");
  return result;
}

async function readBackPhases(
  accounts: string[],
  options: ReadBackOptions,
  ctx: ReadBackContext,
  result: ReadBackResult,
  report: { progress: (phase?: ReadBackPhase) => void; opportunitiesRead: (accounts: number) => void },
): Promise<void> {
  const { progress } = report;
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
    progress();
  };

  if (options.opportunities !== false && accounts.length > 0) {
    progress("opportunities");
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
      report.opportunitiesRead(ids.length);
      progress();
    }
    await flush();
  }

  if (options.activities !== false) {
    progress("activities");
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
      if (++result.activities % ACTIVITIES_PER_PROGRESS === 0) progress();
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
    const bulk = options.bulkFirstPull ?? false;
    const bulkPaysOff = bulk === true || (typeof bulk === "object" && leadAccount.size >= bulk.minLeads);
    if (!token && bulkPaysOff && ctx.gateway.extractActivities) {
      // A large first pull goes through one bulk export instead of thousands of paged calls.
      progress("bulkActivities");
      const until = new Date(now);
      for await (const a of ctx.gateway.extractActivities(since, until, { signal: ctx.signal })) await fold(a);
      await flush();
      from = { since: until };
      progress("activities");
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
}
