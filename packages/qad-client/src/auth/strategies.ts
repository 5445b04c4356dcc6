import {
  isQadError,
  QadAbortError,
  QadAuthError,
  QadConfigError,
  type QadError,
  QadHttpError,
  QadRedirectError,
  QadResponseParseError,
  QadResponseTooLargeError,
  QadUnsafePathError,
} from "../errors.js";
import type { ResolvedDeps } from "../internal/deps.js";
import { checkPathSyntax } from "../rest/paths.js";
import type { TransportRequest, TransportResponse } from "../rest/transport.js";
import { jwtExpiryMs } from "./jwt.js";
import type { QadAuth, TokenLifetimeOptions } from "./options.js";
import { type IssuedToken, TokenManager } from "./token-manager.js";

function field(body: unknown, ...names: string[]): unknown {
  if (typeof body !== "object" || body === null) return undefined;
  const b = body as Record<string, unknown>;
  for (const n of names) if (b[n] !== undefined) return b[n];
  const data = b.data;
  if (typeof data === "object" && data !== null) {
    for (const n of names)
      if ((data as Record<string, unknown>)[n] !== undefined) return (data as Record<string, unknown>)[n];
  }
  return undefined;
}

function expiryOf(token: string, expiresIn: unknown, now: number): number | undefined {
  const secs = typeof expiresIn === "string" ? Number(expiresIn) : expiresIn;
  if (typeof secs === "number" && Number.isFinite(secs) && secs > 0) return now + secs * 1000;
  return jwtExpiryMs(token);
}

/** The socket error code (ECONNREFUSED, ENOTFOUND...) somewhere in a cause chain, when any. */
function networkCode(e: unknown): string | undefined {
  let c: unknown = e;
  for (let depth = 0; depth < 8 && c !== null && typeof c === "object"; depth++) {
    const code = (c as { code?: unknown }).code;
    if (typeof code === "string" && /^E[A-Z_]+$/.test(code)) return code;
    const inner = (c as { errors?: unknown }).errors;
    if (Array.isArray(inner)) {
      for (const x of inner) {
        const ic = (x as { code?: unknown } | null)?.code;
        if (typeof ic === "string" && /^E[A-Z_]+$/.test(ic)) return ic;
      }
    }
    c = (c as { cause?: unknown }).cause;
  }
  return undefined;
}

/**
 * What the token endpoint answered (status, content type, socket error code), as a cause safe to keep: without the
 * response body (it may hold a token) and without the fetch error (its Request holds the password in its body).
 */
function answerSummary(e: QadError): QadError {
  const net = networkCode(e.cause);
  const opts = {
    ...(e.status !== undefined ? { status: e.status } : {}),
    ...(e.request ? { request: e.request } : {}),
    retryable: e.retryable,
    ...(net ? { cause: Object.assign(new Error(`network error ${net}`), { code: net }) } : {}),
  };
  if (e instanceof QadResponseParseError) {
    return new QadResponseParseError(e.message, {
      ...opts,
      ...(e.contentType !== undefined ? { contentType: e.contentType } : {}),
    });
  }
  return new QadHttpError(e.message, opts);
}

/**
 * Errors that say nothing about the credentials, re-thrown unchanged: a configuration or policy refusal
 * (`QadConfigError`, e.g. the tenant network policy refusing the address at connect time, or an unsafe path), a
 * cancelled call, a refused redirect, an oversized answer. None holds a body or a secret.
 */
function isNotAboutCredentials(e: unknown): boolean {
  return (
    e instanceof QadConfigError ||
    e instanceof QadUnsafePathError ||
    e instanceof QadAbortError ||
    e instanceof QadRedirectError ||
    e instanceof QadResponseTooLargeError
  );
}

/**
 * Auth failures are re-thrown as QadAuthError without any request body (which held the password) or response
 * body; the cause is a summary of what the endpoint answered (protocol "auto" reads it). Errors that are not about
 * the credentials (configuration, policy, abort...) pass through unchanged.
 */
function asAuthError(e: unknown, what: string): never {
  if (isNotAboutCredentials(e)) throw e;
  if (isQadError(e)) {
    // The token request already had its retries; marking this final keeps the data request's retry layer from
    // multiplying them.
    if (e.retryable) {
      throw new QadHttpError(`${what} failed: ${e.message}`, {
        ...(e.status !== undefined ? { status: e.status } : {}),
        ...(e.request ? { request: e.request } : {}),
        retryable: false,
        cause: answerSummary(e),
      });
    }
    throw new QadAuthError(`${what} failed: ${e.message}`, {
      ...(e.status !== undefined ? { status: e.status } : {}),
      ...(e.request ? { request: e.request } : {}),
      cause: answerSummary(e),
    });
  }
  throw new QadAuthError(`${what} failed`);
}

/**
 * How the auth layer reaches the token, login and securityControl endpoints: the REST transport's `request`, always
 * called with `auth: false` (these calls carry their own credentials or an explicit `bearer`).
 * @internal
 */
export type AuthChannel = (req: TransportRequest) => Promise<TransportResponse>;

/** Learns each secret as it is issued (tokens, refresh tokens), so nothing taken from an answer can carry it. @internal */
export interface SecretSink {
  add(secret: string | undefined): void;
}

/**
 * Builds the token manager for an auth option: the `TokenProvider` the REST transport is given
 * (asked for a token before each request, told on a 401 to renew).
 * @internal
 */
export function createTokenManager(
  auth: QadAuth,
  lifetime: TokenLifetimeOptions,
  channel: AuthChannel,
  secrets: SecretSink,
  deps: ResolvedDeps,
): TokenManager {
  const issue = issuer(auth, channel, secrets, deps);
  const scPath =
    lifetime.securityControlPath === undefined ? "api/qracore/securityControl" : lifetime.securityControlPath;
  if (scPath !== false) checkPathSyntax(scPath);
  const unitMs = lifetime.sessionLengthUnit === "seconds" ? 1000 : 60_000;
  return new TokenManager({
    issue,
    clock: deps.clock,
    logger: deps.logger,
    refreshMarginMs: lifetime.refreshMarginMs ?? 60_000,
    defaultLifetimeMs: lifetime.defaultTokenLifetimeMs ?? 30 * 60_000,
    ...(scPath === false
      ? {}
      : {
          sessionLengthMs: async (token: string, signal?: AbortSignal) => {
            // Called with the new token explicitly: the manager has not stored it yet.
            const res = await channel({
              method: "GET",
              path: scPath,
              auth: false,
              scoped: false,
              bearer: token,
              ...(signal ? { signal } : {}),
            });
            const timeout = Number(field(res.body, "timeoutMinutes"));
            const session = Number(field(res.body, "sessionLength"));
            const candidates: number[] = [];
            if (Number.isFinite(timeout) && timeout > 0) candidates.push(timeout * 60_000);
            if (Number.isFinite(session) && session > 0) candidates.push(session * unitMs);
            return candidates.length ? Math.min(...candidates) : undefined;
          },
        }),
  });
}

function issuer(
  auth: QadAuth,
  channel: AuthChannel,
  secrets: SecretSink,
  deps: ResolvedDeps,
): (force: boolean, signal?: AbortSignal) => Promise<IssuedToken> {
  switch (auth.kind) {
    case "password":
    case "clientCredentials": {
      const path = checkPathSyntax(auth.tokenPath ?? "oauth/token");
      const form: Record<string, string> =
        auth.kind === "password"
          ? {
              client_id: auth.clientId,
              grant_type: "password",
              username: auth.username,
              password: auth.password,
              ...(auth.clientSecret !== undefined ? { client_secret: auth.clientSecret } : {}),
            }
          : {
              client_id: auth.clientId,
              client_secret: auth.clientSecret,
              grant_type: "client_credentials",
              ...(auth.scope !== undefined ? { scope: auth.scope } : {}),
            };
      // The refresh token lives in this closure: per client, never module-level.
      let refreshToken: string | undefined;
      const useRefresh = auth.kind === "password" && auth.useRefreshToken !== false;
      const grant = async (body: Record<string, string>, signal?: AbortSignal): Promise<IssuedToken> => {
        const res = await channel({
          method: "POST",
          path,
          form: body,
          auth: false,
          scoped: false,
          ...(signal ? { signal } : {}),
        }).catch((e: unknown) => asAuthError(e, "QAD OAuth2 token request"));
        const token = field(res.body, "access_token");
        if (typeof token !== "string" || token === "") throw new QadAuthError("QAD token answer had no access_token");
        secrets.add(token);
        const next = field(res.body, "refresh_token");
        if (typeof next === "string") secrets.add(next);
        refreshToken = useRefresh && typeof next === "string" && next !== "" ? next : undefined;
        const expiresAt = expiryOf(token, field(res.body, "expires_in"), deps.clock.now());
        return { token, ...(expiresAt !== undefined ? { expiresAt } : {}) };
      };
      return async (_force, signal) => {
        if (refreshToken !== undefined) {
          // Renew without sending the password again; a rejected refresh token falls back to the full grant.
          const rt = refreshToken;
          refreshToken = undefined;
          try {
            return await grant(
              {
                client_id: auth.clientId,
                grant_type: "refresh_token",
                refresh_token: rt,
                ...(auth.clientSecret !== undefined ? { client_secret: auth.clientSecret } : {}),
              },
              signal,
            );
          } catch (e) {
            if (signal?.aborted) throw e;
            deps.logger.info(
              { err: isQadError(e) ? e.code : "unknown" },
              "qad refresh_token rejected, logging in again",
            );
          }
        }
        return grant(form, signal);
      };
    }
    case "session": {
      const path = checkPathSyntax(auth.loginPath ?? "api/qracore/login");
      return async (_force, signal) => {
        const res = await channel({
          method: "POST",
          path,
          json: { username: auth.username, password: auth.password },
          auth: false,
          scoped: false,
          ...(signal ? { signal } : {}),
        }).catch((e: unknown) => asAuthError(e, "QAD session login"));
        const token = field(res.body, "token", "access_token", "jwt");
        if (typeof token !== "string" || token === "") throw new QadAuthError("QAD login answer had no token");
        secrets.add(token);
        const expiresAt = expiryOf(token, field(res.body, "expires_in", "expiresIn"), deps.clock.now());
        return { token, ...(expiresAt !== undefined ? { expiresAt } : {}) };
      };
    }
    case "provider":
      return async (force, signal) => {
        let got: Awaited<ReturnType<typeof auth.getToken>>;
        try {
          got = await auth.getToken({ forceRefresh: force, ...(signal ? { signal } : {}) });
        } catch (e) {
          if (isQadError(e)) throw e;
          throw new QadAuthError("The token provider failed", { cause: e });
        }
        secrets.add(typeof got === "string" ? got : got?.token);
        if (typeof got === "string") {
          const exp = jwtExpiryMs(got);
          return { token: got, ...(exp !== undefined ? { expiresAt: exp } : {}) };
        }
        const exp = got.expiresAt ?? jwtExpiryMs(got.token);
        return { token: got.token, ...(exp !== undefined ? { expiresAt: exp } : {}) };
      };
  }
}
