import { describe, expect, it } from 'vitest';
import {
  createConduitMetrics,
  createMetricsRegistry,
  createRefreshObserver,
  recordSyncItems,
  recordWebhookDelivery,
  startMetricsServer,
} from '../src/index.ts';

function fresh() {
  return createConduitMetrics(createMetricsRegistry({ processMetrics: false }));
}

describe('createConduitMetrics', () => {
  it('defines the refresh, lock, webhook and sync series under their Conduit names', async () => {
    const m = fresh();
    recordWebhookDelivery(m, 'fathom', 'accepted');
    recordSyncItems(m, 'fathom', 3);
    recordSyncItems(m, 'fathom', 0);
    const text = await m.registry.metrics();
    for (const name of [
      'conduit_refresh_total counter',
      'conduit_refresh_duration_seconds histogram',
      'conduit_refresh_commit_seconds histogram',
      'conduit_lock_contention_total counter',
      'conduit_webhook_deliveries_total counter',
      'conduit_sync_items_total counter',
    ]) {
      expect(text).toContain(`# TYPE ${name}`);
    }
    expect(text).toContain('conduit_webhook_deliveries_total{provider="fathom",result="accepted"} 1');
    expect(text).toContain('conduit_sync_items_total{provider="fathom"} 3');
  });
});

describe('createRefreshObserver', () => {
  it('counts outcomes, times them in seconds, counts contention and forwards to the stats sink', async () => {
    const m = fresh();
    const recorded: string[] = [];
    const observer = createRefreshObserver(m, {
      record: async (p, o) => void recorded.push(`${p}:${o}`),
    });
    observer.onOutcome('spotify', 'refreshed', 250);
    observer.onOutcome('spotify', 'busy', 1);
    observer.onLockContention('spotify');
    observer.onCommit('spotify', 3);
    const text = await m.registry.metrics();
    expect(text).toContain('conduit_refresh_total{provider="spotify",outcome="refreshed"} 1');
    expect(text).toContain('conduit_refresh_duration_seconds_sum{provider="spotify"} 0.251');
    expect(text).toContain('conduit_lock_contention_total{provider="spotify"} 1');
    expect(text).toContain('conduit_refresh_commit_seconds_bucket{le="0.0025",provider="spotify"} 0');
    expect(text).toContain('conduit_refresh_commit_seconds_bucket{le="0.005",provider="spotify"} 1');
    expect(recorded).toEqual(['spotify:refreshed', 'spotify:busy']);
  });

  it('never lets a failing stats write fail the refresh that reported it', async () => {
    const errors: unknown[] = [];
    const observer = createRefreshObserver(
      fresh(),
      { record: async () => Promise.reject(new Error('redis is away')) },
      (err) => errors.push(err),
    );
    expect(() => observer.onOutcome('google', 'error', 5)).not.toThrow();
    await new Promise((r) => setImmediate(r));
    expect(errors).toHaveLength(1);
  });
});

describe('startMetricsServer', () => {
  it('serves the registry on GET /metrics, nothing else, and closes', async () => {
    const m = fresh();
    m.refreshTotal.inc({ provider: 'discord', outcome: 'refreshed' });
    const server = await startMetricsServer({ registry: m.registry, port: 0, host: '127.0.0.1' });
    try {
      const res = await fetch(`http://127.0.0.1:${server.port}/metrics`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe(m.registry.contentType);
      expect(await res.text()).toContain('conduit_refresh_total{provider="discord",outcome="refreshed"} 1');
      expect((await fetch(`http://127.0.0.1:${server.port}/`)).status).toBe(404);
      expect((await fetch(`http://127.0.0.1:${server.port}/metrics`, { method: 'POST' })).status).toBe(404);
    } finally {
      await server.close();
    }
    await expect(fetch(`http://127.0.0.1:${server.port}/metrics`)).rejects.toThrow();
  });
});
