// Token lifetimes: the catalogue's, shortened per run where the options say so.
import { providerSpec, refreshTokenExpiresAt, type ProviderKey, type ProviderSpec } from '@conduit/core';

export type PerProvider<T> = Partial<Record<ProviderKey, T>>;

export class Lifetimes {
  constructor(
    private readonly accessOverrides: PerProvider<number> = {},
    private readonly refreshOverrides: PerProvider<number> = {},
  ) {}

  /** The declaration as this run sees it: read when asked, so a provider declared later counts too. */
  private spec(provider: ProviderKey): ProviderSpec {
    return withRefreshLifetime(providerSpec(provider), this.refreshOverrides[provider]);
  }

  /** Seconds an access token lives, or null when the provider's tokens never expire. */
  accessTtlSeconds(provider: ProviderKey): number | null {
    const spec = providerSpec(provider);
    if (spec.accessTokenLifetimeSeconds === null) return null;
    return this.accessOverrides[provider] ?? spec.accessTokenLifetimeSeconds;
  }

  /** When a refresh token issued or used at `now` lapses (ms epoch); Infinity when it does not. */
  refreshExpiresAt(provider: ProviderKey, consentedAt: number, now: number): number {
    const spec = this.spec(provider);
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
    const spec = providerSpec(provider);
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
