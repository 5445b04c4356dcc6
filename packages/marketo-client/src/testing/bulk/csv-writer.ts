/** Serialises values the way Marketo's export files do (as far as public clients observed). */

/** Field delimiter per format, as Marketo writes them: `SSV` is semicolon-separated. */
export const SIM_DELIMITERS: Record<string, string> = { CSV: ",", TSV: "\t", SSV: ";" };

/** One value as file text: `null`/`undefined` → unquoted `null`; quoted when it holds the delimiter, a quote or a line break. */
export function formatValue(value: unknown, delimiter: string): string {
  if (value === null || value === undefined) return "null";
  let text: string;
  if (typeof value === "string") text = value;
  else if (value instanceof Date) text = value.toISOString();
  else if (typeof value === "object") text = JSON.stringify(value);
  else text = String(value);
  if (text.includes(delimiter) || text.includes('"') || text.includes("\n") || text.includes("\r")) {
    return `"${text.replaceAll('"', '""')}"`;
  }
  return text;
}

/** One line (with its trailing `\n`). */
export function formatLine(values: readonly unknown[], delimiter: string): string {
  let line = "";
  for (let i = 0; i < values.length; i++) {
    if (i > 0) line += delimiter;
    line += formatValue(values[i], delimiter);
  }
  return `${line}\n`;
}

/**
 * The awkward form the `awkwardValues` fault gives a string value of row `row` (0-based): by `row % 4`, a quoted
 * multi-line text with quotes and commas, U+2028/U+2029 inside, `null` (written as the literal null), or a NUL byte.
 * Non-string values are left alone.
 */
export function awkwardValue(value: unknown, row: number): unknown {
  if (typeof value !== "string") return value;
  switch (row % 4) {
    case 0:
      return `${value}\nsecond line, "quoted", end`;
    case 1:
      return `${value}\u2028line\u2029paragraph`;
    case 2:
      return null;
    default:
      return `${value.slice(0, 1)}\0${value.slice(1)}`;
  }
}
