// Token lifetimes: the catalogue's, shortened per run where the options say so.
import { PROVIDERS, refreshTokenExpiresAt, type ProviderKey, type ProviderSpec } from '@conduit/core';

export type PerProvider<T> = Partial<Record<ProviderKey, T>>;

export class Lifetimes {
  private readonly specs: Record<ProviderKey, ProviderSpec>;

  constructor(
    private readonly accessOverrides: PerProvider<number> = {},
    refreshOverrides: PerProvider<number> = {},
  ) {
    this.specs = Object.fromEntries(
      Object.values(PROVIDERS).map((spec) => [
        spec.key,
        withRefreshLifetime(spec, refreshOverrides[spec.key]),
      ]),
    ) as Record<ProviderKey, ProviderSpec>;
  }

  /** Seconds an access token lives, or null when the provider's tokens never expire. */
  accessTtlSeconds(provider: ProviderKey): number | null {
    const spec = PROVIDERS[provider];
    if (spec.accessTokenLifetimeSeconds === null) return null;
    return this.accessOverrides[provider] ?? spec.accessTokenLifetimeSeconds;
  }

  /** When a refresh token issued or used at `now` lapses (ms epoch); Infinity when it does not. */
  refreshExpiresAt(provider: ProviderKey, consentedAt: number, now: number): number {
    const spec = this.specs[provider];
    if (spec.refresh.kind === 'none') return Infinity;
    const rule = spec.refresh.refreshTokenLifetime;
    if (rule.kind === 'none') return Infinity;
    const at = refreshTokenExpiresAt(spec, {
      consentedAt: new Date(consentedAt),
      lastUsedAt: new Date(now),
      refreshTokenExpiresInSeconds: rule.kind === 'from_response' ? rule.typicalSeconds : undefined,
    });
    return at ? at.getTime() : Infinity;
  }

  /** Whether responses carry `refresh_token_expires_in` (the provider says, GitHub Apps). */
  refreshLifetimeInResponse(provider: ProviderKey): boolean {
    const spec = PROVIDERS[provider];
    return (
      spec.refresh.kind === 'refresh_token' && spec.refresh.refreshTokenLifetime.kind === 'from_response'
    );
  }
}

/** The spec with its refresh-token lifetime replaced; providers whose tokens never lapse keep that. */
function withRefreshLifetime(spec: ProviderSpec, seconds: number | undefined): ProviderSpec {
  if (seconds === undefined || spec.refresh.kind === 'none') return spec;
  const rule = spec.refresh.refreshTokenLifetime;
  if (rule.kind === 'none') return spec;
  const lifetime =
    rule.kind === 'from_response' ? { ...rule, typicalSeconds: seconds } : { ...rule, seconds };
  return { ...spec, refresh: { ...spec.refresh, refreshTokenLifetime: lifetime } };
}
