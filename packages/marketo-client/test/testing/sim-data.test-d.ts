import type { Company, Lead, NamedAccount, Opportunity, OpportunityRole, SalesPerson } from "@ml/marketo-client";
import type {
  MarketoSimulator,
  SimCompany,
  SimLead,
  SimNamedAccount,
  SimObjectData,
  SimOpportunity,
  SimOpportunityRole,
  SimSalesPerson,
} from "@ml/marketo-client/testing";
import { describe, expectTypeOf, it } from "vitest";

declare const sim: MarketoSimulator;

describe("Marketo simulator data accessors are typed", () => {
  it("each object's accessor is typed by its stored record", () => {
    expectTypeOf(sim.data.companies).toEqualTypeOf<SimObjectData<SimCompany>>();
    expectTypeOf(sim.data.namedAccounts).toEqualTypeOf<SimObjectData<SimNamedAccount>>();
    expectTypeOf(sim.data.leads).toEqualTypeOf<SimObjectData<SimLead>>();
    expectTypeOf(sim.data.opportunities).toEqualTypeOf<SimObjectData<SimOpportunity>>();
    expectTypeOf(sim.data.opportunityRoles).toEqualTypeOf<SimObjectData<SimOpportunityRole>>();
    expectTypeOf(sim.data.salesPersons).toEqualTypeOf<SimObjectData<SimSalesPerson>>();
  });

  it("stored records are the client's record types plus the id field and timestamps the simulator stores", () => {
    expectTypeOf<SimCompany>().toExtend<Company>();
    expectTypeOf<SimNamedAccount>().toExtend<NamedAccount>();
    expectTypeOf<SimLead>().toExtend<Lead>();
    expectTypeOf<SimOpportunity>().toExtend<Opportunity>();
    expectTypeOf<SimOpportunityRole>().toExtend<OpportunityRole>();
    expectTypeOf<SimSalesPerson>().toExtend<SalesPerson>();
    const [company] = sim.data.companies.all();
    expectTypeOf(company!.id).toEqualTypeOf<number>();
    expectTypeOf(company!.externalCompanyId).toEqualTypeOf<string | undefined>();
    expectTypeOf(company!.createdAt).toEqualTypeOf<string>();
    expectTypeOf(company!.updatedAt).toEqualTypeOf<string>();
    // Custom fields stay allowed, and unknown.
    expectTypeOf(company!.qadCreditTerms).toEqualTypeOf<unknown>();
    expectTypeOf(sim.data.namedAccounts.all()[0]!.marketoGUID).toEqualTypeOf<string>();
    expectTypeOf(sim.data.leads.find("email", "a@b.c")[0]!.id).toEqualTypeOf<number>();
    expectTypeOf(sim.data.leads.find("email", "a@b.c")[0]!.email).toEqualTypeOf<string | undefined>();
    expectTypeOf(sim.data.opportunities.all()[0]!.marketoGUID).toEqualTypeOf<string>();
    expectTypeOf(sim.data.opportunityRoles.all()[0]!.leadId).toEqualTypeOf<number | undefined>();
    expectTypeOf(sim.data.salesPersons.all()[0]!.id).toEqualTypeOf<number>();
  });

  it("seed takes partial records, typed by field, and returns stored ones; a snapshot of all() seeds back", () => {
    expectTypeOf(sim.data.companies.seed).parameter(0).toEqualTypeOf<Partial<SimCompany>[]>();
    expectTypeOf(sim.data.companies.seed([{ externalCompanyId: "C1" }])).toEqualTypeOf<SimCompany[]>();
    expectTypeOf(sim.data.companies.all()).toExtend<Parameters<typeof sim.data.companies.seed>[0]>();
    // A known field of the wrong type is refused; a custom field is not.
    expectTypeOf([{ externalCompanyId: 5 }]).not.toExtend<Partial<SimCompany>[]>();
    expectTypeOf([{ id: "1" }]).not.toExtend<Partial<SimLead>[]>();
    expectTypeOf([{ externalCompanyId: "C1", qadCreditTerms: "N30" }]).toExtend<Partial<SimCompany>[]>();
    expectTypeOf(sim.data.leads.find).parameter(0).toEqualTypeOf<string>();
  });
});
