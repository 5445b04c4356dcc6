/** A small madge-like import graph of a source folder: relative `import`/`export … from` and `import("…")` edges. */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

/** Files (relative to `root`, `/`-separated) → the files they import. */
export type ImportGraph = Map<string, string[]>;

const SPEC =
  /(?:import|export)\s[^;]*?\sfrom\s*["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)|^import\s*["']([^"']+)["']/gm;

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return tsFiles(p);
    return p.endsWith(".ts") && !p.endsWith(".d.ts") ? [p] : [];
  });
}

/** Builds the graph of every `.ts` file under `root` (type-only imports included: they still couple layers). */
export function importGraph(root: string): ImportGraph {
  const graph: ImportGraph = new Map();
  const rel = (p: string) => relative(root, p).split("\\").join("/");
  for (const file of tsFiles(root)) {
    const text = readFileSync(file, "utf8");
    const deps = new Set<string>();
    for (const m of text.matchAll(SPEC)) {
      const spec = m[1] ?? m[2] ?? m[3];
      if (!spec?.startsWith(".")) continue;
      deps.add(rel(resolve(dirname(file), spec.replace(/\.js$/, ".ts"))));
    }
    graph.set(rel(file), [...deps]);
  }
  return graph;
}

/** Every elementary cycle found by a depth-first search, each as the list of files around it. */
export function cycles(graph: ImportGraph): string[][] {
  const found: string[][] = [];
  const seen = new Set<string>();
  const state = new Map<string, "open" | "done">();
  const stack: string[] = [];
  const visit = (n: string) => {
    state.set(n, "open");
    stack.push(n);
    for (const d of graph.get(n) ?? []) {
      if (state.get(d) === "open") {
        const cyc = stack.slice(stack.indexOf(d));
        const key = [...cyc].sort().join(">");
        if (!seen.has(key)) {
          seen.add(key);
          found.push(cyc);
        }
      } else if (!state.has(d)) visit(d);
    }
    stack.pop();
    state.set(n, "done");
  };
  for (const n of [...graph.keys()].sort()) if (!state.has(n)) visit(n);
  return found;
}

/** Whether `from` reaches `to` through imports. */
export function reaches(graph: ImportGraph, from: string, to: string): boolean {
  const todo = [from];
  const seen = new Set<string>();
  while (todo.length) {
    const n = todo.pop() as string;
    if (n === to && n !== from) return true;
    if (seen.has(n)) continue;
    seen.add(n);
    for (const d of graph.get(n) ?? []) {
      if (d === to) return true;
      todo.push(d);
    }
  }
  return false;
}
