// How grants look through the control API: freshly seeded (with tokens), full state, compact.
import type { Grant, IssuedTokens } from '../grants/store.ts';

const iso = (ms: number | null): string | null =>
  ms === null || !Number.isFinite(ms) ? null : new Date(ms).toISOString();

export interface SeededGrant {
  grantId: string;
  provider: string;
  accountId: string;
  email: string;
  accessToken: string;
  refreshToken: string | null;
  expiresIn: number | null;
  refreshTokenExpiresIn?: number;
}

export function seededGrant(issued: IssuedTokens): SeededGrant {
  const { grant } = issued;
  const view: SeededGrant = {
    grantId: grant.id,
    provider: grant.provider,
    accountId: grant.account.id,
    email: grant.account.email,
    accessToken: issued.accessToken,
    refreshToken: issued.refreshToken,
    expiresIn: issued.expiresIn,
  };
  if (issued.refreshTokenExpiresIn !== null) view.refreshTokenExpiresIn = issued.refreshTokenExpiresIn;
  return view;
}

/** The one refresh token the sandbox would accept now (null once the family is revoked). */
export function validRefreshToken(grant: Grant): string | null {
  return grant.revokedAt === null ? grant.refreshToken : null;
}

export function grantState(grant: Grant): Record<string, unknown> {
  return {
    grantId: grant.id,
    provider: grant.provider,
    clientId: grant.clientId,
    accountId: grant.account.id,
    email: grant.account.email,
    scope: grant.scope,
    consentedAt: iso(grant.consentedAt),
    family: grant.revokedAt === null ? 'active' : 'revoked',
    revokedReason: grant.revokedReason,
    revokedAt: iso(grant.revokedAt),
    refreshToken: validRefreshToken(grant),
    refreshTokenExpiresAt: iso(grant.refreshExpiresAt),
    lastRefreshAt: iso(grant.lastRefreshAt),
    lastRefreshClient: grant.lastRefreshClient,
    lastAnswerLost: grant.lastAnswerLost,
    refreshes: grant.refreshes,
    rotations: grant.rotations,
    reuses: grant.reuses,
    refreshesInFlight: grant.inFlight,
    accessToken: grant.accessToken,
    accessTokenExpiresAt: iso(grant.access.expiresAt),
    lastApiUseAt: iso(grant.lastApiUseAt),
  };
}

export function compactGrant(grant: Grant): Record<string, unknown> {
  return {
    grantId: grant.id,
    provider: grant.provider,
    family: grant.revokedAt === null ? 'active' : 'revoked',
    revokedReason: grant.revokedReason,
    refreshToken: validRefreshToken(grant),
    lastRefreshAt: iso(grant.lastRefreshAt),
    lastRefreshClient: grant.lastRefreshClient,
    lastAnswerLost: grant.lastAnswerLost,
    reuses: grant.reuses,
  };
}
