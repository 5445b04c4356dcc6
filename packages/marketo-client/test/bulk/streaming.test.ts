import { setTimeout as delay } from "node:timers/promises";
import { afterEach, describe, expect, it } from "vitest";
import type { BulkExtractState } from "../../src/bulk/index.js";
import { type Harness, startHarness } from "./helpers/harness.js";

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const poll = { initialDelayMs: 60_000, maxDelayMs: 60_000 };

describe("streaming", () => {
  it("pulls the file as rows are consumed: a paused consumer holds the download back (bounded memory)", async () => {
    // ~16 MB synthetic file: more than loopback socket buffers hold.
    const fields = ["id", "email", "firstName", "lastName", "company", "notes", "createdAt"];
    h = await startHarness({
      leadFields: fields.map((name) => ({ name, dataType: "string" })),
      options: { synthetic: { leads: { rows: 90_000 } } },
    });
    const extraction = h.bulk.leads.extract(
      { fields, filter: { createdAt: { startAt: "2026-01-01T00:00:00Z", endAt: "2026-01-31T00:00:00Z" } } },
      { poll },
    );
    const iterator = extraction[Symbol.asyncIterator]();
    for (let i = 0; i < 5_000; i++) await iterator.next();
    // The consumer stops pulling; give the server every chance to push ahead.
    await delay(300);
    const state = extraction.state() as BulkExtractState;
    const size = state.jobs[0]?.fileSize as number;
    const sent = h.sim.inspect().fileRequests[0]?.bytesSent as number;
    const received = state.jobs[0]?.bytesReceived as number;
    expect(size).toBeGreaterThan(15_000_000);
    // The client took in at most a few chunks beyond the rows handed out...
    expect(received).toBeLessThan(2_000_000);
    // ...and the server could only run ahead by what the kernel's socket buffers hold (a few MB on loopback), not
    // by the file: nothing in this process accumulates it.
    expect(sent).toBeLessThan(received + 10_000_000);
    expect(sent).toBeLessThan(size);
    // Then the rest streams through, every row once.
    let n = 5_000;
    for (let r = await iterator.next(); !r.done; r = await iterator.next()) n++;
    expect(n).toBe(90_000);
    expect(extraction.state()?.rowsDelivered).toBe(90_000);
  });
});
