import type { MarketoClient, RecordResult } from "@ml/marketo-client";
import type {
  ActivityInfo,
  ActivityRead,
  CrmObject,
  FieldSpec,
  GatewayCallOptions,
  GatewayCapability,
  GatewayRecordResult,
  MarketoGateway,
  MarketoPayload,
  NamedAccountRef,
  NamedAccountWriteMode,
  OpportunityInfo,
  SalesPersonInfo,
} from "../ports.js";

/** Options of {@link marketoGateway}. */
export interface MarketoGatewayOptions {
  /**
   * Activity types folded into account contexts (Marketo takes at most 10 per read).
   * @default [1, 2, 10, 11, 46] (Visit Webpage, Fill Out Form, Open Email, Click Email, Interesting Moment)
   */
  activityTypeIds?: number[];
  /**
   * Offer the bulk activity extract for large first pulls. Bulk jobs take minutes on a real instance (Marketo
   * updates a job's status about once a minute), so this pays off only for large histories.
   * @default true
   */
  bulkFirstPull?: boolean;
  /** Status poll timing of bulk jobs (defaults: the client's, made for real Marketo). */
  bulkPoll?: { initialDelayMs?: number; maxDelayMs?: number; timeoutMs?: number };
  /** Opportunity fields read back. @default the fields an account context uses */
  opportunityFields?: string[];
}

const DEFAULT_ACTIVITY_TYPES = [1, 2, 10, 11, 46];
const OPPORTUNITY_FIELDS = [
  "marketoGUID",
  "externalOpportunityId",
  "externalCompanyId",
  "externalSalesPersonId",
  "name",
  "stage",
  "amount",
  "isClosed",
  "isWon",
  "closeDate",
];

const toResult = (r: RecordResult): GatewayRecordResult => ({
  status: r.status,
  id: r.id,
  marketoGUID: r.marketoGUID,
  reasons: r.reasons.map((x) => ({ code: String(x.code), message: x.message ?? "" })),
});

const str = (v: unknown): string | undefined => (typeof v === "string" && v !== "" ? v : undefined);
const num = (v: unknown): number | undefined => {
  const n = typeof v === "number" ? v : typeof v === "string" && v.trim() !== "" ? Number(v) : Number.NaN;
  return Number.isFinite(n) ? n : undefined;
};
const bool = (v: unknown): boolean | undefined =>
  typeof v === "boolean" ? v : v === "true" ? true : v === "false" ? false : undefined;
const sig = (o?: GatewayCallOptions) => (o?.signal ? { signal: o.signal } : {});

/**
 * The engine's {@link MarketoGateway} over a `@ml/marketo-client` `MarketoClient`: every call goes through the
 * client's limiter, retry policy and read-only detection, so the engine never exceeds the instance's quota.
 *
 * @example
 * const mk = new MarketoClient({ munchkinId, clientId, clientSecret });
 * const sync = createSync({ source, marketo: marketoGateway(mk), store });
 */
export function marketoGateway(mk: MarketoClient, options: MarketoGatewayOptions = {}): MarketoGateway {
  const activityTypeIds = options.activityTypeIds ?? DEFAULT_ACTIVITY_TYPES;
  const gateway: MarketoGateway = {
    async capability(object: CrmObject, o) {
      // The client's probe takes no signal; `refresh` makes it probe again instead of answering from its cache.
      const c = await mk.capabilities.get(object, o?.refresh ? { refresh: true } : undefined);
      const out: GatewayCapability = { object, writable: c.writable, source: c.source };
      if (c.reason !== undefined) out.reason = c.reason;
      return out;
    },
    async syncCompanies(input, o) {
      return (await mk.companies.sync({ input }, sig(o))).results.map(toResult);
    },
    async syncNamedAccounts(input: MarketoPayload[], mode: NamedAccountWriteMode, o) {
      const params =
        mode === "updateById"
          ? { action: "updateOnly" as const, dedupeBy: "idField" as const, input }
          : { action: "createOrUpdate" as const, input };
      return (await mk.namedAccounts.sync(params, sig(o))).results.map(toResult);
    },
    async syncLeads(input, o) {
      return (await mk.leads.sync({ action: "createOrUpdate", lookupField: "email", input }, sig(o))).results.map(
        toResult,
      );
    },
    async syncSalesPersons(input, o) {
      return (await mk.salesPersons.sync({ input }, sig(o))).results.map(toResult);
    },
    async getCompanies(ids, o) {
      if (ids.length === 0) return [];
      const rows = await mk.companies
        .get(
          { filterType: "externalCompanyId", filterValues: ids, fields: ["id", "externalCompanyId", "company"] },
          sig(o),
        )
        .toArray();
      return rows.map((r) => {
        const out: MarketoPayload = {};
        for (const [k, v] of Object.entries(r)) {
          if (typeof v === "string" || typeof v === "number" || typeof v === "boolean" || v === null) out[k] = v;
        }
        return out;
      });
    },
    async getOpportunities(ids, o) {
      if (ids.length === 0) return [];
      const rows = await mk.opportunities
        .get(
          {
            filterType: "externalCompanyId",
            filterValues: ids,
            fields: options.opportunityFields ?? OPPORTUNITY_FIELDS,
          },
          sig(o),
        )
        .toArray();
      const out: OpportunityInfo[] = [];
      for (const r of rows) {
        const externalCompanyId = str(r.externalCompanyId);
        if (!externalCompanyId) continue;
        out.push({
          id: str(r.marketoGUID) ?? str(r.externalOpportunityId) ?? String(r.id ?? ""),
          externalCompanyId,
          externalSalesPersonId: str(r.externalSalesPersonId),
          name: str(r.name),
          stage: str(r.stage),
          amount: num(r.amount),
          isClosed: bool(r.isClosed) ?? false,
          isWon: bool(r.isWon),
          closeDate: str(r.closeDate),
        });
      }
      return out;
    },
    async getSalesPersons(ids, o) {
      if (ids.length === 0) return [];
      const rows = await mk.salesPersons
        .get({ filterType: "externalSalesPersonId", filterValues: ids }, sig(o))
        .toArray();
      const out: SalesPersonInfo[] = [];
      for (const r of rows) {
        const id = str(r.externalSalesPersonId);
        if (id)
          out.push({
            externalSalesPersonId: id,
            email: str(r.email),
            firstName: str(r.firstName),
            lastName: str(r.lastName),
          });
      }
      return out;
    },
    activities(from, o): ActivityRead {
      let token = from.token;
      return {
        token: () => token,
        async *[Symbol.asyncIterator]() {
          // The paging token is the only cursor: persist the token of the page after each one read.
          if (!token) token = await mk.activities.pagingToken(from.since, sig(o));
          for await (const page of mk.activities.list({ nextPageToken: token, activityTypeIds }, sig(o)).pages()) {
            for (const a of page.items) {
              yield {
                id: String(a.id ?? a.marketoGUID ?? ""),
                leadId: a.leadId,
                activityDate: a.activityDate,
                activityTypeId: a.activityTypeId,
              } satisfies ActivityInfo;
            }
            if (page.nextPageToken) token = page.nextPageToken;
          }
        },
      };
    },
    async activityTypes(o) {
      const types = await mk.activities.types(sig(o));
      return new Map(types.map((t) => [t.id, t.name]));
    },
    async fields(object, o) {
      if (object === "leads") {
        const fields = await mk.leads.describe(sig(o));
        const out = new Map<string, FieldSpec>();
        for (const f of fields) {
          if (f.rest && f.rest.readOnly !== true) out.set(f.rest.name, { length: f.length });
        }
        return out;
      }
      const resource =
        object === "companies" ? mk.companies : object === "namedAccounts" ? mk.namedAccounts : mk.salesPersons;
      const d = await resource.describe(sig(o));
      if (d.fields.length === 0) return undefined;
      // A read-only (CRM-owned) object marks every field updateable:false; the engine does not write it anyway,
      // so keep the names rather than filtering everything away.
      return new Map(d.fields.map((f) => [f.name, { length: f.length }]));
    },
    async deleteNamedAccounts(refs: NamedAccountRef[], o) {
      // By GUID where known (exact), else by name (the dedupe field); results go back in input order.
      const out: GatewayRecordResult[] = new Array(refs.length);
      const byId: number[] = [];
      const byName: number[] = [];
      refs.forEach((r, i) => {
        (r.marketoGUID ? byId : byName).push(i);
      });
      if (byId.length > 0) {
        const res = await mk.namedAccounts.delete(
          { deleteBy: "idField", input: byId.map((i) => ({ marketoGUID: refs[i]?.marketoGUID })) },
          sig(o),
        );
        res.results.forEach((r, j) => {
          out[byId[j] as number] = toResult(r);
        });
      }
      if (byName.length > 0) {
        const res = await mk.namedAccounts.delete(
          { deleteBy: "dedupeFields", input: byName.map((i) => ({ name: refs[i]?.name })) },
          sig(o),
        );
        res.results.forEach((r, j) => {
          out[byName[j] as number] = toResult(r);
        });
      }
      return out;
    },
    usage() {
      const q = mk.quota();
      return { callsMade: q.callsMade, dailyUsed: q.dailyUsed, dailyLimit: q.dailyLimit };
    },
  };
  if (options.bulkFirstPull !== false) {
    gateway.extractActivities = async function* (since, until, o) {
      const extraction = mk.bulk.activities.extract(
        {
          fields: ["marketoGUID", "leadId", "activityDate", "activityTypeId"],
          filter: { createdAt: { startAt: since, endAt: until }, activityTypeIds },
        },
        { ...sig(o), ...(options.bulkPoll ? { poll: options.bulkPoll } : {}) },
      );
      for await (const row of extraction) {
        const leadId = num(row.leadId);
        const activityTypeId = num(row.activityTypeId);
        if (leadId === undefined || activityTypeId === undefined) continue;
        yield { id: row.id ?? row.marketoGUID ?? "", leadId, activityDate: row.activityDate ?? "", activityTypeId };
      }
    };
  }
  return gateway;
}
