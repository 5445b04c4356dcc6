import { describe, expect, it } from "vitest";
import { createMemoryStore, isSyncError, type SecretStore } from "../src/index.js";
import { createPostgresStore } from "../src/postgres/index.js";
import { createSqliteStore } from "../src/sqlite/index.js";
import type { AuditStore } from "../src/store/audit-store.js";

const BAD_PAGE_SIZES = [0, -1, 2.5, Number.NaN, Number.POSITIVE_INFINITY, "10"] as unknown as number[];

const configError = (fn: () => unknown): unknown => {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error("accepted");
};

const expectConfig = (err: unknown, path: string) => {
  expect(isSyncError(err) && err.code).toBe("config");
  expect((err as { issues?: { path: string }[] }).issues?.map((i) => i.path)).toEqual([path]);
};

// Nothing listens on port 1 of the loopback: a store that tried to connect would fail with a store error instead.
const UNREACHABLE = "postgres://postgres@127.0.0.1:1/postgres";

describe("store pageSize: refused, never bent to 1", () => {
  it("SQLite refuses a pageSize that is not a whole number ≥ 1 when it is opened", () => {
    for (const pageSize of BAD_PAGE_SIZES) {
      const err = configError(() => createSqliteStore({ path: ":memory:", pageSize }));
      expectConfig(err, "pageSize");
      expect((err as Error).message).toContain(`got ${typeof pageSize === "string" ? "a string" : String(pageSize)}`);
    }
    createSqliteStore({ path: ":memory:", pageSize: 1 }).close();
  });

  it("PostgreSQL refuses it when the store is made, before any pool or connection", async () => {
    for (const pageSize of BAD_PAGE_SIZES) {
      expectConfig(
        configError(() => createPostgresStore({ connectionString: UNREACHABLE, pageSize })),
        "pageSize",
      );
    }
  });

  it("PostgreSQL refuses an invalid limit before connecting (a config error, not a connection failure)", async () => {
    const store = createPostgresStore({ connectionString: UNREACHABLE, autoMigrate: false });
    try {
      const calls: (() => Promise<unknown>)[] = [
        () => store.queryAudit({ tenant: "t", limit: -1 }),
        () => store.listCarried({ tenant: "t", limit: 0.5 }),
        () => store.listRuns("t", { limit: Number.NaN }),
        () => store.listSealed({ limit: -3 }),
      ];
      for (const call of calls) expectConfig(await call().catch((e: unknown) => e), "limit");
    } finally {
      await store.close();
    }
  });
});

describe("SecretStore listSealed paging input, the same in every store", () => {
  const stores: [string, () => AuditStore & SecretStore & { close?: () => unknown }][] = [
    ["memory", () => createMemoryStore()],
    ["sqlite", () => createSqliteStore({ path: ":memory:" })],
  ];
  for (const [name, make] of stores) {
    it(`${name}: an invalid limit or cursor is a config error; limit 0 answers nothing`, async () => {
      const store = make();
      try {
        for (const limit of [-1, 1.5, Number.NaN, "1"] as unknown as number[]) {
          expectConfig(await store.listSealed({ limit }).catch((e: unknown) => e), "limit");
        }
        const after = { tenant: "t" } as unknown as { tenant: string; name: string };
        expectConfig(await store.listSealed({ after }).catch((e: unknown) => e), "after");
        expect(await store.listSealed({ limit: 0 })).toEqual([]);
      } finally {
        await store.close?.();
      }
    });
  }
});
