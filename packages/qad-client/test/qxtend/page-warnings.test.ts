import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { QadClient } from "../../src/index.js";
import { type QadSimulator, startQadSimulator } from "../../src/testing/index.js";
import { collect, type LogLine } from "./helpers.js";

let sim: QadSimulator;
beforeAll(async () => {
  sim = await startQadSimulator({ customers: 25, seed: 9 });
});
afterAll(() => sim.close());

describe("QXtend warnings on list().pages()", () => {
  it("a page answered with result=warning carries its warnings; other pages carry none; the logger still warns", async () => {
    const logs: LogLine[] = [];
    const log = (level: string) => (obj: object, msg?: string) => logs.push({ level, obj, msg });
    const qad = new QadClient({
      ...sim.clientOptions,
      protocol: "qxtend",
      logger: { debug: log("debug"), info: log("info"), warn: log("warn"), error: log("error") },
    });
    sim.qxtendFaults.inject({
      kind: "warning",
      messages: [
        { number: 7, description: "Credit limit exceeded", severity: "warning", field: "cm_cr_limit" },
        { description: "Address incomplete", severity: "warning" },
      ],
    });
    const pages = await collect(qad.customers.list({ pageSize: 10 }).pages());
    expect(pages.map((p) => p.length)).toEqual([10, 10, 5]);
    expect(pages[0]!.warnings).toEqual(["7: Credit limit exceeded (field cm_cr_limit)", "Address incomplete"]);
    expect(pages[1]!.warnings).toEqual([]);
    expect(pages[2]!.warnings).toEqual([]);
    expect(logs.filter((l) => l.level === "warn")).toHaveLength(1);
    // Pages are still plain arrays of records.
    expect(Array.isArray(pages[0])).toBe(true);
    expect(pages.flat()).toHaveLength(25);
  });

  it("REST pages carry an empty warnings list", async () => {
    const qad = new QadClient({ ...sim.clientOptions });
    const pages = await collect(qad.customers.list({ pageSize: 10 }).pages());
    expect(pages.length).toBeGreaterThan(0);
    for (const p of pages) expect(p.warnings).toEqual([]);
  });
});
