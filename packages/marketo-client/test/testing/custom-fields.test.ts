import { MarketoClient } from "@ml/marketo-client";
import { type MarketoSimulator, startMarketoSimulator } from "@ml/marketo-client/testing";
import { afterEach, describe, expect, it } from "vitest";

describe("simulator customFields", () => {
  let sim: MarketoSimulator | undefined;
  afterEach(async () => {
    await sim?.close();
    sim = undefined;
  });

  it("describe answers list the custom fields; writes accept them; unknown fields are still refused (strict)", async () => {
    sim = await startMarketoSimulator({
      timeScale: 0.05,
      strictFields: true,
      customFields: {
        companies: [{ name: "qadCreditTerms" }, { name: "qadActive", dataType: "boolean" }],
        namedAccounts: [{ name: "qadRegion", length: 50 }],
        leads: [{ name: "qadContactRole" }],
      },
    });
    const mk = new MarketoClient({ ...sim.clientOptions });

    const companies = await mk.companies.describe();
    expect(companies.fields.find((f) => f.name === "qadCreditTerms")).toMatchObject({
      dataType: "string",
      length: 255,
      updateable: true,
    });
    expect(companies.fields.find((f) => f.name === "qadActive")).toMatchObject({ dataType: "boolean" });
    const accounts = await mk.namedAccounts.describe();
    expect(accounts.fields.find((f) => f.name === "qadRegion")).toMatchObject({ dataType: "string", length: 50 });
    expect((await mk.leads.describe()).some((f) => f.rest?.name === "qadContactRole")).toBe(true);
    expect((await mk.leads.describe2()).fields.some((f) => f.name === "qadContactRole")).toBe(true);
    // Only where declared.
    expect(accounts.fields.some((f) => f.name === "qadCreditTerms")).toBe(false);

    const written = await mk.companies.sync({
      input: [
        { externalCompanyId: "C-1", company: "Acme", qadCreditTerms: "NET30", qadActive: true },
        { externalCompanyId: "C-2", company: "Beta", qadRegionCode: "EMEA" },
      ],
    });
    expect(written.results.map((r) => r.status)).toEqual(["created", "skipped"]);
    expect(written.results[1]?.reasons[0]?.code).toBe("1006");
    const got = await mk.companies
      .get({ filterType: "externalCompanyId", filterValues: ["C-1"], fields: ["qadCreditTerms", "qadActive"] })
      .toArray();
    expect(got[0]).toMatchObject({ qadCreditTerms: "NET30", qadActive: true });
    // Values are checked against the declared type and length, as for standard fields.
    const typed = await mk.namedAccounts.sync({ input: [{ name: "Gamma", qadRegion: "x".repeat(51) }] });
    expect(typed.results[0]?.status).toBe("skipped");
  });

  it("without customFields the fields are absent from describe", async () => {
    sim = await startMarketoSimulator({ timeScale: 0.05 });
    const mk = new MarketoClient({ ...sim.clientOptions });
    const companies = await mk.companies.describe();
    expect(companies.fields.some((f) => f.name === "qadCreditTerms")).toBe(false);
    // `state` is a standard named-account field (Marketo's describe lists it), not a custom one.
    expect((await mk.namedAccounts.describe()).fields.some((f) => f.name === "state")).toBe(true);
  });

  it("a custom field shadowing a standard one, a nameless field or an unknown object is refused at start", async () => {
    await expect(startMarketoSimulator({ customFields: { companies: [{ name: "company" }] } })).rejects.toThrow(
      /company is already a field of Company/,
    );
    await expect(startMarketoSimulator({ customFields: { leads: [{ name: "" }] } })).rejects.toThrow(/API name/);
    await expect(startMarketoSimulator({ customFields: { widgets: [{ name: "x" }] } as never })).rejects.toThrow(
      /unknown object/,
    );
  });
});
