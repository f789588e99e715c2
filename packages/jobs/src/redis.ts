import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';

/** One Redis server or a Redis Cluster: every Conduit class that talks to Redis takes either. */
export type RedisClient = Redis | Cluster;

export interface RedisTarget {
  /** one server (REDIS_URL); not needed with `clusterNodes` */
  readonly url?: string;
  /** a Redis Cluster's start-up nodes (REDIS_CLUSTER_NODES); when given, `url` is not used */
  readonly clusterNodes?: ReadonlyArray<{ readonly host: string; readonly port: number }> | undefined;
}

/** How long a cluster client waits between attempts to reach any start-up node; it never gives up. */
const CLUSTER_RETRY_MAX_MS = 2_000;

/**
 * A Redis connection as BullMQ needs it: commands wait for a reconnect instead of failing after
 * a few retries, so a Redis restart pauses work rather than losing it. With cluster nodes it is
 * an ioredis `Cluster`, which sends each command to the master that owns the key's slot.
 */
export function createRedis(url: string, options?: RedisOptions): Redis;
export function createRedis(target: RedisTarget, options?: RedisOptions): RedisClient;
export function createRedis(target: string | RedisTarget, options: RedisOptions = {}): RedisClient {
  const nodeOptions: RedisOptions = { maxRetriesPerRequest: null, enableReadyCheck: true, ...options };
  if (typeof target === 'string') return new Redis(target, nodeOptions);
  const nodes = target.clusterNodes;
  if (nodes === undefined || nodes.length === 0) {
    if (target.url === undefined) throw new TypeError('createRedis: give a url or cluster nodes');
    return new Redis(target.url, nodeOptions);
  }
  const clusterOptions: ClusterOptions = {
    redisOptions: nodeOptions,
    enableReadyCheck: true,
    ...(options.lazyConnect !== undefined && { lazyConnect: options.lazyConnect }),
    clusterRetryStrategy: (times) => Math.min(100 * times, CLUSTER_RETRY_MAX_MS),
  };
  return new Cluster(
    nodes.map((n) => ({ host: n.host, port: n.port })),
    clusterOptions,
  );
}

export function isCluster(client: RedisClient): client is Cluster {
  return (client as Cluster).isCluster === true;
}

/**
 * A second connection like `client` whose commands fail at once instead of waiting for a
 * reconnect, and after `commandTimeoutMs` when Redis hangs: for answers that must not wait on Redis.
 */
export function duplicateFailFast(client: RedisClient, commandTimeoutMs: number): RedisClient {
  const fast = { maxRetriesPerRequest: 0, commandTimeout: commandTimeoutMs };
  if (isCluster(client)) {
    return client.duplicate(undefined, {
      enableOfflineQueue: false,
      redisOptions: { ...client.options.redisOptions, ...fast },
    });
  }
  return client.duplicate({ enableOfflineQueue: false, ...fast });
}

/**
 * Every key of `pattern` (e.g. `conduit*`), from every master of a cluster: KEYS and SCAN only
 * see the node they run on. For tests, tools and benchmarks, not the hot path.
 */
export async function scanKeys(client: RedisClient, pattern: string): Promise<string[]> {
  const nodes = isCluster(client) ? client.nodes('master') : [client];
  const found: string[] = [];
  for (const node of nodes) {
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      found.push(...keys);
    } while (cursor !== '0');
  }
  return found;
}

/** Deletes keys one by one: on a cluster, one DEL may only name keys of one slot. */
export async function deleteKeys(client: RedisClient, keys: readonly string[]): Promise<void> {
  if (keys.length === 0) return;
  if (!isCluster(client)) {
    await client.del(...keys);
    return;
  }
  await Promise.all(keys.map((k) => client.del(k)));
}
