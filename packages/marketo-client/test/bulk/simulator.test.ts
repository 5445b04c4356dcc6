import { createHash } from "node:crypto";
import { manualClock } from "@ml/http-kernel/testing";
import { afterEach, describe, expect, it } from "vitest";
import { LEAD_FIELDS, makeLeads } from "./helpers/data.js";
import { type Harness, startHarness } from "./helpers/harness.js";

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const fields = ["id", "email", "notes", "createdAt"];

async function post(path: string, body?: unknown, token = "token-A") {
  const res = await fetch(`${h!.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  return (await res.json()) as {
    success: boolean;
    result?: Record<string, unknown>[];
    errors?: { code: string; message: string }[];
  };
}
async function get(path: string, headers: Record<string, string> = {}, token = "token-A") {
  return fetch(`${h!.url}${path}`, { headers: { authorization: `Bearer ${token}`, ...headers } });
}
async function createAndComplete(range = { startAt: "2026-01-01T00:00:00Z", endAt: "2026-01-31T00:00:00Z" }) {
  const created = await post("/v1/leads/export/create.json", { fields, filter: { createdAt: range } });
  const id = created.result?.[0]?.["exportId"] as string;
  await post(`/v1/leads/export/${id}/enqueue.json`);
  for (;;) {
    const st = (await (await get(`/v1/leads/export/${id}/status.json`)).json()) as {
      result: Record<string, unknown>[];
    };
    if (st.result[0]?.["status"] === "Completed") return { id, status: st.result[0] };
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe("bulk simulator", () => {
  it("runs Created → Queued → Processing → Completed on the scaled clock and announces size, checksum, records", async () => {
    // A manual clock: each status is seen, however slow the machine (one step = a simulated minute = 60 clock ms).
    const clock = manualClock();
    h = await startHarness({ leads: makeLeads(30), leadFields: LEAD_FIELDS, clock });
    const created = await post("/v1/leads/export/create.json", {
      fields,
      filter: { createdAt: { startAt: "2026-01-01T00:00:00Z", endAt: "2026-01-31T00:00:00Z" } },
    });
    expect(created.result?.[0]?.["status"]).toBe("Created");
    const id = created.result?.[0]?.["exportId"] as string;
    // Not ready yet: 404 plain text.
    const early = await get(`/v1/leads/export/${id}/file.json`);
    expect(early.status).toBe(404);
    expect(await early.text()).toBe("File not ready");
    await post(`/v1/leads/export/${id}/enqueue.json`);
    const seen = new Set<string>();
    let final: Record<string, unknown> = {};
    for (;;) {
      const st = (await (await get(`/v1/leads/export/${id}/status.json`)).json()) as {
        result: Record<string, unknown>[];
      };
      final = st.result[0] as Record<string, unknown>;
      seen.add(final["status"] as string);
      if (final["status"] === "Completed") break;
      expect(seen.size).toBeLessThan(4);
      clock.advance(30); // half a step: every status is seen at least twice
      if (final["status"] === "Queued") expect(final["startedAt"] ?? null).toBeNull();
    }
    expect([...seen]).toEqual(["Queued", "Processing", "Completed"]);
    const file = Buffer.from(await (await get(`/v1/leads/export/${id}/file.json`)).arrayBuffer());
    expect(final["fileSize"]).toBe(file.length);
    expect(final["fileChecksum"]).toBe(`sha256:${createHash("sha256").update(file).digest("hex")}`);
    expect(final["numberOfRecords"]).toBe(30);
    // Status changes at most once per simulated minute.
    expect(Date.parse(final["startedAt"] as string) - Date.parse(final["queuedAt"] as string)).toBeGreaterThanOrEqual(
      60_000,
    );
    expect(Date.parse(final["finishedAt"] as string) - Date.parse(final["startedAt"] as string)).toBeGreaterThanOrEqual(
      60_000,
    );
  });

  it("serves Range requests with 206 and Content-Range, 416 past the end", async () => {
    h = await startHarness({ leads: makeLeads(30), leadFields: LEAD_FIELDS });
    const { id } = await createAndComplete();
    const whole = Buffer.from(await (await get(`/v1/leads/export/${id}/file.json`)).arrayBuffer());
    const part = await get(`/v1/leads/export/${id}/file.json`, { range: "bytes=100-199" });
    expect(part.status).toBe(206);
    expect(part.headers.get("content-range")).toBe(`bytes 100-199/${whole.length}`);
    expect(Buffer.from(await part.arrayBuffer()).equals(whole.subarray(100, 200))).toBe(true);
    const tail = await get(`/v1/leads/export/${id}/file.json`, { range: "bytes=500-" });
    expect(Buffer.from(await tail.arrayBuffer()).equals(whole.subarray(500))).toBe(true);
    const past = await get(`/v1/leads/export/${id}/file.json`, { range: `bytes=${whole.length}-` });
    expect(past.status).toBe(416);
  });

  it("refuses windows over 31 days (1003) and unknown fields (1003)", async () => {
    h = await startHarness({ leads: [], leadFields: LEAD_FIELDS });
    const wide = await post("/v1/leads/export/create.json", {
      fields,
      filter: { createdAt: { startAt: "2026-01-01T00:00:00Z", endAt: "2026-02-02T00:00:00Z" } },
    });
    expect(wide.errors?.[0]?.code).toBe("1003");
    const bad = await post("/v1/leads/export/create.json", {
      fields: ["id", "nope"],
      filter: { createdAt: { startAt: "2026-01-01T00:00:00Z", endAt: "2026-01-02T00:00:00Z" } },
    });
    expect(bad.errors?.[0]).toEqual({ code: "1003", message: "Invalid fields: nope" });
  });

  it("keeps at most 2 jobs processing and 10 queued; the 11th enqueue answers 1029 Too many jobs in queue", async () => {
    // A manual clock: the queue cannot drain while the test looks at it; one step (300 real ms) passes on advance.
    const clock = manualClock();
    h = await startHarness({ leads: makeLeads(5), leadFields: LEAD_FIELDS, options: { stepMs: 300_000 }, clock });
    const ids: string[] = [];
    for (let i = 0; i < 13; i++) {
      const c = await post("/v1/leads/export/create.json", {
        fields,
        filter: { createdAt: { startAt: "2026-01-01T00:00:00Z", endAt: "2026-01-05T00:00:00Z" } },
      });
      ids.push(c.result?.[0]?.["exportId"] as string);
    }
    const answers = [];
    for (const id of ids.slice(0, 11)) answers.push(await post(`/v1/leads/export/${id}/enqueue.json`));
    expect(answers.slice(0, 10).every((a) => a.success)).toBe(true);
    expect(answers[10]?.errors?.[0]).toEqual({ code: "1029", message: "Too many jobs in queue" });
    expect(h.sim.inspect().jobs.filter((j) => j.status === "Processing")).toHaveLength(0);
    clock.advance(350); // one step
    const statuses = h.sim.inspect().jobs.map((j) => j.status);
    expect(statuses.filter((s) => s === "Processing")).toHaveLength(2);
    // Enqueueing a queued job again: "Job already queued".
    const again = await post(`/v1/leads/export/${ids[5]}/enqueue.json`);
    expect(again.errors?.[0]).toEqual({ code: "1029", message: "Job already queued" });
  });

  it("shows a job only to the API user who created it, with ownerCheck", async () => {
    h = await startHarness({ leads: makeLeads(5), leadFields: LEAD_FIELDS, options: { ownerCheck: true } });
    const c = await post("/v1/leads/export/create.json", {
      fields,
      filter: { createdAt: { startAt: "2026-01-01T00:00:00Z", endAt: "2026-01-05T00:00:00Z" } },
    });
    const id = c.result?.[0]?.["exportId"] as string;
    const mine = (await (await get(`/v1/leads/export/${id}/status.json`)).json()) as { success: boolean };
    const theirs = (await (await get(`/v1/leads/export/${id}/status.json`, {}, "token-B")).json()) as {
      success: boolean;
      errors: { code: string }[];
    };
    expect(mine.success).toBe(true);
    expect(theirs.success).toBe(false);
    expect(theirs.errors[0]?.code).toBe("1003");
  });

  it("streams a synthetic file whose checksum, size and Range slices agree with the full stream", async () => {
    h = await startHarness({ leadFields: LEAD_FIELDS, options: { synthetic: { leads: { rows: 100_000 } } } });
    const { id, status } = await createAndComplete();
    const whole = Buffer.from(await (await get(`/v1/leads/export/${id}/file.json`)).arrayBuffer());
    expect(whole.length).toBe(status["fileSize"]);
    expect(`sha256:${createHash("sha256").update(whole).digest("hex")}`).toBe(status["fileChecksum"]);
    expect(status["numberOfRecords"]).toBe(100_000);
    expect(whole.length).toBeGreaterThan(5 * 1024 * 1024); // so a Range can start from a later 4 MB checkpoint
    // A Range starting deep in the file (past a 4 MB checkpoint) gives the same bytes.
    const from = whole.length - 1_234_567;
    const part = await get(`/v1/leads/export/${id}/file.json`, { range: `bytes=${from}-${from + 99_999}` });
    expect(Buffer.from(await part.arrayBuffer()).equals(whole.subarray(from, from + 100_000))).toBe(true);
  });
});

describe("job list and the day's export use", () => {
  it("lists this user's jobs (every page) and sums today's completed file sizes", async () => {
    h = await startHarness({ leads: makeLeads(40), leadFields: LEAD_FIELDS, options: { ownerCheck: true } });
    const a = await createAndComplete({ startAt: "2026-01-01T00:00:00Z", endAt: "2026-01-10T00:00:00Z" });
    const b = await createAndComplete({ startAt: "2026-01-10T00:00:01Z", endAt: "2026-01-20T00:00:00Z" });
    // 300 more jobs left in Created: the list needs two pages.
    for (let i = 0; i < 300; i++) {
      await post("/v1/leads/export/create.json", {
        fields,
        filter: { createdAt: { startAt: "2026-01-01T00:00:00Z", endAt: "2026-01-02T00:00:00Z" } },
      });
    }
    expect(await h.bulk.leads.jobs()).toHaveLength(302);
    const completed = await h.bulk.leads.jobs({ status: ["Completed"] });
    expect(completed.map((j) => j.exportId).sort()).toEqual([a.id, b.id].sort());
    const usage = await h.bulk.exportBytesToday();
    expect(usage.jobs).toBe(2);
    expect(usage.bytes).toBe((a.status["fileSize"] as number) + (b.status["fileSize"] as number));
    expect(usage.day).toMatch(/^\d{4}-\d\d-\d\d$/);
    // Another API user sees none of them.
    const other = h.api({}, "token-B");
    expect(await other.leads.jobs()).toHaveLength(0);
    expect((await other.exportBytesToday()).bytes).toBe(0);
  });
});
