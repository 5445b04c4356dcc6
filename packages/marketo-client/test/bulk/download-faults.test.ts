import { collectUntilError, FakeTime, flush } from "@ml/http-kernel/testing";
import { afterEach, describe, expect, it } from "vitest";
import {
  BulkApi,
  MarketoBulkDownloadError,
  MarketoBulkJobFailedError,
  MarketoChecksumError,
  MarketoCsvError,
} from "../../src/bulk/index.js";
import { isMarketoError } from "../../src/errors.js";
import { asRow, LEAD_FIELDS, makeLeads } from "./helpers/data.js";
import { collect, type Harness, quietLogger, scaledSleep, startHarness } from "./helpers/harness.js";

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const poll = { initialDelayMs: 60_000, maxDelayMs: 60_000 };
const filter = { createdAt: { startAt: "2026-01-01T00:00:00Z", endAt: "2026-01-31T00:00:00Z" } };

describe("bulk file download faults", () => {
  it("resumes a dropped connection with Range from the last byte received, not from zero", async () => {
    const leads = makeLeads(60);
    h = await startHarness({
      leads,
      leadFields: LEAD_FIELDS,
      options: { faults: { dropConnectionAfterBytes: 2_000 } },
    });
    const rows = await collect(h.bulk.leads.extract({ filter }, { poll }));
    expect(rows).toEqual(leads.map((l) => asRow(l)));
    const requests = h.sim.inspect().fileRequests;
    const size = h.sim.inspect().jobs[0]?.fileSize as number;
    expect(size).toBeGreaterThan(2_000);
    expect(requests).toHaveLength(2);
    expect(requests[0]).toMatchObject({ range: undefined, status: 200 });
    const m = /^bytes=(\d+)-(\d+)$/.exec(requests[1]?.range ?? "");
    expect(m).not.toBeNull();
    const from = Number(m?.[1]);
    // Resumed where the bytes stopped arriving (the server sent at most 2000 before dropping), through the end.
    expect(from).toBeGreaterThan(0);
    expect(from).toBeLessThanOrEqual(2_000);
    expect(Number(m?.[2])).toBe(size - 1);
    expect(requests[1]?.status).toBe(206);
    // The Range header really reached the server as sent.
    expect(h.seen.filter((s) => s.path.endsWith("/file.json")).map((s) => s.range)).toEqual([
      undefined,
      requests[1]?.range,
    ]);
  });

  it("throws MarketoChecksumError when the file does not match fileChecksum, after the rows it could yield", async () => {
    const leads = makeLeads(30);
    h = await startHarness({ leads, leadFields: LEAD_FIELDS, options: { faults: { corruptChecksum: true } } });
    const { items: rows, error } = await collectUntilError(h.bulk.leads.extract({ filter }, { poll }));
    expect(error).toBeInstanceOf(MarketoChecksumError);
    expect((error as MarketoChecksumError).code).toBe("BULK_CHECKSUM");
    expect(isMarketoError(error)).toBe(true);
    // Rows were yielded while streaming (a prefix of the file); the last one is held back until verification.
    expect(rows.length).toBeGreaterThan(20);
    expect(rows.length).toBeLessThan(30);
    expect(rows).toEqual(leads.slice(0, rows.length).map((l) => asRow(l)));
    expect((error as MarketoChecksumError).state?.rowsDelivered).toBe(rows.length);
  });

  it("throws MarketoCsvError for a file served shorter than announced (no partial row leaks)", async () => {
    const leads = makeLeads(30);
    h = await startHarness({
      leads,
      leadFields: LEAD_FIELDS,
      options: { faults: { truncateAtByte: 1_500, truncateMode: "serve" } },
    });
    const { items: rows, error } = await collectUntilError(h.bulk.leads.extract({ filter }, { poll }));
    expect(error).toBeInstanceOf(MarketoCsvError);
    expect((error as MarketoCsvError).code).toBe("BULK_TRUNCATED");
    expect(rows.length).toBeGreaterThan(0);
    expect(rows).toEqual(leads.slice(0, rows.length).map((l) => asRow(l)));
    // It asked for the rest once and got 416: truncated, not a network blip.
    expect(h.sim.inspect().fileRequests.map((r) => r.status)).toEqual([200, 416]);
  });

  it("throws MarketoCsvError for a truncated file whose size and checksum agree (bad CSV / short record count)", async () => {
    const leads = makeLeads(30);
    h = await startHarness({
      leads,
      leadFields: LEAD_FIELDS,
      options: { faults: { truncateAtByte: 1_777, truncateMode: "file" } },
    });
    const { items: rows, error } = await collectUntilError(h.bulk.leads.extract({ filter }, { poll }));
    expect(error).toBeInstanceOf(MarketoCsvError);
    for (const [i, r] of rows.entries()) expect(r).toEqual(asRow(leads[i] as Record<string, unknown>));
  });

  it("throws MarketoBulkJobFailedError when the job fails; resuming creates a new job for that window", async () => {
    const leads = makeLeads(5);
    h = await startHarness({ leads, leadFields: LEAD_FIELDS, options: { faults: { failJobs: 1 } } });
    const { error } = await collectUntilError(h.bulk.leads.extract({ filter }, { poll }));
    expect(error).toBeInstanceOf(MarketoBulkJobFailedError);
    const failed = error as MarketoBulkJobFailedError;
    expect(failed.jobStatus).toBe("Failed");
    expect(failed.code).toBe("BULK_JOB_FAILED");
    expect(failed.message).toContain("Simulated export failure");
    expect(failed.state?.jobs[0]).toMatchObject({ status: "pending", rowsDelivered: 0 });
    expect(failed.state?.jobs[0]?.exportId).toBeUndefined();
    const rows = await collect(h.bulk.leads.extract({ filter }, { poll, resumeFrom: failed.state }));
    expect(rows).toEqual(leads.map((l) => asRow(l)));
    expect(h.sim.inspect().jobs.map((j) => j.status)).toEqual(["Failed", "Completed"]);
  });

  it("cancel() cancels the running Marketo job and ends the loop; a canceled job is a typed error", async () => {
    // Fake time: the job cannot move on by itself, and each poll wait lasts until the test advances the clock.
    const time = new FakeTime();
    h = await startHarness({ leads: makeLeads(5), leadFields: LEAD_FIELDS, clock: time.clock }, { sleep: time.sleep });
    const extraction = h.bulk.leads.extract({ filter }, { poll });
    const run = collectUntilError(extraction);
    // The extract is waiting to poll again: the job exists and is still queued. Cancel it now.
    while (time.pending === 0) await flush();
    expect(h.sim.inspect().jobs.map((j) => j.status)).toEqual(["Queued"]);
    await extraction.cancel();
    const { error } = await run;
    expect(isMarketoError(error)).toBe(true);
    expect((error as { code?: string }).code).toBe("BULK_CANCELED");
    expect(h.sim.inspect().jobs[0]?.status).toBe("Canceled");
    expect(extraction.state()?.jobs[0]).toMatchObject({ status: "pending", exportId: undefined });

    // Someone else cancels the job: the extract reports it.
    const other = h.bulk.leads.extract({ filter }, { poll });
    const run2 = collectUntilError(other);
    while (time.pending === 0) await flush();
    const id = h.sim.inspect().jobs[1]?.exportId as string;
    await h.bulk.leads.cancel(id);
    await time.advance(2 * 60_000); // past the next poll (60 s ± 10 % jitter): it sees the job canceled
    const { error: e2 } = await run2;
    expect(e2).toBeInstanceOf(MarketoBulkJobFailedError);
    expect((e2 as MarketoBulkJobFailedError).code).toBe("BULK_JOB_CANCELED");
    expect((await h.bulk.leads.status(id)).status).toBe("Canceled");
  });

  it("gives up with MarketoBulkDownloadError when every resumption fails", async () => {
    const leads = makeLeads(30);
    h = await startHarness({ leads, leadFields: LEAD_FIELDS });
    // A transport whose raw() always answers 200 and then drops the body.
    const base = h.transport;
    const describeLeadFields = async () =>
      LEAD_FIELDS.map((f, i) => ({ id: i, displayName: f.name, dataType: f.dataType, rest: { name: f.name } }));
    const flaky = new BulkApi(
      {
        request: (req) => base.request(req),
        raw: async () =>
          new Response(
            new ReadableStream<Uint8Array>({
              pull(c) {
                c.error(new TypeError("terminated"));
              },
            }),
            { status: 200 },
          ),
      },
      { sleep: scaledSleep(h.ctx.timeScale), logger: quietLogger, describeLeadFields },
    );
    const { error } = await collectUntilError(flaky.leads.extract({ filter }, { poll, maxResumeAttempts: 3 }));
    expect(error).toBeInstanceOf(MarketoBulkDownloadError);
    expect((error as MarketoBulkDownloadError).retryable).toBe(true);
  });

  it("catches a file cut exactly at a row boundary by numberOfRecords (verifyRecordCount: false skips that check)", async () => {
    const leads = Array.from({ length: 30 }, (_, i) => ({
      id: String(i + 1),
      email: `plain${i}@example.com`,
      createdAt: new Date(Date.UTC(2026, 0, 2) + i * 60_000).toISOString(),
    }));
    const fields = ["id", "email", "createdAt"].map((name) => ({ name, dataType: "string" }));
    h = await startHarness({ leads, leadFields: fields });
    // Header + 10 rows end at the 11th newline of the file.
    const header = "id,email,createdAt\n";
    const rowsText = leads.map((l) => `${l.id},${l.email},${l.createdAt}\n`);
    const cut = Buffer.byteLength(header + rowsText.slice(0, 10).join(""));
    h.sim.configure({ faults: { truncateAtByte: cut, truncateMode: "file" } });
    const { items: rows, error } = await collectUntilError(h.bulk.leads.extract({ filter }, { poll }));
    expect(error).toBeInstanceOf(MarketoCsvError);
    expect((error as MarketoCsvError).code).toBe("BULK_TRUNCATED");
    expect((error as MarketoCsvError).message).toMatch(/holds 10 rows but Marketo announced 30/);
    expect(rows.length).toBeLessThan(10);
    const unchecked = await collect(h.bulk.leads.extract({ filter }, { poll, verifyRecordCount: false }));
    expect(unchecked.map((r) => r["id"])).toEqual(leads.slice(0, 10).map((l) => l.id));
  });

  it("reports a file past Marketo's retention (404 on a completed job) as BULK_FILE_GONE; a resume recreates the job", async () => {
    const leads = makeLeads(8);
    h = await startHarness({ leads, leadFields: LEAD_FIELDS, options: { faults: { expireFiles: true } } });
    const { error } = await collectUntilError(h.bulk.leads.extract({ filter }, { poll, maxResumeAttempts: 2 }));
    expect(error).toBeInstanceOf(MarketoBulkDownloadError);
    const gone = error as MarketoBulkDownloadError;
    expect(gone.code).toBe("BULK_FILE_GONE");
    expect(gone.retryable).toBe(false);
    expect(gone.state?.jobs[0]).toMatchObject({ status: "pending", exportId: undefined });
    expect(h.sim.inspect().fileRequests.map((r) => r.status)).toEqual([404, 404, 404]);
    h.sim.configure({ faults: { expireFiles: false } });
    const rows = await collect(h.bulk.leads.extract({ filter }, { poll, resumeFrom: gone.state }));
    expect(rows).toEqual(leads.map((l) => asRow(l)));
    expect(h.sim.inspect().jobs).toHaveLength(2);
  });
});
