// The real api, worker and scheduler processes against a private Redis that is killed and started
// again on the same port: in each, the outage is one warn line and its end one info line,
// nothing per reconnect attempt, no stack trace anywhere, and work goes on once Redis is back.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TokenVault, parseKeyring } from '@conduit/core';
import { createDb, type Db } from '@conduit/db';
import { Queues, createRedis } from '@conduit/jobs';
import { startSandbox, type Sandbox, type SeededGrant } from '@conduit/sandbox';
import {
  PrivateRedis,
  createTestDatabase,
  killAllTracked,
  spawnTracked,
  testPrefix,
  waitFor,
  type TestDatabase,
} from '@conduit/testing';
import type { Redis } from 'ioredis';

const ROOT = join(import.meta.dirname, '../../..');
const TSX = join(ROOT, 'node_modules/.bin/tsx');
/** in runtime-robust's port range */
const REDIS_PORT = 17201;
const API_PORT = 17202;
/** how long Redis stays down once both apps have noticed: several reconnect attempts */
const OUTAGE_MS = 3_000;
const SOCKET_ERRORS = /^(ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT)$/;

let database: TestDatabase;
let db: Db;
let sandbox: Sandbox;
const privateRedis = new PrivateRedis(REDIS_PORT);
const prefix = `{${testPrefix('outage')}}`;
const keys = `k1:${randomBytes(32).toString('base64')}`;
const vault = new TokenVault(parseKeyring(keys));
let redis: Redis | undefined;
let queues: Queues | undefined;

beforeAll(async () => {
  database = await createTestDatabase();
  db = createDb({ databaseUrl: database.url, poolSize: 2 });
  sandbox = await startSandbox({ port: 0 });
  await privateRedis.start();
});

afterAll(async () => {
  await queues?.close();
  redis?.disconnect();
  // The apps and the private Redis, also when the test failed half way.
  await killAllTracked();
  await sandbox?.close();
  await db?.$disconnect();
  await database?.drop();
});

interface LogLine {
  level?: string;
  msg?: string;
  [key: string]: unknown;
}

/** An app as its own process (its own process group), with its stdout parsed as JSON lines. */
function startApp(app: 'api' | 'worker' | 'scheduler') {
  const proc = spawnTracked(TSX, [join(ROOT, `apps/${app}/src/main.ts`)], {
    cwd: ROOT,
    env: {
      ...process.env,
      NODE_ENV: 'test',
      LOG_LEVEL: 'info',
      LOG_FORMAT: 'json',
      DATABASE_URL: database.url,
      REDIS_URL: privateRedis.url,
      CONDUIT_QUEUE_PREFIX: prefix,
      CONDUIT_ENCRYPTION_KEYS: keys,
      CONDUIT_SANDBOX_URL: sandbox.url,
      CONDUIT_WORKER_METRICS_PORT: '0',
      CONDUIT_API_PORT: String(API_PORT),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out = { stdout: '', stderr: '', logs: [] as LogLine[] };
  let buffered = '';
  proc.stdout!.on('data', (d: Buffer) => {
    out.stdout += d.toString();
    buffered += d.toString();
    const lines = buffered.split('\n');
    buffered = lines.pop()!;
    for (const line of lines.filter(Boolean)) {
      try {
        out.logs.push(JSON.parse(line) as LogLine);
      } catch {
        out.logs.push({ msg: line });
      }
    }
  });
  proc.stderr!.on('data', (d: Buffer) => (out.stderr += d.toString()));
  const lines = (msg: string | RegExp) =>
    out.logs.filter((l) => (typeof msg === 'string' ? l.msg === msg : msg.test(String(l.msg))));
  return {
    app,
    out,
    lines,
    lost: () => lines(/^redis connection lost/),
    back: () => lines('redis connection back'),
  };
}

async function seedDueConnection(owner: string) {
  const res = await fetch(`${sandbox.url}/_sandbox/grants`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ provider: 'discord', count: 1 }),
  });
  const { grants } = (await res.json()) as { grants: SeededGrant[] };
  const grant = grants[0]!;
  return db.connection.create({
    data: {
      ownerId: owner,
      provider: 'discord',
      externalAccountId: grant.accountId,
      externalEmail: grant.email,
      accessTokenEnc: vault.encrypt(grant.accessToken),
      refreshTokenEnc: vault.encrypt(grant.refreshToken!),
      tokenExpiresAt: new Date(Date.now() + 60_000),
    },
  });
}

/** Queues a refresh of a due connection and resolves once the worker has stored it. */
async function refreshThroughWorker(q: Queues, owner: string): Promise<void> {
  const conn = await seedDueConnection(owner);
  await q.enqueueRefresh('discord', conn.id, 'manual');
  const refreshed = await waitFor(
    async () => {
      const row = await db.connection.findUniqueOrThrow({ where: { id: conn.id } });
      return row.lastRefreshAt ? row : null;
    },
    30_000,
    `the worker to refresh ${owner}'s connection`,
  );
  expect(refreshed.version).toBe(conn.version + 1);
}

describe('apps › a Redis outage', () => {
  it('is one "lost" and one "back" line in the api, the worker and the scheduler, with no stack trace, and work goes on after it', async () => {
    const worker = startApp('worker');
    const scheduler = startApp('scheduler');
    const api = startApp('api');
    const apps = [worker, scheduler, api];
    for (const a of apps)
      await waitFor(() => a.lines(`${a.app} ready`).length > 0, 30_000, `the ${a.app} to be ready`);
    // The test's own connection rides out the outage too, without a word.
    redis = createRedis(privateRedis.url).on('error', () => undefined);
    queues = new Queues({ connection: redis, prefix, onCreate: (q) => q.on('error', () => undefined) });
    // A job done before the outage: the worker is connected, not still starting.
    await refreshThroughWorker(queues, 'owner-before-outage');

    await privateRedis.kill();
    for (const a of apps)
      await waitFor(() => a.lost().length > 0, 20_000, `the ${a.app} to notice Redis is gone`);
    await sleep(OUTAGE_MS);
    await privateRedis.start();
    for (const a of apps)
      await waitFor(() => a.back().length > 0, 30_000, `the ${a.app} to notice Redis is back`);

    // Redis kept nothing: the job is queued on the fresh server and the worker takes it, and
    // the scheduler has registered its sweeps on it again.
    await refreshThroughWorker(queues, 'owner-after-outage');
    await waitFor(
      () => scheduler.lines('job schedulers registered again after a Redis reconnect').length > 0,
      20_000,
      'the scheduler to register its sweeps again',
    );

    for (const { app, out, lost, back } of apps) {
      const all = `${out.stdout}\n${out.stderr}`;
      expect(lost(), `${app}:\n${all}`).toHaveLength(1);
      // The code of the first failure: a write to, or a reset of, a dropped socket, or a refused reconnect.
      expect(lost()[0]).toMatchObject({
        level: 'warn',
        redis: `127.0.0.1:${REDIS_PORT}`,
        code: expect.stringMatching(SOCKET_ERRORS),
      });
      expect(back(), `${app}:\n${all}`).toHaveLength(1);
      expect(back()[0]).toMatchObject({ level: 'info', redis: `127.0.0.1:${REDIS_PORT}` });
      expect(back()[0]!.downMs).toBeGreaterThanOrEqual(OUTAGE_MS);
      // Nothing per reconnect attempt, and no stack trace on either stream.
      expect(all.match(new RegExp(SOCKET_ERRORS.source.slice(1, -1), 'g')), `${app}:\n${all}`).toHaveLength(
        1,
      );
      expect(all, `${app}: a stack trace`).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);
      expect(all, `${app}: a logged stack`).not.toContain('"stack"');
      expect(out.stderr, app).toBe('');
    }
  }, 120_000);
});
