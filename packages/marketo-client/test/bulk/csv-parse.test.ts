import { describe, expect, it } from "vitest";
import { type ParseRowsOptions, parseBatches } from "../../src/bulk/csv.js";
import { MarketoCsvError } from "../../src/bulk/index.js";
import { formatLine } from "../../src/testing/bulk/csv-writer.js";

async function* chunksOf(data: Buffer, size: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < data.length; i += size) yield data.subarray(i, i + size);
}

const defaults: ParseRowsOptions = {
  format: "CSV",
  nullLiteral: true,
  stripNul: true,
  skipRows: 0,
  errorContext: () => ({}),
};

/** Every row of the file, and the size of each batch handed out. */
async function parse(data: Buffer | string, opts: Partial<ParseRowsOptions> = {}, chunk = 7) {
  const rows: Record<string, string | null>[] = [];
  const batches: number[] = [];
  const buf = typeof data === "string" ? Buffer.from(data) : data;
  for await (const batch of parseBatches(chunksOf(buf, chunk), { ...defaults, ...opts })) {
    batches.push(batch.length);
    rows.push(...batch);
  }
  return { rows, batches };
}

const header = ["id", "text"];
const awkward = [
  'multi\nline "quoted", value',
  "crlf\r\ninside",
  "ls\u2028ps\u2029end",
  "emoji 😀 漢字 ✓",
  "",
  null,
  "nul\0byte",
];

describe("streaming CSV parsing", () => {
  it.each([1, 2, 3, 5, 64, 4096])(
    "parses awkward values whatever the chunk boundaries (chunk %i bytes)",
    async (chunk) => {
      const file = formatLine(header, ",") + awkward.map((v, i) => formatLine([i, v], ",")).join("");
      const { rows, batches } = await parse(file, {}, chunk);
      expect(rows).toEqual(
        awkward.map((v, i) => ({ id: String(i), text: v === null ? null : v.replaceAll("\0", "") })),
      );
      expect(batches.reduce((a, b) => a + b, 0)).toBe(awkward.length);
      expect(batches.every((b) => b > 0)).toBe(true);
    },
  );

  it("keeps NUL bytes and the text null when asked", async () => {
    const file = "id,text\n1,nul\0byte\n2,null\n";
    const { rows } = await parse(file, { stripNul: false, nullLiteral: false });
    expect(rows).toEqual([
      { id: "1", text: "nul\0byte" },
      { id: "2", text: "null" },
    ]);
  });

  it.each([
    ["TSV", "\t"],
    ["SSV", ";"],
  ] as const)("parses %s", async (format, delimiter) => {
    const file = formatLine(header, delimiter) + awkward.map((v, i) => formatLine([i, v], delimiter)).join("");
    const { rows } = await parse(file, { format });
    expect(rows.map((r) => r["text"])).toEqual(awkward.map((v) => (v === null ? null : v.replaceAll("\0", ""))));
  });

  it("accepts CRLF line ends, a BOM and a missing final newline", async () => {
    const { rows } = await parse("\ufeffid,text\r\n1,a\r\n2,b");
    expect(rows).toEqual([
      { id: "1", text: "a" },
      { id: "2", text: "b" },
    ]);
  });

  it("skips rows already delivered and counts them", async () => {
    const { rows } = await parse("id\n1\n2\n3\n4\n", { skipRows: 2 });
    expect(rows).toEqual([{ id: "3" }, { id: "4" }]);
  });

  it("throws MarketoCsvError on an unclosed quote and never yields the partial last row", async () => {
    const p = parse('id,text\n1,a\n2,b\n3,"never closed\n');
    await expect(p).rejects.toBeInstanceOf(MarketoCsvError);
    await expect(p).rejects.toMatchObject({ code: "CSV_QUOTE_NOT_CLOSED" });
  });

  it("throws MarketoCsvError on a short last row (cut mid-record)", async () => {
    const rows: unknown[] = [];
    const err = await (async () => {
      try {
        for await (const batch of parseBatches(chunksOf(Buffer.from("id,a,b\n1,x,y\n2,x"), 4), defaults))
          rows.push(...batch);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(MarketoCsvError);
    // The partial row 2 is never yielded; row 1 was still held back (the latest row waits for the next one).
    expect(rows).toEqual([]);
  });

  it("checks the row count against numberOfRecords before releasing the last row", async () => {
    const rows: unknown[] = [];
    await expect(
      (async () => {
        for await (const batch of parseBatches(chunksOf(Buffer.from("id\n1\n2\n"), 3), {
          ...defaults,
          expectedRows: 3,
        }))
          rows.push(...batch);
      })(),
    ).rejects.toMatchObject({ code: "BULK_TRUNCATED" });
    // Rows parsed only at the end of the file wait for the count check: none is released.
    expect(rows).toEqual([]);
  });
});
