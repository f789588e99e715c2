// At start, a datastore that does not answer is one sentence and an exit, after a bounded wait:
// the shared Redis connection would otherwise wait forever (right for a running worker riding
// out a restart) while the process logs "ready" and floods the terminal. Used by every app at
// start, by `npm start`, and by the CLI before a command that needs Redis.
import { setTimeout as sleep } from 'node:timers/promises';
import type { RedisConfig } from '@conduit/config';
import type { RedisClient } from '@conduit/jobs';

export type Datastore = 'Postgres' | 'Redis';

/** The datastore cannot be used; `message` is one sentence that says what to check. */
export class DatastoreUnreachableError extends Error {
  constructor(
    readonly datastore: Datastore,
    message: string,
    /** A setting is wrong (role, password, database name), not a server down: exit 78. */
    readonly isConfiguration = false,
  ) {
    super(message);
    this.name = 'DatastoreUnreachableError';
  }
}

/** host:port of a URL, never its credentials. */
export function hostOf(url: string): string {
  try {
    const u = new URL(url);
    return u.port ? `${u.hostname}:${u.port}` : u.hostname;
  } catch {
    return 'the configured address';
  }
}

const WAIT_HINT = 'CONDUIT_DATASTORE_WAIT_SECONDS sets how long to wait';

/** Where Redis is, for a sentence: host:port of REDIS_URL, or the cluster's start-up nodes. */
export function describeRedis(redis: Pick<RedisConfig, 'url' | 'clusterNodes'>): {
  where: string;
  setting: 'REDIS_URL' | 'REDIS_CLUSTER_NODES';
} {
  const nodes = redis.clusterNodes;
  if (nodes === undefined || nodes.length === 0)
    return { where: `Redis at ${hostOf(redis.url)}`, setting: 'REDIS_URL' };
  const list = nodes.map((n) => (n.host.includes(':') ? `[${n.host}]:${n.port}` : `${n.host}:${n.port}`));
  return { where: `the Redis Cluster at ${list.join(', ')}`, setting: 'REDIS_CLUSTER_NODES' };
}

export async function waitForRedis(
  redis: RedisClient,
  target: Pick<RedisConfig, 'url' | 'clusterNodes'>,
  timeoutMs: number,
): Promise<void> {
  const { where, setting } = describeRedis(target);
  let lastError: string | undefined;
  const onError = (err: Error) => (lastError = err.message);
  redis.on('error', onError);
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs);
  });
  try {
    const answer = await Promise.race([redis.ping().catch((err: Error) => err), timedOut]);
    if (answer === 'timeout' || answer instanceof Error) {
      const cause = answer instanceof Error ? answer.message : lastError;
      throw new DatastoreUnreachableError(
        'Redis',
        `cannot reach ${where} within ${seconds(timeoutMs)}${cause ? ` (${cause})` : ''}; check ${setting} and that Redis is running (${WAIT_HINT})`,
      );
    }
  } finally {
    clearTimeout(timer);
    redis.off('error', onError);
  }
}

/** Errors no wait will cure: the server answered and refused who we are or what we asked for. */
const CONFIGURATION_ERRORS: readonly [RegExp, string][] = [
  [
    /role "([^"]+)" does not exist/,
    'the role in DATABASE_URL does not exist on that server; use one that does, or create it (createuser -h <host> -U postgres <role>)',
  ],
  [
    /password authentication failed/,
    'Postgres refused the password in DATABASE_URL; fix the password (or PGPASSWORD)',
  ],
  [
    /no password supplied|SASL: .*password/i,
    'Postgres asks for a password that DATABASE_URL does not give; add it to the URL (postgresql://user:password@host/db) or set PGPASSWORD',
  ],
  [
    /database "([^"]+)" does not exist/,
    'the database in DATABASE_URL does not exist; create it (createdb) or run `npm run db:migrate`, which creates it',
  ],
  [
    /no pg_hba\.conf entry/,
    "Postgres's pg_hba.conf refuses this client; allow it there or connect as an allowed user",
  ],
];

/** One sentence for a Postgres connection error, and whether it is a setting rather than an outage. */
export function describePostgresError(
  url: string,
  message: string,
): { sentence: string; isConfiguration: boolean } {
  const first =
    message
      .split('\n')
      .find((l) => l.trim() !== '')
      ?.trim() ?? message;
  for (const [pattern, fix] of CONFIGURATION_ERRORS) {
    if (pattern.test(message))
      return { sentence: `${fix} (${hostOf(url)}: ${first})`, isConfiguration: true };
  }
  // A connection cut right after it opened is what a Postgres that is shutting down or starting,
  // or a proxy in front of one that is down, does: an outage to wait out, not a setting. Only an
  // answer in another protocol is one.
  const cut = /ECONNRESET|Connection terminated unexpectedly|shutting down|starting up/i.test(message);
  if (!cut && /unexpected|copyData|protocol/i.test(message)) {
    return {
      sentence: `the server at ${hostOf(url)} does not speak the Postgres protocol (${first}); check the host and port in DATABASE_URL`,
      isConfiguration: true,
    };
  }
  if (cut) {
    return {
      sentence: `Postgres at ${hostOf(url)} closes every connection (${first}); it is restarting or something else listens on that port — check DATABASE_URL and that Postgres is running`,
      isConfiguration: false,
    };
  }
  return {
    sentence: `cannot reach Postgres at ${hostOf(url)} (${first}); check DATABASE_URL and that Postgres is running`,
    isConfiguration: false,
  };
}

/**
 * Retries `probe` (e.g. `SELECT 1`) until it answers or the wait is over. Refusals no wait can
 * cure (a wrong role or password) end the wait at once.
 */
export async function waitForPostgres(
  probe: () => Promise<unknown>,
  url: string,
  timeoutMs: number,
  retryEveryMs = 250,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await probe();
      return;
    } catch (error) {
      const { sentence, isConfiguration } = describePostgresError(
        url,
        (error as Error).message ?? String(error),
      );
      if (isConfiguration) throw new DatastoreUnreachableError('Postgres', sentence, true);
      if (Date.now() + retryEveryMs > deadline) {
        throw new DatastoreUnreachableError(
          'Postgres',
          `${sentence}; waited ${seconds(timeoutMs)} (${WAIT_HINT})`,
        );
      }
    }
    await sleep(retryEveryMs);
  }
}

function seconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(1))} s`;
}
