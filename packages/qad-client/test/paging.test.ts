import { collect } from "@ml/http-kernel/testing";
import { encodeFilter, QadClient, QadConfigError, QadPagingError, where } from "@ml/qad-client";
import { type QadSimulator, startQadSimulator } from "@ml/qad-client/testing";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { decodeFilter } from "../src/rest/browse/filter.js";

describe("browse filter builder", () => {
  it("encodes the field,op,value,literal grammar", () => {
    expect(encodeFilter(where("lastModifiedDate").ge("2026-01-05"))).toBe("lastModifiedDate,ge,2026-01-05,literal");
    expect(encodeFilter(where("customerCode").range("C1", "C9"))).toBe("customerCode,rg,C1,literal,C9,literal");
    expect(encodeFilter(where("isActive").eq(true))).toBe("isActive,eq,true,literal");
    expect(encodeFilter(where("d").le(new Date("2026-02-03T10:00:00Z")))).toBe("d,le,2026-02-03,literal");
  });

  it("escapes values so they cannot add a clause or change the operator", () => {
    const f = encodeFilter(where("name").cn("Smith, Jones,eq,x\\"));
    expect(f).toBe("name,cn,Smith\\, Jones\\,eq\\,x\\\\,literal");
    expect(decodeFilter(f)).toEqual(["name", "cn", "Smith, Jones,eq,x\\", "literal"]);
  });

  it("refuses bad field names and control characters", () => {
    expect(() => where("name,eq")).toThrow(QadConfigError);
    expect(() => where("a b")).toThrow(QadConfigError);
    expect(() => where("name").eq("line\nbreak")).toThrow(QadConfigError);
    expect(() => where("n").eq(Number.NaN)).toThrow(QadConfigError);
  });
});

describe("browse paging over the simulator", () => {
  let sim: QadSimulator;
  beforeAll(async () => {
    sim = await startQadSimulator({ customers: 45 });
  });
  afterAll(() => sim.close());
  afterEach(() => {
    sim.faults.clear();
    sim.resetInspection();
  });

  it("sends page/pageSize/pageAction=first then next under one callId, and stops on HasMoreParams=false", async () => {
    const qad = new QadClient({
      ...sim.clientOptions,
      pageSize: 20,
      entities: { customers: { contactsBrowseId: false } },
    });
    const rows = await collect(qad.customers.list());
    expect(rows).toHaveLength(45);
    expect(rows.every((c) => c.contacts.length === 0)).toBe(true); // contacts join disabled
    const insp = sim.inspect();
    expect(insp.requestsByPath["api/qracore/browses"]).toBe(3);
    const last = insp.lastRequestByPath["api/qracore/browses"]!.query;
    expect(last).toMatchObject({ page: "3", pageSize: "20", pageAction: "next" });
    expect(last.callId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("the instance really answers an unpaged browse with 200 and zero rows", async () => {
    const qad = new QadClient({ ...sim.clientOptions });
    const body = (await qad.get("api/qracore/browses", {
      browseId: "urn:browse:com.qad.base.customer.customerV2s",
    })) as {
      data: unknown[];
    };
    expect(body.data).toEqual([]);
  });

  it("an empty first page contradicted by totalCount → QadPagingError(empty_first_page)", async () => {
    sim.faults.inject({ kind: "emptyPage" });
    const qad = new QadClient({ ...sim.clientOptions });
    const err = await collect(qad.customers.list()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(QadPagingError);
    expect((err as QadPagingError).reason).toBe("empty_first_page");
    expect((err as Error).message).toMatch(/totalCount says 45/);
    expect(sim.inspect().requestsByPath["api/qracore/browses/totalCount"]).toBe(1);
  });

  it("a misconfigured first pageAction is caught the same way", async () => {
    const bad = new QadClient({ ...sim.clientOptions, browse: { firstPageAction: "start" } });
    // The simulator (like QAD) pages only from pageAction=first; "start" yields nothing on page 1.
    await expect(collect(bad.customers.list())).rejects.toBeInstanceOf(QadPagingError);
  });

  it("a truly empty result is fine (totalCount 0)", async () => {
    const qad = new QadClient({ ...sim.clientOptions });
    const rows = await collect(qad.customers.list({ modifiedSince: { date: "2099-01-01", time: 0 } }));
    expect(rows).toEqual([]);
    expect(sim.inspect().requestsByPath["api/qracore/browses/totalCount"]).toBe(1);
  });

  it("a page cap stops a runaway read with QadPagingError(page_cap)", async () => {
    sim.faults.inject({ kind: "endlessPaging", times: 1000 });
    const qad = new QadClient({ ...sim.clientOptions, pageSize: 10, browse: { maxPages: 6 } });
    const err = await collect(qad.customers.list()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(QadPagingError);
    expect((err as QadPagingError).reason).toBe("page_cap");
    expect(sim.inspect().requestsByPath["api/qracore/browses"]).toBeLessThanOrEqual(6 * 2);
  });

  it.each(["split", "day"] as const)(
    "modifiedSince (%s filter) returns exactly the rows at/after the instant",
    async (sinceFilter) => {
      const qad = new QadClient({ ...sim.clientOptions, sinceFilter });
      const everything = await collect(qad.customers.list());
      const pivot = everything
        .map((c) => c.lastModified)
        .sort((a, b) => (a.date === b.date ? a.time - b.time : a.date < b.date ? -1 : 1))[20]!;
      sim.resetInspection();
      const rows = await collect(qad.customers.list({ modifiedSince: pivot }));
      const after = (c: (typeof everything)[number]) =>
        c.lastModified.date > pivot.date || (c.lastModified.date === pivot.date && c.lastModified.time >= pivot.time);
      const key = (c: (typeof everything)[number]) => c.customerCode;
      expect(rows.map(key).sort()).toEqual(everything.filter(after).map(key).sort());
      expect(rows.length).toBe(everything.length - 20);
      const filters = sim.inspect().filters;
      if (sinceFilter === "day") {
        expect(filters).toContain(`lastModifiedDate,ge,${pivot.date},literal`);
      } else {
        expect(filters).toEqual(
          expect.arrayContaining([
            `lastModifiedDate,eq,${pivot.date},literal`,
            `lastModifiedTime,ge,${pivot.time},literal`,
            `lastModifiedDate,gt,${pivot.date},literal`,
          ]),
        );
      }
    },
  );
});
