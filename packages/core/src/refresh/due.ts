// When an access token is due for refresh: `min(buffer, half its issued lifetime)` before it
// expires. A fixed buffer alone makes every token whose lifetime is at or below it "due" the
// moment it is issued (a 5-minute Keycloak token with a 5-minute buffer refreshed on every call);
// with the lifetime known from `expires_in`, a token is refreshed at most about once per
// half-life, by every path (sweep, worker, inline, proxy), since they all ask this one function.

/** Share of the issued lifetime a token is refreshed ahead of its expiry, at most. */
export const REFRESH_LIFETIME_SHARE = 0.5;

export interface DueInput {
  tokenExpiresAt: Date;
  /** the lifetime issued with this token (`expires_in`); null when unknown (then the buffer alone) */
  tokenLifetimeSeconds: number | null;
  bufferMs: number;
}

/** How long before expiry the refresh is due. */
export function refreshLeadMs(tokenLifetimeSeconds: number | null, bufferMs: number): number {
  if (tokenLifetimeSeconds === null || !(tokenLifetimeSeconds > 0)) return bufferMs;
  return Math.min(bufferMs, tokenLifetimeSeconds * 1000 * REFRESH_LIFETIME_SHARE);
}

/** The moment the token is due for refresh. */
export function refreshDueAt(input: DueInput): Date {
  return new Date(input.tokenExpiresAt.getTime() - refreshLeadMs(input.tokenLifetimeSeconds, input.bufferMs));
}

/** Whether it is due at `now`. */
export function isRefreshDue(input: DueInput, now: Date): boolean {
  return refreshDueAt(input).getTime() <= now.getTime();
}
