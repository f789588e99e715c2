import type { ProviderSpec } from './types.ts';

export interface RefreshTokenExpiryInput {
  /** when the user consented (the first grant; reconnecting starts a new one) */
  consentedAt: Date;
  /** when this refresh token was last used successfully (or issued) */
  lastUsedAt: Date;
  /** `refresh_token_expires_in` from the latest token response, if the provider sent one */
  refreshTokenExpiresInSeconds?: number | undefined;
  /** the previously known lapse time, kept when nothing moves it */
  previous?: Date | null;
}

/**
 * When the stored refresh token will lapse, per the provider's rule, or null if it does not
 * lapse by time. Spotify's lapse is fixed at consent; Google's moves with every use; GitHub Apps say.
 */
export function refreshTokenExpiresAt(spec: ProviderSpec, input: RefreshTokenExpiryInput): Date | null {
  if (spec.refresh.kind === 'none') return null;
  const rule = spec.refresh.refreshTokenLifetime;
  switch (rule.kind) {
    case 'none':
      return null;
    case 'absolute_from_consent':
      return new Date(input.consentedAt.getTime() + rule.seconds * 1000);
    case 'inactivity':
      return new Date(input.lastUsedAt.getTime() + rule.seconds * 1000);
    case 'from_response':
      return input.refreshTokenExpiresInSeconds !== undefined
        ? new Date(input.lastUsedAt.getTime() + input.refreshTokenExpiresInSeconds * 1000)
        : (input.previous ?? null);
  }
}

/** Whether refreshing moves the lapse date, i.e. whether exercising the token ahead of time helps. */
export function refreshExtendsLifetime(spec: ProviderSpec): boolean {
  if (spec.refresh.kind === 'none') return false;
  const kind = spec.refresh.refreshTokenLifetime.kind;
  return kind === 'inactivity' || kind === 'from_response';
}
