import { PROVIDERS } from '@conduit/core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseFaultConfig, startSandbox, type Sandbox } from '../src/index.ts';
import { WHO_AM_I, api, control, refresh, report, seedGrant, tokenRequest } from './helpers.ts';

let sb: Sandbox;
beforeAll(async () => {
  sb = await startSandbox({ seed: 11 });
});
afterAll(() => sb.close());
beforeEach(() => control(sb, 'POST', '/reset'));

/** Statuses of `n` refreshes of fresh grants (each refresh valid, so only faults fail them). */
async function refreshStatuses(
  target: Sandbox,
  provider: 'google' | 'discord',
  n: number,
  parallel = false,
): Promise<number[]> {
  const { grants } = await control<{ grants: { refreshToken: string }[] }>(target, 'POST', '/grants', {
    provider,
    count: n,
  });
  if (parallel)
    return Promise.all(grants.map(async (g) => (await refresh(target, provider, g.refreshToken)).status));
  const statuses: number[] = [];
  for (const g of grants) statuses.push((await refresh(target, provider, g.refreshToken)).status);
  return statuses;
}

describe('faults › share of 429s, in each provider’s words', () => {
  it('about the configured share of token requests gets 429; Discord adds its JSON body and X-RateLimit-*', async () => {
    await control(sb, 'POST', '/faults', {
      provider: 'discord',
      endpoint: 'token',
      rate429: 0.3,
      retryAfterSeconds: 1.5,
    });
    const statuses = await refreshStatuses(sb, 'discord', 100, true);
    const limited = statuses.filter((s) => s === 429).length;
    expect(limited).toBeGreaterThan(15);
    expect(limited).toBeLessThan(45);
    expect(statuses.filter((s) => s !== 429).every((s) => s === 200)).toBe(true);

    const g = await seedGrant(sb, 'discord');
    await control(sb, 'POST', '/faults', {
      provider: 'discord',
      endpoint: 'token',
      rate429: 1,
      retryAfterSeconds: 1.5,
    });
    const res = await refresh(sb, 'discord', g.refreshToken!);
    expect(res.status).toBe(429);
    expect(res.body).toEqual({ message: 'You are being rate limited.', retry_after: 1.5, global: false });
    expect(res.headers.get('retry-after')).toBe('2');
    expect(res.headers.get('x-ratelimit-reset-after')).toBe('1.500');
    expect(res.headers.get('x-ratelimit-remaining')).toBe('0');
    expect(Number(res.headers.get('x-ratelimit-reset'))).toBeGreaterThan(Date.now() / 1000);
    expect((await report(sb)).providers.discord.traffic.rateLimited).toBe(limited + 1);
  });

  it('Spotify: Retry-After and {"error":{"status":429,...}}', async () => {
    await control(sb, 'POST', '/faults', {
      provider: 'spotify',
      endpoint: 'api',
      rate429: 1,
      retryAfterSeconds: 7,
    });
    const g = await seedGrant(sb, 'spotify');
    const res = await api(sb, 'spotify', '/me', g.accessToken);
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('7');
    expect(res.body).toEqual({ error: { status: 429, message: 'API rate limit exceeded' } });
  });

  it('Google: 429 rateLimitExceeded, or 403 userRateLimitExceeded when asked', async () => {
    const g = await seedGrant(sb, 'google');
    await control(sb, 'POST', '/faults', { provider: 'google', endpoint: 'api', rate429: 1 });
    const a = await api<{ error: { code: number; errors: { reason: string }[] } }>(
      sb,
      'google',
      WHO_AM_I.google!,
      g.accessToken,
    );
    expect(a.status).toBe(429);
    expect(a.body.error.errors[0]!.reason).toBe('rateLimitExceeded');
    await control(sb, 'POST', '/faults', {
      provider: 'google',
      endpoint: 'api',
      rate429: 1,
      rateLimitStatus: 403,
    });
    const b = await api<{ error: { code: number; errors: { reason: string }[] } }>(
      sb,
      'google',
      WHO_AM_I.google!,
      g.accessToken,
    );
    expect(b.status).toBe(403);
    expect(b.body.error).toMatchObject({ code: 403, errors: [{ reason: 'userRateLimitExceeded' }] });
  });

  it('GitHub: 403 with x-ratelimit-remaining 0 and x-ratelimit-reset, or a secondary-limit 429 with retry-after', async () => {
    const g = await seedGrant(sb, 'github');
    await control(sb, 'POST', '/faults', {
      provider: 'github',
      endpoint: 'api',
      rate429: 1,
      rateLimitStatus: 403,
      retryAfterSeconds: 60,
    });
    const primary = await api(sb, 'github', '/user', g.accessToken);
    expect(primary.status).toBe(403);
    expect(primary.headers.get('x-ratelimit-remaining')).toBe('0');
    expect(Number(primary.headers.get('x-ratelimit-reset'))).toBeGreaterThanOrEqual(
      Math.floor(Date.now() / 1000) + 59,
    );
    await control(sb, 'POST', '/faults', {
      provider: 'github',
      endpoint: 'api',
      rate429: 1,
      retryAfterSeconds: 60,
    });
    const secondary = await api(sb, 'github', '/user', g.accessToken);
    expect(secondary.status).toBe(429);
    expect(secondary.headers.get('retry-after')).toBe('60');
  });

  it('Fathom: 429 with RateLimit-Reset on the token endpoint too', async () => {
    await control(sb, 'POST', '/faults', {
      provider: 'fathom',
      endpoint: 'token',
      rate429: 1,
      retryAfterSeconds: 9,
    });
    const g = await seedGrant(sb, 'fathom');
    const res = await refresh(sb, 'fathom', g.refreshToken!);
    expect(res.status).toBe(429);
    expect(res.headers.get('ratelimit-reset')).toBe('9');
    expect(res.headers.get('retry-after')).toBeNull();
  });
});

describe('faults › reproducible from the seed', () => {
  it('the same seed and requests meet the same faults; another seed does not', async () => {
    const faults = { discord: { token: { rate429: 0.2, rate5xx: 0.2 } } };
    const [a, b, c] = await Promise.all([
      startSandbox({ seed: 5, faults }),
      startSandbox({ seed: 5, faults }),
      startSandbox({ seed: 6, faults }),
    ]);
    try {
      const [sa, sb2, sc] = await Promise.all([a, b, c].map((s) => refreshStatuses(s, 'discord', 30)));
      expect(sa).toEqual(sb2);
      expect(sa).not.toEqual(sc);
      expect(new Set(sa)).toEqual(new Set([200, 429, 503]));
    } finally {
      await Promise.all([a, b, c].map((s) => s.close()));
    }
  });
});

describe('faults › 5xx, latency, hangs and dropped connections', () => {
  it('rate5xx answers an HTML 503 from the "edge", and the grant is untouched', async () => {
    const g = await seedGrant(sb, 'google');
    await control(sb, 'POST', '/faults', { provider: 'google', endpoint: 'token', rate5xx: 1 });
    const res = await refresh(sb, 'google', g.refreshToken!);
    expect(res.status).toBe(503);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    await control(sb, 'DELETE', '/faults');
    expect((await refresh(sb, 'google', g.refreshToken!)).status).toBe(200);
  });

  it('latencyMs delays the answer', async () => {
    const g = await seedGrant(sb, 'discord');
    await control(sb, 'POST', '/faults', { provider: 'discord', endpoint: 'api', latencyMs: 150 });
    const started = Date.now();
    const res = await api(sb, 'discord', WHO_AM_I.discord!, g.accessToken);
    expect(res.status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(145);
  });

  it('a hang never answers; the client has to give up', async () => {
    const g = await seedGrant(sb, 'spotify');
    await control(sb, 'POST', '/faults', { provider: 'spotify', endpoint: 'token', hangRate: 1 });
    const hung = refresh(sb, 'spotify', g.refreshToken!, { accept: 'application/json' });
    await expect(
      Promise.race([hung, new Promise((_, reject) => setTimeout(() => reject(new Error('no answer')), 300))]),
    ).rejects.toThrow('no answer');
    const aborted = fetch(`${sb.url}${PROVIDERS.spotify.sandboxPaths.tokenUrl}`, {
      method: 'POST',
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: g.refreshToken! }),
      signal: AbortSignal.timeout(100),
    });
    await expect(aborted).rejects.toThrow();
    expect((await report(sb)).providers.spotify.traffic.faultHangs).toBe(2);
    await control(sb, 'DELETE', '/faults');
    void hung.catch(() => undefined);
  });

  it('a dropped connection ends without an answer', async () => {
    const g = await seedGrant(sb, 'fathom');
    await control(sb, 'POST', '/faults', { provider: 'fathom', endpoint: 'token', dropRate: 1 });
    await expect(refresh(sb, 'fathom', g.refreshToken!)).rejects.toThrow();
    await control(sb, 'DELETE', '/faults');
    // Dropped before it took effect: the refresh token is still the current one.
    expect((await refresh(sb, 'fathom', g.refreshToken!)).status).toBe(200);
  });

  it('faults on authorize too', async () => {
    await control(sb, 'POST', '/faults', { provider: 'google', endpoint: 'authorize', rate5xx: 1 });
    const q = new URLSearchParams({
      client_id: 'conduit-google',
      redirect_uri: 'https://app.test/cb',
      response_type: 'code',
    });
    const res = await fetch(`${sb.url}${PROVIDERS.google.sandboxPaths.authorizeUrl}?${q}`, {
      redirect: 'manual',
    });
    expect(res.status).toBe(503);
  });

  it('"*" applies to every provider and endpoint; a specific rule wins', async () => {
    await control(sb, 'POST', '/faults', { rate5xx: 1 });
    await control(sb, 'POST', '/faults', { provider: 'discord', endpoint: 'token', rate5xx: 0 });
    const d = await seedGrant(sb, 'discord');
    const g = await seedGrant(sb, 'google');
    expect((await refresh(sb, 'discord', d.refreshToken!)).status).toBe(200);
    expect((await refresh(sb, 'google', g.refreshToken!)).status).toBe(503);
  });
});

describe('faults › revocation and bad client secrets', () => {
  it('a revoked grant refuses refreshes (invalid_grant) and API calls (401)', async () => {
    const g = await seedGrant(sb, 'discord');
    await control(sb, 'POST', '/grants/revoke', { grantIds: [g.grantId] });
    expect((await refresh(sb, 'discord', g.refreshToken!)).body.error).toBe('invalid_grant');
    expect((await api(sb, 'discord', WHO_AM_I.discord!, g.accessToken)).status).toBe(401);
  });

  it('after POST /clients/:provider/secret the old secret is invalid_client', async () => {
    const g = await seedGrant(sb, 'google');
    await control(sb, 'POST', '/clients/google/secret', { secret: 'rotated' });
    const res = await refresh(sb, 'google', g.refreshToken!);
    expect(res.status).toBe(401);
    expect(res.body.error).toBe('invalid_client');
    expect((await refresh(sb, 'google', g.refreshToken!, { secret: 'rotated' })).status).toBe(200);
    const gh = await tokenRequest(
      sb,
      'github_app',
      { grant_type: 'refresh_token', refresh_token: 'x' },
      { secret: 'bad', accept: 'application/json' },
    );
    expect(gh.body.error).toBe('incorrect_client_credentials');
  });
});

describe('faults › set at start-up', () => {
  it('from the faults option', async () => {
    const started = await startSandbox({ faults: { spotify: { '*': { rate5xx: 1 } } } });
    try {
      const g = await seedGrant(started, 'spotify');
      expect((await refresh(started, 'spotify', g.refreshToken!)).status).toBe(503);
      expect((await control<{ faults: unknown }>(started, 'GET', '/faults')).faults).toEqual({
        spotify: { '*': { rate5xx: 1 } },
      });
    } finally {
      await started.close();
    }
  });

  it('from CONDUIT_SANDBOX_FAULTS text, with errors that say what is expected', () => {
    expect(parseFaultConfig('{"discord":{"token":{"rate429":0.1}}}')).toEqual({
      discord: { token: { rate429: 0.1 } },
    });
    expect(() => parseFaultConfig('{"dicsord":{}}')).toThrow(/unknown provider "dicsord"/);
    expect(() => parseFaultConfig('{"discord":{"token":{"rate":1}}}')).toThrow(/unknown field "rate"/);
    expect(() => parseFaultConfig('nope')).toThrow(/not JSON/);
  });
});
