/**
 * The account context: what Marketo knows about one synced account's sales situation, folded from opportunities,
 * sales persons and lead activity. Pure functions; the read-back decides what to fold and the store keeps the result.
 *
 * @module
 */

import type { ActivityInfo, OpportunityInfo, SalesPersonInfo } from "../ports.js";

/** One opportunity as kept in an account context. */
export interface OpportunitySummary {
  /** Marketo GUID or external id. */
  id: string;
  /** Name. */
  name?: string | undefined;
  /** Stage. */
  stage?: string | undefined;
  /** Amount. */
  amount?: number | undefined;
  /** Closed (won or lost). */
  isClosed: boolean;
  /** Won. */
  isWon?: boolean | undefined;
  /** Owner. */
  externalSalesPersonId?: string | undefined;
}

/** Sales context of one account, keyed by its externalCompanyId. */
export interface AccountContext {
  /** The account's externalCompanyId. */
  externalCompanyId: string;
  /** Every known opportunity of the account. */
  opportunities: OpportunitySummary[];
  /** Open opportunities: how many and their total amount. */
  openOpportunities: { count: number; amount: number };
  /** Won opportunities: how many and their total amount. */
  wonOpportunities: { count: number; amount: number };
  /** The owner sales person (owner of the largest open opportunity, else of any opportunity). */
  owner?: SalesPersonInfo | undefined;
  /** Latest lead activity of the account's contacts (ISO), if any. */
  lastEngagementAt?: string | undefined;
  /** Lead activities of the account's contacts, counted by activity type name (or id when names are unknown). */
  activityCounts: Record<string, number>;
  /** Highest activity id folded in; activities at or below it are not counted twice. */
  lastActivityId?: number | undefined;
  /** When this context last changed (ms since epoch). */
  updatedAt: number;
}

/** An empty context. */
export function emptyAccountContext(externalCompanyId: string, now: number): AccountContext {
  return {
    externalCompanyId,
    opportunities: [],
    openOpportunities: { count: 0, amount: 0 },
    wonOpportunities: { count: 0, amount: 0 },
    activityCounts: {},
    updatedAt: now,
  };
}

/** Replaces the account's opportunities (a read returns all of them) and recomputes totals and owner. */
export function foldOpportunities(
  ctx: AccountContext,
  opportunities: OpportunityInfo[],
  salesPersons: ReadonlyMap<string, SalesPersonInfo>,
  now: number,
): AccountContext {
  const list: OpportunitySummary[] = opportunities.map((o) => ({
    id: o.id,
    name: o.name,
    stage: o.stage,
    amount: o.amount,
    isClosed: o.isClosed,
    isWon: o.isWon,
    externalSalesPersonId: o.externalSalesPersonId,
  }));
  const open = list.filter((o) => !o.isClosed);
  const won = list.filter((o) => o.isClosed && o.isWon === true);
  const sum = (xs: OpportunitySummary[]) => xs.reduce((a, o) => a + (o.amount ?? 0), 0);
  const byAmount = (xs: OpportunitySummary[]) => [...xs].sort((a, b) => (b.amount ?? 0) - (a.amount ?? 0));
  const ownerId = [...byAmount(open), ...byAmount(list)].find((o) => o.externalSalesPersonId)?.externalSalesPersonId;
  const owner = ownerId ? (salesPersons.get(ownerId) ?? { externalSalesPersonId: ownerId }) : ctx.owner;
  return {
    ...ctx,
    opportunities: list,
    openOpportunities: { count: open.length, amount: sum(open) },
    wonOpportunities: { count: won.length, amount: sum(won) },
    owner,
    updatedAt: now,
  };
}

/**
 * Counts one activity, once: activities whose numeric id is at or below the context's high-water mark were counted
 * already (a read-back interrupted between saving contexts and saving its token replays them).
 */
export function foldActivity(
  ctx: AccountContext,
  activity: ActivityInfo,
  typeName: string,
  now: number,
): AccountContext {
  const id = Number(activity.id);
  if (Number.isFinite(id) && ctx.lastActivityId !== undefined && id <= ctx.lastActivityId) return ctx;
  const last =
    ctx.lastEngagementAt === undefined || activity.activityDate > ctx.lastEngagementAt
      ? activity.activityDate
      : ctx.lastEngagementAt;
  return {
    ...ctx,
    activityCounts: { ...ctx.activityCounts, [typeName]: (ctx.activityCounts[typeName] ?? 0) + 1 },
    lastEngagementAt: last,
    lastActivityId: Number.isFinite(id) ? Math.max(id, ctx.lastActivityId ?? 0) : ctx.lastActivityId,
    updatedAt: now,
  };
}
