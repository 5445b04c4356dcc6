/**
 * Reads the `exp` claim (seconds since epoch) of a JWT without verifying it: the client only uses it to renew
 * early, the server remains the judge. Returns ms since epoch, or undefined when the token is not a JWT.
 * @internal
 */
export function jwtExpiryMs(token: string): number | undefined {
  const parts = token.split(".");
  if (parts.length !== 3 || !parts[1]) return undefined;
  try {
    const payload = JSON.parse(Buffer.from(parts[1], "base64url").toString("utf8")) as { exp?: unknown };
    return typeof payload.exp === "number" && Number.isFinite(payload.exp) ? payload.exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}
