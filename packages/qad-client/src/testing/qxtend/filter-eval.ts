/**
 * The Filter subset the simulator understands, parsed independently of the client's builder (so a quoting bug in
 * the client shows up as a mismatch instead of cancelling out): `<field> >= <date>` and `<field> > "<string>"`
 * clauses joined by `and`. Anything else is refused, as a real profile refuses an expression it cannot compile.
 */

/** One accepted clause. */
export type SimFilterClause =
  | { kind: "date"; field: string; op: ">=" | ">"; date: string }
  | { kind: "key"; field: string; op: ">" | ">="; value: string };

type Token =
  | { t: "ident"; v: string }
  | { t: "op"; v: string }
  | { t: "string"; v: string }
  | { t: "date"; v: string }
  | { t: "number"; v: string };

const OCTAL = /^[0-7]{3}$/;

function tokenize(input: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < input.length) {
    const ch = input[i]!;
    if (/\s/.test(ch)) {
      i++;
      continue;
    }
    if (ch === '"' || ch === "'") {
      const quote = ch;
      let v = "";
      i++;
      for (;;) {
        if (i >= input.length) throw new Error("unterminated string");
        const c = input[i]!;
        if (c === "~" || c === "\\") {
          const rest = input.slice(i + 1, i + 4);
          if (OCTAL.test(rest)) {
            v += String.fromCharCode(Number.parseInt(rest, 8));
            i += 4;
            continue;
          }
          const n = input[i + 1];
          if (n === undefined) throw new Error("dangling escape");
          v += n === "n" ? "\n" : n === "t" ? "\t" : n === "r" ? "\r" : n;
          i += 2;
          continue;
        }
        if (c === quote) {
          // A doubled quote is a literal quote in ABL.
          if (input[i + 1] === quote) {
            v += quote;
            i += 2;
            continue;
          }
          i++;
          break;
        }
        v += c;
        i++;
      }
      out.push({ t: "string", v });
      continue;
    }
    const rest = input.slice(i);
    const date = /^\d{1,4}[/.-]\d{1,2}[/.-]\d{1,4}/.exec(rest);
    if (date) {
      out.push({ t: "date", v: date[0] });
      i += date[0].length;
      continue;
    }
    const num = /^\d+/.exec(rest);
    if (num) {
      out.push({ t: "number", v: num[0] });
      i += num[0].length;
      continue;
    }
    const op = /^(>=|<=|<>|>|<|=)/.exec(rest);
    if (op) {
      out.push({ t: "op", v: op[0] });
      i += op[0].length;
      continue;
    }
    const ident = /^[A-Za-z_][A-Za-z0-9_#$%&-]*/.exec(rest);
    if (ident) {
      out.push({ t: "ident", v: ident[0] });
      i += ident[0].length;
      continue;
    }
    throw new Error(`unexpected character ${JSON.stringify(ch)}`);
  }
  return out;
}

const WORD_OPS: Record<string, string> = { ge: ">=", gt: ">", le: "<=", lt: "<", eq: "=", ne: "<>" };

/**
 * Parses a Filter into clauses. `parseDate` turns a date literal into `YYYY-MM-DD` (undefined when invalid).
 * Throws an Error whose message is what the simulator reports in `tt_msg_desc`.
 */
export function parseSimFilter(
  filter: string,
  fields: { date: string; key: string },
  parseDate: (literal: string) => string | undefined,
): SimFilterClause[] {
  const tokens = tokenize(filter);
  const clauses: SimFilterClause[] = [];
  let i = 0;
  while (i < tokens.length) {
    if (clauses.length > 0) {
      const and = tokens[i];
      if (and?.t !== "ident" || and.v.toLowerCase() !== "and") throw new Error("only AND-joined clauses are supported");
      i++;
    }
    const field = tokens[i];
    const opTok = tokens[i + 1];
    const value = tokens[i + 2];
    i += 3;
    if (field?.t !== "ident" || !opTok || !value) throw new Error("expected <field> <operator> <value>");
    const op =
      opTok.t === "op" ? opTok.v : opTok.t === "ident" ? (WORD_OPS[opTok.v.toLowerCase()] ?? opTok.v) : undefined;
    const name = field.v.toLowerCase();
    if (name === fields.date.toLowerCase() && (op === ">=" || op === ">") && value.t === "date") {
      const date = parseDate(value.v);
      if (!date) throw new Error(`invalid date literal ${value.v}`);
      clauses.push({ kind: "date", field: fields.date, op, date });
    } else if (name === fields.key.toLowerCase() && (op === ">" || op === ">=") && value.t === "string") {
      clauses.push({ kind: "key", field: fields.key, op, value: value.v });
    } else {
      throw new Error(`unsupported filter clause: ${field.v} ${opTok.v} ${value.v}`);
    }
  }
  return clauses;
}
