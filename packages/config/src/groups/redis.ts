import { port, queuePrefix, url } from '../kinds.ts';
import { fromPort, variable } from '../variable.ts';
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

export const CONDUIT_QUEUE_PREFIX = variable({
  name: 'CONDUIT_QUEUE_PREFIX',
  group: 'redis',
  description:
    'Prefix of every queue and lock key. The {hash tag} puts all keys in one Redis Cluster slot, which BullMQ needs.',
  schema: queuePrefix(),
  development: '{conduit}',
  production: '{conduit}',
});

export const redisVariables = [REDIS_URL, CONDUIT_LOCAL_REDIS_PORT, CONDUIT_QUEUE_PREFIX];

export interface RedisConfig {
  readonly url: string;
  /** REDIS_URL was set; otherwise the local default applies, and `npm start` may run a private one. */
  readonly urlIsSet: boolean;
  readonly localPort: number;
  readonly queuePrefix: string;
}

export function readRedis(r: EnvReader): RedisConfig {
  return {
    url: r.read(REDIS_URL),
    urlIsSet: r.isSet(REDIS_URL),
    localPort: r.read(CONDUIT_LOCAL_REDIS_PORT),
    queuePrefix: r.read(CONDUIT_QUEUE_PREFIX),
  };
}
