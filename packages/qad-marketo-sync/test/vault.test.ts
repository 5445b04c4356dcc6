import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inspect } from "node:util";
import { failure, manualClock } from "@ml/http-kernel/testing";
import { MarketoClient, type MarketoClientOptions } from "@ml/marketo-client";
import { startMarketoSimulator } from "@ml/marketo-client/testing";
import { QadClient, type QadClientOptions } from "@ml/qad-client";
import { startQadSimulator } from "@ml/qad-client/testing";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createMemoryStore,
  createVault,
  isSyncError,
  type KeyProvider,
  keyRing,
  keysFromEnv,
  type MarketoCredentials,
  type QadCredentials,
  type SealedSecret,
  type SecretStore,
  VaultError,
  type VaultErrorCode,
} from "../src/index.js";
import { createPostgresStore } from "../src/postgres/index.js";
import { createSqliteStore } from "../src/sqlite/index.js";
import { seal } from "../src/vault/cipher.js";
import { createScratchDatabase, hasPostgres } from "./support/postgres.js";

const b64 = (b: Buffer) => b.toString("base64");
const newKey = () => randomBytes(32);
/** A unique value to plant and look for afterwards. */
const planted = (label: string) => `${label}-${randomBytes(12).toString("hex")}`;

function capturingLogger() {
  const lines: unknown[] = [];
  const log = (level: string) => (obj: object, msg?: string) => lines.push({ level, obj, msg });
  return { lines, logger: { debug: log("debug"), info: log("info"), warn: log("warn"), error: log("error") } };
}

async function expectVaultError(p: Promise<unknown> | (() => unknown), code: VaultErrorCode): Promise<VaultError> {
  const e = await failure(p);
  expect(e).toBeInstanceOf(VaultError);
  expect(isSyncError(e)).toBe(true);
  expect((e as VaultError).code).toBe(code);
  expect((e as Error).message).not.toMatch(/unable to authenticate|Unsupported state|Invalid key length/i);
  return e as VaultError;
}

/** Every way an error can be printed or serialised, cause chain included. */
function renderings(e: unknown): string[] {
  const out: string[] = [inspect(e, { showHidden: true, depth: 10 }), JSON.stringify(e) ?? ""];
  let cur: unknown = e;
  for (let i = 0; cur !== undefined && cur !== null && i < 10; i++) {
    if (cur instanceof Error) out.push(cur.message, cur.stack ?? "", String(cur));
    else out.push(String(cur));
    cur = (cur as { cause?: unknown }).cause;
  }
  return out;
}

/** Flips one bit of a base64 field at byte `at` (negative counts from the end). */
function flip(field: string, at: number): string {
  const b = Buffer.from(field, "base64");
  const i = at < 0 ? b.length + at : at;
  b[i] = (b[i] ?? 0) ^ 0x01;
  return b.toString("base64");
}

const qadCreds = (password = planted("qad-pw")): QadCredentials => ({
  tenantUrl: "https://acme.qad.com/clouderp",
  auth: { kind: "password", clientId: "sync-app", username: "svc_sync", password },
  workspaceId: "10USA_10USACO",
});

const qxtendCreds = (password = planted("qx-pw")): QadCredentials => ({
  tenantUrl: "https://qad.example.com/clouderp",
  protocol: "qxtend",
  qxtend: {
    url: "https://qad.example.com:8443/qxi/services/QdocWebService",
    receiver: "qad_qdoc",
    version: "eB2_1",
    domain: "10USA",
    username: "mfg",
    password,
    profiles: { customers: "getCustomers" },
    dateFormat: "dd/mm/yy",
  },
});

const mkCreds = (clientSecret = planted("mk-secret")): MarketoCredentials => ({
  munchkinId: "123-ABC-456",
  clientId: "5b9c0c4a-mk-client",
  clientSecret,
});

/** A store under test: the store, its teardown, and its raw stored bytes (to look for plaintext in). */
interface StoreKind {
  name: string;
  make(): Promise<{ store: SecretStore; close(): Promise<void>; raw(): Promise<string> }>;
}

function vaultStores(): StoreKind[] {
  return [
    {
      name: "memory",
      async make() {
        const store = createMemoryStore();
        return { store, close: async () => {}, raw: async () => JSON.stringify(await store.listSealed()) };
      },
    },
    {
      name: "sqlite",
      async make() {
        const dir = mkdtempSync(join(tmpdir(), "ml-vault-"));
        const path = join(dir, "vault.db");
        const store = createSqliteStore({ path });
        const bytes = (file: string) => {
          try {
            return readFileSync(file).toString("latin1");
          } catch {
            return "";
          }
        };
        return {
          store,
          async close() {
            store.close();
            rmSync(dir, { recursive: true, force: true });
          },
          // The database file and its write-ahead log, byte for byte.
          raw: async () => bytes(path) + bytes(`${path}-wal`),
        };
      },
    },
    ...(hasPostgres
      ? [
          {
            name: "postgres",
            async make() {
              const db = await createScratchDatabase("mlvault");
              const store = createPostgresStore({ connectionString: db.url });
              const pool = new pg.Pool({ connectionString: db.url, max: 1 });
              return {
                store,
                async close() {
                  await pool.end();
                  await store.close();
                  await db.drop();
                },
                raw: async () => {
                  const r = await pool.query("SELECT row_to_json(s)::text AS row FROM ml_sealed s");
                  return r.rows.map((x: { row: string }) => x.row).join("\n");
                },
              };
            },
          } satisfies StoreKind,
        ]
      : []),
  ];
}

// Type-level: what the vault returns spreads into the clients' options.
const _qadFits = (c: QadCredentials): QadClientOptions => ({ ...c });
const _mkFits = (c: MarketoCredentials): MarketoClientOptions => ({ ...c });
void _qadFits;
void _mkFits;

describe.each(vaultStores())("vault on the $name store", (kind) => {
  let store: SecretStore;
  let done: () => Promise<void>;
  let raw: () => Promise<string>;

  beforeAll(async () => {
    const made = await kind.make();
    store = made.store;
    done = made.close;
    raw = made.raw;
  });
  afterAll(async () => {
    await done?.();
  });

  let n = 0;
  const tenant = (label = "t") => `${label}-${kind.name}-${++n}`;

  it("round-trips QAD (password, client credentials, session, QXtend) and Marketo (munchkinId, baseUrls)", async () => {
    const vault = createVault({ store, keys: keyRing([{ id: "k1", key: newKey() }]) });
    const cases: QadCredentials[] = [
      qadCreds(),
      {
        tenantUrl: "https://a.qad.com/erp",
        auth: { kind: "clientCredentials", clientId: "c", clientSecret: planted("cs") },
      },
      { tenantUrl: "https://a.qad.com/erp", auth: { kind: "session", username: "u", password: planted("s") } },
      qxtendCreds(),
    ];
    for (const c of cases) {
      const t = tenant("qad");
      await vault.putQad(t, c);
      expect({ ...(await vault.getQad(t)) }).toEqual(c);
    }
    const mkA = mkCreds();
    const mkB: MarketoCredentials = {
      baseUrls: {
        rest: "http://127.0.0.1:1/rest",
        identity: "http://127.0.0.1:1/identity",
        bulk: "http://127.0.0.1:1/bulk",
      },
      clientId: "id",
      clientSecret: planted("s"),
    };
    const t = tenant("mk");
    await vault.putMarketo(t, mkA);
    expect({ ...(await vault.getMarketo(t)) }).toEqual(mkA);
    await vault.putMarketo(t, mkB);
    expect({ ...(await vault.getMarketo(t)) }).toEqual(mkB);

    const json = { token: planted("tok"), nested: { list: [1, "two", null, true] } };
    await vault.put(t, "webhook", json);
    expect(JSON.parse(JSON.stringify(await vault.get(t, "webhook")))).toEqual({
      token: "[redacted]",
      nested: json.nested,
    });
    expect({ ...((await vault.get(t, "webhook")) as object) }).toEqual(json);

    expect(await vault.getQad(tenant("none"))).toBeUndefined();
    expect(await vault.get(t, "nothing")).toBeUndefined();
    expect(await vault.delete(t, "webhook")).toBe(true);
    expect(await vault.get(t, "webhook")).toBeUndefined();
    expect(await vault.delete(t, "webhook")).toBe(false);
  });

  it("each seal uses a fresh nonce, and the tenant pair and name are bound in", async () => {
    const vault = createVault({ store, keys: keyRing([{ id: "k1", key: newKey() }]) });
    const t = tenant();
    const c = mkCreds();
    await vault.putMarketo(t, c);
    const first = await store.getSealed(t, "marketo");
    await vault.putMarketo(t, c);
    const second = await store.getSealed(t, "marketo");
    expect(first?.nonce).not.toBe(second?.nonce);
    expect(first?.ciphertext).not.toBe(second?.ciphertext);
    expect(Buffer.from(second?.nonce ?? "", "base64")).toHaveLength(12);
    expect(Buffer.from(second?.tag ?? "", "base64")).toHaveLength(16);
    expect(second?.keyId).toBe("k1");
  });

  it("refuses invalid credentials on put, naming the path and never the value", async () => {
    const vault = createVault({ store, keys: keyRing([{ id: "k1", key: newKey() }]) });
    const secret = planted("secret");
    const t = tenant();
    const bad: [string, unknown, RegExp][] = [
      ["marketo", { munchkinId: secret, clientId: "x", clientSecret: secret }, /munchkinId/],
      ["marketo", { clientId: "x", clientSecret: secret }, /munchkinId: required unless baseUrls/],
      ["marketo", { munchkinId: "123-ABC-456", clientId: "x" }, /clientSecret/],
      ["marketo", { munchkinId: "123-ABC-456", clientId: "x", clientSecret: "s", clientSecrt: secret }, /clientSecrt/],
      ["qad", { tenantUrl: "https://a.qad.com/x" }, /auth: required for protocol "rest"/],
      ["qad", { tenantUrl: "https://a.qad.com/x", protocol: "qxtend" }, /qxtend: required/],
      ["qad", { tenantUrl: secret, auth: { kind: "session", username: "u", password: secret } }, /tenantUrl/],
      ["qad", { tenantUrl: "https://a.qad.com/x", auth: { kind: "provider", getToken: () => secret } }, /auth/],
      [
        "qad",
        { ...qxtendCreds(secret), qxtend: { ...qxtendCreds(secret).qxtend, transientPattern: /x/ } },
        /transientPattern/,
      ],
    ];
    for (const [which, value, message] of bad) {
      const e = await expectVaultError(
        which === "qad" ? vault.putQad(t, value as QadCredentials) : vault.putMarketo(t, value as MarketoCredentials),
        "vault_invalid_credentials",
      );
      expect(e.message).toMatch(message);
      for (const text of renderings(e)) expect(text).not.toContain(secret);
    }
    expect(await store.getSealed(t, "marketo")).toBeUndefined();
    expect(await store.getSealed(t, "qad")).toBeUndefined();
    await expect(vault.put(t, "qad", {})).rejects.toThrow(/putQad/);
    await expect(vault.get(t, "marketo")).rejects.toThrow(/getMarketo/);
  });

  it("validates again on open: a well-sealed record of the wrong shape is a typed error", async () => {
    const key = newKey();
    const vault = createVault({ store, keys: keyRing([{ id: "k1", key }]) });
    const t = tenant();
    const secret = planted("secret");
    const body = Buffer.from(JSON.stringify({ munchkinId: "123-ABC-456", clientId: "x", clientSecret: 42, secret }));
    await store.putSealed(seal({ tenant: t, name: "marketo" }, "k1", key, body, 1));
    const e = await expectVaultError(vault.getMarketo(t), "vault_invalid_credentials");
    expect(e.message).toMatch(/clientSecret/);
    for (const text of renderings(e)) expect(text).not.toContain(secret);
    await store.putSealed(seal({ tenant: t, name: "other" }, "k1", key, Buffer.from("{not json"), 1));
    await expectVaultError(vault.get(t, "other"), "vault_malformed_record");
  });

  describe("tamper", () => {
    const key = newKey();
    const other = newKey();
    const keys = keyRing([
      { id: "k1", key },
      { id: "k2", key: other },
    ]);
    const vault = () => createVault({ store, keys });

    async function sealedRecord(): Promise<{ t: string; sealed: SealedSecret }> {
      const t = tenant("tamper");
      await vault().putMarketo(t, mkCreds());
      const sealed = await store.getSealed(t, "marketo");
      if (!sealed) throw new Error("not stored");
      return { t, sealed };
    }

    const cases: [string, (s: SealedSecret) => Partial<SealedSecret>, VaultErrorCode][] = [
      ["ciphertext, last byte", (s) => ({ ciphertext: flip(s.ciphertext, -1) }), "vault_tampered"],
      ["ciphertext, first body byte", (s) => ({ ciphertext: flip(s.ciphertext, 9) }), "vault_tampered"],
      ["ciphertext, key check byte", (s) => ({ ciphertext: flip(s.ciphertext, 3) }), "vault_wrong_key"],
      ["ciphertext, format byte", (s) => ({ ciphertext: flip(s.ciphertext, 0) }), "vault_malformed_record"],
      [
        "ciphertext, truncated",
        (s) => ({ ciphertext: b64(Buffer.from(s.ciphertext, "base64").subarray(0, -1)) }),
        "vault_tampered",
      ],
      ["tag, first byte", (s) => ({ tag: flip(s.tag, 0) }), "vault_tampered"],
      ["tag, last byte", (s) => ({ tag: flip(s.tag, -1) }), "vault_tampered"],
      [
        "tag, truncated to 12 bytes",
        (s) => ({ tag: b64(Buffer.from(s.tag, "base64").subarray(0, 12)) }),
        "vault_malformed_record",
      ],
      ["nonce, first byte", (s) => ({ nonce: flip(s.nonce, 0) }), "vault_tampered"],
      ["nonce, last byte", (s) => ({ nonce: flip(s.nonce, -1) }), "vault_tampered"],
      ["nonce, not base64", () => ({ nonce: "!!!!" }), "vault_malformed_record"],
      ["key id, another key of the ring", () => ({ keyId: "k2" }), "vault_wrong_key"],
      ["key id, unknown", () => ({ keyId: "k9" }), "vault_missing_key"],
    ];
    it.each(cases)("a changed %s is a typed error", async (_label, change, code) => {
      const { t, sealed } = await sealedRecord();
      expect(await store.putSealed({ ...sealed, ...change(sealed) })).toBe(true);
      await expectVaultError(vault().getMarketo(t), code);
    });

    it("a record copied to another tenant pair or another name does not open", async () => {
      const { sealed } = await sealedRecord();
      const elsewhere = tenant("copy");
      await store.putSealed({ ...sealed, tenant: elsewhere });
      await expectVaultError(vault().getMarketo(elsewhere), "vault_tampered");

      const t = tenant("swap");
      const v = vault();
      await v.put(t, "a", { x: 1 });
      await v.put(t, "b", { x: 2 });
      const a = await store.getSealed(t, "a");
      const b = await store.getSealed(t, "b");
      await store.putSealed({ ...(a as SealedSecret), name: "b" });
      await store.putSealed({ ...(b as SealedSecret), name: "a" });
      await expectVaultError(v.get(t, "a"), "vault_tampered");
      await expectVaultError(v.get(t, "b"), "vault_tampered");
    });

    it("records swapped between two tenant pairs open for neither", async () => {
      const v = vault();
      const t1 = tenant("one");
      const t2 = tenant("two");
      await v.putQad(t1, qadCreds());
      await v.putQad(t2, qadCreds());
      const s1 = (await store.getSealed(t1, "qad")) as SealedSecret;
      const s2 = (await store.getSealed(t2, "qad")) as SealedSecret;
      await store.putSealed({ ...s1, tenant: t2 });
      await store.putSealed({ ...s2, tenant: t1 });
      await expectVaultError(v.getQad(t1), "vault_tampered");
      await expectVaultError(v.getQad(t2), "vault_tampered");
    });
  });

  it("a wrong key under the record's id is vault_wrong_key; a missing id is vault_missing_key", async () => {
    const t = tenant();
    await createVault({ store, keys: keyRing([{ id: "k1", key: newKey() }]) }).putQad(t, qadCreds());
    const wrong = createVault({ store, keys: keyRing([{ id: "k1", key: newKey() }]) });
    const e1 = await expectVaultError(wrong.getQad(t), "vault_wrong_key");
    expect(e1.message).toContain('"k1"');
    const missing = createVault({ store, keys: keyRing([{ id: "k2", key: newKey() }]) });
    const e2 = await expectVaultError(missing.getQad(t), "vault_missing_key");
    expect(e2.message).toContain('"k1"');
    expect(e2.retryable).toBe(false);
  });

  describe("rotation", () => {
    it("re-seals every old record under the new key, in pages; old keys can then go", async () => {
      const k1 = newKey();
      const k2 = newKey();
      const clock = manualClock(1_750_000_000_000);
      const old = createVault({ store, keys: keyRing([{ id: "k1", key: k1 }]), clock });
      const tenants = Array.from({ length: 23 }, () => tenant("rot"));
      const expected = new Map<string, MarketoCredentials>();
      for (const t of tenants) {
        const c = mkCreds();
        expected.set(t, c);
        await old.putMarketo(t, c);
        await old.putQad(t, qadCreds());
      }
      clock.advance(1000);
      const { lines, logger } = capturingLogger();
      const both = createVault({
        store,
        keys: keyRing([
          { id: "k2", key: k2 },
          { id: "k1", key: k1 },
        ]),
        clock,
        logger,
      });
      // Only this test's tenants: the store is shared by the file's tests.
      const mine = async () => (await store.listSealed()).filter((s) => tenants.includes(s.tenant));
      const results = [];
      for (const t of tenants) results.push(await both.rotate({ tenant: t, pageSize: 1 }));
      expect(results.reduce((a, r) => a + r.resealed, 0)).toBe(46);
      expect(results.every((r) => r.keyId === "k2" && r.changed === 0 && r.failed.length === 0)).toBe(true);
      const after = await mine();
      expect(after).toHaveLength(46);
      expect(after.every((s) => s.keyId === "k2" && s.updatedAt === clock.now())).toBe(true);
      expect(lines.some((l) => (l as { msg?: string }).msg === "vault rotation finished")).toBe(true);

      const onlyNew = createVault({ store, keys: keyRing([{ id: "k2", key: k2 }]) });
      for (const t of tenants) expect({ ...(await onlyNew.getMarketo(t)) }).toEqual(expected.get(t));
      const again = await both.rotate({ tenant: tenants[0] });
      expect(again).toMatchObject({ scanned: 0, resealed: 0 });
      await expectVaultError(old.getMarketo(tenants[0] as string), "vault_missing_key");
    });

    it("pages through the whole store with a keyset cursor", async () => {
      const k1 = newKey();
      const k2 = newKey();
      const old = createVault({ store, keys: keyRing([{ id: "p1", key: k1 }]) });
      const base = tenant("page");
      for (let i = 0; i < 25; i++) await old.put(`${base}-${String(i).padStart(2, "0")}`, "cfg", { i });
      const both = createVault({
        store,
        keys: keyRing([
          { id: "p2", key: k2 },
          { id: "p1", key: k1 },
        ]),
      });
      const r = await both.rotate({ pageSize: 4 });
      // Other tests' records may be under other keys of their own (unopenable here): they are reported, not touched.
      expect(r.resealed).toBeGreaterThanOrEqual(25);
      const left = (await store.listSealed({ notKeyId: "p2" })).filter((s) => s.tenant.startsWith(`${base}-`));
      expect(left).toEqual([]);
      for (const f of r.failed) expect(f.code).toBe("vault_missing_key");
      const stillThere = await store.listSealed({ notKeyId: "p2" });
      expect(stillThere.length).toBe(r.failed.length);
    });

    it("never overwrites a value written during the rotation, by old or new writers", async () => {
      const k1 = newKey();
      const k2 = newKey();
      const oldRing = keyRing([{ id: "c1", key: k1 }]);
      const newRing = keyRing([
        { id: "c2", key: k2 },
        { id: "c1", key: k1 },
      ]);
      const t = tenant("cas");
      const old = createVault({ store, keys: oldRing });
      await old.putMarketo(t, mkCreds("before-1"));
      await old.put(t, "cfg", { v: "before-2" });
      const newerByOld = mkCreds("newer-by-old-writer");
      const newerByNew = { v: "newer-by-new-writer" };
      let raced = 0;
      // A store whose compare-and-swap is overtaken by a writer between the rotation's read and its write.
      const racing: SecretStore = {
        getSealed: (a, b) => store.getSealed(a, b),
        listSealed: (q) => store.listSealed(q),
        deleteSealed: (a, b) => store.deleteSealed(a, b),
        async putSealed(secret, opts) {
          if (opts?.expectNonce !== undefined && raced < 2) {
            raced++;
            if (secret.name === "marketo") await old.putMarketo(t, newerByOld);
            else await createVault({ store, keys: newRing }).put(t, "cfg", newerByNew);
          }
          return store.putSealed(secret, opts);
        },
      };
      const r = await createVault({ store: racing, keys: newRing }).rotate({ tenant: t });
      expect(raced).toBe(2);
      // The old writer's value (under c1) was re-sealed on the second try; the new writer's was already current.
      expect(r).toMatchObject({ scanned: 2, resealed: 1, changed: 1, failed: [] });
      const reader = createVault({ store, keys: keyRing([{ id: "c2", key: k2 }]) });
      expect({ ...(await reader.getMarketo(t)) }).toEqual(newerByOld);
      expect({ ...((await reader.get(t, "cfg")) as object) }).toEqual(newerByNew);
    });

    it("a record deleted during the rotation stays deleted", async () => {
      const k1 = newKey();
      const t = tenant("del");
      const old = createVault({ store, keys: keyRing([{ id: "d1", key: k1 }]) });
      await old.put(t, "cfg", { v: 1 });
      const deleting: SecretStore = {
        getSealed: (a, b) => store.getSealed(a, b),
        listSealed: (q) => store.listSealed(q),
        deleteSealed: (a, b) => store.deleteSealed(a, b),
        async putSealed(secret, opts) {
          await store.deleteSealed(secret.tenant, secret.name);
          return store.putSealed(secret, opts);
        },
      };
      const ring = keyRing([
        { id: "d2", key: newKey() },
        { id: "d1", key: k1 },
      ]);
      const r = await createVault({ store: deleting, keys: ring }).rotate({ tenant: t });
      expect(r).toMatchObject({ scanned: 1, resealed: 0, changed: 1 });
      expect(await store.getSealed(t, "cfg")).toBeUndefined();
    });

    it("readers keep working mid-rotation, with records under both keys", async () => {
      const k1 = newKey();
      const k2 = newKey();
      const t = tenant("live");
      const old = createVault({ store, keys: keyRing([{ id: "r1", key: k1 }]) });
      const names = Array.from({ length: 10 }, (_, i) => `rec${i}`);
      for (const name of names) await old.put(t, name, { name });
      const ring = keyRing([
        { id: "r2", key: k2 },
        { id: "r1", key: k1 },
      ]);
      const reader = createVault({ store, keys: ring });
      const seen: string[][] = [];
      const observed: SecretStore = {
        getSealed: (a, b) => store.getSealed(a, b),
        deleteSealed: (a, b) => store.deleteSealed(a, b),
        putSealed: (s, o) => store.putSealed(s, o),
        async listSealed(q) {
          // Between pages: read everything through a reader that has both keys.
          const ids = (await store.listSealed({ tenant: t })).map((s) => s.keyId);
          seen.push(ids);
          for (const name of names) expect(await reader.get(t, name)).toEqual({ name });
          return store.listSealed(q);
        },
      };
      const r = await createVault({ store: observed, keys: ring }).rotate({ tenant: t, pageSize: 3 });
      expect(r.resealed).toBe(10);
      expect(seen.some((ids) => ids.includes("r1") && ids.includes("r2"))).toBe(true);
      expect((await store.listSealed({ tenant: t })).every((s) => s.keyId === "r2")).toBe(true);
    });

    it("reports records it cannot open and leaves them; stops on abort and can be run again", async () => {
      const k1 = newKey();
      const t = tenant("mixed");
      const old = createVault({ store, keys: keyRing([{ id: "m1", key: k1 }]) });
      for (let i = 0; i < 6; i++) await old.put(t, `r${i}`, { i });
      const broken = (await store.getSealed(t, "r2")) as SealedSecret;
      await store.putSealed({ ...broken, tag: flip(broken.tag, 0) });
      const ring = keyRing([
        { id: "m2", key: newKey() },
        { id: "m1", key: k1 },
      ]);
      const controller = new AbortController();
      let puts = 0;
      const aborting: SecretStore = {
        getSealed: (a, b) => store.getSealed(a, b),
        listSealed: (q) => store.listSealed(q),
        deleteSealed: (a, b) => store.deleteSealed(a, b),
        async putSealed(s, o) {
          if (++puts === 2) controller.abort();
          return store.putSealed(s, o);
        },
      };
      const e = await failure(
        createVault({ store: aborting, keys: ring }).rotate({ tenant: t, signal: controller.signal }),
      );
      expect(isSyncError(e) && e.code).toBe("aborted");
      expect((await store.listSealed({ tenant: t, notKeyId: "m2" })).length).toBe(4);
      const r = await createVault({ store, keys: ring }).rotate({ tenant: t });
      expect(r.resealed).toBe(3);
      expect(r.failed).toEqual([{ tenant: t, name: "r2", keyId: "m1", code: "vault_tampered" }]);
      expect((await store.getSealed(t, "r2"))?.tag).toBe(flip(broken.tag, 0));
    });
  });

  it("rotation refuses a store that ignores the keyset cursor instead of looping", async () => {
    const t = tenant("cursor");
    const old = createVault({ store, keys: keyRing([{ id: "i1", key: newKey() }]) });
    for (let i = 0; i < 3; i++) await old.put(t, `r${i}`, { i });
    const ignoring: SecretStore = {
      getSealed: (a, b) => store.getSealed(a, b),
      putSealed: (x, o) => store.putSealed(x, o),
      deleteSealed: (a, b) => store.deleteSealed(a, b),
      listSealed: (q) => store.listSealed({ ...q, after: undefined }),
    };
    // Under a ring without i1 nothing opens, so every page would be the same page.
    const e = await failure(
      createVault({ store: ignoring, keys: keyRing([{ id: "i2", key: newKey() }]) }).rotate({ tenant: t, pageSize: 2 }),
    );
    expect(isSyncError(e) && e.code).toBe("store");
  });

  it("a KMS provider: keys cached by id, current id cached for its TTL, failures typed", async () => {
    const keys = new Map([
      ["kms-1", newKey()],
      ["kms-2", newKey()],
    ]);
    let current = "kms-1";
    const calls = { current: 0, key: [] as string[] };
    let failing = false;
    const provider: KeyProvider = {
      currentKeyId() {
        calls.current++;
        return current;
      },
      async key(id) {
        calls.key.push(id);
        await new Promise((r) => setTimeout(r, 1));
        if (failing) throw new Error("KMS unreachable");
        return keys.get(id);
      },
    };
    const clock = manualClock(1_750_000_000_000);
    const vault = createVault({ store, keys: provider, clock, currentKeyIdTtlMs: 10_000 });
    const t = tenant("kms");
    await Promise.all([vault.putMarketo(t, mkCreds()), vault.putQad(t, qadCreds()), vault.put(t, "cfg", { a: 0 })]);
    await Promise.all([vault.getMarketo(t), vault.getMarketo(t), vault.getQad(t)]);
    expect(calls.key).toEqual(["kms-1"]);
    expect(calls.current).toBe(1);
    expect((await store.getSealed(t, "qad"))?.keyId).toBe("kms-1");

    current = "kms-2";
    await vault.put(t, "cfg", { a: 1 });
    expect((await store.getSealed(t, "cfg"))?.keyId).toBe("kms-1"); // still cached
    clock.advance(10_000);
    await vault.put(t, "cfg", { a: 2 });
    expect((await store.getSealed(t, "cfg"))?.keyId).toBe("kms-2");
    expect(calls.current).toBe(2);

    current = "kms-2";
    const r = await vault.rotate({ tenant: t });
    expect(r).toMatchObject({ keyId: "kms-2", resealed: 2 });
    expect(calls.current).toBe(3); // rotation always asks
    expect(calls.key).toEqual(["kms-1", "kms-2"]);

    const missing = createVault({ store, keys: { currentKeyId: () => "kms-3", key: () => undefined } });
    await expectVaultError(missing.getMarketo(t), "vault_missing_key");
    await expectVaultError(missing.put(t, "x", 1), "vault_missing_key");

    failing = true;
    const fresh = createVault({ store, keys: provider, clock });
    const e = await expectVaultError(fresh.getMarketo(t), "vault_key_unavailable");
    expect(e.retryable).toBe(true);
    expect((e.cause as Error).message).toBe("KMS unreachable");
    failing = false;
    expect(await fresh.getMarketo(t)).toBeDefined(); // a failure is not cached

    const short = createVault({ store, keys: { currentKeyId: () => "kms-2", key: () => randomBytes(16) } });
    await expectVaultError(short.getMarketo(t), "vault_malformed_key");
    const badId = createVault({ store, keys: { currentKeyId: () => "bad id!", key: () => newKey() } });
    await expectVaultError(badId.put(t, "x", 1), "vault_malformed_key");
    const throwing = createVault({
      store,
      keys: {
        currentKeyId: () => {
          throw new Error("no alias");
        },
        key: () => newKey(),
      },
    });
    await expectVaultError(throwing.put(t, "x", 1), "vault_key_unavailable");
  });

  it("planted secrets appear in no error, log line, inspect output or stored row", async () => {
    const key = newKey();
    const otherKey = newKey();
    const secrets = {
      qadPassword: planted("qad-password"),
      qxPassword: planted("qx-password"),
      mkSecret: planted("mk-secret"),
      token: planted("json-token"),
      key: b64(key),
      keyUrl: key.toString("base64url"),
      keyHex: key.toString("hex"),
      otherKey: b64(otherKey),
    };
    const { lines, logger } = capturingLogger();
    const env = { ML_VAULT_KEYS: `s2:${secrets.otherKey},s1:${secrets.key}` };
    const ring = keysFromEnv("ML_VAULT_KEYS", env);
    const vault = createVault({ store, keys: ring, logger });
    const before = createVault({ store, keys: keyRing([{ id: "s1", key }]), logger });
    const t = tenant("planted");
    await before.putQad(t, qadCreds(secrets.qadPassword));
    await before.putQad(tenant(), qxtendCreds(secrets.qxPassword));
    await before.putMarketo(t, mkCreds(secrets.mkSecret));
    await vault.put(t, "extra", { token: secrets.token });
    expect(await vault.rotate({ tenant: t })).toMatchObject({ resealed: 2 });
    const qad = await vault.getQad(t);
    const mk = await vault.getMarketo(t);
    const extra = await vault.get(t, "extra");
    expect((qad?.auth as { password?: string } | undefined)?.password).toBe(secrets.qadPassword);
    expect(mk?.clientSecret).toBe(secrets.mkSecret);

    const errors: unknown[] = [];
    const collect = async (p: Promise<unknown> | (() => unknown)) => errors.push(await failure(p));
    const sealed = (await store.getSealed(t, "marketo")) as SealedSecret;
    // Tampered, wrong key, missing key, malformed keys, invalid credentials, bad provider.
    await store.putSealed({ ...sealed, ciphertext: flip(sealed.ciphertext, -1) });
    await collect(vault.getMarketo(t));
    await store.putSealed(sealed);
    await collect(createVault({ store, keys: keyRing([{ id: "s2", key: newKey() }]) }).getMarketo(t));
    await collect(createVault({ store, keys: keyRing([{ id: "zz", key: newKey() }]) }).getMarketo(t));
    await collect(() => keysFromEnv("K", { K: `a:${secrets.key.slice(0, -4)}` }));
    await collect(() => keysFromEnv("K", { K: `a:${secrets.key}x` }));
    await collect(() => keysFromEnv("K", { K: `${secrets.key}` }));
    await collect(() => keysFromEnv("K", { K: `a:${secrets.key},a:${secrets.key}` }));
    await collect(() => keyRing([{ id: "a", key: `${secrets.keyHex}` }]));
    await collect(vault.putMarketo(t, { munchkinId: secrets.mkSecret, clientId: "x", clientSecret: secrets.mkSecret }));
    await collect(vault.putQad(t, { tenantUrl: secrets.qadPassword, auth: qadCreds(secrets.qadPassword).auth }));
    await collect(
      createVault({ store, keys: { currentKeyId: () => "s1", key: () => Buffer.from(secrets.keyHex) } }).getMarketo(t),
    );
    expect(errors).toHaveLength(11);
    for (const e of errors) expect(isSyncError(e)).toBe(true);

    const rawDump = await raw();
    expect(rawDump).toContain(t); // the raw dump does hold this test's rows
    const texts = [
      rawDump,
      ...errors.flatMap(renderings),
      JSON.stringify(lines),
      inspect(lines, { depth: 10 }),
      inspect(vault, { showHidden: true, depth: 10 }),
      JSON.stringify(vault),
      inspect(ring, { showHidden: true, depth: 10 }),
      JSON.stringify(ring),
      String(ring),
      inspect(qad, { showHidden: true, depth: 10 }),
      inspect(mk, { showHidden: true, depth: 10 }),
      inspect(extra, { showHidden: true, depth: 10 }),
      inspect(qad?.auth, { showHidden: true, depth: 10 }),
      JSON.stringify(qad),
      JSON.stringify(mk),
      JSON.stringify(extra),
      JSON.stringify({ nested: { qad, mk } }),
      `${inspect({ nested: { qad, mk } })}`,
      JSON.stringify(await store.listSealed()),
    ];
    expect(inspect(mk)).toContain("[redacted]");
    expect(inspect(ring)).toContain("s2");
    for (const text of texts) {
      for (const [name, value] of Object.entries(secrets)) {
        expect(text.includes(value), `${name} found in: ${text.slice(0, 200)}`).toBe(false);
      }
      // Neither as base64 of the plaintext (a store must only ever see ciphertext).
      for (const value of [secrets.qadPassword, secrets.mkSecret, secrets.token]) {
        expect(text.includes(Buffer.from(value).toString("base64").slice(0, 16))).toBe(false);
      }
    }
  });
});

describe("keysFromEnv", () => {
  const k = (n: number) => b64(randomBytes(n));

  it("reads id:base64key entries, the first being current; commas, newlines and spaces allowed", () => {
    const a = k(32);
    const b = randomBytes(32).toString("base64url");
    const ring = keysFromEnv("ML_VAULT_KEYS", { ML_VAULT_KEYS: ` 2025-06:${a},\n 2024.01_x:${b} \n` });
    expect(ring.currentKeyId).toBe("2025-06");
    expect(ring.keyIds).toEqual(["2025-06", "2024.01_x"]);
    expect(keysFromEnv(undefined, { ML_VAULT_KEYS: `only:${a}` }).keyIds).toEqual(["only"]);
    expect(
      keyRing(
        [
          { id: "x", key: randomBytes(32) },
          { id: "y", key: a },
        ],
        { current: "y" },
      ).keyIds,
    ).toEqual(["y", "x"]);
  });

  const bad: [string, Record<string, string>, RegExp][] = [
    ["unset", {}, /ML_VAULT_KEYS is not set/],
    ["blank", { ML_VAULT_KEYS: "  , " }, /not set/],
    ["no colon", { ML_VAULT_KEYS: k(32) }, /entry 1: expected "id:base64key"/],
    ["empty id", { ML_VAULT_KEYS: `:${k(32)}` }, /entry 1/],
    ["bad id", { ML_VAULT_KEYS: `a b:${k(32)}` }, /key id must be/],
    ["not base64", { ML_VAULT_KEYS: `a:${k(32).slice(0, 10)}$$${k(8)}` }, /not valid base64/],
    ["31 bytes", { ML_VAULT_KEYS: `a:${k(31)}` }, /must be 32 bytes .* got 31/],
    ["33 bytes", { ML_VAULT_KEYS: `a:${k(33)}` }, /got 33/],
    ["16 bytes", { ML_VAULT_KEYS: `a:${k(16)}` }, /got 16/],
    ["second entry bad", { ML_VAULT_KEYS: `a:${k(32)},b:${k(24)}` }, /key 2 \(id "b"\)/],
    ["duplicate id", { ML_VAULT_KEYS: `a:${k(32)},a:${k(32)}` }, /appears twice/],
  ];
  it.each(bad)("%s is vault_malformed_key", async (_label, env, message) => {
    const e = await expectVaultError(() => keysFromEnv("ML_VAULT_KEYS", env), "vault_malformed_key");
    expect(e.message).toMatch(message);
    for (const entry of (env.ML_VAULT_KEYS ?? "").split(",")) {
      const value = entry.split(":")[1];
      if (value && value.length > 4) expect(renderings(e).join("\n")).not.toContain(value.trim());
    }
  });

  it("a ring with no key, or a current id not in it, is refused", async () => {
    await expectVaultError(() => keyRing([]), "vault_malformed_key");
    await expectVaultError(() => keyRing([{ id: "a", key: newKey() }], { current: "b" }), "vault_malformed_key");
  });
});

describe("vault credentials feed the real clients", () => {
  it("QAD and Marketo clients built from what the vault returns work against the simulators", async () => {
    const qadSim = await startQadSimulator({ customers: 5, seed: 3 });
    const mkSim = await startMarketoSimulator({ timeScale: 0.01, latencyMs: 0 });
    try {
      const vault = createVault({ store: createMemoryStore(), keys: keyRing([{ id: "k", key: newKey() }]) });
      const { tenantUrl, allowHttp, auth, workspaceId, apiDescription } = qadSim.clientOptions;
      await vault.putQad("acme", { tenantUrl, allowHttp, auth: auth as QadCredentials["auth"], workspaceId });
      const { baseUrls, clientId, clientSecret, limits } = mkSim.clientOptions;
      await vault.putMarketo("acme", { baseUrls, clientId, clientSecret });

      const qadCreds = await vault.getQad("acme");
      const mkCreds = await vault.getMarketo("acme");
      if (!qadCreds || !mkCreds) throw new Error("credentials missing");
      // Network opt-ins (loopback for the simulators) are deployment settings, not credentials: given beside them.
      const qad = new QadClient({ ...qadCreds, apiDescription, network: qadSim.clientOptions.network });
      let customers = 0;
      for await (const _c of qad.customers.list()) customers++;
      expect(customers).toBe(5);
      const mk = new MarketoClient({
        ...mkCreds,
        limits,
        allowHttp: mkSim.clientOptions.allowHttp,
        network: mkSim.clientOptions.network,
      });
      const r = await mk.companies.sync({ input: [{ externalCompanyId: "C-1", company: "Acme" }] });
      expect(r.results[0]?.status).toBe("created");
    } finally {
      await qadSim.close();
      await mkSim.close();
    }
  });
});
