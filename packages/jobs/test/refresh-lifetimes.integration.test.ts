// Buffers that fit the token: with the default 5-minute buffer, a 60 s or 300 s access token is
// refreshed at min(buffer, half its issued lifetime) before expiry — at most once per half-life
// by getValidAccessToken, and the sweep queues it for exactly the moment the worker finds it due.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { refreshDueAt } from '@conduit/core';
import { refreshConnection, refreshJobConnections, runRefreshSweep } from '../src/index.ts';
import { createHarness, type Harness } from './support/harness.ts';

let h: Harness;

beforeAll(async () => {
  // Spotify's sandbox tokens live 60 s, Google's 300 s; the harness keeps the default 5-minute buffer.
  h = await createHarness({ sandbox: { accessTokenTtlSeconds: { spotify: 60, google: 300 } } });
});

afterAll(async () => {
  await h?.close();
});

const refreshesOf = async (grantId: string) =>
  (await h.sandboxGet<{ refreshes: number }>(`/_sandbox/grants/${grantId}`)).refreshes;

/** A connection as the connect flow stores it: tokens, expiry and the lifetime issued. */
async function connected(provider: 'spotify' | 'google', lifetimeSeconds: number) {
  const [seeded] = await h.seed(provider, 1);
  await h.db.connection.update({
    where: { id: seeded!.connectionId },
    data: { tokenLifetimeSeconds: lifetimeSeconds },
  });
  return seeded!;
}

describe.each([
  { provider: 'spotify' as const, lifetime: 60 },
  { provider: 'google' as const, lifetime: 300 },
])('refresh › a $lifetime s token at the default 300 s buffer', ({ provider, lifetime }) => {
  const halfLifeMs = (lifetime * 1000) / 2;

  it('is not refreshed on every call: six calls right after it was issued refresh nothing', async () => {
    const { connectionId, grant } = await connected(provider, lifetime);
    const first = await h.accessTokens.getValidAccessToken(connectionId);
    for (let i = 0; i < 5; i++) expect(await h.accessTokens.getValidAccessToken(connectionId)).toBe(first);
    expect(await refreshesOf(grant.grantId)).toBe(0);
  });

  it('is refreshed at most once per half-life, and before it expires, over ten lifetimes of calls', async () => {
    const { connectionId, grant } = await connected(provider, lifetime);
    const start = Date.now();
    let offsetMs = 0;
    h.deps.now = () => new Date(Date.now() + offsetMs);
    try {
      const refreshedAt: number[] = [];
      let lastToken = await h.accessTokens.getValidAccessToken(connectionId);
      const stepMs = (lifetime * 1000) / 12;
      for (offsetMs = stepMs; offsetMs <= lifetime * 10_000; offsetMs += stepMs) {
        const token = await h.accessTokens.getValidAccessToken(connectionId);
        if (token !== lastToken) refreshedAt.push(offsetMs);
        lastToken = token;
        const row = await h.db.connection.findUniqueOrThrow({ where: { id: connectionId } });
        expect(row.tokenExpiresAt!.getTime()).toBeGreaterThan(start + offsetMs);
        expect(row.tokenLifetimeSeconds).toBe(lifetime);
      }
      const gaps = refreshedAt.map((at, i) => at - (refreshedAt[i - 1] ?? 0));
      expect(Math.min(...gaps)).toBeGreaterThanOrEqual(halfLifeMs);
      // Ten lifetimes: about twenty half-lives, never more refreshes than that.
      expect(refreshedAt.length).toBeGreaterThanOrEqual(10);
      expect(refreshedAt.length).toBeLessThanOrEqual(20);
      expect(await refreshesOf(grant.grantId)).toBe(refreshedAt.length);
    } finally {
      delete h.deps.now;
    }
  });

  it('the sweep queues it for the moment the worker finds it due: never fresh on arrival', async () => {
    await h.queues.refresh(provider).obliterate({ force: true });
    const { connectionId } = await connected(provider, lifetime);
    const row = await h.db.connection.findUniqueOrThrow({ where: { id: connectionId } });
    const dueAt = refreshDueAt({
      tokenExpiresAt: row.tokenExpiresAt!,
      tokenLifetimeSeconds: lifetime,
      bufferMs: h.settings.bufferMs,
    });
    expect(row.tokenExpiresAt!.getTime() - dueAt.getTime()).toBe(Math.min(300_000, halfLifeMs));
    const settings = {
      bufferMs: h.settings.bufferMs,
      intervalMs: 60_000,
      batchSize: 100,
      requeueAfterMs: 120_000,
      jobBatchSize: 50,
      jobBatchWindowMs: 1_000,
    };
    const now = new Date();
    await runRefreshSweep({ connections: h.connections, queues: h.queues }, settings, now);
    const jobs = await h.queues.refresh(provider).getJobs(['waiting', 'delayed', 'prioritized']);
    const mine = jobs.filter((j) => refreshJobConnections(j.data).includes(connectionId));
    if (dueAt.getTime() > now.getTime() + settings.intervalMs) {
      // Due after the next sweep: that sweep will queue it (a 300 s token is due 150 s in).
      expect(mine).toHaveLength(0);
    } else {
      expect(mine).toHaveLength(1);
      expect(mine[0]!.opts.delay).toBeGreaterThan(dueAt.getTime() - now.getTime() - 1_000);
      expect(mine[0]!.opts.delay).toBeLessThanOrEqual(dueAt.getTime() - now.getTime() + 1);
    }
    // The worker's judgement at the moment the job runs: due, so refreshed, not `fresh`.
    h.deps.now = () => new Date(dueAt.getTime() - 1_000);
    try {
      expect((await refreshConnection(h.deps, { connectionId, provider, reason: 'sweep' })).kind).toBe(
        'fresh',
      );
      h.deps.now = () => new Date(dueAt.getTime() + 1);
      expect((await refreshConnection(h.deps, { connectionId, provider, reason: 'sweep' })).kind).toBe(
        'refreshed',
      );
    } finally {
      delete h.deps.now;
    }
    await h.queues.refresh(provider).obliterate({ force: true });
  });
});
