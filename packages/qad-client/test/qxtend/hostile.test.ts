import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createQxtendBackend } from "../../src/qxtend/index.js";
import { customerSchema } from "../../src/records/customer.js";
import { clientOptions, collect, MemoryStore, makeCustomers, startQxtendServer, testDeps } from "./helpers.js";

const HOSTILE_CODES = [
  'A"quote',
  "A~tilde",
  "A\\back",
  "A{brace}",
  "A'apos",
  "A]]>cdata",
  "A<tag>",
  "A&amp;",
  'A~"both',
  "A and B > C",
  "Ä日本😀",
  "A\ttab",
  "A\u007fdel",
  "Z\u0001ctl",
];

const customers = makeCustomers(HOSTILE_CODES.length, 21).map((c, i) => ({
  ...c,
  customerCode: HOSTILE_CODES[i]!,
  name: `<script>alert("x")</script> & ]]> ${HOSTILE_CODES[i]}`,
  email: `"o'hara"@example.com`,
  address: { ...c.address, street1: "Straße 1 <b>&nbsp;</b> ]]>", city: "Zürich 😀" },
  contacts: [{ contactCode: `K&<${i}>`, name: 'Ünïcødé ]]> "q"', isPrimary: true }],
}));

let sim: Awaited<ReturnType<typeof startQxtendServer>>;
beforeAll(async () => {
  sim = await startQxtendServer(new MemoryStore(customers));
});
afterAll(() => sim.close());

describe("hostile values over real HTTP", () => {
  it("keys with quotes, ABL escapes, markup and unicode page correctly by key; every value survives intact", async () => {
    const deps = testDeps();
    const pages = await collect(createQxtendBackend(clientOptions(sim.url), deps).pages("customers", { pageSize: 2 }));
    expect(pages).toHaveLength(Math.ceil(HOSTILE_CODES.length / 2));
    const records = pages.flat().map((r) => customerSchema.parse(r));
    expect(records.map((r) => r.customerCode)).toEqual([...HOSTILE_CODES].sort());
    const byCode = new Map(customers.map((c) => [c.customerCode, c]));
    for (const r of records) {
      const src = byCode.get(r.customerCode)!;
      expect(r.name).toBe(src.name);
      expect(r.email).toBe(src.email);
      expect(r.address).toEqual(src.address);
      expect(r.contacts).toEqual(src.contacts);
    }
    // Requests on the wire never carried a raw hostile value.
    for (const body of deps.fetchCalls) {
      expect(body).not.toContain("<tag>");
      expect(body).not.toContain("]]>");
      expect(body).not.toMatch(/[\u0001\u007f]/);
    }
  });
});
