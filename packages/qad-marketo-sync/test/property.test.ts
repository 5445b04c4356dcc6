/**
 * Property tests of hostile QAD data through the engine (array-like source, the in-memory fake gateway, the memory
 * store): arbitrary strings with NUL, lone surrogates, bidi overrides, formula prefixes and whitespace variants,
 * duplicate keys, case variants, colliding user keys, impossible dates and invalid rows, over batch sizes 1–8.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type AuditEntry,
  type CustomerSource,
  createMemoryStore,
  createSync,
  escapeKeyPart,
  type MarketoPayload,
  type SourceCustomer,
  type SourceItem,
  sanitiseText,
} from "../src/index.js";
import { customer } from "./support/customers.js";
import { FakeGateway } from "./support/fake-gateway.js";

/** Fixed so CI is reproducible; `FC_SEED=<n>` explores other inputs. */
const SEED = Number(process.env.FC_SEED ?? 20261202);
/** `FC_RUNS=<n>` multiplies the runs (a longer local search). */
const RUNS = Number(process.env.FC_RUNS ?? 1);

/** Fragments a hostile QAD row may hold. */
const FRAGMENTS = [
  "\u0000",
  "\u0007",
  "\u001b",
  "\u007f",
  "\u0085",
  "\ud800",
  "\udfff",
  "\ud83d",
  "\u202e",
  "\u202a",
  "\u2066",
  "\u2069",
  "=cmd|' /C calc'!A0",
  "+1",
  "-1",
  "@SUM(A1:A9)",
  "\t",
  "\r",
  "\n",
  " ",
  "\u00a0",
  "\u3000",
  "e\u0301",
  "é",
  "😀",
  "ß",
  "İ",
  ".",
  "%",
  "%2E",
  "\\",
  '"',
  ",",
  "Acme",
];
const hostile = fc.oneof(
  fc.array(fc.constantFrom(...FRAGMENTS), { maxLength: 5 }).map((parts) => parts.join("")),
  fc.string({ maxLength: 6, unit: "binary" }),
);
/** Codes from a small pool (so keys repeat, differ in case, trim to one another) or hostile ones. */
const code = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom("T3", "T3 ", " T3", "t3", "d2", "D2", "X.Y", "x.y", "A%2EB", "Z", "C1") },
  { weight: 1, arbitrary: hostile },
);
const sharedSet = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom("SET", "set", "S.S", "S%") },
  { weight: 1, arbitrary: hostile },
);

type Row =
  | { type: "good"; sharedSetCode: string; customerCode: string; name: string; city: string; date: string }
  | { type: "bad"; kind: "blankName" | "notBoolean" | "badCurrency" | "contactsNotArray" | "invalidItem" }
  | { type: "junk"; value: unknown };

const row: fc.Arbitrary<Row> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      type: fc.constant("good" as const),
      sharedSetCode: sharedSet,
      customerCode: code,
      // Always some letters, so a name never sanitises to blank.
      name: fc.tuple(hostile, hostile).map(([a, b]) => `${a}Name${b}`),
      city: hostile,
      date: fc.constantFrom("2026-11-01", "2026-11-45", "2026-02-30", "0000-00-00", "not a date", ""),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      type: fc.constant("bad" as const),
      kind: fc.constantFrom(
        "blankName",
        "notBoolean",
        "badCurrency",
        "contactsNotArray",
        "invalidItem",
      ) as fc.Arbitrary<"blankName" | "notBoolean" | "badCurrency" | "contactsNotArray" | "invalidItem">,
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ type: fc.constant("junk" as const), value: fc.constantFrom(null, 42, "x", []) }),
  },
);

/** The source items of generated rows; bad rows get unique codes `BAD<i>`. */
function items(rows: Row[]): SourceItem[] {
  return rows.map((r, i): SourceItem => {
    if (r.type === "junk") return { type: "record", record: r.value };
    if (r.type === "bad") {
      const base = customer(1000 + i, { customerCode: `BAD${i}` }) as unknown as Record<string, unknown>;
      switch (r.kind) {
        case "blankName":
          return { type: "record", record: { ...base, name: "  " } };
        case "notBoolean":
          return { type: "record", record: { ...base, isActive: "yes" } };
        case "badCurrency":
          return { type: "record", record: { ...base, currencyCode: "U$1" } };
        case "contactsNotArray":
          return { type: "record", record: { ...base, contacts: "x" } };
        case "invalidItem":
          return {
            type: "invalid",
            key: `SET.BAD${i}`,
            reason: "QAD row failed validation",
            issues: [{ path: "lastModified.date", message: "impossible date 2026-11-45" }],
          };
      }
    }
    const record: SourceCustomer = customer(i, {
      sharedSetCode: r.sharedSetCode,
      customerCode: r.customerCode,
      name: r.name,
      address: { city: r.city },
      lastModified: { date: r.date, time: i },
      contacts: [],
    });
    return { type: "record", record };
  });
}

const sourceOf = (list: SourceItem[]): CustomerSource => ({
  read() {
    let n = 0;
    return {
      checkpoint: () => n,
      async *[Symbol.asyncIterator]() {
        for (const item of list) {
          n++;
          yield item;
        }
      },
    };
  },
});

/** Records every company write call so a test can see duplicates inside one call. */
class RecordingGateway extends FakeGateway {
  companyCalls: string[][] = [];
  override async syncCompanies(input: MarketoPayload[]) {
    this.companyCalls.push(input.map((p) => String(p.externalCompanyId)));
    return super.syncCompanies(input);
  }
}

const fold = (k: string) => k.normalize("NFC").trim().toLowerCase();
const clean = (s: string) => sanitiseText(s).value.trim();
const isClean = (v: unknown) => typeof v !== "string" || sanitiseText(v).changes === undefined;
const legacyKey = (c: SourceCustomer) => `${c.sharedSetCode}.${c.customerCode}`;

/** The key the engine computes for a good row (as the schema trims the codes), or undefined when it must reject it. */
function keyOf(r: Extract<Row, { type: "good" }>, legacy: boolean): string | undefined {
  const ss = r.sharedSetCode.trim();
  const cc = r.customerCode.trim();
  if (ss === "" || cc === "" || r.name.trim() === "") return undefined;
  const key = legacy ? `${ss}.${cc}` : `${escapeKeyPart(ss)}.${escapeKeyPart(cc)}`;
  if (sanitiseText(key).changes || key.length > 100) return undefined;
  return key;
}
const identityOf = (r: Extract<Row, { type: "good" }>) =>
  `${escapeKeyPart(r.sharedSetCode.trim())}.${escapeKeyPart(r.customerCode.trim())}`;

describe("hostile QAD data through the engine (fast-check)", () => {
  it("never crashes, rejects bad rows with reasons, writes good ones cleaned, never merges two keys silently", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(row, { maxLength: 24 }),
        fc.integer({ min: 1, max: 8 }),
        fc.boolean(),
        async (rows, batchSize, legacy) => {
          const marketo = new RecordingGateway();
          const store = createMemoryStore();
          const sync = createSync({
            source: sourceOf(items(rows)),
            marketo,
            store,
            readBack: false,
            batchSize,
            ...(legacy ? { keyOf: legacyKey } : {}),
          });
          // No crash: runOnce resolves, and the run completes.
          const outcome = await sync.runOnce();
          if (outcome.status === "alreadyRunning") throw new Error("unexpected alreadyRunning");
          expect(outcome.status).toBe("completed");
          const audit = await store.queryAudit({ tenant: "default", runId: outcome.summary.runId });
          const rejected = audit.filter((e) => e.kind === "customer");
          const companies = audit.filter((e) => e.kind === "company");

          // Every rejection has its own audit row with a reason.
          expect(rejected).toHaveLength(outcome.summary.outcomes.customer.rejected);
          for (const e of rejected) {
            expect(e.outcome).toBe("rejected");
            expect(e.reasons.length).toBeGreaterThan(0);
            for (const r of e.reasons) expect(r.code.length * r.message.length).toBeGreaterThan(0);
            // Audit rows hold no NUL, lone surrogate or bidi control (PostgreSQL would refuse NUL).
            expect(isClean(e.key)).toBe(true);
            for (const r of e.reasons) expect(isClean(r.message)).toBe(true);
          }
          const rejectedFor = (key: string) =>
            rejected.filter((e) => e.key === key || e.key.startsWith(`${key} (row `));

          // Each bad row is rejected with its reason; junk rows too.
          rows.forEach((r, i) => {
            if (r.type !== "bad") return;
            const [e] = rejectedFor(`SET.BAD${i}`);
            expect(e, `bad row ${i} (${r.kind})`).toBeDefined();
            expect(["validation", "invalid_source_row", "mapping"]).toContain(e?.reasons[0]?.code);
          });
          const junk = rows.filter((r) => r.type === "junk").length;
          expect(rejected.filter((e) => e.key.startsWith("invalid:")).length).toBeGreaterThanOrEqual(junk);

          // Every source row has an outcome: its own rejected row, or its key audited as a company.
          const companyKeys = new Set(companies.map((e) => e.key));
          const good = rows.flatMap((r, i) => (r.type === "good" ? [{ r, i, key: keyOf(r, legacy) }] : []));
          for (const g of good) {
            if (g.key === undefined) continue;
            expect(companyKeys.has(g.key) || rejectedFor(g.key).length > 0, `row ${g.i} ${g.key}`).toBe(true);
          }
          expect(rejected.length).toBeLessThanOrEqual(rows.length);

          // No two keys become one Marketo company silently: folded company keys are unique, in Marketo and in the
          // audit (never one created and its case variant updated), and every group of rows sharing a folded key
          // under several keys or identities has a collision rejection.
          const folded = [...marketo.companies.keys()].map(fold);
          expect(new Set(folded).size).toBe(folded.length);
          const auditFolded = companies.map((e) => fold(e.key));
          expect(new Set(auditFolded).size).toBe(auditFolded.length);
          const groups = new Map<string, typeof good>();
          for (const g of good) {
            if (g.key === undefined) continue;
            const list = groups.get(fold(g.key)) ?? [];
            list.push(g);
            groups.set(fold(g.key), list);
          }
          for (const [f, list] of groups) {
            const variants = new Set(list.map((g) => `${g.key}|${identityOf(g.r)}`));
            if (variants.size > 1) {
              const codes = rejected
                .filter((e) => list.some((g) => e.key === g.key || e.key.startsWith(`${g.key} (row `)))
                .map((e) => e.reasons[0]?.code);
              expect(
                codes.some((c) => c === "key_collision" || c === "key_case_variant"),
                f,
              ).toBe(true);
            } else {
              // One record (maybe read several times): the last row is written, unchanged but for sanitising.
              const last = list[list.length - 1];
              if (!last?.key) continue;
              const written = marketo.companies.get(last.key);
              expect(written, `company ${last.key}`).toBeDefined();
              expect(written?.company).toBe(clean(last.r.name));
              // A field that is blank once cleaned is left out (Marketo keeps what it had, as for any blank field).
              if (clean(last.r.city) !== "") expect(written?.billingCity).toBe(clean(last.r.city));
              expect(written?.externalCompanyId).toBe(last.key);
            }
          }

          // Nothing sent to Marketo holds a control, bidi control or lone surrogate.
          for (const map of [marketo.companies, marketo.namedAccounts, marketo.leads]) {
            for (const payload of map.values()) for (const v of Object.values(payload)) expect(isClean(v)).toBe(true);
          }
          // Nothing duplicated: no company twice in one write call (not even as a case variant).
          for (const call of marketo.companyCalls) {
            const f = call.map(fold);
            expect(new Set(f).size).toBe(f.length);
          }
          // One audit row per record: company rows' keys are unique.
          expect(companyKeys.size).toBe(companies.length);
          const rejectedKeys = new Set(rejected.map((e: AuditEntry) => e.key));
          expect(rejectedKeys.size).toBe(rejected.length);
        },
      ),
      { numRuns: 120 * RUNS, seed: SEED },
    );
  }, 30_000);

  it("a second run over the same data is stable: nothing rejected before is written, nothing written twice", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(row, { maxLength: 16 }), fc.integer({ min: 1, max: 5 }), async (rows, batchSize) => {
        const marketo = new RecordingGateway();
        const store = createMemoryStore();
        const list = items(rows);
        const sync = createSync({ source: sourceOf(list), marketo, store, readBack: false, batchSize });
        const first = await sync.runOnce();
        const before = new Map(marketo.companies);
        const second = await sync.runOnce();
        if (first.status === "alreadyRunning" || second.status === "alreadyRunning") throw new Error("running");
        expect(second.status).toBe("completed");
        // Same input, same decisions: the same companies, none created by the second run.
        expect([...marketo.companies.keys()].sort()).toEqual([...before.keys()].sort());
        expect(second.summary.outcomes.company.created).toBe(0);
        expect(second.summary.outcomes.customer.rejected).toBe(first.summary.outcomes.customer.rejected);
      }),
      { numRuns: 60 * RUNS, seed: SEED + 1 },
    );
  }, 30_000);
});
