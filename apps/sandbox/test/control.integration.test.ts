import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../src/index.ts';
import { control, http, refresh, report, seedGrant, type SeededGrant } from './helpers.ts';

let sb: Sandbox;
beforeAll(async () => {
  sb = await startSandbox();
});
afterAll(() => sb.close());

describe('control › seeding at scale', () => {
  // How fast is the benchmark's business (npm run bench -- sandbox reports grants seeded per second).
  // A fixed amount of work that a loaded machine stretches (5 s quiet, 24 s with a CPU hog on both cores).
  it('creates 100,000 grants in one call, each with working tokens', async () => {
    const { grants } = await control<{ grants: SeededGrant[] }>(sb, 'POST', '/grants', {
      provider: 'discord',
      count: 100_000,
    });
    expect(grants).toHaveLength(100_000);
    expect(new Set(grants.map((g) => g.refreshToken)).size).toBe(100_000);
    expect(new Set(grants.map((g) => g.accountId)).size).toBe(100_000);
    for (const g of [grants[0]!, grants[50_000]!, grants[99_999]!]) {
      expect((await refresh(sb, 'discord', g.refreshToken!)).status).toBe(200);
    }
    await control(sb, 'POST', '/reset');
  }, 120_000);

  it('emailPrefix names the accounts; the same email is the same account', async () => {
    const { grants } = await control<{ grants: SeededGrant[] }>(sb, 'POST', '/grants', {
      provider: 'google',
      count: 3,
      emailPrefix: 'demo',
      emailDomain: 'acme.test',
    });
    expect(grants.map((g) => g.email)).toEqual(['demo1@acme.test', 'demo2@acme.test', 'demo3@acme.test']);
    const again = await seedGrant(sb, 'google', { email: 'demo2@acme.test' });
    expect(again.accountId).toBe(grants[1]!.accountId);
    expect(again.grantId).not.toBe(grants[1]!.grantId);
  });

  it('accessTokenTtlSeconds shortens one call’s grants', async () => {
    const g = await seedGrant(sb, 'fathom', { accessTokenTtlSeconds: 30 });
    expect(g.expiresIn).toBe(30);
  });
});

describe('control › state, reset and errors', () => {
  it('GET /_sandbox/grants/:id shows the family: valid refresh token, last refresh, state', async () => {
    const g = await seedGrant(sb, 'github_app');
    const before = await control(sb, 'GET', `/grants/${g.grantId}`);
    expect(before).toMatchObject({
      family: 'active',
      refreshToken: g.refreshToken,
      lastRefreshAt: null,
      lastRefreshClient: null,
      refreshesInFlight: 0,
    });
    const res = await refresh(sb, 'github_app', g.refreshToken!, { userAgent: 'Conduit-test/worker-7' });
    const after = await control(sb, 'GET', `/grants/${g.grantId}`);
    expect(after).toMatchObject({
      refreshToken: res.body.refresh_token,
      lastRefreshAt: expect.any(String),
      // who holds the newest tokens: how a lost token is traced to the process that received it
      lastRefreshClient: 'Conduit-test/worker-7',
      rotations: 1,
    });
  });

  it('reset forgets grants and anomalies', async () => {
    const g = await seedGrant(sb, 'discord');
    await refresh(sb, 'discord', g.refreshToken!);
    await refresh(sb, 'discord', g.refreshToken!);
    expect((await report(sb)).anomalies).toBeGreaterThan(0);
    await control(sb, 'POST', '/reset');
    expect((await report(sb)).anomalies).toBe(0);
    expect((await http(`${sb.url}/_sandbox/grants/${g.grantId}`)).status).toBe(404);
  });

  it('refuses bad control input with problem details that say what to do', async () => {
    const bad = await http(`${sb.url}/_sandbox/grants`, { method: 'POST', json: { provider: 'myspace' } });
    expect(bad.status).toBe(400);
    expect(bad.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(bad.body).toMatchObject({
      status: 400,
      title: expect.any(String),
      detail: expect.stringContaining('provider'),
    });
    const missing = await http(`${sb.url}/_sandbox/grants/nope`);
    expect(missing.status).toBe(404);
    expect(missing.body.detail).toMatch(/POST \/_sandbox\/grants/);
    const meetings = await http(`${sb.url}/_sandbox/fathom/meetings`, {
      method: 'POST',
      json: { grantId: (await seedGrant(sb, 'google')).grantId, count: 1 },
    });
    expect(meetings.status).toBe(400);
    expect(meetings.body.detail).toMatch(/fathom grant/);
  });
});
