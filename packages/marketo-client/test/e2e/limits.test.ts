import { MarketoClient, MarketoQuotaExceededError, MarketoRateLimitError } from "@ml/marketo-client";
import { type MarketoSimulator, startMarketoSimulator } from "@ml/marketo-client/testing";
import { afterEach, describe, expect, it } from "vitest";

let sim: MarketoSimulator | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

describe("quota-aware limiter against the simulator's real limits", () => {
  it("1,000 calls fired at once finish with zero 606/615 (window 200 ms, concurrency at Marketo's 10)", async () => {
    sim = await startMarketoSimulator({ timeScale: 0.01, latencyMs: 3 });
    const mk = new MarketoClient({
      ...sim.clientOptions,
      limits: { ...sim.clientOptions.limits, maxConcurrent: 10 },
      usageSync: false,
    });
    const settled = await Promise.allSettled(Array.from({ length: 1000 }, () => mk.stats.usage()));
    expect(settled.filter((s) => s.status === "rejected")).toHaveLength(0);
    const i = sim.inspect();
    expect(i.totalCalls).toBe(1000); // nothing retried: nothing was refused
    expect(i.violations).toEqual({ total: 0, "606": 0, "615": 0, "607": 0 });
    expect(i.peakWindowCalls).toBeLessThanOrEqual(100);
    expect(i.peakConcurrent).toBeLessThanOrEqual(10);
    expect(mk.quota().callsMade).toBe(1000);
  }, 60_000);

  it("two clients sharing one limiter store share one instance's quota", async () => {
    sim = await startMarketoSimulator({ timeScale: 0.02, latencyMs: 2 });
    const { InMemoryLimiterStore } = await import("@ml/marketo-client");
    const store = new InMemoryLimiterStore();
    const a = new MarketoClient({ ...sim.clientOptions, limiterStore: store, usageSync: false });
    const b = new MarketoClient({ ...sim.clientOptions, limiterStore: store, usageSync: false });
    await Promise.all([
      ...Array.from({ length: 150 }, () => a.stats.usage()),
      ...Array.from({ length: 150 }, () => b.stats.usage()),
    ]);
    expect(sim.inspect().violations.total).toBe(0);
    expect(sim.inspect().peakWindowCalls).toBeLessThanOrEqual(100);
  }, 30_000);

  it("without a shared store, several clients on one instance do trip 606 — and still lose nothing", async () => {
    // Three clients, each allowed the whole window by its own limiter: together they offer 3× what Marketo accepts.
    sim = await startMarketoSimulator({ timeScale: 0.02, latencyMs: 2 });
    const clients = Array.from(
      { length: 3 },
      () =>
        new MarketoClient({
          ...sim!.clientOptions,
          usageSync: false,
          limits: { ...sim!.clientOptions.limits, maxConcurrent: 10 },
          retry: { maxRetries: 10 },
        }),
    );
    const settled = await Promise.allSettled(
      clients.flatMap((c) => Array.from({ length: 120 }, () => c.stats.usage())),
    );
    expect(settled.filter((s) => s.status === "rejected")).toHaveLength(0);
    // The server refused some calls (each client alone stayed within its own window); the gate and retries recovered.
    expect(sim.inspect().violations["606"]).toBeGreaterThan(0);
  }, 30_000);

  it("a 606 pauses the whole queue: calls queued behind it wait for the gate", async () => {
    sim = await startMarketoSimulator({ timeScale: 0.05, latencyMs: 2 });
    const pauseMs = 250;
    // One call at a time, so the only call on the wire when the 606 comes back is the refused one.
    const client = new MarketoClient({
      ...sim.clientOptions,
      usageSync: false,
      limits: { ...sim.clientOptions.limits, maxConcurrent: 1, rateLimitPauseMs: pauseMs },
    });
    await client.stats.usage(); // token
    sim.resetInspection();
    sim.faults.inject({ code: 606, times: 1, path: "/rest/v1/stats/usage.json" });
    const results = await Promise.allSettled(Array.from({ length: 20 }, () => client.stats.usage()));
    expect(results.every((r) => r.status === "fulfilled")).toBe(true);
    const log = sim.callLog();
    expect(log).toHaveLength(21); // 20 calls + the one repeat of the refused call
    const refusedAt = log.findIndex((c) => c.code === "606");
    expect(refusedAt).toBe(0);
    const refused = log[0]!;
    // Every later call, queued or the repeat, arrived after the gate opened (server and client share this machine's clock).
    for (const c of log.slice(1)) expect(c.at).toBeGreaterThanOrEqual(refused.at + pauseMs);
    expect(sim.inspect().violations.total).toBe(0);
  });

  it("606 that never clears ends in a retryable MarketoRateLimitError only after retry.rateLimitMaxWaitMs", async () => {
    sim = await startMarketoSimulator({ timeScale: 0.02 });
    const mk = new MarketoClient({
      ...sim.clientOptions,
      usageSync: false,
      limits: { ...sim.clientOptions.limits, rateLimitMaxPauseMs: 200 },
      retry: { ...sim.clientOptions.retry, maxRetries: 2, rateLimitMaxWaitMs: 1_000 },
    });
    sim.faults.inject({ code: 606, times: 1_000 });
    const error = await mk.stats.usage().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MarketoRateLimitError);
    expect((error as MarketoRateLimitError).retryable).toBe(true);
    // 606 retries do not spend maxRetries (2): the call kept trying through the squeeze.
    expect(sim.inspect().totalCalls).toBeGreaterThan(3);
  });

  it("a squeeze shorter than the budget loses nothing: ten 606 in a row, then the call succeeds", async () => {
    sim = await startMarketoSimulator({ timeScale: 0.02 });
    const mk = new MarketoClient({
      ...sim.clientOptions,
      usageSync: false,
      limits: { ...sim.clientOptions.limits, rateLimitMaxPauseMs: 100 },
      retry: { ...sim.clientOptions.retry, maxRetries: 2 },
    });
    sim.faults.inject({ code: 606, times: 10 });
    await expect(mk.stats.usage()).resolves.toBeDefined();
    expect(sim.inspect().totalCalls).toBe(11);
  });

  it("stops itself before the configured daily ceiling (no call sent past it)", async () => {
    sim = await startMarketoSimulator({ timeScale: 0.02 });
    const mk = new MarketoClient({
      ...sim.clientOptions,
      usageSync: false,
      limits: { ...sim.clientOptions.limits, dailyQuota: 50, dailyReserve: 10 },
    });
    for (let i = 0; i < 40; i++) await mk.stats.usage();
    const error = await mk.stats.usage().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MarketoQuotaExceededError);
    expect((error as MarketoQuotaExceededError).code).toBe("DAILY_BUDGET");
    expect((error as MarketoQuotaExceededError).dailyUsed).toBe(40);
    expect(sim.inspect().totalCalls).toBe(40);
    expect(mk.quota()).toMatchObject({ dailyUsed: 40, dailyLimit: 50, dailyRemaining: 0 });
  });

  it("counts other integrations' calls from stats/usage.json and stops before the ceiling", async () => {
    sim = await startMarketoSimulator({ timeScale: 0.02, dailyQuota: 1000 });
    sim.setDailyUsed(985); // other integrations used most of today's quota
    const mk = new MarketoClient({
      ...sim.clientOptions,
      limits: { ...sim.clientOptions.limits, dailyReserve: 10 },
      usageSync: { everyCalls: 5 },
    });
    let made = 0;
    let error: unknown;
    for (let i = 0; i < 50 && !error; i++) {
      try {
        await mk.companies.sync({ input: [{ externalCompanyId: `C-${i}` }] });
        made++;
      } catch (e) {
        error = e;
      }
    }
    expect(error).toBeInstanceOf(MarketoQuotaExceededError);
    expect((error as MarketoQuotaExceededError).code).toBe("DAILY_BUDGET");
    expect(made).toBeLessThan(10);
    expect(sim.inspect().violations["607"]).toBe(0); // the client stopped first
    expect(sim.inspect().dailyUsed).toBeLessThanOrEqual(990);
  });

  it("a server 607 stops the client: typed error, not retried, later calls fail without a request", async () => {
    sim = await startMarketoSimulator({ timeScale: 0.02, dailyQuota: 5 });
    // The client believes in a bigger quota (e.g. misconfigured), so Marketo's own 607 is what stops it.
    const mk = new MarketoClient({
      ...sim.clientOptions,
      usageSync: false,
      limits: { ...sim.clientOptions.limits, dailyQuota: 50_000 },
    });
    for (let i = 0; i < 5; i++) await mk.stats.usage();
    const first = await mk.stats.usage().catch((e: unknown) => e);
    expect(first).toBeInstanceOf(MarketoQuotaExceededError);
    expect((first as MarketoQuotaExceededError).code).toBe("607");
    const calls = sim.inspect().totalCalls;
    expect(calls).toBe(6);
    const second = await mk.stats.usage().catch((e: unknown) => e);
    expect(second).toBeInstanceOf(MarketoQuotaExceededError);
    expect(sim.inspect().totalCalls).toBe(calls);
  });
});
