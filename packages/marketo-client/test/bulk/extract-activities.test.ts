import { afterEach, describe, expect, it } from "vitest";
import { MarketoValidationError } from "../../src/errors.js";
import { makeActivities } from "./helpers/data.js";
import { collect, type Harness, startHarness } from "./helpers/harness.js";

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const poll = { initialDelayMs: 60_000, maxDelayMs: 60_000 };
const types = async () => [
  { id: 1, name: "Visit Webpage" },
  { id: 12, name: "New Lead" },
];

function expected(a: ReturnType<typeof makeActivities>[number]): Record<string, string | null> {
  return {
    marketoGUID: a.marketoGUID,
    leadId: String(a.leadId),
    activityDate: a.activityDate,
    activityTypeId: String(a.activityTypeId),
    campaignId: null,
    primaryAttributeValueId: String(a.primaryAttributeValueId),
    primaryAttributeValue: a.primaryAttributeValue ?? null,
    attributes: JSON.stringify(Object.fromEntries(a.attributes.map((x) => [x.name, x.value]))),
  };
}

describe("bulk activities extract over HTTP", () => {
  it("extracts every activity over a 45-day range in two jobs, default columns", async () => {
    const activities = makeActivities(180); // one every 6 h: 45 days
    h = await startHarness({ activities });
    const rows = await collect(
      h.bulk.activities.extract(
        { filter: { createdAt: { startAt: "2026-01-01T00:00:00Z", endAt: "2026-02-14T23:59:59Z" } } },
        { poll },
      ),
    );
    expect(rows).toEqual(activities.map(expected));
    expect(h.sim.inspect().jobs).toHaveLength(2);
  });

  it("resolves activity type names through the types describe", async () => {
    const activities = makeActivities(40);
    h = await startHarness({ activities });
    const api = h.api({ describeActivityTypes: types });
    const rows = await collect(
      api.activities.extract(
        {
          activityTypes: ["visit webpage"],
          fields: ["marketoGUID", "activityTypeId"],
          filter: { createdAt: { startAt: "2026-01-01T00:00:00Z", endAt: "2026-01-31T00:00:00Z" } },
        },
        { poll },
      ),
    );
    expect(rows).toEqual(
      activities
        .filter((a) => a.activityTypeId === 1)
        .map((a) => ({ marketoGUID: a.marketoGUID, activityTypeId: "1" })),
    );
    expect(h.sim.inspect().jobs[0]?.filter["activityTypeIds"]).toEqual([1]);
  });

  it("rejects an unknown activity type name before any call", async () => {
    h = await startHarness({ activities: [] });
    const api = h.api({ describeActivityTypes: types });
    await expect(
      collect(
        api.activities.extract({
          activityTypes: ["Nope"],
          filter: { createdAt: { startAt: "2026-01-01", endAt: "2026-01-02" } },
        }),
      ),
    ).rejects.toBeInstanceOf(MarketoValidationError);
    expect(h.seen).toHaveLength(0);
  });
});
