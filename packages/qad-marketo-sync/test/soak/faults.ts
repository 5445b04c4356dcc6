/**
 * The fault plan of the soak: what is injected into both simulators during a run, and a timer forcing token expiry.
 */
import type { MarketoSimulator } from "@ml/marketo-client/testing";
import type { QadSimulator } from "@ml/qad-client/testing";

/** Arms every fault kind of the soak on both simulators (probabilities seeded by the simulators). */
export function armSoakFaults(mk: MarketoSimulator, qad: QadSimulator, scale: number): void {
  const writes = /^\/rest\/v1\/(companies|namedaccounts|leads)\.json$/;
  const n = (k: number) => Math.max(2, Math.round(k * scale));
  // Rate-limit bursts: runs of 606 and 615 answers, as Marketo sends when another integration shares the quota.
  mk.faults.inject({ code: 606, times: n(60), probability: 0.1 });
  mk.faults.inject({ code: 615, times: n(60), probability: 0.1 });
  // Edge 5xx and Marketo's own transient errors.
  mk.faults.inject({ code: 502, times: n(30), probability: 0.06 });
  mk.faults.inject({ code: 503, times: n(15), probability: 0.04 });
  mk.faults.inject({ code: 604, times: n(15), probability: 0.04 });
  // Connections dropped mid-answer after the write ran (outcome unknown), and reset before any answer.
  mk.faults.inject({ code: "drop", times: n(30), probability: 0.06, path: writes, method: "POST" });
  mk.faults.inject({ code: "reset", times: n(15), probability: 0.04 });
  // Slow answers (they hold a concurrency slot while they wait).
  mk.faults.inject({ code: "slow", delayMs: 150, times: n(40), probability: 0.08 });
  // Token failures (602 expired, 601 invalid) are real ones: forceTokenExpiry expires and revokes the tokens.

  qad.faults.inject({ kind: "serverError", status: 503, times: n(8), probability: 0.06 });
  qad.faults.inject({ kind: "connectionReset", times: n(5), probability: 0.05 });
  qad.faults.inject({ kind: "drop", times: n(5), probability: 0.05 });
  qad.faults.inject({ kind: "slow", delayMs: 100, times: n(10), probability: 0.06 });
  // QAD sessions are expired by forceTokenExpiry (a probabilistic fault could hit a call's renewed session again).
}

/**
 * Every `everyMs` (real time), in turn: expires every Marketo token (calls then get 602 for real) or revokes every
 * token (601 for real); every third tick also expires every QAD session (again only once the client logged in since). After each, the next one waits until a new
 * token was issued and one more tick has passed, so the calls that were waiting for it have been sent: a forced
 * expiry meeting a call's freshly renewed token would be a fatal auth failure by the client's design (Marketo
 * rejecting a token it just issued), which real Marketo does not do.
 */
export function forceTokenExpiry(
  mk: MarketoSimulator,
  qad: QadSimulator,
  everyMs: number,
): { stop(): { marketo: number; qad: number } } {
  let ticks = 0;
  let steps = 0;
  let issuedAtExpiry = -1;
  let qadAuthAtExpiry = -1;
  let qadExpiries = 0;
  const timer = setInterval(() => {
    ticks++;
    if (qadAuthAtExpiry >= 0) {
      if (qad.inspect().authCalls > qadAuthAtExpiry) qadAuthAtExpiry = -1;
    } else if (ticks % 3 === 0) {
      qadAuthAtExpiry = qad.inspect().authCalls;
      qad.expireSessions();
      qadExpiries++;
    }
    if (issuedAtExpiry >= 0) {
      if (mk.inspect().tokensIssued > issuedAtExpiry) issuedAtExpiry = -1;
      return;
    }
    steps++;
    issuedAtExpiry = mk.inspect().tokensIssued;
    if (steps % 2 === 1) mk.tokens.expireAll();
    else mk.tokens.revokeAll();
  }, everyMs);
  timer.unref();
  return {
    stop() {
      clearInterval(timer);
      return { marketo: steps, qad: qadExpiries };
    },
  };
}
