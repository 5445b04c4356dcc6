import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createQxtendBackend } from "../../src/qxtend/index.js";
import { customerSchema } from "../../src/records/customer.js";
import {
  clientOptions,
  collect,
  MemoryStore,
  makeCustomers,
  SIM_CREDENTIALS,
  startQxtendServer,
  testDeps,
} from "./helpers.js";

const N = 237;
const store = new MemoryStore(makeCustomers(N, 3));
let sim: Awaited<ReturnType<typeof startQxtendServer>>;

beforeAll(async () => {
  sim = await startQxtendServer(store, {
    credentials: SIM_CREDENTIALS,
    domain: "10USA",
    versions: ["eB2_1"],
    sharedSetCode: "SET1",
  });
});
afterAll(() => sim.close());

/** What QXtend can carry of a canonical customer: no time of day, no custom fields. */
function expectedOverQxtend(c: (typeof store.rows)[number]) {
  return { ...c, lastModified: { date: c.lastModified.date, time: 0 }, custom: expect.any(Object) };
}

describe("QXtend key-based paging over real HTTP", () => {
  it("reads every customer once, in key order, across many pages, paging by key not offset", async () => {
    const deps = testDeps();
    const backend = createQxtendBackend(clientOptions(sim.url), deps);
    const before = sim.handler.inspect().filters.length;
    const pages = await collect(backend.pages("customers", { pageSize: 20 }));
    expect(pages.map((p) => p.length)).toEqual([...Array(11).fill(20), 17]);
    const records = pages.flat().map((r) => customerSchema.parse(r));
    const codes = records.map((r) => r.customerCode);
    expect(codes).toEqual([...codes].sort());
    expect(new Set(codes).size).toBe(N);
    const byCode = new Map(store.rows.map((c) => [c.customerCode, c]));
    for (const r of records) expect(r).toEqual(expectedOverQxtend(byCode.get(r.customerCode)!));

    const filters = sim.handler.inspect().filters.slice(before);
    expect(filters).toHaveLength(12);
    expect(filters[0]).toBe("");
    // Each next page asks for keys after the previous page's last key.
    for (let i = 1; i < filters.length; i++) {
      const lastOfPrevious = pages[i - 1]![19] as { customerCode: string };
      expect(filters[i]).toBe(`cm_addr > "${lastOfPrevious.customerCode}"`);
    }
    expect(sim.handler.inspect().maxRows.slice(-12)).toEqual(Array(12).fill(20));
    expect(pages[0]!.result).toBe("success");
    expect(pages[0]!.warnings).toEqual([]);
    // One debug line per page, with its size and cursor.
    const pageLogs = deps.logs
      .filter((l) => l.msg === "QXtend page")
      .map((l) => l.obj as { rows: number; afterKey?: string });
    expect(pageLogs.map((l) => l.rows)).toEqual([...Array(11).fill(20), 17]);
    expect(pageLogs[0]!.afterKey).toBeUndefined();
    expect(pageLogs[1]!.afterKey).toBe((pages[0]![19] as { customerCode: string }).customerCode);
  });

  it("stops after an exactly full last page with one empty request", async () => {
    const small = new MemoryStore(makeCustomers(40, 5));
    const s = await startQxtendServer(small, { sharedSetCode: "SET1" });
    try {
      const pages = await collect(
        createQxtendBackend(clientOptions(s.url), testDeps()).pages("customers", { pageSize: 20 }),
      );
      expect(pages.map((p) => p.length)).toEqual([20, 20]);
      expect(s.handler.inspect().requests).toBe(3);
    } finally {
      await s.close();
    }
  });

  it("a profile capping MaxRows below the page size loses no rows (a short page ends the read only once the cap is known)", async () => {
    const rows = new MemoryStore(makeCustomers(45, 6));
    const s = await startQxtendServer(rows, { sharedSetCode: "SET1", maxRowsCap: 10 });
    try {
      const deps = testDeps();
      const pages = await collect(createQxtendBackend(clientOptions(s.url), deps).pages("customers", { pageSize: 20 }));
      expect(pages.map((p) => p.length)).toEqual([10, 10, 10, 10, 5]);
      expect(new Set(pages.flat().map((r) => (r as { customerCode: string }).customerCode)).size).toBe(45);
      // 5 < 10 (the largest page seen) proves the end: no extra request.
      expect(s.handler.inspect().requests).toBe(5);
      expect(deps.logs.filter((l) => l.level === "warn" && /MaxRows/.test(l.msg ?? ""))).toHaveLength(1);
    } finally {
      await s.close();
    }
  });

  it("a first page shorter than the page size costs one more (empty) request to confirm the end", async () => {
    const rows = new MemoryStore(makeCustomers(7, 8));
    const s = await startQxtendServer(rows, { sharedSetCode: "SET1" });
    try {
      const pages = await collect(
        createQxtendBackend(clientOptions(s.url), testDeps()).pages("customers", { pageSize: 20 }),
      );
      expect(pages.map((p) => p.length)).toEqual([7]);
      expect(s.handler.inspect().requests).toBe(2);
    } finally {
      await s.close();
    }
  });

  it("a modifiedSince read combines the date filter with the key filter and returns exactly the rows on/after that day", async () => {
    const since = "2026-02-01";
    const expected = store.rows
      .filter((c) => c.lastModified.date >= since)
      .map((c) => c.customerCode)
      .sort();
    expect(expected.length).toBeGreaterThan(30);
    expect(expected.length).toBeLessThan(N);
    const before = sim.handler.inspect().filters.length;
    const backend = createQxtendBackend(clientOptions(sim.url), testDeps());
    const pages = await collect(
      backend.pages("customers", { pageSize: 15, modifiedSince: { date: since, time: 50_000 } }),
    );
    const codes = pages.flat().map((r) => customerSchema.parse(r).customerCode);
    expect(codes).toEqual(expected);
    expect(pages.length).toBe(Math.ceil(expected.length / 15));
    const filters = sim.handler.inspect().filters.slice(before);
    expect(filters[0]).toBe("cm_mod_date >= 02/01/26");
    expect(filters[1]).toBe(`cm_mod_date >= 02/01/26 and cm_addr > "${codes[14]}"`);
  });

  it("honours other session date formats and date-formatted rows (dd.mm.yyyy, flat ad_mstr fields)", async () => {
    const s = await startQxtendServer(store, {
      dateFormat: "dd.mm.yyyy",
      dateStyle: "session",
      nestAddress: false,
      sharedSetCode: "SET1",
    });
    try {
      const backend = createQxtendBackend(clientOptions(s.url, { dateFormat: "dd.mm.yyyy" }), testDeps());
      const pages = await collect(
        backend.pages("customers", { pageSize: 50, modifiedSince: { date: "2026-02-15", time: 0 } }),
      );
      const records = pages.flat().map((r) => customerSchema.parse(r));
      const expected = store.rows.filter((c) => c.lastModified.date >= "2026-02-15");
      expect(records.map((r) => r.customerCode)).toEqual(expected.map((c) => c.customerCode).sort());
      const byCode = new Map(store.rows.map((c) => [c.customerCode, c]));
      for (const r of records) expect(r).toEqual(expectedOverQxtend(byCode.get(r.customerCode)!));
      expect(s.handler.inspect().filters[0]).toBe("cm_mod_date >= 15.02.2026");
    } finally {
      await s.close();
    }
  });

  it("maps contacts and keeps unmapped row fields in custom", async () => {
    const backend = createQxtendBackend(clientOptions(sim.url), testDeps());
    const [first] = await collect(backend.pages("customers", { pageSize: 5 }));
    const c0 = customerSchema.parse(first![0]);
    expect(c0.customerCode).toBe("C00000");
    expect(c0.contacts).toEqual([
      { contactCode: "K0", name: "Pat 0", email: "pat0@example.com", isPrimary: true },
      { contactCode: "K0b", name: "Sam 0", title: "Buyer", isPrimary: false },
    ]);
    expect(c0.isActive).toBe(false);
    expect(c0.sharedSetCode).toBe("SET1");
    // ad_addr (the joined address key) and nothing else the map did not name.
    expect(c0.custom).toEqual({ ad_addr: "C00000" });
  });

  it("uses configured result field names", async () => {
    const renamed = new MemoryStore(makeCustomers(3, 9));
    const s = await startQxtendServer(renamed, { nestAddress: false });
    try {
      // Map name from a different column (ad_city) to show the table is honoured.
      const backend = createQxtendBackend(clientOptions(s.url, { customerFields: { name: "ad_city" } }), testDeps());
      const [page] = await collect(backend.pages("customers", { pageSize: 10 }));
      expect(page!.map((r) => (r as { name: string }).name)).toEqual(["Springfield", "Springfield", "Springfield"]);
      expect((page![0] as { custom: Record<string, string> }).custom.ad_name).toBe("Customer 0");
    } finally {
      await s.close();
    }
  });

  it("rows inserted or deleted while a read runs neither shift nor repeat rows (no offset)", async () => {
    const live = new MemoryStore(makeCustomers(60, 8));
    const s = await startQxtendServer(live, { sharedSetCode: "SET1" });
    try {
      const seen: string[] = [];
      let page = 0;
      for await (const p of createQxtendBackend(clientOptions(s.url), testDeps()).pages("customers", {
        pageSize: 10,
      })) {
        seen.push(...p.map((r) => (r as { customerCode: string }).customerCode));
        if (page++ === 1) {
          // Before the cursor: delete two rows and insert one; after it: insert one.
          live.rows = live.rows.filter((c) => c.customerCode !== "C00001" && c.customerCode !== "C00002");
          live.rows.push({ ...live.rows[0]!, customerCode: "C00000A" }, { ...live.rows[0]!, customerCode: "C00055A" });
        }
      }
      // Offset paging would have skipped two rows here (C00020, C00021); key paging skips nothing.
      const expected = [...makeCustomers(60, 8).map((c) => c.customerCode), "C00055A"].sort();
      expect(seen).toEqual(expected);
    } finally {
      await s.close();
    }
  });

  it("available() is false when QXtend answers with a fault", async () => {
    const deps = testDeps();
    expect(await createQxtendBackend(clientOptions(sim.url, { password: "nope" }), deps).available()).toBe(false);
    expect(JSON.stringify(deps.logs)).toContain("User ID or password is incorrect");
  });

  it("available() is true against the simulator and false for a closed port", async () => {
    expect(await createQxtendBackend(clientOptions(sim.url), testDeps()).available()).toBe(true);
    const closed = await startQxtendServer(store);
    await closed.close();
    expect(await createQxtendBackend(clientOptions(closed.url), testDeps()).available()).toBe(false);
  });
});
