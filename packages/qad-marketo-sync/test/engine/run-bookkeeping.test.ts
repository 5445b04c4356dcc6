import { describe, expect, it } from "vitest";
import { decideStatus } from "../../src/engine/run-bookkeeping.js";

const base = { completed: true, writeCalls: 4, failedWriteCalls: 0, written: 10, failedRecords: 0 };
const down = { code: "ECONNREFUSED", message: "connect ECONNREFUSED 127.0.0.1:1", retryable: true };

describe("honest run status", () => {
  it("completed when every write went through", () => {
    expect(decideStatus(base)).toEqual({ status: "completed" });
  });
  it("degraded when the input was gone through but some writes failed", () => {
    expect(decideStatus({ ...base, failedWriteCalls: 1, failedRecords: 300 })).toEqual({ status: "degraded" });
  });
  it("failed, with the reason, when every write call failed and nothing was written", () => {
    const v = decideStatus({ ...base, failedWriteCalls: 4, written: 0, failedRecords: 40, callError: down });
    expect(v.status).toBe("failed");
    expect(v.error).toMatchObject({ code: "ECONNREFUSED", retryable: true });
    expect(v.error?.message).toMatch(/every Marketo write failed \(4 calls\): connect ECONNREFUSED/);
  });
  it("failed on a failure; stopped when it ended early", () => {
    expect(decideStatus({ ...base, failure: down }).status).toBe("failed");
    expect(decideStatus({ ...base, completed: false }).status).toBe("stopped");
  });
  it("no write calls at all (nothing changed) is completed", () => {
    expect(decideStatus({ ...base, writeCalls: 0, written: 0 }).status).toBe("completed");
  });
});
