import { isQadError, isQadInvalidRecord, type QadClient, QadTenantUrlError } from "@ml/qad-client";
import { type ErrorInfo, errorInfo } from "../errors.js";
import { compileMapping, isRejection, type SyncMapping } from "../mapping/mapping.js";
import type { MarketoPayload } from "../ports.js";
import { type SourceCustomer, sourceCustomerSchema } from "../source/customer-schema.js";
import { type CheckDef, errorOutcome, type Outcome } from "./runner.js";

/** Payloads of the sample, mapped as a sync would map them (for field types and the cost estimate). @internal */
export interface MappedSample {
  /** Valid records read. */
  records: number;
  /** Leads they map to. */
  leads: number;
  /** Payloads per kind. */
  payloads: {
    company: MarketoPayload[];
    namedAccount: MarketoPayload[];
    lead: MarketoPayload[];
    salesPerson: MarketoPayload[];
  };
}

/** What the QAD checks learn, for the ones after them and the Marketo checks. @internal */
export interface QadState {
  /** `unreachable`: nothing answered; `failed`: it answered but refused or failed; `ok`: auth and a read worked. */
  contact?: "ok" | "unreachable" | "failed";
  /** The contact error, when there was one. */
  error?: ErrorInfo;
  /** How it failed, in words. */
  errorText?: string;
  /** The auth error was a credentials/permission refusal (rather than some other failure). */
  refused?: boolean;
  protocol?: "rest" | "qxtend";
  /** Why the protocol is what it is. */
  protocolReason?: string;
  sample?: MappedSample;
}

const REST_FIX =
  'check tenantUrl (e.g. https://<tenant>.qad.com/clouderp); on-prem QAD Enterprise Edition has no REST API: use protocol "qxtend" (or "auto") with the qxtend settings';

/** True for failures where nothing (usable) answered: network errors, timeouts, refused by the tenant-URL policy. */
function unreachableText(e: unknown): string | undefined {
  if (e instanceof QadTenantUrlError) return `refused by the tenant-URL policy (${e.reason} host ${e.host})`;
  if (!isQadError(e)) return undefined;
  if (e.code === "redirect") return e.message;
  if (e.code === "http" && e.status === undefined) return e.message;
  return undefined;
}

/** A first page of customers (the harmless query: one page, nothing written). */
async function firstPage(qad: QadClient, pageSize: number, signal: AbortSignal) {
  for await (const page of qad.customers.list({ pageSize, invalid: "emit", signal }).pages()) return page;
  return Object.assign([], { warnings: [] as string[] });
}

/** Records a failed contact: unreachable, refused (auth/permission) or otherwise failing. */
function failedContact(state: QadState, e: unknown): void {
  const far = unreachableText(e);
  state.error = errorInfo(e);
  state.errorText = far ?? state.error.message;
  state.contact = far ? "unreachable" : "failed";
  state.refused =
    isQadError(e) && (e.code === "auth" || e.code === "permission" || e.code === "soap_fault" || e.code === "qxtend");
}

/** The QAD checks, in order, sharing `state`. @internal */
export function qadChecks(
  qad: QadClient,
  mapping: SyncMapping<SourceCustomer>,
  state: QadState,
  samplePageSize: number,
): CheckDef[] {
  const host = (() => {
    try {
      return new URL(qad.tenantUrl).host;
    } catch {
      return qad.tenantUrl;
    }
  })();
  const skipUnreachable = (): Outcome | undefined =>
    state.contact === "unreachable" || state.contact === undefined
      ? { status: "skip", detail: "QAD is not reachable (see qad.reach)" }
      : undefined;

  return [
    {
      id: "qad.reach",
      title: "QAD tenant reachable",
      async run(signal) {
        try {
          state.protocol = await qad.protocol();
        } catch (e) {
          // Protocol "auto" only throws when REST answered but failed: REST is there, the failure is for qad.auth.
          failedContact(state, e);
          if (state.contact === "unreachable") return unreachable(state);
          state.protocol = "rest";
          state.protocolReason = "protocol auto: REST answered (so no fallback to QXtend)";
          return { status: "pass", detail: `${host} answered (REST)` };
        }
        if (state.protocol === "rest") {
          try {
            const probe = await qad.probeRest({ signal });
            if (!probe.available) {
              state.contact = "unreachable";
              state.errorText = probe.reason;
              return {
                status: "fail",
                code: "unreachable",
                detail: `no QAD REST API at ${qad.tenantUrl}: ${probe.reason}`,
                fix: REST_FIX,
              };
            }
            state.contact = "ok";
            state.protocolReason ??= `REST answered (${probe.reason})`;
          } catch (e) {
            failedContact(state, e);
            if (state.contact === "unreachable") return unreachable(state);
            return { status: "pass", detail: `${host} answered (REST), but failed: see qad.auth` };
          }
          return { status: "pass", detail: `${host} answered (REST)` };
        }
        // QXtend: a one-row query is the first contact.
        try {
          const rest = await qad.probeRest({ signal }).catch(() => undefined);
          state.protocolReason = rest
            ? `QXtend (protocol auto: REST not there: ${rest.reason})`
            : "QXtend (the client is configured for QXtend)";
          await firstPage(qad, 1, signal);
          state.contact = "ok";
          return { status: "pass", detail: "the QXtend endpoint answered" };
        } catch (e) {
          failedContact(state, e);
          if (state.contact === "unreachable") return unreachable(state);
          return { status: "pass", detail: "the QXtend endpoint answered, but refused the query: see qad.auth" };
        }
      },
    },
    {
      id: "qad.auth",
      title: "QAD credentials accepted",
      async run() {
        const skip = skipUnreachable();
        if (skip) return skip;
        const how =
          state.protocol === "qxtend"
            ? "a one-row query of the customers profile"
            : "a token from the token endpoint and an authenticated probe";
        if (state.contact === "ok") return { status: "pass", detail: `${how} succeeded` };
        const err = state.error;
        const fix =
          state.protocol === "qxtend"
            ? "check qxtend.username/password, receiver, version, domain and the customers profile with your QAD admin"
            : err?.code === "permission"
              ? "the user is known but denied: check workspaceId (x-qad-workspace-id) and the user's roles in QAD"
              : "check the auth settings (clientId, username, password or client secret) of the QAD API user";
        return {
          status: "fail",
          ...(err ? { code: err.code } : {}),
          detail: `${state.refused ? "refused" : "could not be checked"}: ${state.errorText ?? "unknown error"}${err ? ` (code ${err.code})` : ""}`,
          fix,
        };
      },
    },
    {
      id: "qad.protocol",
      title: "QAD protocol",
      async run() {
        const skip = skipUnreachable();
        if (skip) return skip;
        return {
          status: "pass",
          detail: state.protocolReason ?? (state.protocol === "qxtend" ? "QXtend" : "REST"),
          data: { protocol: state.protocol ?? "rest" },
        };
      },
    },
    {
      id: "qad.paths",
      title: "QAD customer paths exist",
      async run(signal) {
        const skip = skipUnreachable();
        if (skip) return skip;
        if (state.contact !== "ok") return { status: "skip", detail: "QAD refused the credentials (see qad.auth)" };
        if (state.protocol === "qxtend") {
          return {
            status: "pass",
            detail: "the customers Query Service profile answered (QXtend has no REST paths to check)",
          };
        }
        try {
          const checks = await qad.checkPaths("customers", { signal });
          const against =
            checks[0]?.against === "apiDescription"
              ? "the instance's API description"
              : "allowedPaths (no API description)";
          const missing = checks.filter((c) => !c.allowed);
          const needed = missing.filter((c) => c.use !== "entity");
          const list = (cs: typeof checks) =>
            cs.map((c) => `${c.path} (${c.use}: ${c.reason ?? "refused"})`).join(", ");
          const data = { against: checks[0]?.against ?? "allowedPaths", missing: missing.map((c) => c.path) };
          if (needed.length > 0) {
            return {
              status: "fail",
              detail: `checked against ${against}; a sync reads customers through paths this instance does not offer: ${list(needed)}`,
              fix: "ask your QAD admin which browse paths this instance publishes, then set the client's browse options (and apiDescription or allowedPaths) to them",
              data,
            };
          }
          if (missing.length > 0) {
            return {
              status: "warn",
              detail: `checked against ${against}; lists and polls work, but reads by key would be refused: ${list(missing)}`,
              fix: "only qad.customers.get() needs it (a sync does not); set entities.customers.path if your instance names it otherwise",
              data,
            };
          }
          return {
            status: "pass",
            detail: `${checks.map((c) => c.path).join(", ")} (checked against ${against})`,
            data,
          };
        } catch (e) {
          return errorOutcome(e, "the API description could not be read");
        }
      },
    },
    {
      id: "qad.sample",
      title: "QAD sample read",
      async run(signal) {
        const skip = skipUnreachable();
        if (skip) return skip;
        if (state.contact !== "ok") return { status: "skip", detail: "QAD refused the credentials (see qad.auth)" };
        let page: Awaited<ReturnType<typeof firstPage>>;
        try {
          page = await firstPage(qad, samplePageSize, signal);
        } catch (e) {
          return errorOutcome(e, "the first page of customers could not be read");
        }
        const compiled = compileMapping(mapping);
        const sample: MappedSample = {
          records: 0,
          leads: 0,
          payloads: { company: [], namedAccount: [], lead: [], salesPerson: [] },
        };
        const invalid: string[] = [];
        const rejected: string[] = [];
        let contactIssues = 0;
        for (const row of page) {
          if (isQadInvalidRecord(row)) {
            invalid.push(`${row.key ?? "?"}: ${row.issues.slice(0, 2).join("; ")}`);
            continue;
          }
          const parsed = sourceCustomerSchema.safeParse(row);
          if (!parsed.success) {
            invalid.push(
              `${row.customerCode}: ${parsed.error.issues
                .map((i) => i.message)
                .slice(0, 2)
                .join("; ")}`,
            );
            continue;
          }
          const m = compiled.map(parsed.data);
          if (isRejection(m)) {
            rejected.push(`${m.key ?? "?"}: ${m.reason.message}`);
            continue;
          }
          sample.records++;
          sample.leads += m.leads.length;
          contactIssues += m.contactIssues.length;
          sample.payloads.company.push(m.company);
          if (m.namedAccount) sample.payloads.namedAccount.push(m.namedAccount);
          if (m.salesPerson) sample.payloads.salesPerson.push(m.salesPerson);
          for (const l of m.leads) sample.payloads.lead.push(l.payload);
        }
        state.sample = sample;
        const total = page.length;
        const data = {
          rows: total,
          valid: sample.records,
          invalid: invalid.length,
          rejectedByMapping: rejected.length,
          leads: sample.leads,
          contactsNotLeads: contactIssues,
        };
        const head = `${total} customer row(s) read in one page over ${state.protocol === "qxtend" ? "QXtend" : "REST"}: ${sample.records} mapped, ${sample.leads} lead(s), ${contactIssues} contact(s) without a usable email`;
        if (total === 0) {
          return {
            status: "warn",
            detail: "the first page is empty: QAD returned no customers",
            fix: "check the domain/shared set and the API user's access to customers",
            data,
          };
        }
        const problems = [
          ...(invalid.length ? [`${invalid.length} invalid row(s), e.g. ${invalid.slice(0, 3).join(" | ")}`] : []),
          ...(rejected.length
            ? [`${rejected.length} rejected by the mapping, e.g. ${rejected.slice(0, 3).join(" | ")}`]
            : []),
        ];
        if (problems.length > 0) {
          return {
            status: "warn",
            detail: `${head}; ${problems.join("; ")}`,
            fix: "a sync rejects these rows into the audit trail and carries on; correct them in QAD to sync them",
            data,
          };
        }
        if (page.warnings.length > 0) {
          return { status: "warn", detail: `${head}; QXtend warnings: ${page.warnings.slice(0, 3).join(" | ")}`, data };
        }
        return { status: "pass", detail: head, data };
      },
    },
  ];
}

function unreachable(state: QadState): Outcome {
  return {
    status: "fail",
    code: state.error?.code ?? "unreachable",
    detail: `not reachable: ${state.errorText ?? "no answer"}`,
    fix: "check the tenant URL (or qxtend.url), DNS and the network path (proxy, firewall, VPN); for a private or loopback host the client's network options must allow it",
  };
}
