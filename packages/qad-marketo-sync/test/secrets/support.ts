/**
 * Helpers of the secrets suite: planted values, a logger that keeps every call, renderings of anything a user could
 * print or store, and the scan that looks for any planted value (or a piece of one) in them.
 */
import { randomBytes } from "node:crypto";
import { inspect } from "node:util";
import { expect } from "vitest";

/** A unique value to plant: `<label>-<24 hex>`; its random part is looked for whole and in pieces. */
export function plant(label: string): string {
  return `${label}-${randomBytes(12).toString("hex")}`;
}

/** A token prefix to give a simulator (`tokenPrefix`): only letters and digits, so it fits a JWT segment. */
export function plantPrefix(label: string): string {
  return `${label}${randomBytes(8).toString("hex")}`;
}

/** The set of values that must never be shown, by name. */
export class Secrets {
  readonly #values = new Map<string, string>();

  /** Remembers `value` under `name` (tokens are added as the fetch spy sees them). */
  add(name: string, value: string | undefined): void {
    if (value && value.length >= 8) this.#values.set(`${name}:${value}`, value);
  }

  /** Every needle: the whole value, and the first and last 8 characters of its random material (a cut value). */
  needles(): { name: string; needle: string }[] {
    const out: { name: string; needle: string }[] = [];
    for (const [key, value] of this.#values) {
      const name = key.slice(0, key.indexOf(":"));
      out.push({ name, needle: value });
      for (const part of randomParts(value)) {
        if (part.length >= 16) out.push({ name, needle: part.slice(0, 8) }, { name, needle: part.slice(-8) });
      }
    }
    return out;
  }

  get size(): number {
    return this.#values.size;
  }
}

/** The pieces of a value that are random (a JWT's header is not; its payload and signature are). */
function randomParts(value: string): string[] {
  const jwt = value.split(".");
  if (jwt.length === 3) return [jwt[1] ?? "", jwt[2] ?? ""];
  return [value.replace(/^[a-z]+-/, "")];
}

/** A pino-compatible logger keeping every call's arguments, at every level (debug included). */
export function capturingLogger(): {
  logger: Record<"debug" | "info" | "warn" | "error" | "trace" | "fatal", (...args: unknown[]) => void>;
  calls: { level: string; args: unknown[] }[];
} {
  const calls: { level: string; args: unknown[] }[] = [];
  const at =
    (level: string) =>
    (...args: unknown[]) =>
      calls.push({ level, args });
  return {
    calls,
    logger: {
      trace: at("trace"),
      debug: at("debug"),
      info: at("info"),
      warn: at("warn"),
      error: at("error"),
      fatal: at("fatal"),
    },
  };
}

/** Every way a value can be printed or serialised: inspect with hidden fields at any depth, JSON, and for errors
 * the message, stack and `String()` of each link of the cause chain (and of AggregateError members). */
export function render(value: unknown): string {
  const out: string[] = [];
  out.push(inspect(value, { showHidden: true, depth: Number.POSITIVE_INFINITY, getters: true }));
  try {
    out.push(JSON.stringify(value, errorReplacer) ?? "");
  } catch (e) {
    out.push(`[unserialisable: ${(e as Error).message}]`);
  }
  const seen = new Set<unknown>();
  const walk = (e: unknown, depth: number): void => {
    if (depth > 20 || e === null || e === undefined || seen.has(e)) return;
    seen.add(e);
    if (e instanceof Error) {
      out.push(e.message, e.stack ?? "", String(e));
      for (const k of Reflect.ownKeys(e)) {
        try {
          out.push(inspect((e as unknown as Record<PropertyKey, unknown>)[k], { showHidden: true, depth: 8 }));
        } catch {
          // a throwing getter shows nothing
        }
      }
      walk((e as { cause?: unknown }).cause, depth + 1);
      if (e instanceof AggregateError) for (const m of e.errors) walk(m, depth + 1);
    } else if (typeof e !== "object") {
      out.push(String(e));
    }
  };
  walk(value, 0);
  return out.join("\n");
}

function errorReplacer(_key: string, v: unknown): unknown {
  if (v instanceof Error) {
    return { ...v, name: v.name, message: v.message, stack: v.stack, cause: (v as { cause?: unknown }).cause };
  }
  if (typeof v === "bigint") return String(v);
  return v;
}

/** Renders log calls (each argument rendered). */
export function renderLogs(calls: readonly { level: string; args: unknown[] }[]): string {
  return calls.map((c) => `${c.level} ${c.args.map(render).join(" ")}`).join("\n");
}

/** Fails naming the secret and where it was found (with some context) when any needle occurs in `text`. */
export function expectClean(where: string, text: string, secrets: Secrets): void {
  const found: string[] = [];
  for (const { name, needle } of secrets.needles()) {
    const i = text.indexOf(needle);
    if (i >= 0) found.push(`${name} in ${where}: …${text.slice(Math.max(0, i - 80), i + needle.length + 40)}…`);
  }
  expect(found, found.join("\n")).toEqual([]);
}

/** Settles `p`; the rejection reason when it rejects, `undefined` when it resolves. */
export async function rejection(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => undefined,
    (e: unknown) => e,
  );
}

/** A fetch that reports every token an identity or login endpoint hands out (to add to {@link Secrets}). */
export function tokenSpy(onToken: (token: string) => void): typeof fetch {
  return async (input, init) => {
    const res = await fetch(input, init);
    const url = input instanceof Request ? input.url : String(input);
    if (/oauth\/token|\/login/.test(url)) {
      const body = await res.clone().text();
      for (const m of body.matchAll(/"(?:access_token|refresh_token|token|jwt)"\s*:\s*"([^"]+)"/g)) onToken(m[1] ?? "");
    }
    return res;
  };
}
