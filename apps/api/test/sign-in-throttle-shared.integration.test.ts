// The failed sign-in throttle across api processes: two real api processes on one private Redis
// (port range 18500–18599) add to the same count, a lockout one of them sets holds in the other,
// and with that Redis stopped or hung a sign-in is still answered at once (counted or not).
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createTestDatabase,
  killAllTracked,
  PrivateRedis,
  spawnTracked,
  testPrefix,
  waitFor,
  type TestDatabase,
} from '@conduit/testing';

const ROOT = join(import.meta.dirname, '../../..');
const TSX = join(ROOT, 'node_modules/.bin/tsx');
const REDIS_PORT = 18500;
const API_PORTS = [18501, 18502] as const;
const MAX_PER_NAME = 4;
const STORE_TIMEOUT_MS = 300;
/** one for both processes: they are two processes of one deployment */
const PREFIX = `{${testPrefix('sign-in-shared')}}`;
const KEYS = `k1:${randomBytes(32).toString('base64')}`;
const OPERATORS = { alice: 'alice-pass-123', bob: 'bob-pass-456', carol: 'carol-pass-789' };

let database: TestDatabase;
const redis = new PrivateRedis(REDIS_PORT);
const apis: { url: string; child: ChildProcess; output: () => string }[] = [];

function startApi(port: number) {
  let out = '';
  const child = spawnTracked(TSX, [join(ROOT, 'apps/api/src/main.ts')], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      NODE_ENV: 'test',
      LOG_LEVEL: 'warn',
      LOG_FORMAT: 'json',
      DATABASE_URL: database.url,
      REDIS_URL: redis.url,
      CONDUIT_QUEUE_PREFIX: PREFIX,
      CONDUIT_ENCRYPTION_KEYS: KEYS,
      CONDUIT_API_PORT: String(port),
      CONDUIT_OPERATORS: Object.entries(OPERATORS)
        .map(([name, password]) => `${name}:admin:${password}`)
        .join(','),
      CONDUIT_SIGNIN_MAX_FAILURES_PER_NAME: String(MAX_PER_NAME),
      CONDUIT_SIGNIN_MAX_FAILURES_PER_CLIENT: '1000',
      CONDUIT_SIGNIN_STORE_TIMEOUT_MS: String(STORE_TIMEOUT_MS),
      CONDUIT_HEALTH_READ_TIMEOUT_MS: '300',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  return { url: `http://127.0.0.1:${port}`, child, output: () => out };
}

const basic = (name: string, password: string) => ({
  authorization: `Basic ${Buffer.from(`${name}:${password}`).toString('base64')}`,
});

/** A sign-in to the health page's JSON: its status and how long the answer took. */
async function signIn(api: number, name: string, password: string): Promise<{ status: number; ms: number }> {
  const started = performance.now();
  const res = await fetch(`${apis[api]!.url}/admin/health.json`, {
    headers: basic(name, password),
    signal: AbortSignal.timeout(10_000),
  });
  await res.arrayBuffer();
  return { status: res.status, ms: performance.now() - started };
}

beforeAll(async () => {
  database = await createTestDatabase();
  await redis.start();
  for (const port of API_PORTS) apis.push(startApi(port));
  for (const api of apis) {
    await waitFor(
      async () => {
        if (api.child.exitCode !== null) throw new Error(`the api exited:\n${api.output()}`);
        return (await fetch(`${api.url}/readyz`).catch(() => null))?.status === 200;
      },
      60_000,
      `${api.url}/readyz`,
      100,
    );
  }
}, 90_000);

afterAll(async () => {
  await killAllTracked();
  await database?.drop();
});

describe('sign-in throttle › shared by every api process', () => {
  it('failures at two api processes add up to one count, and the lockout holds at both, even for the right password', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < MAX_PER_NAME; i++) statuses.push((await signIn(i % 2, 'alice', 'wrong')).status);
    expect(statuses).toEqual([401, 401, 401, 401]);
    // Two failures at each process: the next one, at either, is one too many.
    expect((await signIn(0, 'alice', 'wrong')).status).toBe(429);
    // The other process learns of the lockout from the first (pub/sub), and checks no password meanwhile.
    await waitFor(
      async () => (await signIn(1, 'alice', OPERATORS.alice)).status === 429,
      5_000,
      'the lockout at the second api',
      50,
    );
    expect((await signIn(0, 'alice', OPERATORS.alice)).status).toBe(429);
    // Another operator is not locked out by alice's failures.
    expect((await signIn(1, 'bob', OPERATORS.bob)).status).toBe(200);
  });

  it('with Redis stopped, or hung, a sign-in is answered at once: 401 for a wrong password, 200 for the right one; the lockouts known still hold', async () => {
    await redis.kill();
    try {
      for (const api of [0, 1]) {
        const wrong = await signIn(api, 'carol', 'wrong');
        expect(wrong.status).toBe(401);
        expect(wrong.ms).toBeLessThan(STORE_TIMEOUT_MS + 2_000);
        expect((await signIn(api, 'carol', OPERATORS.carol)).status).toBe(200);
        expect((await signIn(api, 'alice', OPERATORS.alice)).status).toBe(429);
      }
      await redis.start();
      await waitFor(
        async () => (await fetch(`${apis[0]!.url}/readyz`)).status === 200,
        15_000,
        'Redis back',
        50,
      );
      redis.hang();
      const wrong = await signIn(1, 'carol', 'wrong');
      expect(wrong.status).toBe(401);
      expect(wrong.ms).toBeLessThan(STORE_TIMEOUT_MS + 2_000);
    } finally {
      redis.resume();
    }
    for (const api of apis) expect(api.child.exitCode, api.output()).toBeNull();
  });
});
