import { afterAll, describe, expect, it } from 'vitest';
import { TEST_REDIS_URL, testPrefix } from '@conduit/testing';
import { BufferedRefreshStats, RefreshStats, createRedis } from '../src/index.ts';

const redis = createRedis(TEST_REDIS_URL);
const prefix = `{${testPrefix('stats')}}`;

afterAll(async () => {
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
});

describe('refresh stats › buffered', () => {
  it('adds outcomes up in memory and writes them in one flush, readable like direct records', async () => {
    const buffered = new BufferedRefreshStats(redis, prefix, 60_000);
    const reader = new RefreshStats(redis, prefix);
    for (let i = 0; i < 5; i++) await buffered.record('spotify', 'refreshed');
    await buffered.record('spotify', 'retry');
    await buffered.record('google', 'needs_reauth');
    expect((await reader.lastHour()).total).toBe(0);
    await buffered.close();
    const window = await reader.lastHour();
    expect(window.total).toBe(7);
    expect(window.byProvider.spotify).toEqual({ refreshed: 5, retry: 1 });
    expect(window.byProvider.google).toEqual({ needs_reauth: 1 });
    const keys = await redis.keys(`${prefix}:stats:refresh:*`);
    expect(await redis.ttl(keys[0]!)).toBeGreaterThan(3_600);
  });
});
