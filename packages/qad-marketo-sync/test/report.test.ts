import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import {
  type AuditEntry,
  type CarriedRecord,
  createMemoryStore,
  emptyAccountContext,
  escapeHtml,
  REPORT_CSP,
  type RunSummary,
  renderReport,
  reportData,
  visibleText,
  writeReport,
} from "../src/index.js";
import { formatDuration } from "../src/report/render.js";
import { emptyOutcomes } from "../src/summary.js";
import { attr, Page, text } from "./report/dom.js";

const T0 = Date.UTC(2026, 10, 3, 8, 0, 0);
const tenant = "acme";
const HOSTILE = [
  "<script>alert(1)</script>",
  '"><img src=x onerror=alert(1)>',
  "'><svg onload=alert(2)>",
  "javascript:alert(3)",
  "https://evil.example/x.png",
  "Acme\u202Egnp.exe", // bidi override
  "</style><style>body{display:none}</style>",
  "`$\u{7B}x}`<!--",
];

function summary(runId: string, startedAt: number, durationMs: number, patch: Partial<RunSummary>): RunSummary {
  return {
    runId,
    tenant,
    trigger: "manual",
    status: "completed",
    startedAt,
    finishedAt: startedAt + durationMs,
    durationMs,
    outcomes: emptyOutcomes(),
    sourceItems: 0,
    batches: 1,
    checkpointSaved: true,
    marketoCalls: 0,
    marketoWriteCalls: 0,
    quotaLeft: 50_000,
    readOnly: [],
    droppedFields: [],
    contextsUpdated: 0,
    carried: { retried: 0, written: 0, pending: 0, dead: 0 },
    ...patch,
  };
}

const entry = (runId: string, key: string, patch: Partial<AuditEntry>): AuditEntry => ({
  tenant,
  runId,
  key,
  kind: "company",
  outcome: "created",
  sourceKey: key,
  reasons: [],
  at: T0,
  ...patch,
});

const carried = (key: string, patch: Partial<CarriedRecord>): CarriedRecord => ({
  kind: "company",
  key,
  sourceKey: key,
  payload: { externalCompanyId: key },
  hash: "h",
  cause: "failed",
  state: "pending",
  attempts: 1,
  firstAt: T0,
  lastAt: T0,
  nextAt: T0 + 300_000,
  runId: "r2",
  reasons: [],
  ...patch,
});

/** Two finished runs, a running one, rejections and failures with hostile text, carried and dead records, contexts. */
async function seeded() {
  const store = createMemoryStore();
  const r1 = summary("r1", T0, 45_000, { sourceItems: 12, marketoCalls: 260, marketoWriteCalls: 9, quotaLeft: 49_740 });
  r1.outcomes.company.created = 10;
  r1.outcomes.company.rejected = 0;
  r1.outcomes.customer.rejected = 2;
  r1.outcomes.lead.created = 7;
  r1.outcomes.lead.skipped = 3;
  const r2 = summary("r2", T0 + 3_600_000, 1_500, {
    status: "degraded",
    sourceItems: 4,
    marketoCalls: 31,
    marketoWriteCalls: 3,
    quotaLeft: 49_709,
    readOnly: [{ object: "companies", reason: HOSTILE[0] }],
    carried: { retried: 1, written: 0, pending: 2, dead: 1 },
    error: { code: "611", message: HOSTILE[1] as string, retryable: true },
  });
  r2.outcomes.company.updated = 1;
  r2.outcomes.company.failed = 2;
  r2.outcomes.company.unchanged = 1;
  for (const [s, status] of [
    [r1, "completed"],
    [r2, "degraded"],
  ] as const) {
    await store.startRun({ tenant, runId: s.runId, trigger: "manual", status: "running", startedAt: s.startedAt });
    await store.finishRun(tenant, s.runId, { status, finishedAt: s.finishedAt, summary: s as never });
  }
  await store.startRun({ tenant, runId: "r3", trigger: "schedule", status: "running", startedAt: T0 + 7_200_000 });
  await store.commitBatch({
    tenant,
    entries: [
      entry("r1", HOSTILE[0] as string, {
        kind: "customer",
        outcome: "rejected",
        at: T0 + 1,
        reasons: [{ code: "invalid_source", message: HOSTILE[1] as string }],
      }),
      entry("r1", "C2", {
        kind: "customer",
        outcome: "rejected",
        at: T0 + 2,
        reasons: [{ code: "invalid_source", message: "name missing" }],
      }),
      ...[1, 2, 3].map((i) =>
        entry("r1", `l${i}@x.example`, {
          kind: "lead",
          outcome: "skipped",
          at: T0 + 3,
          reasons: [{ code: "1003", message: HOSTILE[3] as string }],
        }),
      ),
      ...[HOSTILE[2], HOSTILE[4]].map((k) =>
        entry("r2", k as string, {
          outcome: "failed",
          at: T0 + 3_600_001,
          error: { code: "611", message: HOSTILE[6] as string, retryable: true },
        }),
      ),
    ],
    synced: [HOSTILE[5], "S1", "S2"].map((key) => ({
      kind: "company" as const,
      key: key as string,
      hash: "h",
      runId: "r1",
      at: T0,
    })),
    carry: {
      put: [
        carried(HOSTILE[2] as string, { error: { code: "611", message: HOSTILE[6] as string, retryable: true } }),
        carried(HOSTILE[4] as string, {
          cause: "read_only",
          reasons: [{ code: "1018", message: HOSTILE[7] as string }],
        }),
        carried("D1", { state: "dead", attempts: 8 }),
      ],
    },
  });
  const rich = emptyAccountContext(HOSTILE[5] as string, T0);
  rich.openOpportunities = { count: 2, amount: 12_500 };
  rich.wonOpportunities = { count: 1, amount: 4_000 };
  rich.activityCounts = { [HOSTILE[0] as string]: 4, "Visit Webpage": 9 };
  rich.opportunities = [{ id: "O1", name: HOSTILE[1], isClosed: false, amount: 12_500 }];
  rich.owner = { externalSalesPersonId: "SP1", firstName: HOSTILE[2] };
  await store.putAccountContexts(tenant, [rich, emptyAccountContext("S1", T0)]);
  return { store, r1, r2 };
}

describe("report page (unit)", () => {
  let dirs: string[] = [];
  afterEach(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
    dirs = [];
  });

  it("shows the stored figures: outcomes per kind per run, calls against ceilings, reasons, carried, contexts", async () => {
    const { store, r1, r2 } = await seeded();
    const html = await renderReport({ store, tenant, now: T0 + 9_000_000 });
    const page = new Page(html);
    expect(page.figure("run-count")).toBe(2);
    for (const s of [r1, r2]) {
      for (const kind of ["customer", "company", "namedAccount", "lead", "salesPerson"] as const) {
        const bar = page.find("outcome-bar", { "data-run": s.runId, "data-kind": kind });
        expect(bar).toHaveLength(1);
        const segs = new Map(
          (bar[0]?.childNodes ?? [])
            .filter((n) => "attrs" in n)
            .map((n) => [attr(n as never, "data-outcome"), Number(attr(n as never, "data-figure"))]),
        );
        expect(Object.fromEntries(segs)).toEqual(s.outcomes[kind]);
      }
      const where = { "data-run": s.runId };
      expect(page.figure("run-marketoCalls", where)).toBe(s.marketoCalls);
      expect(page.figure("run-marketoWriteCalls", where)).toBe(s.marketoWriteCalls);
      expect(page.figure("run-quotaLeft", where)).toBe(s.quotaLeft);
      expect(page.figure("run-sourceItems", where)).toBe(s.sourceItems);
      expect(page.figure("run-carriedPending", where)).toBe(s.carried.pending);
      expect(page.figure("calls-bar", where)).toBe(s.marketoCalls);
    }
    // 45 s spans 3 windows of 20 s (300 calls allowed); 1.5 s spans one (100).
    expect(page.figure("run-quotaWindows", { "data-run": "r1" })).toBe(3);
    expect(page.figure("run-callCeiling", { "data-run": "r1" })).toBe(300);
    expect(page.figure("run-callPercent", { "data-run": "r1" })).toBe(87);
    expect(page.figure("run-callCeiling", { "data-run": "r2" })).toBe(100);
    expect(page.figure("run-failed", { "data-run": "r2" })).toBe(2);
    expect(page.figure("run-rejected", { "data-run": "r1" })).toBe(2);
    // The running run is not charted.
    expect(page.find("run", { "data-run": "r3" })).toHaveLength(0);

    expect(page.figure("reason", { "data-kind": "lead", "data-outcome": "skipped", "data-code": "1003" })).toBe(3);
    expect(
      page.figure("reason", { "data-kind": "customer", "data-outcome": "rejected", "data-code": "invalid_source" }),
    ).toBe(2);
    expect(page.figure("reason", { "data-kind": "company", "data-outcome": "failed", "data-code": "611" })).toBe(2);
    const reasons = page.find("reason").map((el) => Number(attr(el, "data-figure")));
    expect(reasons).toEqual([...reasons].sort((a, b) => b - a));

    expect(page.figure("carried-count", { "data-state": "pending" })).toBe(2);
    expect(page.figure("carried-count", { "data-state": "dead" })).toBe(1);
    expect(page.figure("carried", { "data-state": "dead", "data-key": "D1" })).toBe(8);
    expect(page.find("carried", { "data-state": "pending" })).toHaveLength(2);

    const accounts = page.find("account").map((el) => attr(el, "data-key"));
    expect(accounts).toEqual([visibleText(HOSTILE[5] as string), "S1"]);
    const rich = { "data-key": visibleText(HOSTILE[5] as string) };
    expect(page.figure("account-open-amount", rich)).toBe(12_500);
    expect(page.figure("account-won-count", rich)).toBe(1);
    expect(page.figure("account-activity", { ...rich, "data-type": "Visit Webpage" })).toBe(9);
  });

  it("escapes hostile store text: no element, attribute or URL of its own, the text shown as text", async () => {
    const { store } = await seeded();
    const html = await renderReport({ store, tenant, title: HOSTILE[1] as string, now: T0 });
    const page = new Page(html);
    const tags = new Set(page.all.map((el) => el.tagName));
    for (const t of ["script", "img", "iframe", "object", "embed", "link", "a", "base", "form"])
      expect(tags).not.toContain(t);
    expect(page.all.filter((el) => el.tagName === "style")).toHaveLength(1);
    for (const el of page.all) for (const a of el.attrs) expect(a.name).not.toMatch(/^on|^src$|^href$|^xlink/i);
    expect(html).not.toMatch(/https?:/i);
    expect(html).not.toMatch(/javascript:/i);
    expect(html).not.toContain("\u202E");
    // The hostile strings are still there, as text a reader sees.
    const body = text(page.all.find((el) => el.tagName === "body") as never);
    for (const h of [HOSTILE[0], HOSTILE[1], HOSTILE[3], HOSTILE[6]]) expect(body).toContain(h);
    expect(body).toContain(visibleText(HOSTILE[5] as string));
    expect(text(page.all.find((el) => el.tagName === "title") as never)).toBe(HOSTILE[1]);
    const csp = page.all.find((el) => attr(el, "http-equiv") === "Content-Security-Policy");
    expect(csp && attr(csp, "content")).toBe(REPORT_CSP);
    expect(REPORT_CSP).toBe("default-src 'none'; style-src 'unsafe-inline'; img-src data:");
  });

  it("escapeHtml escapes markup, quotes, colons and controls, and cuts long text", () => {
    expect(escapeHtml('"><img src=x onerror=alert(1)>')).toBe("&quot;&gt;&lt;img src&#61;x onerror&#61;alert(1)&gt;");
    expect(escapeHtml("<script>")).toBe("&lt;script&gt;");
    expect(escapeHtml("a'b&c")).toBe("a&#39;b&amp;c");
    expect(escapeHtml("https://x")).toBe("https&#58;//x");
    expect(escapeHtml("a\u0000b")).toBe("a\\u{0000}b");
    expect(escapeHtml("x".repeat(500), 10)).toBe(`${"x".repeat(9)}…`);
    expect(escapeHtml("😀".repeat(20), 5)).toBe(`${"😀".repeat(4)}…`);
    expect(escapeHtml(undefined)).toBe("");
  });

  it("formatDuration: ms under a second, seconds with one decimal, then minutes and hours", () => {
    expect(formatDuration(0)).toBe("0 ms");
    expect(formatDuration(200)).toBe("200 ms");
    expect(formatDuration(999.4)).toBe("999 ms");
    expect(formatDuration(999.7)).toBe("1.0 s");
    expect(formatDuration(1_500)).toBe("1.5 s");
    expect(formatDuration(20_000)).toBe("20.0 s");
    expect(formatDuration(59_960)).toBe("1 min 0 s");
    expect(formatDuration(185_000)).toBe("3 min 5 s");
    expect(formatDuration(7_800_000)).toBe("2 h 10 min");
  });

  it("names a quota window under a second in ms (the demo simulator's 200 ms), never as 0 s", async () => {
    const { store } = await seeded();
    const fast = new Page(
      await renderReport({ store, tenant, now: T0, limits: { callsPerWindow: 100, windowMs: 200 } }),
    );
    const note = text(fast.find("limits-note")[0] as never);
    expect(note).toContain("100 calls per 200 ms window");
    expect(note).toContain("⌈duration ÷ 200 ms⌉");
    expect(note).not.toMatch(/\b0 s\b/);
    const header = fast.all.filter((el) => el.tagName === "th").map((el) => text(el));
    expect(header).toContain("200 ms windows");
    // 45 s over 200 ms windows: 225 of them.
    expect(fast.figure("run-quotaWindows", { "data-run": "r1" })).toBe(225);
    const real = new Page(await renderReport({ store, tenant, now: T0 }));
    expect(text(real.find("limits-note")[0] as never)).toContain("100 calls per 20.0 s window");
  });

  it("an empty store renders a page saying so", async () => {
    const html = await renderReport({ store: createMemoryStore(), tenant: "none", now: T0 });
    const page = new Page(html);
    expect(page.figure("run-count")).toBe(0);
    expect(page.find("runs-empty")).toHaveLength(1);
    expect(page.find("reasons-empty")).toHaveLength(1);
    expect(page.figure("carried-count", { "data-state": "dead" })).toBe(0);
  });

  it("runs limits the runs shown (newest kept) and the reasons to those runs", async () => {
    const { store } = await seeded();
    const data = await reportData({ store, tenant, runs: 2, now: T0 });
    // The newest two runs are r3 (running) and r2: r2 is the only finished one.
    expect(data.runs.map((r) => r.runId)).toEqual(["r2"]);
    expect(data.unfinished).toBe(1);
    expect(data.reasons.map((g) => `${g.kind}/${g.outcome}/${g.code}/${g.count}`)).toEqual(["company/failed/611/2"]);
  });

  it("writeReport writes the page atomically, leaving no temporary file", async () => {
    const { store } = await seeded();
    const dir = await mkdtemp(join(tmpdir(), "ml-report-"));
    dirs.push(dir);
    const path = join(dir, "report.html");
    const first = await writeReport(path, { store, tenant, now: T0 });
    const again = await writeReport(path, { store, tenant, now: T0 });
    const html = await readFile(path, "utf8");
    expect(html).toBe(await renderReport({ store, tenant, now: T0 }));
    expect(first.bytes).toBe(Buffer.byteLength(html));
    expect(again.path).toBe(path);
    expect(await readdir(dir)).toEqual(["report.html"]);
    await expect(writeReport(join(dir, "missing", "r.html"), { store, tenant })).rejects.toThrow(/ENOENT/);
    expect(await readdir(dir)).toEqual(["report.html"]);
  });
});
