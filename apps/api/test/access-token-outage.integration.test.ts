// The token API while Redis is down: a private redis-server (port 17521) that the test stops
// and starts again; the machine's shared Redis is never touched.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { startStack, type Stack } from './support/stack.ts';

const PORT = 17521;
const REDIS_URL = `redis://127.0.0.1:${PORT}`;
let redis: ChildProcess | undefined;
let s: Stack | undefined;

async function startRedis(): Promise<void> {
  redis = spawn('redis-server', ['--port', String(PORT), '--save', '', '--appendonly', 'no'], {
    detached: true,
    stdio: 'ignore',
  });
  const probe = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => 50 });
  probe.on('error', () => undefined);
  try {
    for (let i = 0; i < 100; i++) {
      try {
        if (probe.status !== 'ready') await probe.connect().catch(() => undefined);
        if ((await probe.ping()) === 'PONG') return;
      } catch {
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    throw new Error(`private redis-server on ${PORT} did not start`);
  } finally {
    probe.disconnect();
  }
}

async function stopRedis(): Promise<void> {
  const child = redis;
  redis = undefined;
  if (!child || child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  process.kill(-child.pid!, 'SIGKILL');
  await exited;
}

beforeAll(async () => {
  await startRedis();
  s = await startStack({
    label: 'token-outage',
    env: { REDIS_URL, CONDUIT_TOKEN_READ_TIMEOUT_MS: '1500' },
  });
});

afterAll(async () => {
  try {
    if (!redis) await startRedis(); // the stack's teardown cleans its keys in Redis
    // Bounded, so the private Redis is stopped even when a teardown hangs.
    await Promise.race([s?.close(), new Promise((r) => setTimeout(r, 20_000).unref())]);
  } finally {
    await stopRedis();
  }
}, 40_000);

describe('token API › Redis outage', () => {
  it('fresh tokens are still handed out; forced and due reads answer 503 with Retry-After in bounded time; all recover', async () => {
    const ownerId = `owner-${randomUUID()}`;
    const attempt = await s!.connect('spotify', ownerId, { email: `${ownerId}@example.com` });
    const id = attempt.message!.connectionId!;
    const due = await s!.connect('github_app', ownerId, { email: `${ownerId}@example.com` });
    const dueId = due.message!.connectionId!;
    await s!.ctx.db.connection.update({
      where: { id: dueId },
      data: { tokenExpiresAt: new Date(Date.now() - 1_000) },
    });

    await stopRedis();
    const fresh = await s!.api('GET', `/v1/connections/${id}/access-token`);
    expect(fresh.status).toBe(200);

    for (const path of [
      `/v1/connections/${id}/access-token?forceRefresh=true`,
      `/v1/connections/${dueId}/access-token`,
    ]) {
      const started = Date.now();
      const res = await s!.api('GET', path);
      expect(res.status, path).toBe(503);
      expect(res.body).toMatchObject({ code: 'unavailable' });
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(Date.now() - started).toBeLessThan(5_000);
    }

    await startRedis();
    await expect
      .poll(async () => (await s!.api('GET', `/v1/connections/${dueId}/access-token`)).status, {
        timeout: 15_000,
      })
      .toBe(200);
  }, 60_000);
});
