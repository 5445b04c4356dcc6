import { type ErrorInfo, errorInfo } from "../errors.js";
import type { GatewayRecordResult, MarketoGateway, MarketoPayload, Reason } from "../ports.js";
import type { AuditEntry, Outcome, SyncedState } from "../store/audit-store.js";
import type { CapabilityTracker } from "./capabilities.js";
import { supersededLeadKey } from "./lead-emails.js";
import type { LeadTicket } from "./lead-pool.js";
import { MAX_BATCH, type Plan, type Planned } from "./plan.js";

/** What executing a plan produced. @internal */
export interface Executed {
  entries: AuditEntry[];
  synced: SyncedState[];
  /** externalCompanyIds whose company or named account was written or read. */
  touched: Set<string>;
  writeCalls: number;
  /** Write calls that failed as a whole (after the client's retries), 1018 refusals excepted. */
  failedWriteCalls: number;
  /** The first whole-call failure, for the run summary of a run whose every write failed. */
  callError?: ErrorInfo | undefined;
  /** Set when an error means the run must stop after recording this batch (quota, auth, permission). */
  fatal?: ErrorInfo | undefined;
}

/** Context of a plan execution. @internal */
export interface ExecuteContext {
  tenant: string;
  runId: string;
  gateway: MarketoGateway;
  capabilities: CapabilityTracker;
  now: () => number;
  isFatal: (e: unknown) => boolean;
  signal?: AbortSignal | undefined;
  /**
   * This batch's turn in the run's lead pool: it hands the batch's own leads to the pool and gets back the leads to
   * write now (full calls of 300 pooled across batches). Without it the batch writes its own leads.
   */
  leads?: LeadTicket | undefined;
  /**
   * The batch's planning entries: its leads found unchanged are not written, but they take their email in the lead
   * pool, so a pooled lead of another customer with that email is superseded (see {@link LeadTicket.take}).
   */
  planEntries?: readonly Pick<AuditEntry, "kind" | "key" | "sourceKey" | "outcome">[] | undefined;
}

const chunks = <T>(xs: T[], n: number): T[][] => {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += n) out.push(xs.slice(i, i + n));
  return out;
};

const payloads = (items: Planned[]): MarketoPayload[] => items.map((p) => p.payload);

const is1018 = (reasons: Reason[]) => reasons.some((r) => r.code === "1018");

/**
 * Executes a plan in Marketo's write order: sales persons, companies (their externalSalesPersonId must exist), then
 * leads (they link through externalCompanyId); named accounts depend on nothing and run alongside. Read-only objects
 * are read instead of written. Every planned payload ends in exactly one audit entry; a failed call fails its
 * records, never the run.
 * @internal
 */
export async function executePlan(plan: Plan, ctx: ExecuteContext): Promise<Executed> {
  const out: Executed = { entries: [], synced: [], touched: new Set(), writeCalls: 0, failedWriteCalls: 0 };
  const entry = (p: Planned, outcome: Outcome, extra: Partial<AuditEntry> = {}): AuditEntry => ({
    tenant: ctx.tenant,
    runId: ctx.runId,
    key: p.key,
    kind: p.kind,
    outcome,
    sourceKey: p.sourceKey,
    reasons: p.notes ?? [],
    payload: p.payload,
    hash: p.hash,
    at: ctx.now(),
    ...(p.replayOf ? { replayOf: p.replayOf } : {}),
    ...extra,
  });

  const noteFatal = (e: unknown) => {
    if (!out.fatal && ctx.isFatal(e)) out.fatal = errorInfo(e);
  };

  /** Writes `items` in chunks; returns the items Marketo refused with 1018 (to be read instead). */
  const write = async (
    items: Planned[],
    object: "companies" | "salesPersons" | undefined,
    call: (items: Planned[]) => Promise<GatewayRecordResult[]>,
  ): Promise<Planned[]> => {
    const blocked: Planned[] = [];
    for (const chunk of chunks(items, MAX_BATCH)) {
      if (object && !ctx.capabilities.writable(object)) {
        blocked.push(...chunk);
        continue;
      }
      if (out.fatal) {
        for (const p of chunk) {
          out.entries.push(
            entry(p, "failed", {
              error: out.fatal,
              reasons: [{ code: "not_attempted", message: "run stopped by an earlier fatal error" }],
            }),
          );
        }
        continue;
      }
      let results: GatewayRecordResult[];
      try {
        out.writeCalls++;
        results = await call(chunk);
      } catch (e) {
        const info = errorInfo(e);
        if (object && info.code === "1018") {
          ctx.capabilities.markReadOnly(object, info.message);
          blocked.push(...chunk);
          continue;
        }
        noteFatal(e);
        out.failedWriteCalls++;
        out.callError ??= info;
        for (const p of chunk) out.entries.push(entry(p, "failed", { error: info }));
        continue;
      }
      chunk.forEach((p, i) => {
        const r = results[i];
        if (!r) {
          out.entries.push(
            entry(p, "failed", {
              reasons: [{ code: "no_result", message: "Marketo returned no result for this record" }],
            }),
          );
          return;
        }
        if (r.status === "created" || r.status === "updated") {
          const marketoId = r.marketoGUID ?? (r.id === undefined ? undefined : String(r.id));
          out.entries.push(entry(p, r.status, { marketoId }));
          const prior = p.prior;
          out.synced.push({
            kind: p.kind,
            key: p.key,
            hash: p.hash,
            marketoId: r.id ?? prior?.marketoId,
            marketoGUID: r.marketoGUID ?? prior?.marketoGUID,
            name: p.kind === "namedAccount" && typeof p.payload.name === "string" ? p.payload.name : undefined,
            companyKey:
              p.kind === "lead" && typeof p.payload.externalCompanyId === "string"
                ? p.payload.externalCompanyId
                : undefined,
            runId: ctx.runId,
            at: ctx.now(),
          });
          if (p.kind === "company" || p.kind === "namedAccount") out.touched.add(p.sourceKey);
          return;
        }
        if (object && is1018(r.reasons)) {
          ctx.capabilities.markReadOnly(object, r.reasons.find((x) => x.code === "1018")?.message ?? "CRM Enabled");
          blocked.push(p);
          return;
        }
        out.entries.push(entry(p, "skipped", { reasons: [...r.reasons, ...(p.notes ?? [])] }));
      });
    }
    return blocked;
  };

  /** Reads blocked records so the audit says what already exists in Marketo. */
  const readInstead = async (
    items: Planned[],
    object: "companies" | "salesPersons",
    read: (ids: string[]) => Promise<Map<string, string>>,
    known?: Map<string, boolean>,
  ) => {
    const why = ctx.capabilities.reason(object);
    for (const chunk of chunks(items, MAX_BATCH)) {
      let found = new Map<string, string>();
      let readError: ErrorInfo | undefined;
      try {
        found = await read(chunk.map((p) => p.key));
      } catch (e) {
        readError = errorInfo(e);
      }
      for (const p of chunk) {
        const id = found.get(p.key);
        if (!readError) known?.set(p.key, id !== undefined);
        const status = readError
          ? `reading it failed (${readError.code})`
          : id
            ? `it exists in Marketo (id ${id})`
            : "it does not exist in Marketo yet";
        out.entries.push(
          entry(p, "skipped", {
            marketoId: id,
            reasons: [{ code: "read_only", message: `${object} are read-only on this instance (${why}); ${status}` }],
          }),
        );
        if (id && p.kind === "company") out.touched.add(p.sourceKey);
      }
    }
  };

  /**
   * While companies are read-only (a CRM sync owns them), a lead linked to a company Marketo does not have would be
   * refused (1013), and the company cannot be created here. Such a lead is sent without `externalCompanyId`, so the
   * contact still reaches Marketo (the CRM links it once it owns the account), and its audit row says so with
   * `company_missing`; the link is written with the lead's next change once the company exists. Companies not read in
   * this batch are looked up first; when that read fails the leads go as planned (nothing says they must fail).
   */
  const unlinkLeadsOfMissingCompanies = async (items: Planned[], known: Map<string, boolean>): Promise<Planned[]> => {
    if (ctx.capabilities.writable("companies")) return items;
    const companyOf = (p: Planned) =>
      typeof p.payload.externalCompanyId === "string" && p.payload.externalCompanyId !== ""
        ? p.payload.externalCompanyId
        : undefined;
    const unknown = [...new Set(items.map(companyOf))].filter((k): k is string => k !== undefined && !known.has(k));
    for (const chunk of chunks(unknown, MAX_BATCH)) {
      try {
        const found = new Set<string>();
        for (const c of await ctx.gateway.getCompanies(chunk, { signal: ctx.signal })) {
          if (typeof c.externalCompanyId === "string") found.add(c.externalCompanyId.toLowerCase());
        }
        for (const k of chunk) known.set(k, found.has(k.toLowerCase()));
      } catch {
        // Unknown: the leads go out as planned.
      }
    }
    const why = ctx.capabilities.reason("companies");
    return items.map((p) => {
      const company = companyOf(p);
      if (company === undefined || known.get(company) !== false) return p;
      const { externalCompanyId: _dropped, ...payload } = p.payload;
      const note = {
        code: "company_missing",
        message: `company ${company} does not exist in Marketo and companies are read-only (${why}): the lead was sent without externalCompanyId, which Marketo would refuse (1013); the link is written with its next change once the company exists`,
      };
      // The hash stays the planned record's, so an unchanged record is not sent again.
      return { ...p, payload, notes: [...(p.notes ?? []), note] };
    });
  };

  const { gateway, signal } = ctx;
  const companyChain = async () => {
    const blockedSp = await write(plan.salesPerson, "salesPersons", (x) =>
      gateway.syncSalesPersons(payloads(x), { signal }),
    );
    await readInstead(blockedSp, "salesPersons", async (ids) => {
      const m = new Map<string, string>();
      for (const sp of await gateway.getSalesPersons(ids, { signal }))
        m.set(sp.externalSalesPersonId, sp.externalSalesPersonId);
      return m;
    });
    const blocked = await write(plan.company, "companies", (x) => gateway.syncCompanies(payloads(x), { signal }));
    const companiesKnown = new Map<string, boolean>();
    await readInstead(
      blocked,
      "companies",
      async (ids) => {
        const m = new Map<string, string>();
        for (const c of await gateway.getCompanies(ids, { signal })) {
          if (typeof c.externalCompanyId === "string") m.set(c.externalCompanyId, String(c.id ?? c.externalCompanyId));
        }
        return m;
      },
      companiesKnown,
    );
    const writeLeads = async (items: Planned[]) => {
      await write(items, undefined, (x) => gateway.syncLeads(payloads(x), { signal }));
    };
    const leads = ctx.leads
      ? await ctx.leads.take(
          plan.lead,
          ctx.planEntries?.filter((e) => e.kind === "lead" && e.outcome === "unchanged"),
        )
      : plan.lead;
    // Pooled leads of earlier customers whose email a later customer's contact took: audited, never dropped.
    for (const s of ctx.leads?.superseded() ?? []) {
      out.entries.push(entry(s.lead, "rejected", { key: supersededLeadKey(s.lead), reasons: [s.reason] }));
    }
    await writeLeads(await unlinkLeadsOfMissingCompanies(leads, companiesKnown));
  };
  const namedChain = async () => {
    const renames: Planned[] = [];
    const upserts: Planned[] = [];
    for (const p of plan.namedAccount) {
      if (p.prior?.marketoGUID && p.prior.name !== undefined && p.prior.name !== p.payload.name) renames.push(p);
      else upserts.push(p);
    }
    // The name is the only dedupe field, so a renamed account is updated through its GUID; createOrUpdate by the new
    // name would create a second account.
    await write(renames, undefined, (x) =>
      gateway.syncNamedAccounts(
        x.map((p) => ({ ...p.payload, marketoGUID: p.prior?.marketoGUID ?? null })),
        "updateById",
        { signal },
      ),
    );
    await write(upserts, undefined, (x) => gateway.syncNamedAccounts(payloads(x), "createOrUpdate", { signal }));
  };
  await Promise.all([companyChain(), namedChain()]);
  return out;
}
