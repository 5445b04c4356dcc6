import { MarketoClient } from "@ml/marketo-client";
import { startMarketoSimulator } from "@ml/marketo-client/testing";
import { describe, expect, it } from "vitest";
import { normKey, ObjectStore } from "../../src/testing/internal/object-store.js";
import { seededRandom } from "../../src/testing/internal/rng.js";
import { objectSpecs } from "../../src/testing/internal/schemas.js";

const NOW = "2026-01-01T00:00:00.000Z";
const leads = () => new ObjectStore(objectSpecs().leads, "l0");

/** What the store answered before it had indexes: a scan of every record. */
function scan(store: ObjectStore, fields: string[], values: unknown[]) {
  const want = normKey(values);
  if (want === undefined) return [];
  return [...store.records.values()].filter((r) => normKey(fields.map((f) => r[f])) === want);
}
function scanDuplicates(store: ObjectStore) {
  const seen = new Map<string, number>();
  for (const r of store.records.values()) {
    const k = normKey(store.spec.dedupeFields.map((f) => r[f]));
    if (k !== undefined) seen.set(k, (seen.get(k) ?? 0) + 1);
  }
  let dup = 0;
  for (const n of seen.values()) dup += n - 1;
  return dup;
}

describe("simulator object store indexes", () => {
  it("an update that changes the lookup field re-files the record under its new key", () => {
    const s = leads();
    const created = s.apply("createOrUpdate", ["email"], { email: "Ana@X.com", firstName: "Ana" }, 0, NOW);
    expect(created.status).toBe("created");
    const id = created.id!;
    // Looked up by id, the email changes.
    const upd = s.apply("updateOnly", ["id"], { id, email: "ana@y.com" }, 0, NOW);
    expect(upd).toMatchObject({ status: "updated", id });
    expect(s.findBy(["email"], ["ana@x.com"])).toEqual([]);
    expect(s.findBy(["email"], [" ANA@Y.COM "]).map((r) => r.id)).toEqual([id]);
    // The old email is free again: a sync by it creates a new lead instead of updating the moved one.
    expect(s.apply("createOrUpdate", ["email"], { email: "ana@x.com" }, 0, NOW).status).toBe("created");
    expect(s.duplicates()).toBe(0);
    // Moving the new lead onto the first one's email makes a duplicate; lookups by it answer 1007.
    const second = s.findBy(["email"], ["ana@x.com"])[0]!;
    s.apply("updateOnly", ["id"], { id: second.id, email: "ANA@y.com" }, 0, NOW);
    expect(s.duplicates()).toBe(1);
    expect(s.apply("createOrUpdate", ["email"], { email: "ana@y.com" }, 0, NOW).reasons?.[0]?.code).toBe("1007");
  });

  it("delete removes the record from every index, and from the duplicate count", () => {
    const s = leads();
    const [a, b, c] = [
      s.insert({ email: "dup@x.com", externalCompanyId: "C1" }, NOW),
      s.insert({ email: "DUP@x.com", externalCompanyId: "C1" }, NOW),
      s.insert({ email: "dup@x.com ", externalCompanyId: "C2" }, NOW),
    ];
    expect(s.duplicates()).toBe(2);
    expect(s.findBy(["externalCompanyId"], ["c1"]).map((r) => r.id)).toEqual([a!.id, b!.id]);
    expect(s.remove(["id"], { id: b!.id }, 0).status).toBe("deleted");
    expect(s.duplicates()).toBe(1);
    expect(s.findBy(["externalCompanyId"], ["C1"]).map((r) => r.id)).toEqual([a!.id]);
    expect(s.findBy(["id"], [b!.id])).toEqual([]);
    expect(s.remove(["id"], { id: b!.id }, 0).reasons?.[0]?.code).toBe("1004");
    s.remove(["id"], { id: c!.id }, 0);
    expect(s.duplicates()).toBe(0);
    expect(s.apply("createOrUpdate", ["email"], { email: "dup@x.com", title: "t" }, 0, NOW)).toMatchObject({
      status: "updated",
      id: a!.id,
    });
    s.clear();
    expect(s.findBy(["email"], ["dup@x.com"])).toEqual([]);
    expect(s.duplicates()).toBe(0);
  });

  it("matches the scanning store over random creates, updates, key changes, deletes and seeded duplicates", () => {
    const random = seededRandom(42);
    const pick = <T>(xs: T[]) => xs[Math.floor(random() * xs.length)]!;
    const s = leads();
    const emails = Array.from({ length: 40 }, (_, i) => `u${i}@x.com`);
    const vary = (e: string) => pick([e, e.toUpperCase(), ` ${e} `]);
    const companies = ["C1", "c1", "C2", "C3", undefined];
    const probe = () => {
      for (const e of emails.slice(0, 12)) {
        expect(s.findBy(["email"], [vary(e)])).toEqual(scan(s, ["email"], [e]));
      }
      for (const c of ["C1", "C2", "C3"]) {
        expect(s.findBy(["externalCompanyId"], [c])).toEqual(scan(s, ["externalCompanyId"], [c]));
      }
      expect(s.duplicates()).toBe(scanDuplicates(s));
    };
    // The externalCompanyId index is built after records exist, from them.
    s.insert({ email: emails[0], externalCompanyId: "C1" }, NOW);
    probe();
    for (let step = 0; step < 600; step++) {
      const ids = [...s.records.values()].map((r) => r.id as number);
      const r = random();
      const company = pick(companies);
      if (r < 0.35) {
        s.apply("createOrUpdate", ["email"], { email: vary(pick(emails)), externalCompanyId: company }, 0, NOW);
      } else if (r < 0.6 && ids.length > 0) {
        s.apply("updateOnly", ["id"], { id: pick(ids), email: vary(pick(emails)), externalCompanyId: company }, 0, NOW);
      } else if (r < 0.75) {
        // Seeding (and createDuplicate) can store duplicates; sync never does.
        s.insert({ email: vary(pick(emails)), externalCompanyId: company }, NOW);
      } else if (ids.length > 0) {
        s.remove(["id"], { id: pick(ids) }, 0);
      }
      probe();
    }
    expect(s.duplicates()).toBeGreaterThan(0);
  });

  it("over HTTP: a lead's email changed through lookupField id is found by its new email, never by the old", async () => {
    const sim = await startMarketoSimulator({ timeScale: 0.01 });
    try {
      const mk = new MarketoClient({ ...sim.clientOptions });
      const first = await mk.leads.sync({ input: [{ email: "old@x.com", firstName: "A" }] });
      const id = first.results[0]!.id!;
      await mk.leads.sync({ lookupField: "id", input: [{ id, email: "new@x.com" }] });
      expect(sim.data.leads.find("email", "OLD@x.com")).toEqual([]);
      expect(sim.data.leads.find("email", "new@x.com").map((r) => r.id)).toEqual([id]);
      const again = await mk.leads.sync({ input: [{ email: "new@x.com", lastName: "B" }] });
      expect(again.results[0]).toMatchObject({ status: "updated", id });
      sim.data.leads.seed([{ email: "NEW@x.com" }]);
      expect(sim.inspect().duplicates.leads).toBe(1);
      const multi = await mk.leads.sync({ input: [{ email: "new@x.com", lastName: "C" }] });
      expect(multi.results[0]?.reasons[0]?.code).toBe("1007");
      sim.data.leads.clear();
      expect(sim.inspect().duplicates.leads).toBe(0);
    } finally {
      await sim.close();
    }
  });
});
