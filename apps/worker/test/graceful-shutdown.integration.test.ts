// The real worker process (apps/worker/src/main.ts under tsx) with a refresh in flight: SIGTERM
// stops it taking work, the running refresh finishes and is stored, and the process exits 0.
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TokenVault, parseKeyring } from '@conduit/core';
import { createDb, type Db } from '@conduit/db';
import { Queues, createRedis } from '@conduit/jobs';
import { startSandbox, type Sandbox } from '@conduit/sandbox';
import {
  createTestDatabase,
  killAllTracked,
  killTree,
  spawnTracked,
  testPrefix,
  TEST_REDIS_URL,
  waitFor,
  type TestDatabase,
} from '@conduit/testing';
import type { Redis } from 'ioredis';
import type { SeededGrant } from '@conduit/sandbox';

const ROOT = join(import.meta.dirname, '../../..');
const TSX = join(ROOT, 'node_modules/.bin/tsx');
const MAIN = join(ROOT, 'apps/worker/src/main.ts');

let database: TestDatabase;
let db: Db;
let redis: Redis;
let queues: Queues;
let sandbox: Sandbox;
const prefix = `{${testPrefix('worker')}}`;
const keys = `k1:${randomBytes(32).toString('base64')}`;
const vault = new TokenVault(parseKeyring(keys));

async function sandboxCall<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${sandbox.url}${path}`, {
    method,
    ...(body !== undefined && {
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    }),
  });
  if (!res.ok) throw new Error(`sandbox ${method} ${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

/** A discord connection in the database for a fresh sandbox grant, due for a refresh. */
async function seedDueConnection(owner: string) {
  const { grants } = await sandboxCall<{ grants: SeededGrant[] }>('POST', '/_sandbox/grants', {
    provider: 'discord',
    count: 1,
  });
  const grant = grants[0]!;
  const conn = await db.connection.create({
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
  return { conn, grant };
}

/** Starts the worker and collects its JSON log lines. */
function startWorker() {
  const child: ChildProcess = spawnTracked(TSX, [MAIN], {
    cwd: ROOT,
    env: {
      ...process.env,
      NODE_ENV: 'test',
      LOG_LEVEL: 'info',
      LOG_FORMAT: 'json',
      DATABASE_URL: database.url,
      REDIS_URL: TEST_REDIS_URL,
      CONDUIT_QUEUE_PREFIX: prefix,
      CONDUIT_ENCRYPTION_KEYS: keys,
      CONDUIT_SANDBOX_URL: sandbox.url,
      CONDUIT_WORKER_METRICS_PORT: '0',
      CONDUIT_SHUTDOWN_GRACE_SECONDS: '30',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: Array<Record<string, unknown>> = [];
  let stderr = '';
  let buffered = '';
  child.stdout!.on('data', (d: Buffer) => {
    buffered += d.toString();
    const lines = buffered.split('\n');
    buffered = lines.pop()!;
    for (const line of lines.filter(Boolean)) {
      try {
        logs.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        logs.push({ msg: line });
      }
    }
  });
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  return { child, logs, exited, stderr: () => stderr };
}

const until = <T>(
  what: string,
  check: () => Promise<T | null | undefined | false> | T | null | undefined | false,
  timeoutMs = 20_000,
) => waitFor(check, timeoutMs, what);

beforeAll(async () => {
  database = await createTestDatabase();
  db = createDb({ databaseUrl: database.url, poolSize: 4 });
  redis = createRedis(TEST_REDIS_URL);
  queues = new Queues({ connection: redis, prefix });
  sandbox = await startSandbox({ port: 0 });
});

afterAll(async () => {
  await killAllTracked();
  await sandboxCall('POST', '/_sandbox/holds/release', {}).catch(() => undefined);
  await queues?.close();
  const left = await redis?.keys(`${prefix}*`);
  if (left?.length) await redis.del(...left);
  redis?.disconnect();
  await sandbox?.close();
  await db?.$disconnect();
  await database?.drop();
});

describe('worker › graceful shutdown', () => {
  it('on SIGTERM, a refresh in flight finishes and is stored, no new job starts, and the process exits 0', async () => {
    const inFlight = await seedDueConnection('owner-in-flight');
    const later = await seedDueConnection('owner-later');
    await sandboxCall('POST', '/_sandbox/holds', { provider: 'discord', endpoint: 'token' });

    const worker = startWorker();
    try {
      await until('the worker to be ready', () => worker.logs.find((l) => l.msg === 'worker ready'));
      // No notify URL in this environment: the worker says so once, at startup.
      expect(
        worker.logs.filter((l) => String(l.msg).startsWith('notifications are not being delivered')),
      ).toHaveLength(1);

      await queues.enqueueRefresh('discord', inFlight.conn.id, 'sweep');
      // The token request has reached the provider and is parked there.
      await until('the token request to be held', async () => {
        const { holds } = await sandboxCall<{ holds: Array<{ parked: number }> }>('GET', '/_sandbox/holds');
        return holds.some((h) => h.parked === 1);
      });

      worker.child.kill('SIGTERM');
      await until('the worker to begin stopping', () => worker.logs.find((l) => l.msg === 'worker stopping'));
      // Work queued during shutdown is left for the next worker.
      await queues.enqueueRefresh('discord', later.conn.id, 'sweep');
      await new Promise((r) => setTimeout(r, 300));
      await sandboxCall('POST', '/_sandbox/holds/release', { provider: 'discord' });

      const exit = await worker.exited;
      expect(exit, worker.stderr()).toEqual({ code: 0, signal: null });
    } finally {
      // Also when it failed: the worker, and tsx's child that runs main.ts, never outlive the test.
      await killTree(worker.child);
    }

    const refreshed = await db.connection.findUniqueOrThrow({ where: { id: inFlight.conn.id } });
    expect(refreshed.version).toBe(inFlight.conn.version + 1);
    expect(refreshed.lastRefreshAt).not.toBeNull();
    const grant = await sandboxCall<{ refreshToken: string; accessToken: string }>(
      'GET',
      `/_sandbox/grants/${inFlight.grant.grantId}`,
    );
    // What Conduit stored is exactly the sandbox's current (rotated) refresh token.
    expect(vault.decrypt(refreshed.refreshTokenEnc!)).toBe(grant.refreshToken);
    expect(grant.refreshToken).not.toBe(inFlight.grant.refreshToken);
    expect(vault.decrypt(refreshed.accessTokenEnc!)).toBe(grant.accessToken);

    const untouched = await db.connection.findUniqueOrThrow({ where: { id: later.conn.id } });
    expect(untouched.version).toBe(later.conn.version);
    const counts = await queues.refresh('discord').getJobCounts('completed', 'wait', 'active', 'failed');
    expect(counts).toEqual({ completed: 1, wait: 1, active: 0, failed: 0 });
    expect(worker.logs.find((l) => l.msg === 'worker stopped')).toBeDefined();
  }, 60_000);
});
