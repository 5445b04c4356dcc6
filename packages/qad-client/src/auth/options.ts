/** What a token provider returns: a bare token, or a token with its expiry (ms since epoch). */
export type ProvidedToken = string | { token: string; expiresAt?: number };

/** OAuth2 password grant, as QAD uses it: `POST {base}/oauth/token` with client_id, username and password. */
export interface PasswordAuth {
  /** Selects the OAuth2 password grant. */
  kind: "password";
  /** OAuth2 client id registered on the tenant. */
  clientId: string;
  /** Client secret, when the tenant's client has one. */
  clientSecret?: string;
  /** QAD user name. */
  username: string;
  /** QAD password. Never logged, never put in an error. */
  password: string;
  /** Token endpoint, relative to the tenant URL. @default "oauth/token" */
  tokenPath?: string;
  /**
   * Renew with the `refresh_token` QAD returns (grant_type=refresh_token) instead of sending the password again;
   * a rejected refresh token falls back to the password grant. @default true
   */
  useRefreshToken?: boolean;
}

/** OAuth2 client credentials grant against the tenant's token endpoint. */
export interface ClientCredentialsAuth {
  /** Selects the OAuth2 client credentials grant. */
  kind: "clientCredentials";
  /** OAuth2 client id. */
  clientId: string;
  /** OAuth2 client secret. Never logged, never put in an error. */
  clientSecret: string;
  /** Optional OAuth2 scope. */
  scope?: string;
  /** Token endpoint, relative to the tenant URL. @default "oauth/token" */
  tokenPath?: string;
}

/**
 * Session login returning a JWT: `POST {base}/{loginPath}` with JSON `{ username, password }`, answering
 * `{ token }` (or `access_token`, or a `data.token`). The path is an assumption; set it per instance.
 */
export interface SessionAuth {
  /** Selects the session (JWT) login. */
  kind: "session";
  /** QAD user name. */
  username: string;
  /** QAD password. Never logged, never put in an error. */
  password: string;
  /** Login endpoint, relative to the tenant URL. @default "api/qracore/login" */
  loginPath?: string;
}

/** A caller-supplied token source (a vault, another process's session...). */
export interface ProviderAuth {
  /** Selects a caller-supplied token provider. */
  kind: "provider";
  /**
   * Returns a bearer token. `forceRefresh` is true after the server rejected the previous token (HTTP 401), so
   * a caching provider must not hand back the same one.
   */
  getToken(ctx: { forceRefresh: boolean; signal?: AbortSignal }): Promise<ProvidedToken>;
}

/** How the client authenticates; see each member. */
export type QadAuth = PasswordAuth | ClientCredentialsAuth | SessionAuth | ProviderAuth;

/** Token lifetime settings shared by every auth kind. */
export interface TokenLifetimeOptions {
  /** Renew this long before the token expires. @default 60000 */
  refreshMarginMs?: number;
  /**
   * Where the session length is published, relative to the tenant URL; read when a token carries no expiry
   * (`exp` / `expires_in`). `false` skips it. @default "api/qracore/securityControl"
   */
  securityControlPath?: string | false;
  /** Unit of `sessionLength` in the securityControl answer (`timeoutMinutes` is always minutes). @default "minutes" */
  sessionLengthUnit?: "minutes" | "seconds";
  /** Assumed lifetime when nothing tells the expiry. @default 1800000 (30 minutes) */
  defaultTokenLifetimeMs?: number;
}
