import { afterEach, describe, expect, it } from "vitest";
import { awkwardValue } from "../../src/testing/bulk/index.js";
import { asRow, LEAD_FIELDS, makeLeads } from "./helpers/data.js";
import { collect, type Harness, startHarness } from "./helpers/harness.js";

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const poll = { initialDelayMs: 60_000, maxDelayMs: 60_000 };

describe("bulk leads extract over HTTP", () => {
  it("parses the full extract row for row, awkward values included, with fields from describe", async () => {
    const leads = makeLeads(40);
    h = await startHarness({ leads, leadFields: LEAD_FIELDS });
    const rows = await collect(
      h.bulk.leads.extract(
        { filter: { createdAt: { startAt: "2026-01-01T00:00:00Z", endAt: "2026-01-25T00:00:00Z" } } },
        { poll },
      ),
    );
    expect(rows).toEqual(leads.map((l) => asRow(l)));
    // The awkward values really went through the file.
    expect(rows.some((r) => r["notes"]?.includes("\u2028"))).toBe(true);
    expect(rows.some((r) => r["notes"]?.includes("\n"))).toBe(true);
    expect(rows.some((r) => r["firstName"] === null)).toBe(true);
    const [job] = h.sim.inspect().jobs;
    expect(job?.status).toBe("Completed");
  });

  it.each(["TSV", "SSV"] as const)("reads %s files", async (format) => {
    const leads = makeLeads(15);
    h = await startHarness({ leads, leadFields: LEAD_FIELDS });
    const rows = await collect(
      h.bulk.leads.extract(
        { format, filter: { createdAt: { startAt: "2026-01-01T00:00:00Z", endAt: "2026-01-31T00:00:00Z" } } },
        { poll },
      ),
    );
    expect(rows).toEqual(leads.map((l) => asRow(l)));
  });

  it("honours user-specified fields and column header names", async () => {
    const leads = makeLeads(6);
    h = await startHarness({ leads, leadFields: LEAD_FIELDS });
    const rows = await collect(
      h.bulk.leads.extract(
        {
          fields: ["email", "notes"],
          columnHeaderNames: { email: "Email Address" },
          filter: { updatedAt: { startAt: "2026-01-01T00:00:00Z", endAt: "2026-01-31T00:00:00Z" } },
        },
        { poll },
      ),
    );
    expect(rows).toEqual(leads.map((l) => ({ "Email Address": l["email"], notes: l["notes"] ?? null })));
  });

  it("splits a window over 31 days into several jobs and delivers them in order", async () => {
    // 200 leads, one every 12 h: 100 days.
    const leads = makeLeads(200);
    h = await startHarness({ leads, leadFields: LEAD_FIELDS });
    const extraction = h.bulk.leads.extract(
      { filter: { createdAt: { startAt: "2026-01-01T00:00:00Z", endAt: "2026-04-30T00:00:00Z" } } },
      { poll, concurrency: 2 },
    );
    const rows = await collect(extraction);
    expect(rows.map((r) => r["id"])).toEqual(leads.map((l) => l["id"]));
    const jobs = h.sim.inspect().jobs;
    expect(jobs).toHaveLength(4);
    for (const job of jobs) {
      const range = job.filter["createdAt"] as { startAt: string; endAt: string };
      expect(Date.parse(range.endAt) - Date.parse(range.startAt)).toBeLessThanOrEqual(31 * 86_400_000);
    }
    const st = extraction.state();
    expect(st?.jobs.every((j) => j.status === "done")).toBe(true);
    expect(st?.rowsDelivered).toBe(200);
    expect(h.sim.inspect().maxProcessingSeen).toBeLessThanOrEqual(2);
  });

  it("sends no fixed field list: another instance's describe gives other columns", async () => {
    const fields = [
      { name: "id", dataType: "integer" },
      { name: "customField_c", dataType: "string" },
      { name: "createdAt", dataType: "datetime" },
    ];
    const leads = [{ id: "1", customField_c: "x", createdAt: "2026-01-02T00:00:00Z" }];
    h = await startHarness({ leads, leadFields: fields });
    const rows = await collect(
      h.bulk.leads.extract({ filter: { createdAt: { startAt: "2026-01-01", endAt: "2026-01-05" } } }, { poll }),
    );
    expect(rows).toEqual([{ id: "1", customField_c: "x", createdAt: "2026-01-02T00:00:00Z" }]);
  });

  it("parses files the simulator fills with awkward values (multi-line, U+2028, literal null, NUL) exactly", async () => {
    const leads = makeLeads(24);
    h = await startHarness({ leads, leadFields: LEAD_FIELDS, options: { faults: { awkwardValues: true } } });
    const filter = { createdAt: { startAt: "2026-01-01T00:00:00Z", endAt: "2026-01-31T00:00:00Z" } };
    const fields = LEAD_FIELDS.map((f) => f.name);
    const expected = (keepNul: boolean) =>
      leads.map((l, n) => {
        const row: Record<string, string | null> = {};
        for (const f of fields) {
          const v = awkwardValue(l[f], n);
          row[f] = v === null || v === undefined ? null : keepNul ? String(v) : String(v).replaceAll("\0", "");
        }
        return row;
      });
    const stripped = await collect(h.bulk.leads.extract({ filter }, { poll }));
    expect(stripped).toEqual(expected(false));
    const kept = await collect(h.bulk.leads.extract({ filter }, { poll, nulBytes: "keep" }));
    expect(kept).toEqual(expected(true));
    expect(kept.some((r) => Object.values(r).some((v) => v?.includes("\0")))).toBe(true);
    expect(stripped.some((r) => Object.values(r).some((v) => v?.includes("\u2028")))).toBe(true);
  });
});
