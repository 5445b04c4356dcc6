import type { Capability, MarketoClient, Usage } from "@ml/marketo-client";
import { marketoGateway } from "../adapters/marketo-gateway.js";
import { errorInfo } from "../errors.js";
import type { SyncMapping } from "../mapping/mapping.js";
import type { MarketoPayload } from "../ports.js";
import type { SourceCustomer } from "../source/customer-schema.js";
import { duration, estimateFirstSync } from "./cost.js";
import { compareFields, type FieldObject, neededFields } from "./fields.js";
import type { QadState } from "./qad-checks.js";
import { type CheckDef, errorOutcome, type Outcome } from "./runner.js";

/** What the Marketo checks learn, for the ones after them. @internal */
export interface MarketoState {
  auth?: "ok" | "failed";
  usage?: Usage;
  quotaExhausted?: boolean;
  capabilities: Partial<Record<Capability["object"], Capability>>;
}

const AUTH_CODES = new Set(["AUTH", "600", "601", "602"]);
const UNREACHABLE_CODES = new Set(["NETWORK", "TIMEOUT", "REDIRECT"]);
const QUOTA_CODES = new Set(["607", "DAILY_BUDGET"]);

const pct = (x: number) => `${Math.round(x * 100)} %`;
const n = (x: number) => x.toLocaleString("en-US");

const CRM_MEANING: Record<Capability["object"], (mapping: SyncMapping<SourceCustomer>) => string> = {
  companies: () =>
    "a native CRM sync owns companies: the sync reads them instead of writing them, and sends a lead whose company Marketo lacks without externalCompanyId until the CRM creates the company; named accounts and leads are still written",
  opportunities: () =>
    "a native CRM sync owns opportunities (and opportunity roles are unavailable): the sync only reads opportunities back for account context, so nothing it writes is lost",
  salesPersons: (m) =>
    m.salesPerson
      ? "a native CRM sync owns sales persons: the sync does not write the mapped sales persons, and companies can only reference sales persons the CRM already created"
      : "a native CRM sync owns sales persons; the mapping writes none, so this changes nothing for the sync",
};

/** The Marketo checks that need nothing from QAD (run beside the QAD checks). @internal */
export function marketoChecks(
  mk: MarketoClient,
  state: MarketoState,
  mapping: SyncMapping<SourceCustomer>,
): CheckDef[] {
  const needAuth = (): Outcome | undefined =>
    state.auth === "ok"
      ? undefined
      : { status: "skip", detail: "Marketo refused or did not answer (see marketo.auth)" };
  const crm = (object: Capability["object"], title: string): CheckDef => ({
    id: `marketo.crm.${object}`,
    title,
    async run() {
      const skip = needAuth();
      if (skip) return skip;
      const cap = await mk.capabilities.get(object);
      state.capabilities[object] = cap;
      const data = { writable: cap.writable, source: cap.source };
      if (!cap.writable) {
        return {
          status: "warn",
          detail: `read-only (${cap.source}: ${cap.reason ?? "CRM Enabled"}): ${CRM_MEANING[object](mapping)}`,
          fix: "expected with a Salesforce or Dynamics sync; manage these records in the CRM",
          data,
        };
      }
      if (cap.source === "default") {
        return {
          status: "warn",
          detail: `could not tell (${cap.reason ?? "no probe answered"}); assumed writable until Marketo refuses a write with 1018`,
          data,
        };
      }
      return { status: "pass", detail: `writable (${cap.reason ?? cap.source})`, data };
    },
  });

  return [
    {
      id: "marketo.auth",
      title: "Marketo credentials accepted",
      async run(signal) {
        try {
          state.usage = await mk.stats.usage({ signal, maxRetries: 1 });
          state.auth = "ok";
          return { status: "pass", detail: `token granted; stats/usage answered (${mk.baseUrls.rest})` };
        } catch (e) {
          const info = errorInfo(e);
          if (QUOTA_CODES.has(info.code)) {
            state.auth = "ok";
            state.quotaExhausted = true;
            return { status: "pass", detail: "token granted (today's quota is used up: see marketo.quota)" };
          }
          state.auth = "failed";
          if (AUTH_CODES.has(info.code)) {
            return {
              status: "fail",
              code: info.code,
              detail: `refused: ${info.message}`,
              fix: "check clientId and clientSecret of the API user (Admin → Integration → LaunchPoint → the service → View Details) and the Munchkin ID or identity URL",
            };
          }
          if (info.code === "603") {
            return {
              status: "fail",
              code: info.code,
              detail: `access denied: ${info.message}`,
              fix: "give the API user's role API permissions (Admin → Users & Roles → Roles: Read-Write Person, Company, Named Account, Read-Only Opportunity, Read-Only Activity)",
            };
          }
          if (UNREACHABLE_CODES.has(info.code)) {
            return errorOutcome(
              e,
              "Marketo not reachable",
              "check the Munchkin ID (Admin → Integration → Munchkin) or base URLs, and the network path",
            );
          }
          return errorOutcome(e, "Marketo answered with an error");
        }
      },
    },
    {
      id: "marketo.quota",
      title: "Marketo quota left today",
      async run() {
        const skip = needAuth();
        if (skip) return skip;
        const limit = mk.quota().dailyLimit;
        const why =
          "(the quota is the client's limits.dailyQuota: Marketo does not report it; calls of every API user count)";
        if (state.quotaExhausted || !state.usage) {
          return {
            status: "fail",
            code: "607",
            detail: `today's ${n(limit)} calls are used up ${why}`,
            fix: "wait for the reset at 00:00 US Central, or find the integration spending it (Admin → Integration → Web Services → API Call Information)",
          };
        }
        const used = state.usage.total;
        const left = Math.max(0, limit - used);
        const share = limit > 0 ? left / limit : 0;
        const detail = `${n(used)} of ${n(limit)} calls used today, ${n(left)} left (${pct(share)}) ${why}`;
        const data = { used, limit, left };
        if (left === 0) {
          return { status: "fail", code: "607", detail, fix: "wait for the reset at 00:00 US Central", data };
        }
        if (share < 0.2) {
          return {
            status: "warn",
            detail,
            fix: "under 20 % left: a sync may stop at the daily budget today (it continues after 00:00 US Central); check which API user spends it (stats/usage lists calls per user)",
            data,
          };
        }
        return { status: "pass", detail, data };
      },
    },
    crm("companies", "Marketo companies writable"),
    crm("opportunities", "Marketo opportunities writable"),
    crm("salesPersons", "Marketo sales persons writable"),
  ];
}

const FIELD_CHECKS: [FieldObject, CheckDef["id"], string, keyof NonNullable<QadState["sample"]>["payloads"]][] = [
  ["companies", "marketo.fields.companies", "Marketo company fields", "company"],
  ["namedAccounts", "marketo.fields.namedAccounts", "Marketo named-account fields", "namedAccount"],
  ["leads", "marketo.fields.leads", "Marketo lead fields", "lead"],
  ["salesPersons", "marketo.fields.salesPersons", "Marketo sales-person fields", "salesPerson"],
];

/** The Marketo checks that use what the QAD sample taught (run after both). @internal */
export function marketoSampleChecks(
  mk: MarketoClient,
  state: MarketoState,
  qad: QadState,
  mapping: SyncMapping<SourceCustomer>,
  customers: number | undefined,
): CheckDef[] {
  const gateway = marketoGateway(mk);
  const fieldChecks = FIELD_CHECKS.map(
    ([object, id, title, kind]): CheckDef => ({
      id,
      title,
      async run(signal) {
        const payloads: MarketoPayload[] = qad.sample?.payloads[kind] ?? [];
        const needed = neededFields(object, mapping, payloads);
        if (!needed) return { status: "skip", detail: `the mapping writes no ${object}` };
        if (state.auth !== "ok")
          return { status: "skip", detail: "Marketo refused or did not answer (see marketo.auth)" };
        let described: Awaited<ReturnType<NonNullable<typeof gateway.fields>>>;
        try {
          described = await gateway.fields!(object, { signal });
        } catch (e) {
          return errorOutcome(e, `${object} describe failed`);
        }
        if (!described) {
          return { status: "warn", detail: `${object} describe lists no fields: nothing to compare the mapping with` };
        }
        return compareFields(object, needed, described, payloads);
      },
    }),
  );
  const cost: CheckDef = {
    id: "marketo.cost",
    title: "Marketo cost of a first sync",
    async run() {
      if (customers === undefined) {
        return {
          status: "skip",
          detail: "no expected customer count given",
          fix: "pass customers: <how many QAD customers> to estimate",
        };
      }
      const sample = qad.sample;
      const perCustomer = sample && sample.records > 0 ? sample.leads / sample.records : 1;
      const est = estimateFirstSync({
        customers,
        leadsPerCustomer: perCustomer,
        namedAccounts: mapping.namedAccount !== false,
        leads: mapping.lead !== false,
        salesPersons: mapping.salesPerson !== false,
        companiesReadOnly: state.capabilities.companies?.writable === false,
      });
      const q = mk.quota();
      const windows = Math.ceil(est.total / q.windowLimit);
      const time = duration(windows * q.windowMs);
      // Marketo's own ceiling, when the client is set to another one (a share of the instance, or a simulator).
      const real =
        q.windowLimit === 100 && q.windowMs === 20_000
          ? ""
          : ` (at Marketo's 100 calls / 20 s: ${duration(Math.ceil(est.total / 100) * 20_000)})`;
      const limit = q.dailyLimit;
      const left = state.usage ? Math.max(0, limit - state.usage.total) : undefined;
      const leadNote =
        sample && sample.records > 0
          ? `${n(est.leads)} leads at ${Math.round(perCustomer * 100) / 100} per customer as in the sample`
          : `${n(est.leads)} leads assumed (1 per customer: no sample)`;
      const detail =
        `about ${n(est.total)} calls for ${n(customers)} customers (${n(est.writes)} writes in batches of 300, ${n(est.reads)} reads, ${n(est.setup)} setup; ${leadNote}); ` +
        `at least ${time} at ${q.windowLimit} calls / ${duration(q.windowMs)}${real}; ${pct(est.total / limit)} of the daily quota of ${n(limit)}` +
        (left !== undefined ? `, ${left > 0 ? pct(est.total / left) : "more than all"} of what is left today` : "");
      const data = {
        calls: est.total,
        writes: est.writes,
        reads: est.reads,
        setup: est.setup,
        leads: est.leads,
        minDurationMs: windows * q.windowMs,
      };
      if (left !== undefined && est.total > left) {
        return {
          status: "warn",
          detail,
          fix: "the first sync will stop at today's budget and continue from its checkpoint after 00:00 US Central; start it early in the day so most of it runs today",
          data,
        };
      }
      if (left !== undefined && est.total > left / 2) {
        return {
          status: "warn",
          detail,
          fix: "it takes over half of what is left today: other integrations of this instance may run short",
          data,
        };
      }
      return { status: "pass", detail, data };
    },
  };
  return [...fieldChecks, cost];
}
