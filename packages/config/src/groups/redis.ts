import { port, queuePrefix, redisClusterNodes, url, type RedisNode } from '../kinds.ts';
import { fromPort, optionalVariable, variable, type DefaultValue } from '../variable.ts';
import type { EnvReader } from '../variable.ts';

const localRedisUrl = (port: string) => `redis://127.0.0.1:${port}`;
const LOCAL_REDIS_URL = localRedisUrl('6379');

export const CONDUIT_LOCAL_REDIS_PORT = variable({
  name: 'CONDUIT_LOCAL_REDIS_PORT',
  group: 'redis',
  description:
    'Port of the local Redis on 127.0.0.1 that REDIS_URL defaults to. With REDIS_URL unset and nothing answering there, `npm start` runs a private redis-server on this port (when one is installed).',
  schema: port(6379),
  development: '6379',
  production: '6379',
});

export const REDIS_URL = variable({
  name: 'REDIS_URL',
  group: 'redis',
  description: 'Redis connection URL for queues and locks (rediss:// for TLS).',
  schema: url({ protocols: ['redis', 'rediss'], noun: 'a Redis URL', example: LOCAL_REDIS_URL }),
  development: fromPort(CONDUIT_LOCAL_REDIS_PORT.name, 6379, localRedisUrl),
  production: fromPort(CONDUIT_LOCAL_REDIS_PORT.name, 6379, localRedisUrl),
});

export const REDIS_CLUSTER_NODES = optionalVariable({
  name: 'REDIS_CLUSTER_NODES',
  group: 'redis',
  description:
    'Redis Cluster nodes as host:port,host:port (a few masters are enough; the rest are discovered). When set, every app, the CLI and the health page connect to the cluster instead of REDIS_URL, and queue and lock keys spread over its masters (see CONDUIT_QUEUE_PREFIX). Unset: one Redis server at REDIS_URL.',
  schema: redisClusterNodes(),
});

/** `{conduit}` on one server keeps the keys every release before cluster support wrote. */
const PREFIX_DEFAULT: DefaultValue = {
  shown: '{conduit}',
  note: 'conduit when REDIS_CLUSTER_NODES is set',
  compute: ({ raw }) => (raw?.(REDIS_CLUSTER_NODES.name) === undefined ? '{conduit}' : 'conduit'),
};

export const CONDUIT_QUEUE_PREFIX = variable({
  name: 'CONDUIT_QUEUE_PREFIX',
  group: 'redis',
  description:
    'Namespace of every queue and lock key. Without a {hash tag} (conduit), each queue and each group of keys that one script touches gets a hash tag of its own, so a Redis Cluster spreads them over its masters; with one ({conduit}), every key lands in that one slot, which a single server does not mind.',
  schema: queuePrefix(),
  development: PREFIX_DEFAULT,
  production: PREFIX_DEFAULT,
});

export const redisVariables = [
  REDIS_URL,
  REDIS_CLUSTER_NODES,
  CONDUIT_LOCAL_REDIS_PORT,
  CONDUIT_QUEUE_PREFIX,
];

export interface RedisConfig {
  readonly url: string;
  /** REDIS_URL was set; otherwise the local default applies, and `npm start` may run a private one. */
  readonly urlIsSet: boolean;
  /** REDIS_CLUSTER_NODES: connect to a Redis Cluster through these nodes instead of `url` */
  readonly clusterNodes: readonly RedisNode[] | undefined;
  readonly localPort: number;
  readonly queuePrefix: string;
}

export function readRedis(r: EnvReader): RedisConfig {
  const clusterNodes = r.read(REDIS_CLUSTER_NODES);
  if (r.isSet(REDIS_URL) && r.isSet(REDIS_CLUSTER_NODES)) {
    r.problem(
      REDIS_CLUSTER_NODES,
      'is set together with REDIS_URL; set REDIS_CLUSTER_NODES for a Redis Cluster or REDIS_URL for one server, not both',
    );
  }
  return {
    url: r.read(REDIS_URL),
    urlIsSet: r.isSet(REDIS_URL),
    clusterNodes,
    localPort: r.read(CONDUIT_LOCAL_REDIS_PORT),
    queuePrefix: r.read(CONDUIT_QUEUE_PREFIX),
  };
}
