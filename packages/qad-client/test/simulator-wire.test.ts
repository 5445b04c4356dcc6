// The REST simulator implements the wire format on its own (filter grammar, entity paths, browse ids), so these
// tests catch a client whose filter encoder or default paths are wrong: the simulator refuses, or answers
// differently, instead of agreeing with the client's own codec.
import { type Customer, ENTITY_KINDS, encodeFilter, QadClient, QadHttpError, where } from "@ml/qad-client";
import { startQadSimulator } from "@ml/qad-client/testing";
import { describe, expect, it } from "vitest";
import { parseSimFilter, SimFilterError } from "../src/testing/rest-filter.js";

const HOSTILE = ["Smith, Jones", "a\\b", "ends with \\", ",", "\\,", "x,ge,1,literal", "C\\\\,,9", "Ünïcødé, 東京"];

/** A planted wrong encoder: the grammar without its escapes, as a careless client would write it. */
const naive = (field: string, op: string, value: string) => `${field},${op},${value},literal`;

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

async function tokenOf(sim: Awaited<ReturnType<typeof startQadSimulator>>): Promise<string> {
  const res = await fetch(`${sim.tenantUrl}/oauth/token`, {
    method: "POST",
    body: new URLSearchParams({
      client_id: sim.credentials.clientId,
      grant_type: "password",
      username: sim.credentials.username,
      password: sim.credentials.password,
    }),
  });
  return ((await res.json()) as { access_token: string }).access_token;
}

describe("simulator wire format (independent of the client's codecs)", () => {
  it("decodes what the client encodes back to the same values, hostile ones included", () => {
    for (const v of HOSTILE) {
      expect(parseSimFilter(encodeFilter(where("name").cn(v)))).toEqual(["name", "cn", v, "literal"]);
      expect(parseSimFilter(encodeFilter(where("customerCode").range(v, `${v}~`)))).toEqual([
        "customerCode",
        "rg",
        v,
        "literal",
        `${v}~`,
        "literal",
      ]);
    }
  });

  it("refuses a wrongly encoded filter, or reads a different value from it", () => {
    // Unescaped commas change the part count; unescaped backslashes are bad escapes.
    for (const v of ["Smith, Jones", "x,ge,1,literal", ","]) {
      expect(() => parseSimFilter(naive("name", "cn", v))).toThrow(SimFilterError);
    }
    expect(() => parseSimFilter(naive("name", "cn", "a\\b"))).toThrow(SimFilterError);
    // Doubled escaping reads as another value, not the one meant.
    expect(parseSimFilter("name,cn,a\\\\\\\\b,literal")[2]).toBe("a\\\\b");
    // The grammar's markers and operators are checked, not assumed.
    expect(() => parseSimFilter("name,cn,x")).toThrow(/parts/);
    expect(() => parseSimFilter("name,cn,x,value")).toThrow(/literal/);
    expect(() => parseSimFilter("name,like,x,literal")).toThrow(/operator/);
    expect(() => parseSimFilter("customerCode,rg,a,literal,b")).toThrow(/parts/);
    expect(() => parseSimFilter("1bad,eq,x,literal")).toThrow(/field/);
  });

  it("answers 400 on the wire to a wrongly encoded browse filter", async () => {
    const sim = await startQadSimulator({ customers: 3, seed: 3 });
    try {
      const token = await tokenOf(sim);
      const browse = (filter: string) => {
        const q = new URLSearchParams({
          browseId: "urn:browse:com.qad.base.customer.customerV2s",
          page: "1",
          pageSize: "10",
          pageAction: "first",
          callId: "c1",
          filter,
        });
        return fetch(`${sim.tenantUrl}/api/qracore/browses?${q}`, {
          headers: { authorization: `Bearer ${token}`, "x-qad-workspace-id": "10USA_10USACO" },
        });
      };
      expect((await browse(encodeFilter(where("name").cn("Smith, Jones")))).status).toBe(200);
      const bad = await browse(naive("name", "cn", "Smith, Jones"));
      expect(bad.status).toBe(400);
      expect(JSON.stringify(await bad.json())).toMatch(/bad filter/);
    } finally {
      await sim.close();
    }
  });

  it("joins contacts of customers whose keys hold commas and backslashes (the client's escaping on the wire)", async () => {
    const sim = await startQadSimulator({ customers: 4, seed: 5 });
    try {
      const codes = ["K,1", "K\\2", "K\\,3", "K,,4\\"];
      for (const [i, code] of codes.entries()) {
        sim.data.add({
          customerCode: code,
          contacts: [{ contactCode: `${code}-c`, name: `Contact ${i}`, isPrimary: true }],
        });
      }
      const qad = new QadClient({ ...sim.clientOptions });
      // One customer per page: each page's contacts are read with a range from its key to its key, so every awkward
      // key goes on the wire as a filter value.
      const read = (await collect(qad.customers.list({ pageSize: 1 }))) as Customer[];
      const byCode = new Map(read.map((c) => [c.customerCode, c]));
      for (const [i, code] of codes.entries()) {
        expect(byCode.get(code)?.contacts).toEqual([
          { contactCode: `${code}-c`, name: `Contact ${i}`, isPrimary: true },
        ]);
      }
      // Every stored customer came back with exactly its own contacts.
      for (const c of sim.data.customers()) {
        expect(byCode.get(c.customerCode)?.contacts).toEqual(c.contacts);
      }
      // The filters the simulator received decode, with its own reader, to the keys meant.
      const ranges = sim
        .inspect()
        .filters.map(parseSimFilter)
        .filter((p) => p[0] === "customerCode");
      expect(ranges.length).toBeGreaterThan(0);
      for (const code of codes) expect(ranges.some((p) => p[2] === code && p[4] === code)).toBe(true);
    } finally {
      await sim.close();
    }
  });

  it("serves every document kind at the client's default paths and browse ids", async () => {
    const sim = await startQadSimulator({ customers: 6, documents: 4, seed: 2 });
    try {
      const qad = new QadClient({ ...sim.clientOptions });
      for (const kind of ENTITY_KINDS) {
        const rows = await collect(qad.resource(kind).list());
        expect(rows.length, kind).toBe(kind === "customers" ? 6 : 4);
      }
      const first = sim.data.customers()[0]!;
      const got = await qad.customers.get({ sharedSetCode: first.sharedSetCode, customerCode: first.customerCode });
      expect(got.map((c) => c.customerCode)).toEqual([first.customerCode]);
    } finally {
      await sim.close();
    }
  });

  it("refuses a document path or browse id it does not know (a wrong default would fail here)", async () => {
    const sim = await startQadSimulator({ customers: 2, seed: 2, apiDescriptionPath: false });
    try {
      const wrongPath = new QadClient({
        ...sim.clientOptions,
        entities: { customers: { path: "api/erp/customers" } },
        allowedPaths: ["api/erp/customers", "api/qracore/browses", "api/qracore/browses/totalCount"],
      });
      await expect(wrongPath.customers.get({ sharedSetCode: "SS1", customerCode: "C000001" })).rejects.toSatisfy(
        (e) => e instanceof QadHttpError && e.status === 404,
      );
      const wrongBrowse = new QadClient({
        ...sim.clientOptions,
        entities: { customers: { browseId: "urn:browse:com.qad.base.customer.customers" } },
      });
      await expect(collect(wrongBrowse.customers.list())).rejects.toSatisfy(
        (e) => e instanceof QadHttpError && e.status === 400,
      );
    } finally {
      await sim.close();
    }
  });
});
