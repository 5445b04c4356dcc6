import type { SimRequest, SimResponse } from "../context.js";
import type { ActivityLog, StoredActivity } from "./activity-log.js";
import { encodeCursor } from "./activity-log.js";
import { normKey, type ObjectStore, type SimRecordResult } from "./object-store.js";
import { ACTIVITY_TYPES } from "./schemas.js";

/** The simulated instance state the REST handlers work on. */
export interface RestState {
  stores: {
    companies: ObjectStore;
    namedAccounts: ObjectStore;
    leads: ObjectStore;
    opportunities: ObjectStore;
    opportunityRoles: ObjectStore;
    salesPersons: ObjectStore;
  };
  activities: ActivityLog;
  crm: { enabled: boolean; level: "record" | "response" };
  /** Simulated time, ms since epoch. */
  now(): number;
  requestId(): string;
  dailyUsed(): number;
  quotaDay(): string;
  clientId: string;
  /** Stored activities scanned per activities page. */
  activityPageScan: number;
}

type Ok = Record<string, unknown>;

const ok = (state: RestState, result?: unknown[], extra: Ok = {}): SimResponse => ({
  status: 200,
  body: { requestId: state.requestId(), success: true, ...(result ? { result } : {}), ...extra },
});

/** Marketo's failure envelope: HTTP 200 with success:false. */
export function envelopeError(requestId: string, code: string, message: string): SimResponse {
  return { status: 200, body: { requestId, success: false, errors: [{ code, message }] } };
}

const OBJECTS: Record<string, keyof RestState["stores"]> = {
  companies: "companies",
  namedaccounts: "namedAccounts",
  leads: "leads",
  opportunities: "opportunities",
  "opportunities/roles": "opportunityRoles",
  salespersons: "salesPersons",
};

/** Objects a native CRM sync makes read-only (roles do not exist at all with it). */
const CRM_OWNED = new Set<keyof RestState["stores"]>([
  "companies",
  "opportunities",
  "opportunityRoles",
  "salesPersons",
]);

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

function list(q: URLSearchParams, name: string): string[] {
  const raw = q.getAll(name).flatMap((v) => v.split(","));
  return raw.map((v) => v.trim()).filter((v) => v !== "");
}

/** Handles `/rest/v1/...`; `undefined` when the path is unknown. */
export function handleRest(state: RestState, req: SimRequest): SimResponse | undefined {
  const err = (code: string, message: string) => envelopeError(state.requestId(), code, message);
  const m = /^\/rest\/v1\/(.+?)\.json$/.exec(req.path);
  if (!m) return undefined;
  const route = m[1]!;
  const nowIso = new Date(state.now()).toISOString();

  const objMatch =
    /^(companies|namedaccounts|leads|opportunities\/roles|opportunities|salespersons)(?:\/(describe|describe2|delete))?$/.exec(
      route,
    );
  if (objMatch) {
    const key = OBJECTS[objMatch[1]!]!;
    const store = state.stores[key];
    const sub = objMatch[2];
    const crmOwned = state.crm.enabled && CRM_OWNED.has(key);
    if (sub === "describe" || sub === "describe2") {
      if (req.method !== "GET") return err("605", "HTTP Method not supported");
      if (sub === "describe2" && key !== "leads") return undefined;
      return describe(state, key, store, sub, crmOwned);
    }
    if (sub === "delete") {
      if (req.method !== "POST") return err("605", "HTTP Method not supported");
      return write(state, key, store, req.body, crmOwned, "delete", nowIso);
    }
    if (req.method === "GET") return read(state, store, req.query);
    if (req.method === "POST") return write(state, key, store, req.body, crmOwned, "sync", nowIso);
    return err("605", "HTTP Method not supported");
  }

  if (req.method !== "GET") return err("605", "HTTP Method not supported");
  switch (route) {
    case "stats/usage":
      return ok(state, [
        {
          date: state.quotaDay(),
          total: state.dailyUsed(),
          users: [{ userId: `${state.clientId}@sim.marketo`, count: state.dailyUsed() }],
        },
      ]);
    case "activities/types":
      return ok(
        state,
        ACTIVITY_TYPES.map((t) => ({
          id: t.id,
          name: t.name,
          description: t.name,
          primaryAttribute: { name: t.primary, dataType: "integer" },
          attributes: t.attrs.map((a) => ({ name: a, dataType: "string" })),
        })),
      );
    case "activities/pagingtoken": {
      const since = Date.parse(req.query.get("sinceDatetime") ?? "");
      if (Number.isNaN(since)) return err("1003", "Invalid sinceDatetime");
      return {
        status: 200,
        body: {
          requestId: state.requestId(),
          success: true,
          nextPageToken: encodeCursor({ t: since - 1, id: Number.MAX_SAFE_INTEGER }),
        },
      };
    }
    case "activities":
    case "activities/leadchanges":
    case "activities/deletedleads":
      return activities(state, route, req.query);
    default:
      return err("610", "Requested resource not found");
  }
}

function describe(
  state: RestState,
  key: keyof RestState["stores"],
  store: ObjectStore,
  sub: "describe" | "describe2",
  crmOwned: boolean,
): SimResponse {
  const spec = store.spec;
  if (key === "leads" && sub === "describe") {
    const base = [
      { id: 1, displayName: "Id", dataType: "integer", rest: { name: "id", readOnly: true } },
      { id: 2, displayName: "Created At", dataType: "datetime", rest: { name: "createdAt", readOnly: true } },
      { id: 3, displayName: "Updated At", dataType: "datetime", rest: { name: "updatedAt", readOnly: true } },
    ];
    const fields = spec.fields.map((f, i) => ({
      id: 10 + i,
      displayName: f.name,
      dataType: f.dataType,
      ...(f.length ? { length: f.length } : {}),
      rest: { name: f.name, readOnly: false },
      soap: { name: f.name, readOnly: false },
    }));
    return ok(state, [...base, ...fields]);
  }
  if (key === "leads") {
    return ok(state, [
      {
        name: "API Lead",
        searchableFields: spec.searchableFields,
        fields: spec.fields.map((f) => ({
          name: f.name,
          displayName: f.name,
          dataType: f.dataType,
          ...(f.length ? { length: f.length } : {}),
          updateable: !(state.crm.enabled && f.crm),
          crmManaged: state.crm.enabled && f.crm === true,
        })),
      },
    ]);
  }
  return ok(state, [
    {
      name: spec.displayName,
      displayName: spec.displayName,
      pluralName: `${spec.displayName}s`,
      description: `${spec.displayName} (simulated)`,
      createdAt: "2020-01-01T00:00:00Z",
      updatedAt: "2020-01-01T00:00:00Z",
      idField: spec.idField,
      dedupeFields: spec.dedupeFields,
      searchableFields: spec.searchableFields,
      relationships: [],
      fields: [
        {
          name: spec.idField,
          displayName: spec.idField,
          dataType: spec.idField === "id" ? "integer" : "string",
          updateable: false,
        },
        ...spec.fields.map((f) => ({
          name: f.name,
          displayName: f.name,
          dataType: f.dataType,
          ...(f.length ? { length: f.length } : {}),
          updateable: !crmOwned && !f.key,
          crmManaged: crmOwned,
        })),
      ],
    },
  ]);
}

function read(state: RestState, store: ObjectStore, q: URLSearchParams): SimResponse {
  const err = (code: string, message: string) => envelopeError(state.requestId(), code, message);
  const filterType = q.get("filterType");
  if (!filterType) return err("701", "filterType cannot be blank");
  const values = list(q, "filterValues");
  if (values.length === 0) return err("701", "filterValues cannot be blank");
  if (values.length > 300) return err("1003", "Too many filterValues (max 300)");
  const spec = store.spec;
  const searchable = new Set(spec.searchableFields.flat());
  if (!searchable.has(filterType)) return err("1003", `Invalid filterType '${filterType}'`);
  const batchSize = Number(q.get("batchSize") ?? 300);
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 300) return err("1003", "Invalid batchSize");
  const token = q.get("nextPageToken");
  const offset = token ? Number.parseInt(Buffer.from(token, "base64url").toString(), 10) : 0;
  if (Number.isNaN(offset)) return err("1003", "Invalid nextPageToken");
  const fieldsParam = list(q, "fields");
  const lookup = filterType === "dedupeFields" ? spec.dedupeFields : [filterType];
  const wanted = values.map((v) => normKey(lookup.length > 1 ? JSON.parse(v) : [v]));
  const matches = store.findByKeys(lookup, wanted);
  const slice = matches.slice(offset, offset + batchSize);
  const fields = fieldsParam.length > 0 ? fieldsParam : (spec.defaultReadFields ?? undefined);
  const result = slice.map((r, i) => {
    const out: Record<string, unknown> = { seq: offset + i, [spec.idField]: r[spec.idField] };
    if (fields) {
      for (const f of fields) if (r[f] !== undefined) out[f] = r[f];
    } else {
      Object.assign(out, r);
    }
    return out;
  });
  const more = offset + batchSize < matches.length;
  const extra: Ok = { warnings: [] };
  if (more) extra.nextPageToken = Buffer.from(String(offset + batchSize)).toString("base64url");
  // Marketo answers an empty search with success:true and no result array.
  return ok(state, result.length > 0 ? result : undefined, extra);
}

function write(
  state: RestState,
  key: keyof RestState["stores"],
  store: ObjectStore,
  body: unknown,
  crmOwned: boolean,
  kind: "sync" | "delete",
  nowIso: string,
): SimResponse {
  const err = (code: string, message: string) => envelopeError(state.requestId(), code, message);
  if (!isObj(body)) return err("609", "Invalid JSON");
  const input = body.input;
  if (!Array.isArray(input) || input.length === 0) return err("701", "input cannot be blank");
  if (input.length > 300) return err("1003", "Too many records in input (max 300)");
  if (crmOwned && state.crm.level === "response") return err("1018", "CRM Enabled");
  const spec = store.spec;
  const action = kind === "delete" ? "delete" : String(body.action ?? "createOrUpdate");
  if (kind === "sync" && !["createOnly", "updateOnly", "createOrUpdate", "createDuplicate"].includes(action)) {
    return err("1003", `Invalid action '${action}'`);
  }
  let lookup: string[];
  if (key === "leads") {
    lookup = kind === "delete" ? ["id"] : [String(body.lookupField ?? "email")];
  } else {
    const by = String((kind === "delete" ? body.deleteBy : body.dedupeBy) ?? "dedupeFields");
    if (by !== "dedupeFields" && by !== "idField")
      return err("1003", `Invalid ${kind === "delete" ? "deleteBy" : "dedupeBy"} '${by}'`);
    lookup = by === "idField" ? [spec.idField] : spec.dedupeFields;
  }
  const seen = new Set<string>();
  const result: SimRecordResult[] = input.map((raw, seq) => {
    if (!isObj(raw))
      return { seq, status: "skipped", reasons: [{ code: "1001", message: "Invalid value type: expected an object" }] };
    if (crmOwned) return { seq, status: "skipped", reasons: [{ code: "1018", message: "CRM Enabled" }] };
    const k = normKey(lookup.map((f) => raw[f]));
    if (k !== undefined && action !== "createDuplicate") {
      if (seen.has(k)) {
        return {
          seq,
          status: "skipped",
          reasons: [{ code: "1036", message: `Duplicate ${lookup.join(", ")} in request` }],
        };
      }
      seen.add(k);
    }
    if (kind === "delete") {
      const res = store.remove(lookup, raw, seq);
      if (key === "leads" && res.status === "deleted") {
        state.activities.add({
          leadId: res.id!,
          activityDate: nowIso,
          activityTypeId: 37,
          primaryAttributeValueId: res.id!,
          attributes: [],
        });
      }
      return res;
    }
    if (
      (key === "companies" || key === "opportunities") &&
      typeof raw.externalSalesPersonId === "string" &&
      raw.externalSalesPersonId !== ""
    ) {
      if (state.stores.salesPersons.findBy(["externalSalesPersonId"], [raw.externalSalesPersonId]).length === 0) {
        return { seq, status: "skipped", reasons: [{ code: "718", message: "ExternalSalesPersonID not found" }] };
      }
    }
    // Under a native CRM sync a lead links to its company through the CRM: a lead naming an externalCompanyId that
    // has no company is refused (1013), as the real instance does.
    if (
      key === "leads" &&
      state.crm.enabled &&
      typeof raw.externalCompanyId === "string" &&
      raw.externalCompanyId !== "" &&
      state.stores.companies.findBy(["externalCompanyId"], [raw.externalCompanyId]).length === 0
    ) {
      return { seq, status: "skipped", reasons: [{ code: "1013", message: "Company not found" }] };
    }
    const before =
      key === "leads"
        ? store.findBy(
            lookup,
            lookup.map((f) => raw[f]),
          )[0]
        : undefined;
    const snapshot = before ? { ...before } : undefined;
    const res =
      action === "createDuplicate"
        ? createDuplicate(store, raw, seq, nowIso)
        : store.apply(action, lookup, raw, seq, nowIso);
    if (key === "leads") leadActivities(state, res, raw, snapshot, nowIso);
    return res;
  });
  return ok(state, result);
}

function createDuplicate(
  store: ObjectStore,
  raw: Record<string, unknown>,
  seq: number,
  nowIso: string,
): SimRecordResult {
  for (const [name, value] of Object.entries(raw)) {
    const bad = store.check(name, value);
    if (bad) return { seq, status: "skipped", reasons: [bad] };
  }
  // As with every API create, Marketo assigns the id: one the caller sends is ignored.
  const { [store.spec.idField]: _callerId, ...fields } = raw;
  const rec = store.insert(fields, nowIso);
  return { seq, status: "created", id: rec.id as number };
}

/** New Lead (12) on create, Change Data Value (13) per changed field on update, as Marketo logs them. */
function leadActivities(
  state: RestState,
  res: SimRecordResult,
  raw: Record<string, unknown>,
  before: Record<string, unknown> | undefined,
  nowIso: string,
): void {
  if (res.status === "created" && res.id !== undefined) {
    state.activities.add({
      leadId: res.id,
      activityDate: nowIso,
      activityTypeId: 12,
      primaryAttributeValueId: res.id,
      attributes: [{ name: "Source Type", value: "Web service API" }],
    });
  }
  if (res.status === "updated" && res.id !== undefined && before) {
    for (const [name, value] of Object.entries(raw)) {
      if (name === "id" || before[name] === value) continue;
      // Marketo sends lead-change values in the field's own type (numbers and booleans stay so).
      const typed = (v: unknown): string | number | boolean | null =>
        v === undefined || v === null ? null : typeof v === "number" || typeof v === "boolean" ? v : String(v);
      const old = typed(before[name]);
      const neu = typed(value);
      state.activities.add({
        leadId: res.id,
        activityDate: nowIso,
        activityTypeId: 13,
        primaryAttributeValue: name,
        attributes: [
          { name: "New Value", value: neu },
          { name: "Old Value", value: old },
          { name: "Source", value: "Web service API" },
        ],
        fields: [{ id: 0, name, newValue: neu, oldValue: old }],
      });
    }
  }
}

function activities(state: RestState, route: string, q: URLSearchParams): SimResponse {
  const err = (code: string, message: string) => envelopeError(state.requestId(), code, message);
  const token = q.get("nextPageToken");
  if (!token) return err("701", "nextPageToken cannot be blank");
  const batchSize = Number(q.get("batchSize") ?? 300);
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 300) return err("1003", "Invalid batchSize");
  const leadIds = new Set(list(q, "leadIds").map(Number));
  if (leadIds.size > 30) return err("1003", "Too many leadIds (max 30)");
  let match: (a: StoredActivity) => boolean;
  let view: (a: StoredActivity) => Record<string, unknown>;
  const base = (a: StoredActivity) => {
    const { fields: _f, ...rest } = a;
    return rest as Record<string, unknown>;
  };
  if (route === "activities") {
    const types = new Set(list(q, "activityTypeIds").map(Number));
    if (types.size === 0) return err("701", "activityTypeIds cannot be blank");
    if (types.size > 10) return err("1003", "Too many activityTypeIds (max 10)");
    match = (a) => types.has(a.activityTypeId) && (leadIds.size === 0 || leadIds.has(a.leadId));
    view = base;
  } else if (route === "activities/leadchanges") {
    const fields = new Set(list(q, "fields"));
    if (fields.size === 0) return err("701", "fields cannot be blank");
    match = (a) =>
      a.activityTypeId === 13 &&
      (a.fields ?? []).some((f) => fields.has(f.name)) &&
      (leadIds.size === 0 || leadIds.has(a.leadId));
    view = (a) => ({ ...base(a), fields: (a.fields ?? []).filter((f) => fields.has(f.name)) });
  } else {
    match = (a) => a.activityTypeId === 37;
    view = (a) => ({
      id: a.id,
      marketoGUID: a.marketoGUID,
      leadId: a.leadId,
      activityDate: a.activityDate,
      activityTypeId: 37,
    });
  }
  const page = state.activities.page(token, match, batchSize, state.activityPageScan);
  if (!page) return err("1003", "Invalid nextPageToken");
  return ok(state, page.items.length > 0 ? page.items.map(view) : undefined, {
    warnings: page.items.length === 0 ? ["No assets found for the given search criteria."] : [],
    nextPageToken: page.nextPageToken,
    moreResult: page.moreResult,
  });
}
