import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../src/index.ts';
import { control, refresh, seedGrant, tokenRequest } from './helpers.ts';

let sb: Sandbox;
beforeAll(async () => {
  sb = await startSandbox({ accessTokenTtlSeconds: { google: 5 } });
});
afterAll(() => sb.close());

describe('token endpoint › client authentication, as each provider accepts it', () => {
  it('Spotify takes the Basic header only: body credentials are invalid_client', async () => {
    const g = await seedGrant(sb, 'spotify');
    const viaBody = await refresh(sb, 'spotify', g.refreshToken!, { style: 'body' });
    expect(viaBody.status).toBe(400);
    expect(viaBody.body).toEqual({ error: 'invalid_client', error_description: 'Invalid client' });
    const viaBasic = await refresh(sb, 'spotify', g.refreshToken!, { style: 'basic' });
    expect(viaBasic.status).toBe(200);
  });

  it('Fathom takes body credentials: a Basic header is invalid_client (401)', async () => {
    const g = await seedGrant(sb, 'fathom');
    const viaBasic = await refresh(sb, 'fathom', g.refreshToken!, { style: 'basic' });
    expect(viaBasic.status).toBe(401);
    expect(viaBasic.body.error).toBe('invalid_client');
    expect(viaBasic.headers.get('www-authenticate')).toMatch(/^Basic/);
    expect((await refresh(sb, 'fathom', g.refreshToken!, { style: 'body' })).status).toBe(200);
  });

  it('Google takes body credentials; a wrong secret is invalid_client with 401 "Unauthorized"', async () => {
    const g = await seedGrant(sb, 'google');
    const wrong = await refresh(sb, 'google', g.refreshToken!, { secret: 'nope' });
    expect(wrong.status).toBe(401);
    expect(wrong.body).toEqual({ error: 'invalid_client', error_description: 'Unauthorized' });
    const unknown = await refresh(sb, 'google', g.refreshToken!, { clientId: 'someone-else' });
    expect(unknown.body).toEqual({
      error: 'invalid_client',
      error_description: 'The OAuth client was not found.',
    });
    expect((await refresh(sb, 'google', g.refreshToken!, { style: 'body' })).status).toBe(200);
  });

  it('Discord takes either Basic or body credentials', async () => {
    const g = await seedGrant(sb, 'discord');
    const first = await refresh(sb, 'discord', g.refreshToken!, { style: 'basic' });
    expect(first.status).toBe(200);
    const second = await refresh(sb, 'discord', first.body.refresh_token!, { style: 'body' });
    expect(second.status).toBe(200);
    const wrong = await refresh(sb, 'discord', second.body.refresh_token!, { secret: 'nope' });
    expect(wrong.status).toBe(401);
    expect(wrong.body).toEqual({ error: 'invalid_client' });
  });

  it('GitHub takes body credentials and reports bad ones with HTTP 200', async () => {
    const g = await seedGrant(sb, 'github_app');
    const viaBasic = await refresh(sb, 'github_app', g.refreshToken!, { style: 'basic' });
    expect(viaBasic.status).toBe(200);
    expect(viaBasic.body).toMatchObject({
      error: 'incorrect_client_credentials',
      error_description: 'The client_id and/or client_secret passed are incorrect.',
    });
    expect(viaBasic.body.error_uri).toMatch(/^https:\/\/docs\.github\.com\/.+#incorrect-client-credentials$/);
  });
});

describe('token endpoint › response shapes', () => {
  it('Fathom: access_token, Bearer, expires_in 3600, a new refresh_token every time, scope', async () => {
    const g = await seedGrant(sb, 'fathom');
    const res = await refresh(sb, 'fathom', g.refreshToken!);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.body).toEqual({
      access_token: expect.any(String),
      token_type: 'Bearer',
      expires_in: 3600,
      refresh_token: expect.any(String),
      scope: 'public_api',
    });
    expect(res.body.refresh_token).not.toBe(g.refreshToken);
  });

  it('Google: no refresh_token on refresh (never rotated), expires_in as shortened for the run', async () => {
    const g = await seedGrant(sb, 'google');
    expect(g.expiresIn).toBe(5);
    const res = await refresh(sb, 'google', g.refreshToken!);
    expect(res.body).toEqual({
      access_token: expect.stringMatching(/^ya29\./),
      token_type: 'Bearer',
      expires_in: 5,
      scope: 'openid email',
    });
  });

  it('Discord: expires_in 604800 and a rotated refresh_token', async () => {
    const g = await seedGrant(sb, 'discord');
    const res = await refresh(sb, 'discord', g.refreshToken!);
    expect(res.body).toEqual({
      access_token: expect.any(String),
      token_type: 'Bearer',
      expires_in: 604800,
      refresh_token: expect.not.stringMatching(g.refreshToken!),
      scope: 'identify email',
    });
  });

  it('GitHub App: 8 h ghu_ tokens, rotating ghr_ refresh tokens with refresh_token_expires_in', async () => {
    const g = await seedGrant(sb, 'github_app');
    expect(g.refreshTokenExpiresIn).toBeGreaterThan(15_000_000);
    const res = await refresh(sb, 'github_app', g.refreshToken!, { accept: 'application/json' });
    expect(res.body).toEqual({
      access_token: expect.stringMatching(/^ghu_[A-Za-z0-9]{36}$/),
      token_type: 'bearer',
      expires_in: 28800,
      refresh_token: expect.stringMatching(/^ghr_[A-Za-z0-9]{76}$/),
      refresh_token_expires_in: expect.any(Number),
      scope: 'read:user,user:email',
    });
  });

  it('GitHub answers form-encoded unless the request accepts JSON', async () => {
    const g = await seedGrant(sb, 'github_app');
    const res = await refresh(sb, 'github_app', g.refreshToken!, { accept: '*/*' });
    expect(res.headers.get('content-type')).toMatch(/^application\/x-www-form-urlencoded/);
    const form = new URLSearchParams(res.text);
    expect(form.get('access_token')).toMatch(/^ghu_/);
    expect(form.get('token_type')).toBe('bearer');
  });

  it('GitHub OAuth-app tokens cannot be refreshed: bad_refresh_token with HTTP 200', async () => {
    const g = await seedGrant(sb, 'github');
    expect(g).toMatchObject({
      accessToken: expect.stringMatching(/^gho_/),
      refreshToken: null,
      expiresIn: null,
    });
    const res = await tokenRequest(
      sb,
      'github',
      { grant_type: 'refresh_token', refresh_token: 'ghr_x' },
      { accept: 'application/json' },
    );
    expect(res.status).toBe(200);
    expect(res.body.error).toBe('bad_refresh_token');
  });
});

describe('token endpoint › error bodies and statuses', () => {
  const unknown = 'not-a-refresh-token';

  it.each([
    [
      'fathom',
      400,
      {
        error: 'invalid_grant',
        error_description: expect.stringMatching(/^The provided authorization grant is invalid/),
      },
    ],
    ['spotify', 400, { error: 'invalid_grant', error_description: 'Invalid refresh token' }],
    ['google', 400, { error: 'invalid_grant', error_description: 'Token has been expired or revoked.' }],
    ['discord', 400, { error: 'invalid_grant', error_description: 'Invalid "refresh_token" in request.' }],
    [
      'github_app',
      200,
      {
        error: 'bad_refresh_token',
        error_description: 'The refresh token passed is incorrect or expired.',
        error_uri: expect.stringMatching(/#bad-refresh-token$/),
      },
    ],
  ] as const)('%s: an unknown refresh token → %i %o', async (provider, status, body) => {
    const res = await refresh(sb, provider, unknown);
    expect(res.status).toBe(status);
    expect(res.body).toEqual(body);
  });

  it('Spotify: a revoked grant is 400 "Refresh token revoked"', async () => {
    const g = await seedGrant(sb, 'spotify');
    await control(sb, 'POST', `/grants/${g.grantId}/revoke`);
    const res = await refresh(sb, 'spotify', g.refreshToken!);
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: 'invalid_grant', error_description: 'Refresh token revoked' });
  });

  it('an expired refresh token is invalid_grant (Google: dead after its inactivity lifetime)', async () => {
    const g = await seedGrant(sb, 'google');
    await control(sb, 'POST', `/grants/${g.grantId}/expire`, { accessToken: false, refreshToken: true });
    const res = await refresh(sb, 'google', g.refreshToken!);
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_grant');
  });

  it('an unknown grant_type is unsupported_grant_type; a missing one invalid_request', async () => {
    const res = await tokenRequest(sb, 'discord', { grant_type: 'password' });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('unsupported_grant_type');
    const missing = await tokenRequest(sb, 'fathom', {});
    expect(missing.body.error).toBe('invalid_request');
  });

  it('a refresh token of another provider is unknown here', async () => {
    const g = await seedGrant(sb, 'discord');
    const res = await refresh(sb, 'fathom', g.refreshToken!);
    expect(res.body.error).toBe('invalid_grant');
    expect((await refresh(sb, 'discord', g.refreshToken!)).status).toBe(200);
  });
});

describe('token endpoint › Spotify rotates "sometimes"', () => {
  it('a refresh either returns a new refresh_token (replace) or none (keep the old one)', async () => {
    const g = await seedGrant(sb, 'spotify');
    let token = g.refreshToken!;
    let rotated = 0;
    let kept = 0;
    for (let i = 0; i < 20; i++) {
      const res = await refresh(sb, 'spotify', token);
      expect(res.status).toBe(200);
      if (res.body.refresh_token) {
        rotated += 1;
        token = res.body.refresh_token;
      } else kept += 1;
    }
    expect(rotated).toBeGreaterThan(0);
    expect(kept).toBeGreaterThan(0);
  });
});
