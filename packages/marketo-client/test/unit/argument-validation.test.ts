import { failure } from "@ml/http-kernel/testing";
import { isMarketoError, MarketoClient, MarketoValidationError } from "@ml/marketo-client";
import { describe, expect, it } from "vitest";

// Nothing may be sent for a call with bad arguments: the fetch records any attempt.
function client() {
  const sent: string[] = [];
  const mk = new MarketoClient({
    munchkinId: "123-ABC-456",
    clientId: "id",
    clientSecret: "secret",
    fetch: async (input) => {
      sent.push(String(input instanceof Request ? input.url : input));
      throw new Error("no request expected");
    },
  });
  return { mk, sent };
}

type Call = (mk: MarketoClient) => unknown;
// biome-ignore lint/suspicious/noExplicitAny: the point is calling with what the types forbid
const loose = (x: unknown) => x as any;

const objects = ["companies", "namedAccounts", "leads", "opportunities", "salesPersons"] as const;
const badParams: [string, unknown[]][] = [
  ["no arguments", []],
  ["null", [null]],
  ["a string", ["companies"]],
  ["an array", [[{ externalCompanyId: "C-1" }]]],
];

const cases: [string, Call, RegExp][] = [];
for (const o of objects) {
  for (const [label, args] of badParams) {
    cases.push([
      `${o}.sync with ${label}`,
      (mk) => loose(mk[o]).sync(...args),
      /sync: parameters must be an object like \{ input: \[\.\.\.\] \}/,
    ]);
    cases.push([
      `${o}.delete with ${label}`,
      (mk) => loose(mk[o]).delete(...args),
      /delete: parameters must be an object/,
    ]);
  }
  cases.push([
    `${o}.sync with options that are not an object`,
    (mk) => loose(mk[o]).sync({ input: [] }, "fast"),
    /sync: options must be an object when given; got a string/,
  ]);
}
cases.push(
  [
    "opportunities.roles.sync with no arguments",
    (mk) => loose(mk.opportunities.roles).sync(),
    /opportunity roles sync/,
  ],
  [
    "companies.sync with input not an array",
    (mk) => mk.companies.sync(loose({ input: "C-1" })),
    /input must be an array/,
  ],
  [
    "companies.sync with an unknown action",
    (mk) => mk.companies.sync(loose({ action: "upsert", input: [] })),
    /action/,
  ],
  ["capabilities.get with no object", (mk) => loose(mk.capabilities).get(), /one of companies, opportunities/],
  ["capabilities.get with an unknown object", (mk) => loose(mk.capabilities).get("leads"), /got "leads"/],
  ["bulk.leads.extract with no arguments", (mk) => loose(mk.bulk.leads).extract(), /bulk\.leads\.extract: parameters/],
  ["bulk.activities.extract with null", (mk) => loose(mk.bulk.activities).extract(null), /bulk\.activities\.extract/],
  ["bulk.leads.status with no id", (mk) => loose(mk.bulk.leads).status(), /bulk\.leads\.status exportId/],
  ["bulk.leads.cancel with an empty id", (mk) => mk.bulk.leads.cancel(""), /bulk\.leads\.cancel exportId/],
  ["activities.list with no arguments", (mk) => loose(mk.activities).list().toArray(), /nextPageToken is required/],
  ["activities.pagingToken with no date", (mk) => loose(mk.activities).pagingToken(), /since must be a valid date/],
  ["companies.get with no arguments", (mk) => loose(mk.companies).get().toArray(), /filterType is required/],
);

describe("resource methods called with missing or invalid arguments", () => {
  it.each(cases)("%s: a typed MarketoValidationError naming what is wrong, nothing sent", async (_, call, message) => {
    const { mk, sent } = client();
    const e = await failure(() => call(mk));
    expect(e).toBeInstanceOf(MarketoValidationError);
    expect(isMarketoError(e)).toBe(true);
    expect((e as MarketoValidationError).code).toBe("VALIDATION");
    expect((e as Error).message).toMatch(message);
    expect(sent).toEqual([]);
  });

  it("new MarketoClient() with no options is a MarketoConfigError, not a TypeError", async () => {
    const e = await failure(() => new MarketoClient(loose(undefined)));
    expect(isMarketoError(e)).toBe(true);
    expect((e as { code: string }).code).toBe("CONFIG");
  });
});
