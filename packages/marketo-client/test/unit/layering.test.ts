import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { cycles, importGraph, reaches } from "../support/import-graph.js";

const src = fileURLToPath(new URL("../../src", import.meta.url));
const graph = importGraph(src);

describe("layers of @ml/marketo-client", () => {
  it("the record types are the bottom layer: records.ts imports nothing of the package", () => {
    expect(graph.get("records.ts")).toEqual([]);
  });

  it("errors.ts and resources/types.ts no longer import each other (directly or through others)", () => {
    expect(reaches(graph, "errors.ts", "resources/types.ts")).toBe(false);
    expect(reaches(graph, "resources/types.ts", "errors.ts")).toBe(false);
  });

  it("no import cycle anywhere in src", () => {
    expect(cycles(graph)).toEqual([]);
  });

  it("the graph sees imports (a broken reader cannot pass the checks above)", () => {
    expect(graph.get("errors.ts")).toContain("records.ts");
    expect(graph.get("resources/types.ts")).toContain("records.ts");
    expect(graph.size).toBeGreaterThan(30);
  });
});
