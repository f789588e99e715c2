import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '@conduit/config';
import { createContext, type AppContext } from '@conduit/runtime';
import { createTestDatabase, testPrefix, TEST_REDIS_URL, type TestDatabase } from '@conduit/testing';
import { BENCH_BASELINE_ENV, BENCH_BASELINE_PATH } from '../src/plugins/bench-baseline.ts';
import { buildServer } from '../src/server.ts';

// The webhooks benchmark's baseline route is a write anyone could call: it must exist only when asked for.
let database: TestDatabase;
let ctx: AppContext;
const saved = process.env[BENCH_BASELINE_ENV];

beforeAll(async () => {
  database = await createTestDatabase();
  ctx = createContext(
    loadConfig({
      ...process.env,
      NODE_ENV: 'test',
      DATABASE_URL: database.url,
      REDIS_URL: TEST_REDIS_URL,
      CONDUIT_QUEUE_PREFIX: `{${testPrefix('bench-baseline')}}`,
    }),
    'test',
  );
});

afterEach(() => {
  if (saved === undefined) delete process.env[BENCH_BASELINE_ENV];
  else process.env[BENCH_BASELINE_ENV] = saved;
});

afterAll(async () => {
  await ctx?.close();
  await database?.drop();
});

const post = { method: 'POST' as const, url: BENCH_BASELINE_PATH, payload: { recording_id: 1 } };

describe('api › benchmark baseline route', () => {
  it(`does not exist unless ${BENCH_BASELINE_ENV}=1`, async () => {
    delete process.env[BENCH_BASELINE_ENV];
    const app = await buildServer(ctx);
    try {
      expect(app.printRoutes()).not.toContain('_bench');
      const res = await app.inject({ ...post, headers: { 'webhook-id': 'msg_absent' } });
      expect(res.statusCode).toBe(404);
      expect(await ctx.db.webhookDelivery.count()).toBe(0);
    } finally {
      await app.close();
    }
  });

  it(`with ${BENCH_BASELINE_ENV}=1, stores each request with one insert and answers 202`, async () => {
    process.env[BENCH_BASELINE_ENV] = '1';
    const app = await buildServer(ctx);
    try {
      const res = await app.inject({ ...post, headers: { 'webhook-id': 'msg_present' } });
      expect(res.statusCode).toBe(202);
      const row = await ctx.db.webhookDelivery.findFirstOrThrow({
        where: { deliveryId: 'baseline:msg_present' },
      });
      expect(row.payload).toEqual({ recording_id: 1 });
    } finally {
      await app.close();
    }
  });
});
