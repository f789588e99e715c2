import { queuePrefix, url } from '../kinds.ts';
import { variable } from '../variable.ts';
import type { EnvReader } from '../variable.ts';

const LOCAL_REDIS_URL = 'redis://127.0.0.1:6379';

export const REDIS_URL = variable({
  name: 'REDIS_URL',
  group: 'redis',
  description: 'Redis connection URL for queues and locks (rediss:// for TLS).',
  schema: url({ protocols: ['redis', 'rediss'], noun: 'a Redis URL', example: LOCAL_REDIS_URL }),
  development: LOCAL_REDIS_URL,
  production: LOCAL_REDIS_URL,
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

export const redisVariables = [REDIS_URL, CONDUIT_QUEUE_PREFIX];

export interface RedisConfig {
  readonly url: string;
  readonly queuePrefix: string;
}

export function readRedis(r: EnvReader): RedisConfig {
  return { url: r.read(REDIS_URL), queuePrefix: r.read(CONDUIT_QUEUE_PREFIX) };
}
