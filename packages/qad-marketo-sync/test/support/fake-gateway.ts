import type {
  ActivityInfo,
  ActivityRead,
  CrmObject,
  GatewayCapability,
  GatewayRecordResult,
  MarketoGateway,
  MarketoPayload,
  NamedAccountWriteMode,
  OpportunityInfo,
  SalesPersonInfo,
} from "../../src/index.js";

/** An error shaped like a client error: code + retryable. */
export class FakeError extends Error {
  constructor(
    readonly code: string,
    readonly retryable = false,
    name = "FakeError",
  ) {
    super(`fake ${code}`);
    this.name = name;
  }
}

type Op = "companies" | "namedAccounts" | "namedAccountsById" | "leads" | "salesPersons";

/**
 * An in-memory Marketo for unit tests: records every call, dedupes like Marketo (externalCompanyId, name, email,
 * externalSalesPersonId), and lets a test fail calls, answer 1018, or make objects read-only.
 */
export class FakeGateway implements MarketoGateway {
  calls: { op: string; size: number }[] = [];
  companies = new Map<string, MarketoPayload & { id: number }>();
  namedAccounts = new Map<string, MarketoPayload & { marketoGUID: string }>();
  leads = new Map<string, MarketoPayload & { id: number }>();
  salesPersons = new Map<string, MarketoPayload & { id: number }>();
  opportunities: OpportunityInfo[] = [];
  salesPersonInfo: SalesPersonInfo[] = [];
  activityLog: ActivityInfo[] = [];
  /** Object → read-only as a probe would report it. */
  probeReadOnly = new Set<CrmObject>();
  /** Object → writes answer 1018 per record (the probe does not know). */
  recordLevel1018 = new Set<CrmObject>();
  /** Object → writes throw a request-level 1018. */
  requestLevel1018 = new Set<CrmObject>();
  /** Queue of failures for the next write calls of an op. */
  failNext = new Map<Op, Error[]>();
  /** Per-record skip reasons by key. */
  skipKeys = new Map<string, { code: string; message: string }>();
  describe: Partial<
    Record<"companies" | "namedAccounts" | "leads" | "salesPersons", Map<string, { length?: number }>>
  > = {};
  extractActivities?: MarketoGateway["extractActivities"];
  #nextId = 1;
  #callsMade = 0;

  writeCalls(): number {
    return this.calls.filter((c) => c.op.startsWith("sync")).length;
  }

  #fail(op: Op) {
    const q = this.failNext.get(op);
    const e = q?.shift();
    if (e) throw e;
  }

  /** Capability answers are cached like the real client does (one probe per object per gateway). */
  #probed = new Set<CrmObject>();
  /** Every capability request, with its `refresh` flag. */
  capabilityRequests: { object: CrmObject; refresh: boolean }[] = [];
  async capability(object: CrmObject, options?: { refresh?: boolean }): Promise<GatewayCapability> {
    this.capabilityRequests.push({ object, refresh: options?.refresh === true });
    if (options?.refresh || !this.#probed.has(object)) {
      this.#probed.add(object);
      this.#callsMade++;
      this.calls.push({ op: `capability:${object}`, size: 0 });
    }
    return this.probeReadOnly.has(object)
      ? { object, writable: false, source: "probe", reason: "CRM Enabled (Salesforce)" }
      : { object, writable: true, source: "probe" };
  }

  #upsert<T extends MarketoPayload>(
    store: Map<string, T>,
    key: string,
    payload: MarketoPayload,
    make: () => T,
  ): GatewayRecordResult {
    const skip = this.skipKeys.get(key);
    if (skip) return { status: "skipped", reasons: [skip] };
    const existing = store.get(key);
    if (existing) {
      Object.assign(existing, payload);
      return {
        status: "updated",
        id: existing.id as number | undefined,
        marketoGUID: existing.marketoGUID as string | undefined,
        reasons: [],
      };
    }
    const created = make();
    Object.assign(created, payload);
    store.set(key, created);
    return {
      status: "created",
      id: created.id as number | undefined,
      marketoGUID: created.marketoGUID as string | undefined,
      reasons: [],
    };
  }

  #write(
    op: Op,
    input: MarketoPayload[],
    object: CrmObject | undefined,
    each: (p: MarketoPayload) => GatewayRecordResult,
  ) {
    this.#callsMade++;
    this.calls.push({ op: `sync:${op}`, size: input.length });
    if (input.length > 300) throw new FakeError("1003-too-many");
    this.#fail(op);
    if (object && this.requestLevel1018.has(object)) throw new FakeError("1018");
    if (object && (this.recordLevel1018.has(object) || this.probeReadOnly.has(object))) {
      return input.map(() => ({ status: "skipped" as const, reasons: [{ code: "1018", message: "CRM Enabled" }] }));
    }
    const keys = new Set<string>();
    return input.map((p) => {
      const k = JSON.stringify(p);
      if (keys.has(k)) throw new FakeError("1036");
      keys.add(k);
      return each(p);
    });
  }

  async syncCompanies(input: MarketoPayload[]) {
    return this.#write("companies", input, "companies", (p) =>
      this.#upsert(this.companies, String(p.externalCompanyId), p, () => ({ id: this.#nextId++ })),
    );
  }

  async syncNamedAccounts(input: MarketoPayload[], mode: NamedAccountWriteMode) {
    if (mode === "updateById") {
      return this.#write("namedAccountsById", input, undefined, (p) => {
        const entry = [...this.namedAccounts.entries()].find(([, v]) => v.marketoGUID === p.marketoGUID);
        if (!entry) return { status: "skipped", reasons: [{ code: "1013", message: "Object not found" }] };
        this.namedAccounts.delete(entry[0]);
        const { marketoGUID: _g, ...rest } = p;
        Object.assign(entry[1], rest);
        this.namedAccounts.set(String(p.name), entry[1]);
        return { status: "updated", marketoGUID: entry[1].marketoGUID, reasons: [] };
      });
    }
    return this.#write("namedAccounts", input, undefined, (p) =>
      this.#upsert(this.namedAccounts, String(p.name), p, () => ({ marketoGUID: `guid-${this.#nextId++}` })),
    );
  }

  async syncLeads(input: MarketoPayload[]) {
    return this.#write("leads", input, undefined, (p) =>
      this.#upsert(this.leads, String(p.email), p, () => ({ id: this.#nextId++ })),
    );
  }

  async syncSalesPersons(input: MarketoPayload[]) {
    return this.#write("salesPersons", input, "salesPersons", (p) =>
      this.#upsert(this.salesPersons, String(p.externalSalesPersonId), p, () => ({ id: this.#nextId++ })),
    );
  }

  async getCompanies(ids: string[]) {
    this.#callsMade++;
    this.calls.push({ op: "get:companies", size: ids.length });
    return ids.flatMap((id) => {
      const c = this.companies.get(id);
      return c ? [{ ...c }] : [];
    });
  }

  async getOpportunities(ids: string[]) {
    this.#callsMade++;
    this.calls.push({ op: "get:opportunities", size: ids.length });
    const set = new Set(ids);
    return this.opportunities.filter((o) => set.has(o.externalCompanyId));
  }

  async getSalesPersons(ids: string[]) {
    this.#callsMade++;
    this.calls.push({ op: "get:salesPersons", size: ids.length });
    const set = new Set(ids);
    return this.salesPersonInfo.filter((s) => set.has(s.externalSalesPersonId));
  }

  activities(from: { token?: string | undefined; since: Date }): ActivityRead {
    const start = from.token ? Number(from.token) : 0;
    let pos = start;
    const log = this.activityLog;
    const self = this;
    return {
      token: () => String(pos),
      async *[Symbol.asyncIterator]() {
        self.#callsMade++;
        self.calls.push({ op: "get:activities", size: 0 });
        for (let i = start; i < log.length; i++) {
          pos = i + 1;
          yield log[i]!;
        }
      },
    };
  }

  async activityTypes() {
    return new Map([
      [1, "Visit Webpage"],
      [2, "Fill Out Form"],
    ]);
  }

  async fields(object: "companies" | "namedAccounts" | "leads" | "salesPersons") {
    this.#callsMade++;
    this.calls.push({ op: `describe:${object}`, size: 0 });
    return this.describe[object];
  }

  usage() {
    return { callsMade: this.#callsMade, dailyUsed: this.#callsMade, dailyLimit: 50_000 };
  }
}
