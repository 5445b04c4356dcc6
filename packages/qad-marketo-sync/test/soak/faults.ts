/**
 * The fault plan of the soak: what is injected into both simulators during a run, and a timer forcing token expiry
 * at random moments.
 */
import { seededRandom } from "@ml/http-kernel";
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
  // 601/602 answers for a token that is still valid (identity then hands the same token back), on any call, also on
  // the retry of a call whose token was just renewed. Real expiries and revocations come from the tokens' own short
  // life and from forceTokenExpiry.
  mk.faults.inject({ code: 601, times: n(15), probability: 0.02 });
  mk.faults.inject({ code: 602, times: n(15), probability: 0.02 });

  qad.faults.inject({ kind: "serverError", status: 503, times: n(8), probability: 0.06 });
  qad.faults.inject({ kind: "connectionReset", times: n(5), probability: 0.05 });
  qad.faults.inject({ kind: "drop", times: n(5), probability: 0.05 });
  qad.faults.inject({ kind: "slow", delayMs: 100, times: n(10), probability: 0.06 });
  // Sessions expired by the server on a random request (every issued token revoked): any page, also the retry of a
  // page whose session was just renewed.
  qad.faults.inject({ kind: "sessionExpired", times: n(8), probability: 0.02 });
}

/** What {@link forceTokenExpiry} did. */
export interface ForcedExpiries {
  /** Marketo `tokens.expireAll()` (calls then get 602). */
  marketoExpired: number;
  /** Marketo `tokens.revokeAll()` (calls then get 601). */
  marketoRevoked: number;
  /** QAD `expireSessions()` (some with the refresh tokens too). */
  qad: number;
}

/**
 * At random moments (seeded gaps of `minGapMs` to `maxGapMs`, real time), in turn: expire every Marketo token, expire
 * every QAD session (a third of the time with the refresh tokens), revoke every Marketo token. Nothing waits for the
 * client: an expiry lands while calls wait for a renewal, on calls carrying the old token, and (gaps down to 50 ms)
 * on the retry of a call carrying the token renewed a moment before.
 */
export function forceTokenExpiry(
  mk: MarketoSimulator,
  qad: QadSimulator,
  gaps: { minGapMs: number; maxGapMs: number },
  seed = 8,
): { stop(): ForcedExpiries } {
  const random = seededRandom(seed);
  const done: ForcedExpiries = { marketoExpired: 0, marketoRevoked: 0, qad: 0 };
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const next = () => {
    if (stopped) return;
    timer = setTimeout(
      () => {
        // In turn, so each kind happens even in a short run; when is what is random.
        const kind = (done.marketoExpired + done.marketoRevoked + done.qad) % 3;
        if (kind === 0) {
          mk.tokens.expireAll();
          done.marketoExpired++;
        } else if (kind === 1) {
          qad.expireSessions({ refreshTokens: random() < 1 / 3 });
          done.qad++;
        } else {
          mk.tokens.revokeAll();
          done.marketoRevoked++;
        }
        next();
      },
      gaps.minGapMs + Math.floor(random() * (gaps.maxGapMs - gaps.minGapMs)),
    );
    timer.unref();
  };
  next();
  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
      return { ...done };
    },
  };
}
