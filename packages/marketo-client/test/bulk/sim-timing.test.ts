/**
 * `sim.clientOptions` scales every wait of the client (issue 9: a first sync sat 177 s because a bulk export was
 * polled with real Marketo timing). Time here is a manual clock shared by the simulator and the client; the client's
 * sleep records each wait and moves that clock, so nothing waits in real time and nothing asserts on the wall clock.
 */
import { manualClock, recordingSleep } from "@ml/http-kernel/testing";
import { MarketoClient } from "@ml/marketo-client";
import { type MarketoSimulator, startMarketoSimulator } from "@ml/marketo-client/testing";
import { afterEach, describe, expect, it } from "vitest";

let sim: MarketoSimulator | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

const TS = 0.01;
const DAY = 86_400_000;
const START = Date.UTC(2026, 0, 1);

async function setup(seedCount: number) {
  const clock = manualClock(Date.UTC(2026, 2, 2, 9));
  sim = await startMarketoSimulator({ timeScale: TS, clock, latencyMs: 0 });
  sim.data.leads.seed(
    Array.from({ length: seedCount }, (_, i) => ({
      email: `t${i}@example.com`,
      createdAt: new Date(START + i * DAY).toISOString(),
    })),
  );
  const { sleep, sleeps } = recordingSleep(clock);
  return { clock, sleep, sleeps, sim };
}

describe("sim.clientOptions scales every wait to the simulator's time scale", () => {
  it("sets the bulk poll, queue and resume timing, token renewal and retry delays from timeScale", async () => {
    sim = await startMarketoSimulator({ timeScale: TS });
    const o = sim.clientOptions;
    expect(o.bulk).toEqual({
      poll: { initialDelayMs: 600, maxDelayMs: 3_000, timeoutMs: 216_000 },
      queueRetryDelayMs: 600,
      queueTimeoutMs: 216_000,
      resumeBaseDelayMs: 5,
      resumeMaxDelayMs: 300,
    });
    expect(o.limits?.windowMs).toBe(200);
    expect(o.tokenRefreshMarginMs).toBe(600);
    expect(o.retry).toMatchObject({ baseDelayMs: 5, maxDelayMs: 300 });
    expect(o.tokenRenewal).toMatchObject({ retryBaseDelayMs: 10, retryMaxDelayMs: 300, successorMaxWaitMs: 50 });
  });

  it("a bulk export at timeScale 0.01 completes in simulated time: every poll wait scaled, none of Marketo's 60 s", async () => {
    const { sleep, sleeps, clock } = await setup(20);
    const s = sim as MarketoSimulator;
    const mk = new MarketoClient({ ...s.clientOptions, usageSync: false, clock, sleep, random: () => 0.5 }); // no poll jitter
    const t0 = clock.now();
    const rows = [];
    for await (const row of mk.bulk.leads.extract({
      fields: ["email"],
      filter: { createdAt: { startAt: new Date(START), endAt: new Date(START + 25 * DAY) } },
    })) {
      rows.push(row);
    }
    expect(rows.map((r) => r["email"]).sort()).toEqual(
      Array.from({ length: 20 }, (_, i) => `t${i}@example.com`).sort(),
    );
    // The job needed status polls: the first one after the scaled initial delay (60 s · 0.01).
    expect(sleeps.length).toBeGreaterThan(0);
    expect(sleeps[0]).toBe(600);
    expect(Math.max(...sleeps)).toBeLessThanOrEqual(3_000); // maxDelayMs 5 min · 0.01
    // Simulated time passed is Marketo-like (minutes), the manual clock only seconds.
    const simulatedMinutes = (clock.now() - t0) / TS / 60_000;
    expect(simulatedMinutes).toBeGreaterThanOrEqual(1);
    expect(simulatedMinutes).toBeLessThan(30);
    expect(s.inspect().violations.total).toBe(0);
  });

  it("an extract's own poll options still override the client-wide ones", async () => {
    const { sleep, sleeps, clock } = await setup(3);
    const s = sim as MarketoSimulator;
    const mk = new MarketoClient({ ...s.clientOptions, usageSync: false, clock, sleep, random: () => 0.5 }); // no poll jitter
    const ex = mk.bulk.leads.extract(
      { fields: ["email"], filter: { createdAt: { startAt: new Date(START), endAt: new Date(START + 5 * DAY) } } },
      { poll: { initialDelayMs: 250, maxDelayMs: 250 } },
    );
    const rows = [];
    for await (const r of ex) rows.push(r);
    expect(rows).toHaveLength(3);
    expect(sleeps.length).toBeGreaterThan(0);
    expect(new Set(sleeps)).toEqual(new Set([250]));
  });
});
