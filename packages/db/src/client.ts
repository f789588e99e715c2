import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { PrismaClient } from './generated/client.ts';

export type Db = PrismaClient;

/** The pg pool under each client made by createDb: the refresh hot path's prepared statements use it. */
const POOLS = new WeakMap<PrismaClient, pg.Pool>();

/** The pg pool a client made by createDb runs on (one pool per process: Prisma and the hot path share it). */
export function poolOf(db: PrismaClient): pg.Pool {
  const pool = POOLS.get(db);
  if (!pool) throw new Error('poolOf: this Prisma client was not made by createDb');
  return pool;
}

export interface DbOptions {
  databaseUrl: string;
  /** pool size per process */
  poolSize?: number;
  /** how long a query may wait for a pooled connection, ms */
  connectionTimeoutMs?: number;
  /** Postgres `statement_timeout` for every session of the pool, ms (0: none) */
  statementTimeoutMs?: number;
  /** Postgres `lock_timeout`: how long a statement may wait for a row or table lock, ms (0: none) */
  lockTimeoutMs?: number;
}

/** Past the server-side timeout, how much longer the client waits for a server that stopped answering. */
const CLIENT_GRACE_MS = 5_000;

/**
 * The one way the apps build a Prisma client: the pg driver adapter, no native engine. Every
 * statement is bounded: a lock wait ends after `lockTimeoutMs`, any statement after
 * `statementTimeoutMs`, and a server that stalls (no answer at all) a little later on the client
 * side, so one locked row or a paused Postgres delays a caller by a bound, never forever.
 */
export function createDb(options: DbOptions): PrismaClient {
  const statementTimeout = options.statementTimeoutMs ?? 30_000;
  const lockTimeout = options.lockTimeoutMs ?? 5_000;
  const pool = new pg.Pool({
    connectionString: options.databaseUrl,
    max: options.poolSize ?? 10,
    connectionTimeoutMillis: options.connectionTimeoutMs ?? 5_000,
    ...(statementTimeout > 0 && {
      statement_timeout: statementTimeout,
      query_timeout: statementTimeout + CLIENT_GRACE_MS,
    }),
    ...(lockTimeout > 0 && { lock_timeout: lockTimeout }),
    keepAlive: true,
  });
  // A server that shuts down or crashes (57P01, a reset socket) makes each client emit `error`,
  // sometimes twice; pg-pool listens only once per query. The failure reaches the statement that
  // was running and the pool drops the client; an unheard second event must not end the process.
  pool.on('connect', (client) => client.on('error', () => undefined));
  pool.on('error', () => undefined);
  const adapter = new PrismaPg(pool, { disposeExternalPool: true });
  const client = new PrismaClient({ adapter });
  POOLS.set(client, pool);
  return client;
}
