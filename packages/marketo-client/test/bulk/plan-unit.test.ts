import { describe, expect, it } from "vitest";
import { leadFieldsFromDescribe, planActivities, planLeads } from "../../src/bulk/plan.js";
import { MarketoValidationError } from "../../src/errors.js";

const describeAnswer = [
  { id: 1, displayName: "Id", dataType: "integer", rest: { name: "id", readOnly: true } },
  { id: 2, displayName: "Email", dataType: "email", rest: { name: "email" } },
  { id: 3, displayName: "SOAP only", dataType: "string" },
  { id: 4, displayName: "Custom", dataType: "string", rest: { name: "custom_c" } },
];

describe("extract planning", () => {
  it("builds the field list from the describe answer: every REST name, in order, nothing fixed", async () => {
    expect(leadFieldsFromDescribe(describeAnswer)).toEqual(["id", "email", "custom_c"]);
    const plan = await planLeads({ filter: { staticListId: 42 } }, 31, async () => describeAnswer);
    expect(plan.fields).toEqual(["id", "email", "custom_c"]);
    // A list filter is one job, no date split.
    expect(plan.jobs).toEqual([
      { filter: { staticListId: 42 }, status: "pending", rowsDelivered: 0, bytesReceived: 0 },
    ]);
  });

  it("does not call describe when fields are given, and dedupes them", async () => {
    let called = 0;
    const plan = await planLeads(
      { fields: ["email", " email", "id"], filter: { smartListName: "All" } },
      31,
      async () => {
        called++;
        return describeAnswer;
      },
    );
    expect(plan.fields).toEqual(["email", "id"]);
    expect(called).toBe(0);
  });

  it("rejects two filters, no filter, an unknown format and an empty field list", async () => {
    const d = async () => describeAnswer;
    const range = { startAt: "2026-01-01", endAt: "2026-01-02" };
    // biome-ignore lint/suspicious/noExplicitAny: deliberately invalid input
    const bad: any[] = [
      { filter: { createdAt: range, updatedAt: range } },
      { filter: {} },
      { filter: { createdAt: range }, format: "XLS" },
      { filter: { createdAt: range }, fields: [] },
    ];
    for (const p of bad) await expect(planLeads(p, 31, d)).rejects.toBeInstanceOf(MarketoValidationError);
    await expect(planLeads({ filter: { createdAt: range } }, 31, undefined)).rejects.toBeInstanceOf(
      MarketoValidationError,
    );
  });

  it("splits activities by createdAt and carries the other filters into every job", async () => {
    const plan = await planActivities(
      {
        filter: {
          createdAt: { startAt: "2026-01-01T00:00:00Z", endAt: "2026-03-01T00:00:00Z" },
          activityTypeIds: [1],
          primaryAttributeValues: ["Home"],
        },
        activityTypes: ["Fill Out Form"],
      },
      31,
      async () => [{ id: 2, name: "Fill Out Form" }],
    );
    expect(plan.fields).toBeUndefined();
    expect(plan.jobs).toHaveLength(2);
    for (const job of plan.jobs) {
      expect(job.filter["activityTypeIds"]).toEqual([1, 2]);
      expect(job.filter["primaryAttributeValues"]).toEqual(["Home"]);
    }
  });

  it("limits primary attribute value filters to 50", async () => {
    await expect(
      planActivities(
        {
          filter: {
            createdAt: { startAt: "2026-01-01", endAt: "2026-01-02" },
            primaryAttributeValueIds: Array.from({ length: 51 }, (_, i) => i),
          },
        },
        31,
        undefined,
      ),
    ).rejects.toBeInstanceOf(MarketoValidationError);
  });
});
