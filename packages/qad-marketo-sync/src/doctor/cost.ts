/** Inputs of {@link estimateFirstSync}. @internal */
export interface CostInput {
  /** Customers to sync. */
  customers: number;
  /** Leads per customer (from the sample, else 1). */
  leadsPerCustomer: number;
  /** Named accounts are written. */
  namedAccounts: boolean;
  /** Leads are written. */
  leads: boolean;
  /** Sales persons are written. */
  salesPersons: boolean;
  /** Companies are read-only (CRM sync): read instead of written, and leads' companies looked up. */
  companiesReadOnly: boolean;
}

/** Calls a first sync spends, by purpose. @internal */
export interface CostEstimate {
  /** Describe and capability probes, usage syncs, activity paging token and types. */
  setup: number;
  /** Writes of companies, named accounts, leads and sales persons (300 records per call). */
  writes: number;
  /** Reads: companies read instead of written, opportunities read back, at least one activity page. */
  reads: number;
  /** Everything. */
  total: number;
  /** Leads the estimate assumes. */
  leads: number;
}

/** Marketo's batch size. */
const BATCH = 300;

/**
 * The calls a first sync of `customers` customers spends, counted as the engine spends them: companies, named
 * accounts and sales persons in batches of 300, leads pooled across batches into calls of 300, 4 describes and 3
 * capability probes up front, a usage sync every 500 calls, and the read-back (opportunities for each 300 accounts,
 * an activity paging token, the activity types and at least one page; a larger activity history costs one call per
 * page more). A lower bound: retries and other integrations' calls come on top.
 * @internal
 */
export function estimateFirstSync(i: CostInput): CostEstimate {
  const batches = Math.ceil(i.customers / BATCH);
  const leads = i.leads ? Math.round(i.customers * i.leadsPerCustomer) : 0;
  const writes =
    (i.companiesReadOnly ? 0 : batches) +
    (i.namedAccounts ? batches : 0) +
    (i.salesPersons ? batches : 0) +
    Math.ceil(leads / BATCH);
  const reads = (i.companiesReadOnly ? 2 * batches : 0) + batches + 3;
  const base = 4 + 3 + writes + reads;
  const setup = 4 + 3 + 1 + Math.floor(base / 500);
  return { setup, writes, reads, total: setup + writes + reads, leads };
}

/** `437 s` → `7 min 17 s`. @internal */
export function duration(ms: number): string {
  if (ms < 10_000 && ms % 1000 !== 0) return ms < 1000 ? `${Math.round(ms)} ms` : `${Math.round(ms / 100) / 10} s`;
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min${s % 60 ? ` ${s % 60} s` : ""}`;
  const h = Math.floor(m / 60);
  return `${h} h${m % 60 ? ` ${m % 60} min` : ""}`;
}
