import { afterEach, describe, expect, it } from "vitest";
import { type ParseRowsOptions, parseBatches } from "../../src/bulk/csv.js";
import { MarketoCsvError } from "../../src/bulk/index.js";
import { LEAD_FIELDS, makeLeads } from "./helpers/data.js";
import { type Harness, startHarness } from "./helpers/harness.js";

async function* once(text: string): AsyncGenerator<Uint8Array> {
  yield Buffer.from(text);
}

const base: ParseRowsOptions = {
  format: "SSV",
  nullLiteral: true,
  stripNul: true,
  skipRows: 0,
  errorContext: () => ({ exportId: "X-1" }),
};

async function rowsOf(text: string, opts: Partial<ParseRowsOptions> = {}) {
  const out: Record<string, string | null>[] = [];
  for await (const batch of parseBatches(once(text), { ...base, ...opts })) out.push(...batch);
  return out;
}

describe("SSV is semicolon-separated (client side)", () => {
  it("reads a semicolon-separated file: spaces stay inside values, quoted semicolons too", async () => {
    // Written by hand, not by the simulator's writer: the codec is checked against the wire format itself.
    const file = 'id;name;notes\n1;Ada Lovelace;first programmer\n2;Grace Hopper;"COBOL; compilers"\n';
    expect(await rowsOf(file, { expectedHeader: ["id", "name", "notes"] })).toEqual([
      { id: "1", name: "Ada Lovelace", notes: "first programmer" },
      { id: "2", name: "Grace Hopper", notes: "COBOL; compilers" },
    ]);
  });

  it.each([
    ["space-separated", "id name notes\n1 Ada x\n"],
    ["comma-separated", "id,name,notes\n1,Ada,x\n"],
    ["tab-separated", "id\tname\tnotes\n1\tAda\tx\n"],
  ])("a %s file read as SSV is a typed error, never silently wrong rows", async (_label, file) => {
    const err = await rowsOf(file, { expectedHeader: ["id", "name", "notes"] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MarketoCsvError);
    expect(err).toMatchObject({ code: "BULK_HEADER_MISMATCH", exportId: "X-1", line: 1 });
    expect((err as Error).message).toMatch(/SSV/);
  });

  it("a CSV header that does not match the requested columns is a typed error too", async () => {
    const err = await rowsOf("id,email\n1,a@x.com\n", {
      format: "CSV",
      expectedHeader: ["id", "email", "notes"],
    }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "BULK_HEADER_MISMATCH" });
  });

  it("accepts the requested columns in another order (rows are keyed by the header)", async () => {
    expect(await rowsOf("b;a\n2;1\n", { expectedHeader: ["a", "b"] })).toEqual([{ a: "1", b: "2" }]);
  });

  it("with only a required subset (default activity columns), extra columns pass and a glued header fails", async () => {
    expect(
      await rowsOf("leadId;activityDate;extra\n1;2026;x\n", { requiredHeader: ["leadId", "activityDate"] }),
    ).toEqual([{ leadId: "1", activityDate: "2026", extra: "x" }]);
    await expect(
      rowsOf("leadId,activityDate\n1,2026\n", { requiredHeader: ["leadId", "activityDate"] }),
    ).rejects.toMatchObject({ code: "BULK_HEADER_MISMATCH" });
  });
});

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe("SSV is semicolon-separated (simulator side)", () => {
  it("the simulator writes SSV files with semicolons between columns and quotes values holding one", async () => {
    const leads: Record<string, unknown>[] = makeLeads(3).map((l, i) => ({
      ...l,
      notes: i === 1 ? "a; b" : `note ${i}`,
    }));
    h = await startHarness({ leads, leadFields: LEAD_FIELDS });
    const auth = { authorization: "Bearer token-A", "content-type": "application/json" };
    const created = (await (
      await fetch(`${h.url}/v1/leads/export/create.json`, {
        method: "POST",
        headers: auth,
        body: JSON.stringify({
          fields: ["id", "notes"],
          format: "SSV",
          filter: { createdAt: { startAt: "2026-01-01T00:00:00Z", endAt: "2026-01-31T00:00:00Z" } },
        }),
      })
    ).json()) as { result: { exportId: string }[] };
    const id = created.result[0]!.exportId;
    await fetch(`${h.url}/v1/leads/export/${id}/enqueue.json`, { method: "POST", headers: auth });
    for (;;) {
      const st = (await (await fetch(`${h.url}/v1/leads/export/${id}/status.json`, { headers: auth })).json()) as {
        result: { status: string }[];
      };
      if (st.result[0]?.status === "Completed") break;
      await new Promise((r) => setTimeout(r, 10));
    }
    const text = await (await fetch(`${h.url}/v1/leads/export/${id}/file.json`, { headers: auth })).text();
    expect(text).toBe('id;notes\n1;note 0\n2;"a; b"\n3;note 2\n');
  });

  it("an SSV extract through the client round-trips values with spaces and semicolons", async () => {
    const leads: Record<string, unknown>[] = makeLeads(4).map((l, i) => ({
      ...l,
      notes: ["x y", "p;q", "plain", "a ; b"][i] as string,
    }));
    h = await startHarness({ leads, leadFields: LEAD_FIELDS });
    const rows: Record<string, string | null>[] = [];
    for await (const row of h.bulk.leads.extract(
      {
        fields: ["id", "notes"],
        format: "SSV",
        filter: { createdAt: { startAt: "2026-01-01T00:00:00Z", endAt: "2026-01-31T00:00:00Z" } },
      },
      { poll: { initialDelayMs: 5, maxDelayMs: 20 } },
    ))
      rows.push(row);
    expect(rows).toEqual(leads.map((l) => ({ id: l["id"], notes: l["notes"] })));
  });
});
