import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../src/index.ts';
import { WHO_AM_I, api, control, refresh, report, seedGrant } from './helpers.ts';

let sb: Sandbox;
beforeAll(async () => {
  sb = await startSandbox();
});
afterAll(() => sb.close());
beforeEach(() => control(sb, 'POST', '/reset'));

describe('rotation › each grant is a family of refresh tokens with the provider rule', () => {
  it.each(['fathom', 'discord', 'github_app'] as const)(
    '%s rotates on every refresh; the old token is then refused',
    async (provider) => {
      const g = await seedGrant(sb, provider);
      const first = await refresh(sb, provider, g.refreshToken!);
      expect(first.body.refresh_token).toBeTruthy();
      expect(first.body.refresh_token).not.toBe(g.refreshToken);
      const second = await refresh(sb, provider, first.body.refresh_token!);
      expect(second.body.refresh_token).toBeTruthy();
      const state = await control(sb, 'GET', `/grants/${g.grantId}`);
      expect(state).toMatchObject({
        family: 'active',
        refreshToken: second.body.refresh_token,
        rotations: 2,
        refreshes: 2,
      });
    },
  );

  it('Google never rotates: the same refresh token keeps working', async () => {
    const g = await seedGrant(sb, 'google');
    for (let i = 0; i < 3; i++) {
      const res = await refresh(sb, 'google', g.refreshToken!);
      expect(res.status).toBe(200);
      expect(res.body.refresh_token).toBeUndefined();
    }
    expect(await control(sb, 'GET', `/grants/${g.grantId}`)).toMatchObject({
      refreshToken: g.refreshToken,
      rotations: 0,
      refreshes: 3,
    });
  });
});

describe('rotation › a rotated-out refresh token presented again revokes the whole family (RFC 9700)', () => {
  it.each(['fathom', 'discord', 'github_app'] as const)(
    '%s: reuse kills the current token and its access tokens too',
    async (provider) => {
      const g = await seedGrant(sb, provider);
      const rotated = await refresh(sb, provider, g.refreshToken!, { accept: 'application/json' });
      const current = rotated.body.refresh_token!;

      const reuse = await refresh(sb, provider, g.refreshToken!);
      expect(reuse.body.error).toMatch(/invalid_grant|bad_refresh_token/);
      const afterwards = await refresh(sb, provider, current);
      expect(afterwards.body.error).toMatch(/invalid_grant|bad_refresh_token/);

      const state = await control(sb, 'GET', `/grants/${g.grantId}`);
      expect(state).toMatchObject({
        family: 'revoked',
        revokedReason: 'refresh_token_reuse',
        refreshToken: null,
        reuses: 1,
      });
      const log = (await report(sb)).providers[provider];
      expect(log.counts.reusedRefreshTokens).toBe(1);
      expect(log.revokedFamilies).toEqual([
        expect.objectContaining({ grantId: g.grantId, reason: 'refresh_token_reuse' }),
      ]);
      expect(log.examples.reusedRefreshTokens[0]).toMatchObject({ grantId: g.grantId });

      const whoAmI = WHO_AM_I[provider];
      if (whoAmI) expect((await api(sb, provider, whoAmI, rotated.body.access_token)).status).toBe(401);
    },
  );

  it('a token Spotify did not rotate is still the current one: presenting it again is no reuse', async () => {
    const g = await seedGrant(sb, 'spotify');
    let token = g.refreshToken!;
    for (let i = 0; i < 10; i++) {
      const res = await refresh(sb, 'spotify', token);
      expect(res.status).toBe(200);
      token = res.body.refresh_token ?? token;
    }
    expect((await report(sb)).providers.spotify.counts.reusedRefreshTokens).toBe(0);
  });
});

describe('rotation › the report shows each grant as the sandbox sees it', () => {
  it('GET /_sandbox/report?grants=1 lists the valid refresh token and the time of the last refresh', async () => {
    const a = await seedGrant(sb, 'discord');
    const b = await seedGrant(sb, 'discord');
    const before = Date.now();
    const res = await refresh(sb, 'discord', a.refreshToken!);
    const { grants } = await report(sb, '?grants=1');
    expect(grants?.total).toBe(2);
    const rowA = grants!.items.find((r) => r.grantId === a.grantId)!;
    expect(rowA.refreshToken).toBe(res.body.refresh_token);
    expect(Date.parse(rowA.lastRefreshAt!)).toBeGreaterThanOrEqual(before - 5);
    expect(grants!.items.find((r) => r.grantId === b.grantId)).toMatchObject({
      refreshToken: b.refreshToken,
      lastRefreshAt: null,
    });
    const page = await report(sb, '?grants=1&provider=discord&offset=1&limit=1');
    expect(page.grants?.items).toHaveLength(1);
  });
});
