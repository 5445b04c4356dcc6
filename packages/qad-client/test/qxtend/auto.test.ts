import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { QadClient } from "../../src/index.js";
import { type QadSimulator, startQadSimulator } from "../../src/testing/index.js";
import { collect } from "./helpers.js";

let sim: QadSimulator;
beforeAll(async () => {
  sim = await startQadSimulator({ customers: 33, seed: 2 });
});
afterAll(() => sim.close());

describe('protocol "auto" falls back to QXtend', () => {
  it("reads every customer over QXtend when the REST face does not answer", async () => {
    const sleeps: number[] = [];
    const qad = new QadClient({
      ...sim.clientOptions,
      tenantUrl: "http://127.0.0.1:9/clouderp",
      protocol: "auto",
      // Backoff of the REST probe goes through the injected sleep: recorded, not waited.
      sleep: async (ms: number) => {
        sleeps.push(ms);
      },
    });
    const customers = await collect(qad.customers.list({ pageSize: 10 }));
    expect(customers).toHaveLength(33);
    expect(await qad.protocol()).toBe("qxtend");
    expect(customers.every((c) => c.lastModified.time === 0)).toBe(true);
  });
});
