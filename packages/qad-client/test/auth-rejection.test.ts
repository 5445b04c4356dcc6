import { inspect } from "node:util";
import { QadAuthError, QadClient } from "@ml/qad-client";
import { type QadSimulator, startQadSimulator } from "@ml/qad-client/testing";
import { afterEach, describe, expect, it } from "vitest";

let sim: QadSimulator | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

const PATH = "api/qracore/securityControl";
/** Only `PATH`, no API description: every request of a test is the one it makes. */
const only: { apiDescription: false; allowedPaths: string[] } = { apiDescription: false, allowedPaths: [PATH] };
const answer = { clientId: "ml-connector" };

/** A password grant against the simulator, as a user's own token service would make it. */
async function grant(s: QadSimulator): Promise<string> {
  const res = await fetch(`${s.tenantUrl.replace(/\/+$/, "")}/oauth/token`, {
    method: "POST",
    body: new URLSearchParams({
      grant_type: "password",
      client_id: s.credentials.clientId,
      username: s.credentials.username,
      password: s.credentials.password,
    }),
  });
  return ((await res.json()) as { access_token: string }).access_token;
}

describe("QAD: a 401 for a token that is not one freshly issued for the request is renewed and retried", () => {
  it("a 401 on the retry of a request that carried the old (expired) session: the request succeeds", async () => {
    sim = await startQadSimulator({ customers: 2 });
    const qad = new QadClient({ ...sim.clientOptions, ...only });
    await qad.get(PATH); // warm: the client holds a session
    sim.expireSessions(); // the old session is refused with 401
    // ...and the renewed session is dropped once more on its first use (the simulator's sessionExpired fault).
    sim.faults.inject({ kind: "sessionExpired", path: PATH, times: 1 });
    await expect(qad.get(PATH)).resolves.toMatchObject(answer);
    expect(sim.inspect()).toMatchObject({ authCalls: 3, unauthorized: 2 });
  });

  it("a provider handing the refused token out once more (its own cache), then a new one: the request succeeds", async () => {
    sim = await startQadSimulator({ customers: 2 });
    const s = sim;
    let cached: string | undefined;
    let forced = 0;
    const qad = new QadClient({
      ...s.clientOptions,
      ...only,
      auth: {
        kind: "provider",
        getToken: async ({ forceRefresh }) => {
          // Its cache thinks the token is still good the first time it is asked to refresh.
          if (cached === undefined || (forceRefresh && ++forced >= 2)) cached = await grant(s);
          return cached;
        },
      },
    });
    await qad.get(PATH);
    s.expireSessions();
    await expect(qad.get(PATH)).resolves.toMatchObject(answer);
    expect(forced).toBe(2);
    expect(s.inspect().unauthorized).toBe(2);
  });
});

describe("QAD: fresh tokens refused again are still a fatal auth error", () => {
  it("fresh tokens rejected twice: QadAuthError, no password or token in it", async () => {
    sim = await startQadSimulator({ customers: 2, tokenPrefix: "PLANTEDtok" });
    const qad = new QadClient({ ...sim.clientOptions, ...only });
    sim.faults.inject({ kind: "sessionExpired", path: PATH, times: 10 });
    const err = await qad.get(PATH).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(QadAuthError);
    const e = err as QadAuthError;
    expect(e.status).toBe(401);
    expect(e.retryable).toBe(false);
    expect(e.message).toMatch(/freshly renewed/);
    // Both sessions were issued for this request and both refused: no third login.
    expect(sim.inspect()).toMatchObject({ authCalls: 2, unauthorized: 2 });
    const dump = `${e.message} ${JSON.stringify(e)} ${e.stack} ${inspect(e, { showHidden: true, depth: 10 })}`;
    expect(dump).not.toContain(sim.credentials.password);
    expect(dump).not.toContain("PLANTEDtok");
  });

  it("a provider that keeps handing out one refused token: at most 3 renewals per request", async () => {
    sim = await startQadSimulator({ customers: 2 });
    let asked = 0;
    const qad = new QadClient({
      ...sim.clientOptions,
      ...only,
      auth: {
        kind: "provider",
        getToken: async () => {
          asked++;
          // With an expiry, so the client does not look the session length up (that lookup would be refused too).
          return { token: "not-a-session-the-server-knows", expiresAt: Date.now() + 3_600_000 };
        },
      },
    });
    await expect(qad.get(PATH)).rejects.toBeInstanceOf(QadAuthError);
    expect(asked).toBe(4);
    expect(sim.inspect().unauthorized).toBe(4);
  });
});
