import { PROVIDERS } from '@conduit/core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../src/index.ts';
import { WHO_AM_I, api, control, eventually, refresh, report, seedGrant } from './helpers.ts';

let sb: Sandbox;
beforeAll(async () => {
  sb = await startSandbox({
    earlyRequestGraceMs: 20,
    accountBudgets: { fathom: { requests: 2, windowSeconds: 60 } },
  });
});
afterAll(() => sb.close());
beforeEach(() => control(sb, 'POST', '/reset'));

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const parked = async (): Promise<number> =>
  (await control<{ holds: { parked: number }[] }>(sb, 'GET', '/holds')).holds.reduce(
    (n, h) => n + h.parked,
    0,
  );

describe('anomalies › concurrentRefreshes: a second refresh of a grant while one is in flight', () => {
  it('is counted when it arrives while the first is held', async () => {
    const g = await seedGrant(sb, 'google');
    await control(sb, 'POST', '/holds', { provider: 'google', endpoint: 'token' });
    const first = refresh(sb, 'google', g.refreshToken!);
    await eventually(async () => (await parked()) === 1);
    const second = refresh(sb, 'google', g.refreshToken!);
    await eventually(async () => (await parked()) === 2);
    expect(await control(sb, 'GET', `/grants/${g.grantId}`)).toMatchObject({ refreshesInFlight: 2 });
    expect(await control(sb, 'POST', '/holds/release')).toEqual({ released: 2 });
    expect([(await first).status, (await second).status]).toEqual([200, 200]);

    const log = (await report(sb)).providers.google;
    expect(log.counts.concurrentRefreshes).toBe(1);
    expect(log.examples.concurrentRefreshes[0]).toMatchObject({ grantId: g.grantId });
    expect(await control(sb, 'GET', `/grants/${g.grantId}`)).toMatchObject({ refreshesInFlight: 0 });
  });

  it('is counted while the first is slowed by latency — and with rotation the race destroys the grant', async () => {
    const g = await seedGrant(sb, 'discord');
    await control(sb, 'POST', '/faults', { provider: 'discord', endpoint: 'token', latencyMs: 100 });
    const [a, b] = await Promise.all([
      refresh(sb, 'discord', g.refreshToken!),
      refresh(sb, 'discord', g.refreshToken!),
    ]);
    expect([a.status, b.status].sort()).toEqual([200, 400]);
    const log = (await report(sb)).providers.discord;
    expect(log.counts.concurrentRefreshes).toBe(1);
    expect(log.counts.reusedRefreshTokens).toBe(1);
    expect(log.revokedFamilies.map((f) => f.grantId)).toEqual([g.grantId]);
  });

  it('a client killed mid-refresh abandons its held request: never processed, not in flight', async () => {
    const g = await seedGrant(sb, 'discord');
    await control(sb, 'POST', '/holds', { provider: 'discord' });
    const abort = new AbortController();
    const doomed = fetch(`${sb.url}${PROVIDERS.discord.sandboxPaths.tokenUrl}`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from('conduit-discord:sandbox-secret-discord').toString('base64')}`,
      },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: g.refreshToken! }),
      signal: abort.signal,
    });
    await eventually(async () => (await parked()) === 1);
    abort.abort();
    await expect(doomed).rejects.toThrow();
    await eventually(async () => (await parked()) === 0);
    await control(sb, 'POST', '/holds/release');
    expect((await refresh(sb, 'discord', g.refreshToken!)).status).toBe(200);
    expect((await report(sb)).anomalies).toBe(0);
  });

  it('with processAbandoned the provider did the work and lost the answer: a retry is concurrent, then reuse', async () => {
    const g = await seedGrant(sb, 'discord');
    await control(sb, 'POST', '/holds', { provider: 'discord', processAbandoned: true });
    const abort = new AbortController();
    const doomed = fetch(`${sb.url}${PROVIDERS.discord.sandboxPaths.tokenUrl}`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from('conduit-discord:sandbox-secret-discord').toString('base64')}`,
      },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: g.refreshToken! }),
      signal: abort.signal,
    });
    await eventually(async () => (await parked()) === 1);
    abort.abort();
    await expect(doomed).rejects.toThrow();
    const retry = refresh(sb, 'discord', g.refreshToken!);
    await eventually(async () => (await parked()) === 2);
    await control(sb, 'POST', '/holds/release');
    expect((await retry).status).toBe(400);
    const log = (await report(sb)).providers.discord;
    expect(log.counts).toMatchObject({ concurrentRefreshes: 1, reusedRefreshTokens: 1 });
  });
});

describe('anomalies › answersLost: the provider rotated, then its answer found no one to take it', () => {
  it('a processed abandoned refresh is counted as a lost answer and marked on its grant', async () => {
    const g = await seedGrant(sb, 'discord');
    await control(sb, 'POST', '/holds', { provider: 'discord', processAbandoned: true });
    const abort = new AbortController();
    const doomed = fetch(`${sb.url}${PROVIDERS.discord.sandboxPaths.tokenUrl}`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from('conduit-discord:sandbox-secret-discord').toString('base64')}`,
        'user-agent': 'lost-answer-test',
      },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: g.refreshToken! }),
      signal: abort.signal,
    });
    await eventually(async () => (await parked()) === 1);
    abort.abort();
    await expect(doomed).rejects.toThrow();
    // still parked, and the control API says its client is gone (a harness waits for that)
    await eventually(async () =>
      (await control<{ holds: { parked: number; clientsGone: number }[] }>(sb, 'GET', '/holds')).holds.some(
        (h) => h.parked === 1 && h.clientsGone === 1,
      ),
    );
    await control(sb, 'POST', '/holds/release');
    await eventually(async () => (await report(sb)).providers.discord.traffic.refreshes === 1);
    expect((await report(sb)).providers.discord.traffic.answersLost).toBe(1);
    expect(await control(sb, 'GET', `/grants/${g.grantId}`)).toMatchObject({
      lastRefreshClient: 'lost-answer-test',
      lastAnswerLost: true,
    });
  });

  it('an answer that reaches its client is not lost, and clears the mark', async () => {
    const g = await seedGrant(sb, 'discord');
    await control(sb, 'POST', '/holds', { provider: 'discord', processAbandoned: true });
    const delivered = refresh(sb, 'discord', g.refreshToken!);
    await eventually(async () => (await parked()) === 1);
    await control(sb, 'POST', '/holds/release');
    expect((await delivered).status).toBe(200);
    expect((await report(sb)).providers.discord.traffic.answersLost).toBe(0);
    expect(await control(sb, 'GET', `/grants/${g.grantId}`)).toMatchObject({ lastAnswerLost: false });
  });
});

describe('anomalies › reusedRefreshTokens', () => {
  it('counts each presentation of a rotated-out token and lists the family it revoked once', async () => {
    const g = await seedGrant(sb, 'fathom');
    const next = await refresh(sb, 'fathom', g.refreshToken!);
    expect(next.status).toBe(200);
    await refresh(sb, 'fathom', g.refreshToken!);
    await refresh(sb, 'fathom', g.refreshToken!);
    const log = (await report(sb)).providers.fathom;
    expect(log.counts.reusedRefreshTokens).toBe(2);
    expect(log.revokedFamilies).toHaveLength(1);
  });
});

describe('anomalies › expired and revoked access tokens', () => {
  it('expiredTokenCalls: an API call with an expired access token', async () => {
    const g = await seedGrant(sb, 'spotify');
    await control(sb, 'POST', `/grants/${g.grantId}/expire`);
    expect((await api(sb, 'spotify', '/me', g.accessToken)).status).toBe(401);
    const log = (await report(sb)).providers.spotify;
    expect(log.counts.expiredTokenCalls).toBe(1);
    expect(log.counts.expiredWhileInUse).toBe(0);
  });

  it('revokedTokenCalls: an API call with an access token of a revoked grant', async () => {
    const g = await seedGrant(sb, 'github');
    await control(sb, 'POST', `/grants/${g.grantId}/revoke`);
    expect((await api(sb, 'github', '/user', g.accessToken)).status).toBe(401);
    expect((await report(sb)).providers.github.counts.revokedTokenCalls).toBe(1);
    expect((await report(sb)).providers.github.revokedFamilies[0]).toMatchObject({
      reason: 'revoked_by_control',
    });
  });

  it('expiredWhileInUse: a grant in use whose token lapsed unrefreshed, counted once per token', async () => {
    const g = await seedGrant(sb, 'discord');
    expect((await api(sb, 'discord', WHO_AM_I.discord!, g.accessToken)).status).toBe(200);
    await control(sb, 'POST', `/grants/${g.grantId}/expire`);
    await api(sb, 'discord', WHO_AM_I.discord!, g.accessToken);
    await api(sb, 'discord', WHO_AM_I.discord!, g.accessToken);
    const log = (await report(sb)).providers.discord;
    expect(log.counts.expiredTokenCalls).toBe(2);
    expect(log.counts.expiredWhileInUse).toBe(1);
    expect(log.examples.expiredWhileInUse[0]).toMatchObject({ grantId: g.grantId });
  });

  it('a token refreshed in time and then used stale is an expired call, not a lapse', async () => {
    const g = await seedGrant(sb, 'google');
    expect((await api(sb, 'google', WHO_AM_I.google!, g.accessToken)).status).toBe(200);
    expect((await refresh(sb, 'google', g.refreshToken!)).status).toBe(200);
    await control(sb, 'POST', `/grants/${g.grantId}/expire`, { accessToken: g.accessToken });
    expect((await api(sb, 'google', WHO_AM_I.google!, g.accessToken)).status).toBe(401);
    const log = (await report(sb)).providers.google;
    expect(log.counts).toMatchObject({ expiredTokenCalls: 1, expiredWhileInUse: 0 });
  });
});

describe('anomalies › earlyRequests: back before the announced wait elapsed', () => {
  it('per client at the token endpoint', async () => {
    const g = await seedGrant(sb, 'google');
    await control(sb, 'POST', '/faults', {
      provider: 'google',
      endpoint: 'token',
      rate429: 1,
      retryAfterSeconds: 30,
    });
    expect((await refresh(sb, 'google', g.refreshToken!)).status).toBe(429);
    await control(sb, 'DELETE', '/faults');
    await sleep(40);
    expect((await refresh(sb, 'google', g.refreshToken!)).status).toBe(200);
    // Another provider's client was never told to wait.
    const d = await seedGrant(sb, 'discord');
    expect((await refresh(sb, 'discord', d.refreshToken!)).status).toBe(200);
    const r = await report(sb);
    expect(r.providers.google.counts.earlyRequests).toBe(1);
    expect(r.providers.google.examples.earlyRequests[0]!.detail).toMatch(/wait 30\.000 s/);
    expect(r.providers.discord.counts.earlyRequests).toBe(0);
  });

  it('per account at the API (Fathom’s budget): the next call before RateLimit-Reset is early', async () => {
    const g = await seedGrant(sb, 'fathom');
    const other = await seedGrant(sb, 'fathom');
    await api(sb, 'fathom', '/teams', g.accessToken);
    await api(sb, 'fathom', '/teams', g.accessToken);
    expect((await api(sb, 'fathom', '/teams', g.accessToken)).status).toBe(429);
    await sleep(40);
    expect((await api(sb, 'fathom', '/teams', g.accessToken)).status).toBe(429);
    expect((await api(sb, 'fathom', '/teams', other.accessToken)).status).toBe(200);
    expect((await report(sb)).providers.fathom.counts.earlyRequests).toBe(1);
  });

  it('a request after the wait is not early', async () => {
    const g = await seedGrant(sb, 'discord');
    await control(sb, 'POST', '/faults', {
      provider: 'discord',
      endpoint: 'token',
      rate429: 1,
      retryAfterSeconds: 0.05,
    });
    expect((await refresh(sb, 'discord', g.refreshToken!)).status).toBe(429);
    await control(sb, 'DELETE', '/faults');
    await sleep(80);
    expect((await refresh(sb, 'discord', g.refreshToken!)).status).toBe(200);
    expect((await report(sb)).providers.discord.counts.earlyRequests).toBe(0);
  });
});

describe('anomalies › the total', () => {
  it('is the sum of every provider’s counts', async () => {
    const g = await seedGrant(sb, 'discord');
    await refresh(sb, 'discord', g.refreshToken!);
    await refresh(sb, 'discord', g.refreshToken!);
    const s = await seedGrant(sb, 'spotify');
    await control(sb, 'POST', `/grants/${s.grantId}/expire`);
    await api(sb, 'spotify', '/me', s.accessToken);
    const r = await report(sb);
    const sum = Object.values(r.providers).reduce(
      (n, p) => n + Object.values(p!.counts).reduce((a, b) => a + b, 0),
      0,
    );
    expect(r.anomalies).toBe(sum);
    expect(r.anomalies).toBe(2);
  });
});
