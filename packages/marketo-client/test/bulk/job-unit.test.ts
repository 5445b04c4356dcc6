import { describe, expect, it } from "vitest";
import {
  BulkApi,
  type BulkTransport,
  type BulkTransportRequest,
  MarketoBulkJobFailedError,
  MarketoBulkQuotaError,
  MarketoBulkTimeoutError,
} from "../../src/bulk/index.js";
import { classify1029, nextCentralMidnight } from "../../src/bulk/job.js";
import { MarketoInvalidRequestError, MarketoValidationError } from "../../src/errors.js";

const quiet = { debug() {}, info() {}, warn() {}, error() {} };

function apiError(code: string, message: string) {
  return new MarketoInvalidRequestError(`Marketo error ${code}: ${message}`, { code, errors: [{ code, message }] });
}

/** A transport that answers status calls from a script and records every call. */
function scripted(statuses: (string | Error)[]) {
  const calls: string[] = [];
  const transport: BulkTransport = {
    async request<T>(req: BulkTransportRequest) {
      calls.push(`${req.method} ${req.path}`);
      if (req.path.endsWith("/create.json")) return { result: [{ exportId: "E1", status: "Created" } as T] };
      if (req.path.endsWith("/status.json")) {
        const next = statuses.shift() ?? "Queued";
        if (next instanceof Error) throw next;
        return { result: [{ exportId: "E1", status: next, errorMsg: next === "Failed" ? "disk full" : null } as T] };
      }
      return { result: [{ exportId: "E1", status: "Queued" } as T] };
    },
    async raw() {
      calls.push("GET file");
      return new Response("id\n1\n", { status: 200 });
    },
  };
  return { transport, calls };
}

function api(transport: BulkTransport, sleeps: number[]) {
  return new BulkApi(transport, {
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    random: () => 0.5, // jitter factor 0.9 + 0.2 * 0.5 = 1: exact delays
    logger: quiet,
    describeLeadFields: async () => [{ id: 1, displayName: "Id", dataType: "integer", rest: { name: "id" } }],
  });
}

const params = { filter: { createdAt: { startAt: "2026-01-01", endAt: "2026-01-02" } } };

async function run(bulk: BulkApi, options = {}) {
  const rows = [];
  for await (const r of bulk.leads.extract(params, options)) rows.push(r);
  return rows;
}

describe("job polling and outcomes", () => {
  it("polls at once, then after the initial delay, doubling up to the cap (injected sleep)", async () => {
    const { transport, calls } = scripted(["Queued", "Queued", "Processing", "Processing", "Processing", "Completed"]);
    const sleeps: number[] = [];
    const rows = await run(api(transport, sleeps), { poll: { initialDelayMs: 5_000, maxDelayMs: 30_000 } });
    expect(rows).toEqual([{ id: "1" }]);
    expect(sleeps).toEqual([5_000, 10_000, 20_000, 30_000, 30_000]);
    expect(calls.filter((c) => c.endsWith("/status.json"))).toHaveLength(6);
  });

  it("uses Marketo's advice by default: never more than one status call a minute, backing off to one per 5 minutes", async () => {
    const { transport } = scripted(["Queued", "Queued", "Queued", "Queued", "Queued", "Completed"]);
    const sleeps: number[] = [];
    await run(api(transport, sleeps));
    expect(sleeps).toEqual([60_000, 120_000, 240_000, 300_000, 300_000]);
  });

  it.each(["Canceled", "Cancelled"])(
    "turns status %s into MarketoBulkJobFailedError(BULK_JOB_CANCELED)",
    async (status) => {
      const { transport } = scripted([status]);
      const err = await run(api(transport, [])).catch((e) => e);
      expect(err).toBeInstanceOf(MarketoBulkJobFailedError);
      expect(err.code).toBe("BULK_JOB_CANCELED");
      expect(err.jobStatus).toBe(status);
      expect(err.exportId).toBe("E1");
      // The window goes back to pending, so a resume creates a new job for it.
      expect(err.state.jobs[0]).toMatchObject({ status: "pending", exportId: undefined });
      expect(err.state.warnings[0]).toContain("E1");
    },
  );

  it("turns status Failed into MarketoBulkJobFailedError carrying errorMsg", async () => {
    const { transport } = scripted(["Failed"]);
    const err = await run(api(transport, [])).catch((e) => e);
    expect(err).toBeInstanceOf(MarketoBulkJobFailedError);
    expect(err.message).toContain("disk full");
  });

  it("enqueues a job found still Created while polling", async () => {
    const { transport, calls } = scripted(["Created", "Completed"]);
    await run(api(transport, []));
    expect(calls.filter((c) => c.endsWith("/enqueue.json"))).toHaveLength(2);
  });

  it("gives up after poll.timeoutMs of summed waits with a retryable MarketoBulkTimeoutError", async () => {
    const { transport } = scripted([]);
    const sleeps: number[] = [];
    const err = await run(api(transport, sleeps), {
      poll: { initialDelayMs: 1_000, maxDelayMs: 1_000, timeoutMs: 5_000 },
    }).catch((e) => e);
    expect(err).toBeInstanceOf(MarketoBulkTimeoutError);
    expect(err.retryable).toBe(true);
    expect(sleeps).toEqual([1_000, 1_000, 1_000, 1_000, 1_000]);
  });

  it("waits queueRetryDelayMs between enqueues while the queue is full, and gives up at queueTimeoutMs", async () => {
    const sleeps: number[] = [];
    const transport: BulkTransport = {
      async request<T>(req: BulkTransportRequest) {
        if (req.path.endsWith("/create.json")) return { result: [{ exportId: "E1", status: "Created" } as T] };
        throw apiError("1029", "Too many jobs in queue");
      },
      raw: async () => new Response(""),
    };
    const err = await run(api(transport, sleeps), { queueRetryDelayMs: 2_000, queueTimeoutMs: 6_000 }).catch((e) => e);
    expect(err).toBeInstanceOf(MarketoBulkTimeoutError);
    expect(sleeps).toEqual([2_000, 2_000, 2_000]);
  });
});

describe("1029 classification", () => {
  it("tells the three meanings apart by message", () => {
    expect(classify1029(apiError("1029", "Too many jobs in queue"))).toBe("queue-full");
    expect(classify1029(apiError("1029", "Export daily quota exceeded"))).toBe("daily-quota");
    expect(classify1029(apiError("1029", "Job already queued"))).toBe("already-queued");
    expect(classify1029(apiError("1003", "Job already queued"))).toBeUndefined();
    expect(classify1029(new Error("1029"))).toBeUndefined();
  });
});

describe("resume state validation", () => {
  it("rejects a mangled or foreign state before any call", async () => {
    const { transport, calls } = scripted([]);
    const bulk = api(transport, []);
    for (const bad of [
      { version: 2 },
      { version: 1, object: "leads", format: "CSV", jobs: [], rowsDelivered: 0, warnings: [] },
      {
        version: 1,
        object: "activities",
        format: "CSV",
        jobs: [{ filter: {}, status: "pending", rowsDelivered: 0, bytesReceived: 0 }],
        rowsDelivered: 0,
        warnings: [],
      },
      {
        version: 1,
        object: "leads",
        format: "CSV",
        jobs: [{ filter: {}, status: "enqueued", rowsDelivered: 0, bytesReceived: 0 }],
        rowsDelivered: 0,
        warnings: [],
      },
    ]) {
      // biome-ignore lint/suspicious/noExplicitAny: deliberately malformed input
      const err = await run(bulk, { resumeFrom: bad as any }).catch((e) => e);
      expect(err).toBeInstanceOf(MarketoValidationError);
    }
    expect(calls).toHaveLength(0);
  });
});

describe("quota reset time", () => {
  it.each([
    ["2026-06-01T12:00:00Z", "2026-06-02T05:00:00.000Z"], // CDT
    ["2026-01-15T03:00:00Z", "2026-01-15T06:00:00.000Z"], // CST, still Jan 14 in Chicago
    ["2026-03-08T07:00:00Z", "2026-03-09T05:00:00.000Z"], // 01:00 CST on the day DST starts
    ["2026-11-01T06:00:00Z", "2026-11-02T06:00:00.000Z"], // 01:00 CDT on the day DST ends
  ])("after %s the quota resets at %s", (now, expected) => {
    expect(nextCentralMidnight(Date.parse(now)).toISOString()).toBe(expected);
  });

  it("puts resetsAt (by the injected clock) on MarketoBulkQuotaError", async () => {
    const transport: BulkTransport = {
      async request<T>(req: BulkTransportRequest) {
        if (req.path.endsWith("/create.json")) return { result: [{ exportId: "E1", status: "Created" } as T] };
        throw apiError("1029", "Export daily quota exceeded");
      },
      raw: async () => new Response(""),
    };
    const bulk = new BulkApi(transport, {
      clock: { now: () => Date.parse("2026-06-01T12:00:00Z") },
      logger: quiet,
      describeLeadFields: async () => [{ id: 1, displayName: "Id", dataType: "integer", rest: { name: "id" } }],
    });
    const err = await run(bulk).catch((e) => e);
    expect(err).toBeInstanceOf(MarketoBulkQuotaError);
    expect(err.resetsAt.toISOString()).toBe("2026-06-02T05:00:00.000Z");
    expect(err.state.jobs[0]).toMatchObject({ exportId: "E1", status: "created" });
  });
});
