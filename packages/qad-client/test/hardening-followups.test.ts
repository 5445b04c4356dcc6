// Follow-ups of the hardening work: policy/config errors are not dressed up as auth or connection failures, and
// impossible dates are reported as invalid records, never dropped or accepted.
import {
  type Customer,
  customerKey,
  isQadInvalidRecord,
  lastModifiedSchema,
  QadAbortError,
  QadAuthError,
  QadClient,
  type QadClientOptions,
  QadInvalidRecord,
  QadTenantUrlError,
} from "@ml/qad-client";
import { type QadSimulator, startQadSimulator } from "@ml/qad-client/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

/** A DNS lookup answering 127.0.0.1 for every name: a public-looking host re-bound to loopback. */
const rebound = ((_h: string, o: { all?: boolean }, cb: (...a: unknown[]) => void) =>
  o.all ? cb(null, [{ address: "127.0.0.1", family: 4 }]) : cb(null, "127.0.0.1", 4)) as never;

describe("configuration and policy errors pass through unchanged", () => {
  let sim: QadSimulator;
  beforeAll(async () => {
    sim = await startQadSimulator({ customers: 3, seed: 4 });
  });
  afterAll(() => sim.close());

  /** The simulator's options with both URLs renamed to public-looking hosts that resolve to loopback. */
  function rebinding(extra: Partial<QadClientOptions> = {}): QadClientOptions {
    const tenant = new URL(sim.tenantUrl);
    tenant.hostname = "erp.acme.test";
    const qx = new URL(sim.qxtendUrl);
    qx.hostname = "qx.acme.test";
    return {
      ...sim.clientOptions,
      tenantUrl: tenant.href,
      network: { lookup: rebound },
      qxtend: { ...sim.clientOptions.qxtend!, url: qx.href },
      ...extra,
    };
  }

  it("a token request refused by the tenant policy is that QadTenantUrlError, not a QadAuthError", async () => {
    for (const auth of [
      sim.clientOptions.auth!,
      { kind: "session", username: sim.credentials.username, password: sim.credentials.password } as const,
      {
        kind: "clientCredentials",
        clientId: sim.credentials.clientId,
        clientSecret: sim.credentials.clientSecret,
      } as const,
    ]) {
      sim.resetInspection();
      const sleeps: number[] = [];
      const qad = new QadClient(rebinding({ auth, sleep: async (ms) => void sleeps.push(ms) }));
      const err = await collect(qad.customers.list()).catch((e: unknown) => e);
      expect(err, auth.kind).toBeInstanceOf(QadTenantUrlError);
      expect(err, auth.kind).not.toBeInstanceOf(QadAuthError);
      expect((err as QadTenantUrlError).code).toBe("config");
      expect((err as QadTenantUrlError).reason).toBe("loopback");
      expect(sleeps).toEqual([]);
      expect(sim.inspect().requests).toBe(0);
    }
  });

  it("a cancelled token request is a QadAbortError, not a QadAuthError", async () => {
    const ac = new AbortController();
    ac.abort(new Error("user stop"));
    const qad = new QadClient({ ...sim.clientOptions });
    const err = await collect(qad.customers.list({ signal: ac.signal })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(QadAbortError);
  });

  it("a QXtend call refused by the tenant policy at connect time fails at once, not retried", async () => {
    sim.resetInspection();
    const sleeps: number[] = [];
    const logs: string[] = [];
    const logger = {
      debug: () => {},
      info: () => {},
      warn: (_o: unknown, msg?: string) => void logs.push(msg ?? ""),
      error: () => {},
    };
    const qad = new QadClient(
      rebinding({
        protocol: "qxtend",
        sleep: async (ms) => void sleeps.push(ms),
        logger,
      }),
    );
    const err = await collect(qad.customers.list()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(QadTenantUrlError);
    expect((err as QadTenantUrlError).retryable).toBe(false);
    expect((err as Error).message).toMatch(/qx\.acme\.test resolves to 127\.0\.0\.1/);
    expect(sleeps).toEqual([]);
    expect(logs.filter((m) => /retrying/.test(m))).toEqual([]);
    expect(sim.inspect().requests).toBe(0);
  });
});

describe("impossible dates", () => {
  it("lastModifiedSchema refuses days that do not exist, with a clear message", () => {
    for (const date of ["2026-11-45", "2026-02-30", "2025-02-29", "2026-13-01", "2026-00-10", "2026-04-31"]) {
      const r = lastModifiedSchema.safeParse({ date, time: 0 });
      expect(r.success, date).toBe(false);
      expect(r.error?.issues.map((i) => i.message)).toEqual([
        `${date} is not a calendar date (no such day; expected YYYY-MM-DD)`,
      ]);
    }
    for (const date of ["2024-02-29", "2026-12-31", "2026-01-01"]) {
      expect(lastModifiedSchema.safeParse({ date, time: 86_399 }).success, date).toBe(true);
    }
    // A wrong shape gets the shape message only.
    expect(lastModifiedSchema.safeParse({ date: "31/12/2025", time: 0 }).error?.issues.map((i) => i.message)).toEqual([
      "expected YYYY-MM-DD",
    ]);
  });

  describe("over REST", () => {
    let sim: QadSimulator;
    const t0 = Date.parse("2026-03-02T09:00:00Z");
    beforeAll(async () => {
      sim = await startQadSimulator({ customers: 4, seed: 6, clock: { now: () => t0 } });
      // Every row stamped at t0 (generated stamps spread over the 30 days before).
      for (const c of sim.data.customers()) sim.data.touch(c.customerCode);
    });
    afterAll(() => sim.close());

    /**
     * A fetch that rewrites one customer's lastModifiedDate in the browse answers, as a server holding such a stamp
     * would send it (the server chose to return the row; the client must not second-guess it by comparing strings).
     */
    function rewriting(code: string, date: string): typeof fetch {
      return async (input, init) => {
        const res = await globalThis.fetch(input, init);
        if (!String(input).includes("api/qracore/browses?")) return res;
        const text = await res.text();
        const body = JSON.parse(text) as { data?: Record<string, unknown>[] };
        for (const row of Array.isArray(body.data) ? body.data : []) {
          if (row["customerV2.customerCode"] === code) row["customerV2.lastModifiedDate"] = date;
        }
        return new Response(JSON.stringify(body), { status: res.status, headers: res.headers });
      };
    }

    it("a full list reports a row stamped 2026-02-30 as an invalid record", async () => {
      const qad = new QadClient({ ...sim.clientOptions, fetch: rewriting("C000002", "2026-02-30") });
      const read = await collect(qad.customers.list({ invalid: "emit" }));
      expect(read).toHaveLength(4);
      const bad = read.filter(isQadInvalidRecord);
      expect(bad.map((b) => b.key)).toEqual([customerKey({ sharedSetCode: "SS1", customerCode: "C000002" })]);
      expect(bad[0]!.issues.join(" ")).toMatch(/2026-02-30 is not a calendar date/);
      await expect(
        collect(new QadClient({ ...sim.clientOptions, fetch: rewriting("C000002", "2026-11-45") }).customers.list()),
      ).rejects.toThrow(/2026-11-45 is not a calendar date/);
    });

    it("a modified-since read keeps such a row and reports it, instead of dropping it unseen", async () => {
      for (const date of ["2026-02-30", "0000-00-00", "2026-00-45"]) {
        const qad = new QadClient({ ...sim.clientOptions, fetch: rewriting("C000003", date) });
        const since = { date: "2026-03-01", time: 0 };
        const listed = await collect(qad.customers.list({ modifiedSince: since, invalid: "emit" }));
        expect(listed, date).toHaveLength(4);
        expect(
          listed.filter(isQadInvalidRecord).map((b) => b.key),
          date,
        ).toEqual([customerKey({ sharedSetCode: "SS1", customerCode: "C000003" })]);
        const poll = qad.customers.changes(null, { invalid: "emit", since });
        const polled = await collect(poll);
        expect(polled.filter((x) => x instanceof QadInvalidRecord).map((b) => (b as QadInvalidRecord).key)).toEqual([
          customerKey({ sharedSetCode: "SS1", customerCode: "C000003" }),
        ]);
        expect((polled.filter((x) => !isQadInvalidRecord(x)) as Customer[]).map((c) => c.customerCode)).toEqual([
          "C000001",
          "C000002",
          "C000004",
        ]);
        // The impossible stamp never becomes the high-water mark.
        expect(poll.checkpoint().highWater).toEqual({ date: "2026-03-02", time: 9 * 3600 });
      }
    });
  });
});
