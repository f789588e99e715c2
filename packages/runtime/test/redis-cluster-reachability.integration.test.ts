// A Redis Cluster that does not answer at start: one sentence naming the cluster's nodes and
// REDIS_CLUSTER_NODES, after the bounded wait (ports of this file's range, where nothing listens).
import { describe, expect, it } from 'vitest';
import { createRedis } from '@conduit/jobs';
import { describeRedis, waitForRedis } from '../src/reachability.ts';

const NODES = [
  { host: '127.0.0.1', port: 18397 },
  { host: '::1', port: 18398 },
];

describe('reachability › Redis Cluster', () => {
  it('names the cluster by its nodes and the setting to check', () => {
    expect(describeRedis({ url: 'redis://127.0.0.1:6379', clusterNodes: NODES })).toEqual({
      where: 'the Redis Cluster at 127.0.0.1:18397, [::1]:18398',
      setting: 'REDIS_CLUSTER_NODES',
    });
    expect(describeRedis({ url: 'redis://:secret@cache.internal:6380', clusterNodes: undefined })).toEqual({
      where: 'Redis at cache.internal:6380',
      setting: 'REDIS_URL',
    });
  });

  it('a cluster nobody answers for is one sentence after the wait, not a hang', async () => {
    const redis = createRedis({ clusterNodes: NODES }, { lazyConnect: true });
    redis.on('error', () => undefined);
    try {
      await expect(waitForRedis(redis, { url: 'redis://unused', clusterNodes: NODES }, 500)).rejects.toThrow(
        /^cannot reach the Redis Cluster at 127\.0\.0\.1:18397, \[::1\]:18398 within 0\.5 s.*; check REDIS_CLUSTER_NODES and that Redis is running/,
      );
    } finally {
      redis.disconnect();
    }
  });
});
