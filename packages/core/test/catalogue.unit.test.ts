import { describe, expect, it } from 'vitest';
import {
  PROVIDERS,
  providerSpec,
  PROVIDER_KEYS,
  isProviderKey,
  refreshExtendsLifetime,
  refreshTokenExpiresAt,
  resolveEndpoints,
  scopesFor,
} from '../src/index.ts';

describe('provider catalogue', () => {
  it('describes every provider key, under its own key', () => {
    for (const key of PROVIDER_KEYS) expect(providerSpec(key).key).toBe(key);
    expect(isProviderKey('spotify')).toBe(true);
    expect(isProviderKey('myspace')).toBe(false);
  });

  it('keeps the wire facts of PROVIDERS.md: client auth, rotation, lifetimes, errors', () => {
    expect(PROVIDERS.spotify.clientAuth).toBe('basic');
    expect(PROVIDERS.fathom.clientAuth).toBe('body');
    expect(PROVIDERS.google.clientAuth).toBe('body');
    expect(PROVIDERS.discord.acceptedClientAuth).toEqual(['basic', 'body']);
    expect(PROVIDERS.fathom.refresh).toMatchObject({ rotation: 'always' });
    expect(PROVIDERS.spotify.refresh).toMatchObject({ rotation: 'sometimes' });
    expect(PROVIDERS.google.refresh).toMatchObject({ rotation: 'never' });
    expect(PROVIDERS.discord.refresh).toMatchObject({ rotation: 'always' });
    expect(PROVIDERS.github.refresh).toEqual({ kind: 'none' });
    expect(PROVIDERS.github.accessTokenLifetimeSeconds).toBeNull();
    expect(PROVIDERS.github_app.refresh).toMatchObject({ rotation: 'always' });
    expect(PROVIDERS.github_app.tokenErrors.errorsWithHttp200).toBe(true);
    expect(PROVIDERS.github.tokenErrors.codes.bad_refresh_token).toBe('invalid_grant');
    expect(PROVIDERS.discord.rateLimit.signals).toContain('json-retry_after');
    expect(PROVIDERS.fathom.rateLimit.accountBudget).toEqual({ requests: 60, windowSeconds: 60 });
    expect(PROVIDERS.discord.accessTokenLifetimeSeconds).toBe(604_800);
  });

  it('resolves endpoints: an explicit override, else the sandbox, else the real host', () => {
    const real = resolveEndpoints(PROVIDERS.spotify);
    expect(real.tokenUrl).toBe('https://accounts.spotify.com/api/token');
    const sandbox = resolveEndpoints(PROVIDERS.spotify, { sandboxUrl: 'http://127.0.0.1:4000/' });
    expect(sandbox.tokenUrl).toBe('http://127.0.0.1:4000/spotify/api/token');
    const override = resolveEndpoints(PROVIDERS.spotify, {
      sandboxUrl: 'http://127.0.0.1:4000',
      tokenUrl: 'http://proxy.internal/token',
    });
    expect(override.tokenUrl).toBe('http://proxy.internal/token');
    expect(override.apiBaseUrl).toBe('http://127.0.0.1:4000/spotify/v1');
  });

  it('gives every provider a distinct sandbox prefix', () => {
    const prefixes = PROVIDER_KEYS.filter((k) => k !== 'github_app').map(
      (k) => providerSpec(k).sandboxPaths.tokenUrl.split('/')[1],
    );
    expect(new Set(prefixes).size).toBe(prefixes.length);
  });

  it('joins Google products into one scope set of one client', () => {
    const scopes = scopesFor(PROVIDERS.google, ['youtube', 'gmail', 'calendar']);
    expect(scopes).toContain('https://www.googleapis.com/auth/gmail.readonly');
    expect(scopes).toContain('openid');
    expect(() => scopesFor(PROVIDERS.google, ['maps'])).toThrow(
      /no product "maps"; expected one of: youtube, gmail, calendar/,
    );
  });

  it('computes when a refresh token lapses, per provider rule', () => {
    const consentedAt = new Date('2026-01-01T00:00:00Z');
    const lastUsedAt = new Date('2026-03-01T00:00:00Z');
    expect(refreshTokenExpiresAt(PROVIDERS.spotify, { consentedAt, lastUsedAt })?.toISOString()).toBe(
      '2026-07-02T00:00:00.000Z',
    );
    expect(refreshTokenExpiresAt(PROVIDERS.google, { consentedAt, lastUsedAt })?.toISOString()).toBe(
      '2026-08-30T00:00:00.000Z',
    );
    expect(
      refreshTokenExpiresAt(PROVIDERS.github_app, {
        consentedAt,
        lastUsedAt,
        refreshTokenExpiresInSeconds: 3600,
      })?.toISOString(),
    ).toBe('2026-03-01T01:00:00.000Z');
    expect(refreshTokenExpiresAt(PROVIDERS.fathom, { consentedAt, lastUsedAt })).toBeNull();
    expect(refreshTokenExpiresAt(PROVIDERS.github, { consentedAt, lastUsedAt })).toBeNull();
    expect(refreshExtendsLifetime(PROVIDERS.google)).toBe(true);
    expect(refreshExtendsLifetime(PROVIDERS.spotify)).toBe(false);
  });
});
