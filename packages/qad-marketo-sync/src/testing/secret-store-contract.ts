/**
 * The behaviour every {@link SecretStore} must have, as a test suite a store's own test file runs.
 *
 * @module
 */

import type { SealedSecret, SecretStore } from "../store/secret-store.js";
import { sealedSecret as sealed } from "./fixtures.js";
import type { ContractTestApi } from "./test-api.js";

/** Makes a fresh, empty secret store. Called once per test; the caller closes what it made. */
export type MakeSecretStore = () => Promise<SecretStore> | SecretStore;

const ids = (rows: SealedSecret[]): string[] => rows.map((s) => `${s.tenant}/${s.name}`);

/**
 * Registers the {@link SecretStore} contract suite with the caller's test framework. Every implementation must pass
 * it. `listSealed` orders by tenant, then name, comparing strings by code point (SQL: binary / `COLLATE "C"`); a
 * compare-and-swap `putSealed` against a record that does not exist writes nothing and answers `false`.
 *
 * @param name - Shown in the suite title.
 * @param makeStore - A fresh, empty store per test.
 * @param t - The test API: `{ describe, it, expect }` from vitest or jest.
 * @example
 * import { describe, expect, it } from "vitest";
 * import { runSecretStoreContract } from "@ml/qad-marketo-sync/testing";
 * runSecretStoreContract("memory", () => createMemoryStore(), { describe, it, expect });
 */
export function runSecretStoreContract(name: string, makeStore: MakeSecretStore, t: ContractTestApi): void {
  const { describe, it, expect } = t;
  describe(`SecretStore contract: ${name}`, () => {
    it("upserts sealed records by (tenant, name) and returns them intact", async () => {
      const store = await makeStore();
      expect(await store.getSealed("t1", "marketo")).toBeUndefined();
      const first = sealed();
      expect(await store.putSealed(first)).toBe(true);
      expect(await store.getSealed("t1", "marketo")).toEqual(first);
      const second = sealed({
        keyId: "k2",
        nonce: "bm9uY2UtMDAwMDAy",
        ciphertext: "bmV3",
        tag: "dGFnMg==",
        updatedAt: 9,
      });
      expect(await store.putSealed(second)).toBe(true);
      expect(await store.getSealed("t1", "marketo")).toEqual(second);
      expect(await store.getSealed("t1", "qad")).toBeUndefined();
      expect(await store.getSealed("t2", "marketo")).toBeUndefined();
      expect(await store.listSealed()).toHaveLength(1);
    });

    it("returns copies: mutating what was written or read does not change the store", async () => {
      const store = await makeStore();
      const s = sealed();
      await store.putSealed(s);
      s.ciphertext = "changed";
      const got = await store.getSealed("t1", "marketo");
      expect(got?.ciphertext).toBe("Y2lwaGVydGV4dA==");
      if (got) got.ciphertext = "changed again";
      expect((await store.listSealed())[0]?.ciphertext).toBe("Y2lwaGVydGV4dA==");
    });

    it("compare-and-swap: writes only over the expected nonce, never creates, never overwrites a newer value", async () => {
      const store = await makeStore();
      const v1 = sealed({ nonce: "bm9uY2UtdjE=" });
      expect(await store.putSealed(v1, { expectNonce: "bm9uY2UtdjA=" })).toBe(false);
      expect(await store.getSealed("t1", "marketo")).toBeUndefined();
      await store.putSealed(v1);
      const rotated = sealed({ keyId: "k2", nonce: "bm9uY2UtdjI=", ciphertext: "cm90YXRlZA==" });
      const racing = sealed({ nonce: "bm9uY2UtdjM=", ciphertext: "bmV3ZXI=" });
      expect(await store.putSealed(racing, { expectNonce: "bm9uY2UtdjE=" })).toBe(true);
      expect(await store.putSealed(rotated, { expectNonce: "bm9uY2UtdjE=" })).toBe(false);
      expect(await store.getSealed("t1", "marketo")).toEqual(racing);
      expect(await store.putSealed(rotated, { expectNonce: "bm9uY2UtdjM=" })).toBe(true);
      expect(await store.getSealed("t1", "marketo")).toEqual(rotated);
      expect(await store.putSealed(sealed({ nonce: "bm9uY2UtdjQ=" }), { expectNonce: undefined })).toBe(true);
      expect((await store.getSealed("t1", "marketo"))?.nonce).toBe("bm9uY2UtdjQ=");
    });

    it("lists by (tenant, name) with tenant and key filters, keyset paging and a limit", async () => {
      const store = await makeStore();
      for (const s of [
        sealed({ tenant: "t2", name: "qad", keyId: "k1", nonce: "bjE=" }),
        sealed({ tenant: "t1", name: "qad", keyId: "k2", nonce: "bjI=" }),
        sealed({ tenant: "t1", name: "marketo", keyId: "k1", nonce: "bjM=" }),
        sealed({ tenant: "t2", name: "marketo", keyId: "k2", nonce: "bjQ=" }),
        sealed({ tenant: "t10", name: "qad", keyId: "k1", nonce: "bjU=" }),
      ]) {
        await store.putSealed(s);
      }
      const all = ["t1/marketo", "t1/qad", "t10/qad", "t2/marketo", "t2/qad"];
      expect(ids(await store.listSealed())).toEqual(all);
      expect(ids(await store.listSealed({}))).toEqual(all);
      expect(ids(await store.listSealed({ tenant: "t1" }))).toEqual(["t1/marketo", "t1/qad"]);
      expect(ids(await store.listSealed({ notKeyId: "k2" }))).toEqual(["t1/marketo", "t10/qad", "t2/qad"]);
      expect(ids(await store.listSealed({ tenant: "t2", notKeyId: "k1" }))).toEqual(["t2/marketo"]);
      expect(ids(await store.listSealed({ after: { tenant: "t1", name: "qad" } }))).toEqual(all.slice(2));
      expect(ids(await store.listSealed({ after: { tenant: "t1", name: "zzz" } }))).toEqual(all.slice(2));
      expect(ids(await store.listSealed({ limit: 2 }))).toEqual(all.slice(0, 2));
      expect(await store.listSealed({ limit: 0 })).toEqual([]);
      const paged: string[] = [];
      let after: { tenant: string; name: string } | undefined;
      for (;;) {
        const page = await store.listSealed({ notKeyId: "k3", after, limit: 2 });
        paged.push(...ids(page));
        const last = page.at(-1);
        if (page.length < 2 || !last) break;
        after = { tenant: last.tenant, name: last.name };
      }
      expect(paged).toEqual(all);
    });

    it("deletes a sealed record and answers whether one existed", async () => {
      const store = await makeStore();
      await store.putSealed(sealed());
      await store.putSealed(sealed({ name: "qad" }));
      expect(await store.deleteSealed("t1", "marketo")).toBe(true);
      expect(await store.deleteSealed("t1", "marketo")).toBe(false);
      expect(await store.deleteSealed("t2", "qad")).toBe(false);
      expect(await store.getSealed("t1", "marketo")).toBeUndefined();
      expect(ids(await store.listSealed())).toEqual(["t1/qad"]);
    });
  });
}
