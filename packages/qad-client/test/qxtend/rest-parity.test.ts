import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { QadClient } from "../../src/index.js";
import type { Customer } from "../../src/records/customer.js";
import { type QadSimulator, startQadSimulator } from "../../src/testing/index.js";
import { collect } from "./helpers.js";

/**
 * What QXtend (cm_mstr + ad_mstr through a Query Service profile) cannot carry, and how both sides are normalised
 * before comparing:
 * - lastModified.time: cm_mod_date is a DATE, so QXtend gives time 0 → compare the date only.
 * - businessRelationCode, webSite, corporateGroupCode, concurrencyHash: not in cm_mstr/ad_mstr → dropped on REST.
 * - custom: REST carries customCombo/customShort; QXtend keeps the profile's unmapped columns (ad_addr...) → dropped.
 * - sharedSetCode: QXtend has none; the client puts the configured one on every row (the simulator runs one set).
 * Everything else must be equal: codes, names, addresses, phone, e-mail, language, active flag, type, currency,
 * credit terms, sales person, region and contacts.
 */
function shared(c: Customer): Record<string, unknown> {
  const { businessRelationCode, webSite, corporateGroupCode, concurrencyHash, custom, lastModified, ...rest } = c;
  return { ...rest, lastModified: { date: lastModified.date } };
}

let sim: QadSimulator;
beforeAll(async () => {
  sim = await startQadSimulator({ customers: 180, seed: 7 });
});
afterAll(() => sim.close());

describe("REST and QXtend read the same customers", () => {
  it("a full read gives equal typed records over both protocols (shared subset), paged differently", async () => {
    const rest = new QadClient({ ...sim.clientOptions, protocol: "rest" });
    const qx = new QadClient({ ...sim.clientOptions, protocol: "qxtend" });
    const a = await collect(rest.customers.list({ pageSize: 40 }));
    const b = await collect(qx.customers.list({ pageSize: 25 }));
    expect(a).toHaveLength(180);
    expect(b).toHaveLength(180);
    const byKey = (xs: Customer[]) => [...xs].sort((x, y) => (x.customerCode < y.customerCode ? -1 : 1)).map(shared);
    expect(byKey(b)).toEqual(byKey(a));
    // Not a vacuous comparison: contacts, unicode names and absent optional fields all occur.
    expect(b.some((c) => c.contacts.length > 1)).toBe(true);
    expect(b.some((c) => /[^\x00-\x7f]/.test(c.name))).toBe(true);
    expect(b.some((c) => c.email === undefined)).toBe(true);
    expect(b.some((c) => !c.isActive)).toBe(true);
    // The fields QXtend cannot carry really differ, so the normalisation above is needed and honest.
    expect(b.every((c) => c.lastModified.time === 0)).toBe(true);
    expect(a.some((c) => c.lastModified.time !== 0)).toBe(true);
  });

  it("a modifiedSince read returns every REST change over QXtend too (a day-granular superset)", async () => {
    const all = await collect(new QadClient({ ...sim.clientOptions, protocol: "rest" }).customers.list());
    const dates = [...new Set(all.map((c) => c.lastModified.date))].sort();
    const since = { date: dates[Math.floor(dates.length / 2)]!, time: 43_200 };
    const rest = await collect(
      new QadClient({ ...sim.clientOptions, protocol: "rest" }).customers.list({ modifiedSince: since, pageSize: 20 }),
    );
    const qx = await collect(
      new QadClient({ ...sim.clientOptions, protocol: "qxtend" }).customers.list({
        modifiedSince: since,
        pageSize: 20,
      }),
    );
    const restCodes = new Set(rest.map((c) => c.customerCode));
    const qxCodes = new Set(qx.map((c) => c.customerCode));
    expect(restCodes.size).toBeGreaterThan(10);
    for (const code of restCodes) expect(qxCodes.has(code)).toBe(true);
    // QXtend's extra rows are exactly those changed earlier on the since day (no time of day in cm_mod_date).
    const byCode = new Map(all.map((c) => [c.customerCode, c]));
    for (const code of qxCodes) {
      if (restCodes.has(code)) continue;
      const c = byCode.get(code)!;
      expect(c.lastModified.date).toBe(since.date);
      expect(c.lastModified.time).toBeLessThan(since.time);
    }
    const expected = all.filter((c) => c.lastModified.date >= since.date).map((c) => c.customerCode);
    expect([...qxCodes].sort()).toEqual(expected.sort());
  });
});
