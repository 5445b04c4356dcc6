import { describe, expect, it } from "vitest";
import { QadConfigError } from "../../src/errors.js";
import {
  buildQxtendFilter,
  formatQadDate,
  parseQadDate,
  QAD_DATE_FORMATS,
  quoteProgressString,
} from "../../src/qxtend/index.js";
import { parseSimFilter } from "../../src/testing/qxtend/filter-eval.js";
import { seeded } from "./helpers.js";

describe("Filter dates", () => {
  it("formats in every supported session format and reads it back", () => {
    const expected: Record<string, string> = {
      "mm/dd/yy": "01/31/26",
      "dd/mm/yy": "31/01/26",
      "yy/mm/dd": "26/01/31",
      "mm/dd/yyyy": "01/31/2026",
      "dd/mm/yyyy": "31/01/2026",
      "yyyy/mm/dd": "2026/01/31",
      "dd.mm.yy": "31.01.26",
      "dd.mm.yyyy": "31.01.2026",
      "dd-mm-yy": "31-01-26",
      "dd-mm-yyyy": "31-01-2026",
    };
    for (const f of QAD_DATE_FORMATS) {
      expect(formatQadDate("2026-01-31", f)).toBe(expected[f]);
      expect(parseQadDate(expected[f]!, f)).toBe("2026-01-31");
    }
  });

  it("two-digit years follow the century window and refuse dates outside it", () => {
    expect(formatQadDate("1999-12-31", "mm/dd/yy")).toBe("12/31/99");
    expect(parseQadDate("12/31/99", "mm/dd/yy")).toBe("1999-12-31");
    expect(parseQadDate("01/01/49", "mm/dd/yy")).toBe("2049-01-01");
    expect(() => formatQadDate("2050-01-01", "mm/dd/yy")).toThrow(QadConfigError);
    expect(() => formatQadDate("1949-12-31", "mm/dd/yy")).toThrow(QadConfigError);
    expect(formatQadDate("2060-01-01", "mm/dd/yy", 70)).toBe("01/01/60");
    expect(() => formatQadDate("2026-1-31", "mm/dd/yy")).toThrow(QadConfigError);
  });

  it("reads ISO dates (Progress XML serialisation) and rejects impossible ones", () => {
    expect(parseQadDate("2026-02-03", "dd/mm/yy")).toBe("2026-02-03");
    expect(parseQadDate("2026-02-03T00:00:00", "dd/mm/yy")).toBe("2026-02-03");
    expect(parseQadDate("02/30/26", "mm/dd/yy")).toBeUndefined();
    expect(parseQadDate("13/01/26", "mm/dd/yy")).toBeUndefined();
    expect(parseQadDate("garbage", "mm/dd/yy")).toBeUndefined();
  });
});

describe("Progress string quoting", () => {
  it("escapes the ABL escape characters, quotes, include braces and control characters", () => {
    expect(quoteProgressString("C100")).toBe('"C100"');
    expect(quoteProgressString('A"B')).toBe('"A~"B"');
    expect(quoteProgressString("a~b")).toBe('"a~~b"');
    expect(quoteProgressString("a\\b")).toBe('"a~\\b"');
    expect(quoteProgressString("{&x}")).toBe('"~{&x}"');
    expect(quoteProgressString("it's")).toBe(`"it~'s"`);
    expect(quoteProgressString("a\nb\u0001")).toBe('"a~012b~001"');
    expect(quoteProgressString("日本😀")).toBe('"日本😀"');
  });

  it("round-trips through the simulator's independent ABL tokenizer for hostile and random keys", () => {
    const hostile = [
      '"',
      "~",
      '~"',
      '"~',
      "\\",
      '\\"',
      "{",
      "}",
      "'",
      "]]>",
      "<&>",
      "a and b",
      'x > "y"',
      "~012",
      "\t\n\r",
      "日本😀",
      "",
    ];
    const rnd = seeded(42);
    const alphabet = ['"', "~", "\\", "'", "{", " ", "a", "Z", "0", ">", "<", "&", "\n", "é", "😀", "/"];
    for (let i = 0; i < 500; i++) {
      const len = Math.floor(rnd() * 12);
      hostile.push(Array.from({ length: len }, () => alphabet[Math.floor(rnd() * alphabet.length)]).join(""));
    }
    for (const key of hostile) {
      const filter = buildQxtendFilter({
        dateField: "cm_mod_date",
        keyField: "cm_addr",
        sinceDate: "2026-03-04",
        afterKey: key,
        dateFormat: "mm/dd/yy",
      });
      const clauses = parseSimFilter(filter, { date: "cm_mod_date", key: "cm_addr" }, (l) =>
        parseQadDate(l, "mm/dd/yy"),
      );
      expect(clauses).toEqual([
        { kind: "date", field: "cm_mod_date", op: ">=", date: "2026-03-04" },
        { kind: "key", field: "cm_addr", op: ">", value: key },
      ]);
    }
  });

  it("builds nothing, date only, key only, or both", () => {
    const p = { dateField: "cm_mod_date", keyField: "cm_addr", dateFormat: "mm/dd/yy" } as const;
    expect(buildQxtendFilter(p)).toBe("");
    expect(buildQxtendFilter({ ...p, sinceDate: "2026-01-01" })).toBe("cm_mod_date >= 01/01/26");
    expect(buildQxtendFilter({ ...p, afterKey: "C1" })).toBe('cm_addr > "C1"');
    expect(buildQxtendFilter({ ...p, sinceDate: "2026-01-01", afterKey: "C1" })).toBe(
      'cm_mod_date >= 01/01/26 and cm_addr > "C1"',
    );
    // Before the two-digit window: no date clause (everything), never a wrong century.
    expect(buildQxtendFilter({ ...p, sinceDate: "1900-01-01", afterKey: "C1" })).toBe('cm_addr > "C1"');
    expect(buildQxtendFilter({ ...p, dateFormat: "mm/dd/yyyy", sinceDate: "1900-01-01" })).toBe(
      "cm_mod_date >= 01/01/1900",
    );
    expect(() => buildQxtendFilter({ ...p, sinceDate: "2051-01-01" })).toThrow(QadConfigError);
  });

  it("the simulator refuses filter shapes a profile would not accept", () => {
    const parse = (f: string) =>
      parseSimFilter(f, { date: "cm_mod_date", key: "cm_addr" }, (l) => parseQadDate(l, "mm/dd/yy"));
    expect(() => parse('cm_addr = "x"')).toThrow(/unsupported/);
    expect(() => parse('cm_sort > "x"')).toThrow(/unsupported/);
    expect(() => parse('cm_addr > "x" or cm_addr > "y"')).toThrow(/AND/);
    expect(() => parse('cm_addr > "x')).toThrow(/unterminated/);
    expect(() => parse("cm_mod_date >= 02/30/26")).toThrow(/invalid date/);
    expect(parse("cm_mod_date GE 02/03/26")).toEqual([
      { kind: "date", field: "cm_mod_date", op: ">=", date: "2026-02-03" },
    ]);
  });
});
