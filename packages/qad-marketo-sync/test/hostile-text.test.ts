import { PassThrough } from "node:stream";
import { parse } from "csv-parse/sync";
import { describe, expect, it } from "vitest";
import {
  type AuditEntry,
  auditToCsv,
  createMemoryStore,
  extendMapping,
  neutraliseCell,
  sanitiseText,
  visibleText,
  writeAuditCsv,
} from "../src/index.js";
import { customer } from "./support/customers.js";
import { run, setup } from "./support/fake-sync.js";

describe("sanitiseText", () => {
  it("removes NUL and other controls but keeps tab, LF and CR", () => {
    expect(sanitiseText("a\u0000b\u0007c\u007f\u0085d\te\nf\rg")).toEqual({
      value: "abcd\te\nf\rg",
      changes: { controls: 4, bidi: 0, surrogates: 0 },
    });
  });

  it("removes bidi embeddings, overrides and isolates", () => {
    const all = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069";
    expect(sanitiseText(`Acme${all} Inc`)).toEqual({
      value: "Acme Inc",
      changes: { controls: 0, bidi: 9, surrogates: 0 },
    });
  });

  it("replaces lone surrogates with U+FFFD and keeps proper pairs", () => {
    expect(sanitiseText("x\ud800y\udc00z😀")).toEqual({
      value: "x\ufffdy\ufffdz😀",
      changes: { controls: 0, bidi: 0, surrogates: 2 },
    });
    expect(sanitiseText("end\ud83d")).toMatchObject({ value: "end\ufffd" });
  });

  it("returns clean text untouched, with no changes", () => {
    expect(sanitiseText("Müller & Söhne — 東京 😀")).toEqual({ value: "Müller & Söhne — 東京 😀" });
  });

  it("visibleText writes unsafe characters as escapes", () => {
    expect(visibleText("C1\u0000\u202e\ud800")).toBe("C1\\u{0000}\\u{202E}\\u{D800}");
    expect(visibleText("plain")).toBe("plain");
  });
});

describe("hostile text through the engine", () => {
  it("cleans NUL, lone surrogates and bidi overrides from payloads and notes it in the audit row", async () => {
    const s = setup([
      customer(1, {
        name: "Evil\u0000 Corp\u202e",
        address: { city: "Aus\ud800tin" },
        contacts: [{ contactCode: "P1", firstName: "Pa\u0000t", lastName: "Doe", email: "pat@x.example" }],
      }),
    ]);
    const { rows } = await run(s);
    const company = s.marketo.companies.get("SET.C1");
    expect(company?.company).toBe("Evil Corp");
    expect(company?.billingCity).toBe("Aus\ufffdtin");
    expect(s.marketo.namedAccounts.has("Evil Corp")).toBe(true);
    expect(s.marketo.leads.get("pat@x.example")?.firstName).toBe("Pat");
    const row = (kind: string) => rows.find((r) => r.kind === kind);
    expect(row("company")?.outcome).toBe("created");
    expect(row("company")?.reasons).toEqual([
      { code: "sanitised", message: "company: removed 1 control character, 1 bidi control" },
      { code: "sanitised", message: "billingCity: removed 1 lone surrogate" },
    ]);
    expect(row("namedAccount")?.reasons.map((r) => r.message)).toEqual([
      "name: removed 1 control character, 1 bidi control",
      "city: removed 1 lone surrogate",
    ]);
    expect(row("lead")?.reasons.map((r) => r.message)).toEqual([
      "firstName: removed 1 control character",
      "company: removed 1 control character, 1 bidi control",
    ]);
    for (const payload of [...s.marketo.companies.values(), ...s.marketo.leads.values()]) {
      expect(JSON.stringify(payload)).not.toMatch(/\\u0000|\\ud800|\u202e/);
    }
  });

  it("rejects a key holding a control, bidi or surrogate character, with the key shown escaped", async () => {
    const s = setup(
      [customer(1, { customerCode: "C\u00001" }), customer(2, { customerCode: "C\u202e2" }), customer(3)],
      {},
    );
    const { rows, summary } = await run(s);
    expect(summary.outcomes.company.created).toBe(1);
    const rejected = rows.filter((r) => r.outcome === "rejected");
    expect(rejected.map((r) => r.key).sort()).toEqual(["SET.C\\u{0000}1", "SET.C\\u{202E}2"]);
    for (const r of rejected) {
      expect(r.reasons[0]?.code).toBe("invalid_key");
      expect(JSON.stringify(r)).not.toMatch(/\\u0000|\u202e/);
    }
  });

  it("a user key function returning a lone surrogate is rejected, not cleaned into another key", async () => {
    const s = setup([customer(1), customer(2)], { keyOf: (c) => (c.customerCode === "C1" ? "K\ud800" : "K\ufffd") });
    const { rows } = await run(s);
    expect(s.marketo.companies.has("K\ufffd")).toBe(true);
    expect(s.marketo.companies.size).toBe(1);
    expect(rows.find((r) => r.outcome === "rejected")?.key).toBe("K\\u{D800}");
  });

  it("an email with a bidi control or NUL is an invalid email, never cleaned into another address", async () => {
    const rec = customer(1, {
      contacts: [
        { contactCode: "A", email: "ceo@evil\u202e.example" },
        { contactCode: "B\u0000", email: "b\u0000@x.example" },
      ],
    });
    const s = setup([rec], { mapping: extendMapping({ invalidContactEmail: "reject" }) });
    const { rows } = await run(s);
    expect(s.marketo.leads.size).toBe(0);
    const leads = rows.filter((r) => r.kind === "lead");
    expect(leads.map((r) => [r.key, r.outcome, r.reasons[0]?.code])).toEqual([
      ["SET.C1#A", "rejected", "invalid_email"],
      ["SET.C1#B\\u{0000}", "rejected", "invalid_email"],
    ]);
  });
});

const entry = (over: Partial<AuditEntry>): AuditEntry => ({
  tenant: "default",
  runId: "r1",
  key: "SET.C1",
  kind: "company",
  outcome: "created",
  sourceKey: "SET.C1",
  reasons: [],
  at: Date.UTC(2026, 10, 1),
  ...over,
});

describe("audit CSV export", () => {
  const hostile = ["=cmd|' /C calc'!A0", "+1", "-1", "@SUM(A1:A9)", "\t=1", "\r=1"];

  it("neutralises formula prefixes with a leading quote and leaves other cells alone", () => {
    for (const v of hostile) expect(neutraliseCell(v)).toBe(`'${v}`);
    expect(neutraliseCell("Acme = best")).toBe("Acme = best");
    expect(neutraliseCell("C\u00001")).toBe("C\\u{0000}1");
    expect(neutraliseCell("")).toBe("");
  });

  it("auditToCsv: every hostile key, reason and payload cell comes back neutralised, with quoting intact", () => {
    const rows = hostile.map((v, i) =>
      entry({
        key: v,
        sourceKey: v,
        runId: `r${i}`,
        reasons: [{ code: "sanitised", message: v }],
        payload: { company: v },
      }),
    );
    const csv = auditToCsv(rows, { payload: true });
    const parsed = parse(csv, { columns: true }) as Record<string, string>[];
    expect(parsed).toHaveLength(hostile.length);
    parsed.forEach((cells, i) => {
      const v = hostile[i] as string;
      expect(cells.key).toBe(`'${v}`);
      expect(cells.sourceKey).toBe(`'${v}`);
      expect(cells.reasons).toBe(`sanitised: ${v}`);
      expect(cells.payload).toBe(JSON.stringify({ company: v }));
      expect(cells.at).toBe("2026-11-01T00:00:00.000Z");
      for (const cell of Object.values(cells)) expect(cell).not.toMatch(/^[=+\-@\t\r]/);
    });
  });

  it("writeAuditCsv streams what a store query selects", async () => {
    const store = createMemoryStore();
    await store.commitBatch({
      tenant: "default",
      entries: [
        entry({ key: '=HYPERLINK("http://x")', outcome: "rejected" }),
        entry({ key: "SET.C2", outcome: "created" }),
      ],
      synced: [],
    });
    const out = new PassThrough();
    let text = "";
    out.on("data", (c: Buffer) => {
      text += c.toString("utf8");
    });
    const n = await writeAuditCsv(store, { tenant: "default", outcomes: ["rejected"] }, out);
    expect(n).toBe(1);
    const parsed = parse(text, { columns: true }) as Record<string, string>[];
    expect(parsed.map((r) => r.key)).toEqual(['\'=HYPERLINK("http://x")']);
    expect(text.split("\n")[0]).toBe(
      "at,tenant,runId,kind,key,sourceKey,outcome,reasons,marketoId,error,hash,replayOf",
    );
  });
});
