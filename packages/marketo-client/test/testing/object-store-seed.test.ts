import { MarketoClient } from "@ml/marketo-client";
import { startMarketoSimulator } from "@ml/marketo-client/testing";
import { describe, expect, it } from "vitest";
import { ObjectStore } from "../../src/testing/internal/object-store.js";
import { objectSpecs } from "../../src/testing/internal/schemas.js";

const NOW = "2026-01-01T00:00:00.000Z";
const LATER = "2026-01-02T00:00:00.000Z";

describe("simulator object store seeding keeps given ids", () => {
  it("keeps a given id and numbers later creates after the highest one", () => {
    const s = new ObjectStore(objectSpecs().companies, "c0");
    const kept = s.insert(
      { id: 41, externalCompanyId: "C-41", company: "Kept", createdAt: NOW, updatedAt: NOW },
      LATER,
    );
    expect(kept).toMatchObject({ id: 41, createdAt: NOW, updatedAt: NOW });
    expect(s.insert({ id: "7", externalCompanyId: "C-7" }, NOW).id).toBe(7);
    // Without an id the next one follows the highest kept id, so no create can land on a seeded record.
    expect(s.insert({ externalCompanyId: "C-auto" }, NOW).id).toBe(42);
    const created = s.apply("createOrUpdate", ["externalCompanyId"], { externalCompanyId: "C-new" }, 0, NOW);
    expect(created).toMatchObject({ status: "created", id: 43 });
    expect([...s.records.keys()]).toEqual(["41", "7", "42", "43"]);
    expect(s.findBy(["externalCompanyId"], ["c-41"]).map((r) => r.id)).toEqual([41]);
  });

  it("keeps a given marketoGUID and continues this store's GUID sequence after one of its own shape", () => {
    const first = new ObjectStore(objectSpecs().namedAccounts, "a0");
    const made = [1, 2, 3].map(
      (i) => first.apply("createOrUpdate", ["name"], { name: `Account ${i}` }, i, NOW).marketoGUID!,
    );
    // Restore a snapshot of the first store into a new one: GUIDs stay, the next create gets a fresh one.
    const second = new ObjectStore(objectSpecs().namedAccounts, "a0");
    for (const r of first.records.values()) second.insert({ ...r }, LATER);
    expect([...second.records.keys()]).toEqual(made);
    const next = second.apply("createOrUpdate", ["name"], { name: "Account 4" }, 4, NOW).marketoGUID!;
    expect(made).not.toContain(next);
    expect(next).toBe(first.apply("createOrUpdate", ["name"], { name: "Account 4" }, 4, NOW).marketoGUID);
    // A GUID of another shape is kept as given and does not disturb the sequence.
    expect(second.insert({ marketoGUID: "foreign-guid", name: "Foreign" }, NOW).marketoGUID).toBe("foreign-guid");
    expect(second.findBy(["name"], ["foreign"]).map((r) => r.marketoGUID)).toEqual(["foreign-guid"]);
  });

  it("refuses an id already stored or malformed", () => {
    const s = new ObjectStore(objectSpecs().leads, "l0");
    s.insert({ id: 5, email: "a@x.com" }, NOW);
    expect(() => s.insert({ id: 5, email: "b@x.com" }, NOW)).toThrow(/5 is already stored/);
    expect(() => s.insert({ id: -1, email: "c@x.com" }, NOW)).toThrow(RangeError);
    expect(() => s.insert({ id: "abc", email: "c@x.com" }, NOW)).toThrow(RangeError);
    const guids = new ObjectStore(objectSpecs().opportunities, "0f");
    expect(() => guids.insert({ marketoGUID: 12, externalOpportunityId: "O1" }, NOW)).toThrow(RangeError);
    expect(s.records.size).toBe(1);
  });

  it("a create through the API never takes the caller's id", () => {
    const s = new ObjectStore(objectSpecs().leads, "l0");
    s.insert({ id: 10, email: "seeded@x.com" }, NOW);
    const r = s.apply("createOrUpdate", ["email"], { id: 10, email: "new@x.com" }, 0, NOW);
    expect(r).toMatchObject({ status: "created", id: 11 });
    expect(s.findBy(["email"], ["seeded@x.com"]).map((x) => x.id)).toEqual([10]);
  });

  it("a simulator seeded from another's records answers with the same ids and creates no duplicates", async () => {
    const a = await startMarketoSimulator({ timeScale: 0.01, latencyMs: 0 });
    const b = await startMarketoSimulator({ timeScale: 0.01, latencyMs: 0 });
    try {
      const mk = new MarketoClient({ ...a.clientOptions });
      const input = [1, 2, 3].map((i) => ({ externalCompanyId: `C-${i}`, company: `Company ${i}` }));
      await mk.companies.sync({ input });
      const snapshot = a.data.companies.all();
      expect(b.data.companies.seed(snapshot)).toEqual(snapshot);
      const mkB = new MarketoClient({ ...b.clientOptions });
      const again = await mkB.companies.sync({ input: [...input, { externalCompanyId: "C-4", company: "Company 4" }] });
      const ids = snapshot.map((r) => r.id);
      expect(again.results.slice(0, 3).map((r) => r.id)).toEqual(ids);
      expect(again.results[3]?.id).toBe(Math.max(...(ids as number[])) + 1);
      expect(b.inspect().duplicates.companies).toBe(0);
    } finally {
      await a.close();
      await b.close();
    }
  });
});
