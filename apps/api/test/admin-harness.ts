// A real api for the admin and metrics tests: a cloned Postgres database, a Redis key prefix of
// the file's own, the server from buildServer listening on a free port, reached with fetch.
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { loadConfig } from '@conduit/config';
import { createLogger } from '@conduit/observability';
import { createContext, type AppContext } from '@conduit/runtime';
import { createTestDatabase, testPrefix, TEST_REDIS_URL, type TestDatabase } from '@conduit/testing';
import { buildServer } from '../src/server.ts';

export const ADMIN = { name: 'alice', password: 'admin:pass-with-colons' };
export const VIEWER = { name: 'victor', password: 'viewer-pass-1' };

export interface TestApi {
  ctx: AppContext;
  app: FastifyInstance;
  base: string;
  close(): Promise<void>;
}

export interface TestApiOptions {
  /** extra configuration */
  env?: Record<string, string>;
  /** the URL the api is given for its database (e.g. through a proxy) */
  databaseUrl?: (url: string) => string;
  /** where the api's log lines go (JSON), to check what is logged */
  logs?: NonNullable<Parameters<typeof createLogger>[0]['destination']>;
  /** the format of those lines (default json) */
  logFormat?: 'json' | 'pretty';
}

export async function startTestApi(label: string, options: TestApiOptions = {}): Promise<TestApi> {
  const db: TestDatabase = await createTestDatabase();
  const created = createContext(
    loadConfig({
      ...process.env,
      NODE_ENV: 'test',
      DATABASE_URL: options.databaseUrl ? options.databaseUrl(db.url) : db.url,
      REDIS_URL: TEST_REDIS_URL,
      CONDUIT_QUEUE_PREFIX: `{${testPrefix(label)}}`,
      CONDUIT_OPERATORS: `${ADMIN.name}:admin:${ADMIN.password},${VIEWER.name}:viewer:${VIEWER.password}`,
      ...options.env,
    }),
    'test',
  );
  const ctx: AppContext = options.logs
    ? {
        ...created,
        logger: createLogger({
          level: 'info',
          format: options.logFormat ?? 'json',
          name: 'test',
          destination: options.logs,
          ...(options.logFormat === 'pretty' && { colorize: false }),
        }),
      }
    : created;
  const app = await buildServer(ctx);
  await app.listen({ port: 0, host: '127.0.0.1' });
  const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  return {
    ctx,
    app,
    base,
    async close() {
      await app.close();
      await deleteKeys(ctx, `${ctx.config.redis.queuePrefix}*`);
      await ctx.close();
      await db.drop();
    },
  };
}

async function deleteKeys(ctx: AppContext, pattern: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await ctx.redis.scan(cursor, 'MATCH', pattern, 'COUNT', 500);
    if (keys.length > 0) await ctx.redis.del(...keys);
    cursor = next;
  } while (cursor !== '0');
}

export function basic(who: { name: string; password: string }): Record<string, string> {
  return { authorization: `Basic ${Buffer.from(`${who.name}:${who.password}`).toString('base64')}` };
}
