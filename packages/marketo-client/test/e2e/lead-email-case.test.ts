import { MarketoClient } from "@ml/marketo-client";
import { type MarketoSimulator, startMarketoSimulator } from "@ml/marketo-client/testing";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

let sim: MarketoSimulator;
let mk: MarketoClient;
/** The lead emails of each leads.json write request, in the order they were sent. */
let sent: string[][];
beforeEach(async () => {
  sim = await startMarketoSimulator({ timeScale: 0.02 });
  sent = [];
  const recording: typeof fetch = async (input, init) => {
    const request = new Request(input, init);
    if (request.method === "POST" && new URL(request.url).pathname.endsWith("/rest/v1/leads.json")) {
      const body = (await request.clone().json()) as { input: { email?: string }[] };
      sent.push(body.input.map((l) => l.email ?? ""));
    }
    return fetch(request);
  };
  mk = new MarketoClient({ ...sim.clientOptions, usageSync: false, fetch: recording });
});
afterEach(async () => {
  await sim.close();
});

const filler = (n: number) => Array.from({ length: n }, (_, i) => ({ email: `filler${i}@example.com` }));

describe("lead emails are matched case-insensitively, as Marketo matches them", () => {
  it("two emails differing only in case never go out in separate requests: one is sent (last wins), one skipped", async () => {
    // 301 leads: the two variants would land in different batches of 300, sent concurrently.
    const input = [
      { email: "Case.Dup@Example.COM", firstName: "First" },
      ...filler(299),
      { email: "case.dup@example.com", firstName: "Last" },
    ];
    const r = await mk.leads.sync({ input });
    expect(r.results[0]).toMatchObject({ status: "skipped", reasons: [{ code: "1036" }] });
    expect(r.results[0]!.reasons[0]!.message).toMatch(/case/i);
    expect(r.results[0]!.reasons[0]!.message).toContain("#300");
    expect(r.results[300]).toMatchObject({ status: "created" });
    const carrying = sent.filter((emails) => emails.some((e) => e.toLowerCase() === "case.dup@example.com"));
    expect(carrying).toHaveLength(1);
    expect(carrying[0]!.filter((e) => e.toLowerCase() === "case.dup@example.com")).toEqual(["case.dup@example.com"]);
    expect(sent.flat()).toHaveLength(300);
    const stored = sim.data.leads.all().filter((l) => String(l["email"]).toLowerCase() === "case.dup@example.com");
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({ firstName: "Last" });
  });

  it("createDuplicate still sends every record", async () => {
    const r = await mk.leads.sync({
      action: "createDuplicate",
      input: [{ email: "X@example.com" }, { email: "x@example.com" }],
    });
    expect(r.results.map((x) => x.status)).toEqual(["created", "created"]);
  });
});
