import { MarketoClient } from "@ml/marketo-client";
import { type MarketoSimulator, startMarketoSimulator } from "@ml/marketo-client/testing";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

describe("smoke", () => {
  let sim: MarketoSimulator;
  beforeEach(async () => {
    sim = await startMarketoSimulator({ timeScale: 0.05 });
  });
  afterEach(async () => {
    await sim.close();
  });

  it("syncs and reads companies", async () => {
    const mk = new MarketoClient({ ...sim.clientOptions });
    const r = await mk.companies.sync({
      input: [
        { externalCompanyId: "C-1", company: "Acme" },
        { externalCompanyId: "C-2", company: "Beta" },
      ],
    });
    expect(r.results.map((x) => x.status)).toEqual(["created", "created"]);
    const got = await mk.companies.get({ filterType: "externalCompanyId", filterValues: ["C-1", "C-2"] }).toArray();
    expect(got.map((c) => c.company).sort()).toEqual(["Acme", "Beta"]);
    expect(sim.inspect().violations.total).toBe(0);
  });
});
