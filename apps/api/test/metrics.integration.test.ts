import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TokenEndpointOutcome } from '@conduit/core';
import { RefreshStats, refreshConnection, type TokenRefresher } from '@conduit/jobs';
import { recordSyncItems, recordWebhookDelivery } from '@conduit/observability';
import { createRefreshDeps } from '@conduit/runtime';
import { VIEWER, basic, startTestApi, type TestApi } from './admin-harness.ts';

let api: TestApi;

beforeAll(async () => {
  api = await startTestApi('metrics');
});

afterAll(async () => {
  await api?.close();
});

async function scrape(): Promise<string> {
  const res = await fetch(`${api.base}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return res.text();
}

/** The value of the series `name{labels}` (label order and the `app` label aside), or undefined. */
function value(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    const m = /^([a-z_:][a-z0-9_:]*)(?:\{(.*)\})? (\S+)$/i.exec(line);
    if (!m || m[1] !== name) continue;
    const found = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1], l[2]]));
    delete found.app;
    const keys = Object.keys(found);
    if (keys.length === Object.keys(labels).length && keys.every((k) => found[k] === labels[k]))
      return Number(m[3]);
  }
  return undefined;
}

/** A token endpoint that always hands out new tokens, standing in for the provider. */
const tokens: TokenRefresher = {
  async refresh(): Promise<TokenEndpointOutcome> {
    return {
      kind: 'tokens',
      accessToken: 'new-access',
      refreshToken: 'new-refresh',
      expiresInSeconds: 7_200,
    };
  },
};

async function dueConnection(ownerId: string, expiresInMs: number): Promise<string> {
  const c = await api.ctx.db.connection.create({
    data: {
      ownerId,
      provider: 'spotify',
      accessTokenEnc: api.ctx.vault.encrypt('old-access'),
      refreshTokenEnc: api.ctx.vault.encrypt('old-refresh'),
      tokenExpiresAt: new Date(Date.now() + expiresInMs),
    },
  });
  return c.id;
}

describe('/metrics', () => {
  it('exposes every Conduit metric and the process metrics', async () => {
    const text = await scrape();
    for (const name of [
      'conduit_refresh_total',
      'conduit_refresh_duration_seconds',
      'conduit_refresh_commit_seconds',
      'conduit_lock_contention_total',
      'conduit_queue_waiting',
      'conduit_queue_active',
      'conduit_queue_delayed',
      'conduit_queue_failed',
      'conduit_webhook_deliveries_total',
      'conduit_sync_items_total',
      'conduit_tokens_expiring_soon',
      'conduit_process_cpu_user_seconds_total',
      'conduit_nodejs_eventloop_lag_seconds',
    ]) {
      expect(text, name).toMatch(new RegExp(`^# TYPE ${name} `, 'm'));
    }
    for (const q of api.ctx.queues.all()) {
      expect(value(text, 'conduit_queue_waiting', { queue: q.name }), q.name).toBe(0);
    }
    expect(value(text, 'conduit_tokens_expiring_soon', { provider: 'spotify' })).toBe(0);
  });

  it('counts a real refresh by provider and outcome, times it, and records it for the health page', async () => {
    const id = await dueConnection('metrics-owner-1', 60_000);
    const deps = createRefreshDeps(api.ctx, tokens, api.app.metrics.refreshObserver);
    const result = await refreshConnection(deps, { connectionId: id, reason: 'sweep' });
    expect(result.kind).toBe('refreshed');

    const text = await scrape();
    expect(value(text, 'conduit_refresh_total', { provider: 'spotify', outcome: 'refreshed' })).toBe(1);
    expect(value(text, 'conduit_refresh_duration_seconds_count', { provider: 'spotify' })).toBe(1);
    expect(value(text, 'conduit_refresh_duration_seconds_sum', { provider: 'spotify' })).toBeGreaterThan(0);
    // The answer-to-commit window of that refresh, the one a crash must not fall into.
    expect(value(text, 'conduit_refresh_commit_seconds_count', { provider: 'spotify' })).toBe(1);
    const commit = value(text, 'conduit_refresh_commit_seconds_sum', { provider: 'spotify' });
    expect(commit).toBeGreaterThan(0);
    expect(commit).toBeCloseTo(result.kind === 'refreshed' ? result.commitMs / 1000 : NaN, 6);

    // The per-minute Redis counters are written without holding up the refresh.
    const stats = new RefreshStats(api.ctx.redis, api.ctx.config.redis.queuePrefix);
    await expect.poll(async () => (await stats.lastHour()).byProvider.spotify?.refreshed).toBe(1);
    const [key, ...more] = await api.ctx.redis.keys(`${api.ctx.config.redis.queuePrefix}:stats:refresh:*`);
    expect(more).toEqual([]);
    expect(key).toMatch(/:stats:refresh:\d+$/);
    expect(await api.ctx.redis.hgetall(key!)).toEqual({ 'spotify:refreshed': '1' });
    const ttl = await api.ctx.redis.ttl(key!);
    expect(ttl).toBeGreaterThan(7_000);
    expect(ttl).toBeLessThanOrEqual(7_200);
    const res = await fetch(`${api.base}/admin/health.json`, { headers: basic(VIEWER) });
    const health = (await res.json()) as { refresh: unknown };
    expect(health.refresh).toMatchObject({ attempts: 1, succeeded: 1, successRate: 1 });
  });

  it('counts lock contention when another process holds the connection', async () => {
    const id = await dueConnection('metrics-owner-2', 60_000);
    const deps = createRefreshDeps(api.ctx, tokens, api.app.metrics.refreshObserver);
    const held = await deps.leases.take(id, 'another-process', 10_000);
    expect(held.kind).toBe('taken');
    try {
      expect((await refreshConnection(deps, { connectionId: id, reason: 'sweep' })).kind).toBe('busy');
    } finally {
      await deps.leases.release(id, 'another-process');
    }
    const text = await scrape();
    expect(value(text, 'conduit_lock_contention_total', { provider: 'spotify' })).toBe(1);
    expect(value(text, 'conduit_refresh_total', { provider: 'spotify', outcome: 'busy' })).toBe(1);
  });

  it('reads queue depths and expiring tokens afresh on every scrape', async () => {
    await api.ctx.queues.get('transcripts').add('fetch', { connectionId: 'c', recordingId: 1 });
    await api.ctx.queues
      .get('transcripts')
      .add('fetch', { connectionId: 'c', recordingId: 2 }, { delay: 60_000 });
    await dueConnection('metrics-owner-3', 30 * 60_000);
    await dueConnection('metrics-owner-4', 3 * 3_600_000);
    const text = await scrape();
    expect(value(text, 'conduit_queue_waiting', { queue: 'transcripts' })).toBe(1);
    expect(value(text, 'conduit_queue_delayed', { queue: 'transcripts' })).toBe(1);
    // within the hour: owner-2 (its refresh never ran) and owner-3; owner-1 was refreshed for two hours
    expect(value(text, 'conduit_tokens_expiring_soon', { provider: 'spotify' })).toBe(2);
    expect(value(text, 'conduit_tokens_expiring_soon', { provider: 'google' })).toBe(0);
  });

  it('counts webhook deliveries and synced items through the exported recorders', async () => {
    recordWebhookDelivery(api.app.metrics.conduit, 'fathom', 'accepted');
    recordWebhookDelivery(api.app.metrics.conduit, 'fathom', 'accepted');
    recordWebhookDelivery(api.app.metrics.conduit, 'fathom', 'invalid_signature');
    recordSyncItems(api.app.metrics.conduit, 'fathom', 7);
    const text = await scrape();
    expect(value(text, 'conduit_webhook_deliveries_total', { provider: 'fathom', result: 'accepted' })).toBe(
      2,
    );
    expect(
      value(text, 'conduit_webhook_deliveries_total', { provider: 'fathom', result: 'invalid_signature' }),
    ).toBe(1);
    expect(value(text, 'conduit_sync_items_total', { provider: 'fathom' })).toBe(7);
  });
});
