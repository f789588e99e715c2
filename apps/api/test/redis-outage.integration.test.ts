// Redis outages are answered, not waited out: readiness says 503 at once, the health page shows
// Redis as down, and a webhook is acknowledged once it is stored in Postgres even when its job
// cannot be queued; the inbox sweep queues it when Redis is back, so nothing is lost. A private
// redis-server (port 17110) is hung with SIGSTOP and killed; the shared one is never touched.
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROVIDERS, webhookHeaders } from '@conduit/core';
import { WebhookDeliveryRepository } from '@conduit/db';
import { QUEUE_NAMES, runInboxSweep } from '@conduit/jobs';
import { PrivateRedis, waitFor } from '@conduit/testing';
import { answer, expectProblem } from './support/problem.ts';
import { startStack, type SeededGrant, type Stack } from './support/stack.ts';

const EMAIL = 'outage.recorder@acme.test';
const OPERATOR = { name: 'otto', password: 'otto-pass-123' };
const BOUND_MS = 1_000;
let redis: PrivateRedis;
let s: Stack;
let seed: SeededGrant;
let connectionId: string;

beforeAll(async () => {
  redis = new PrivateRedis(17110);
  await redis.start();
  s = await startStack({
    label: 'redis-outage',
    webhookEmail: EMAIL,
    env: {
      REDIS_URL: redis.url,
      CONDUIT_OPERATORS: `${OPERATOR.name}:admin:${OPERATOR.password}`,
      CONDUIT_READY_CHECK_TIMEOUT_MS: String(BOUND_MS),
      CONDUIT_HEALTH_READ_TIMEOUT_MS: String(BOUND_MS),
      CONDUIT_WEBHOOK_ENQUEUE_TIMEOUT_MS: '500',
      CONDUIT_WEBHOOK_STORE_TIMEOUT_MS: '500',
    },
  });
  seed = await s.sandboxGrant('fathom', EMAIL);
  await s.sandboxPost('/_sandbox/fathom/meetings', { grantId: seed.grantId, count: 1 });
  connectionId = (await s.connect('fathom', 'owner-outage', { email: EMAIL })).message!.connectionId!;
}, 60_000);

afterAll(async () => {
  try {
    // The stack's teardown talks to Redis: give it one.
    if (redis) {
      redis.resume();
      if (!redis.alive()) await redis.restart();
    }
    // Bounded, so a teardown that hangs still ends in stopping the private Redis.
    await Promise.race([s?.close(), new Promise((r) => setTimeout(r, 30_000))]);
  } finally {
    await redis?.stop();
  }
}, 60_000);

const auth = {
  authorization: `Basic ${Buffer.from(`${OPERATOR.name}:${OPERATOR.password}`).toString('base64')}`,
};

async function timed<T>(work: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const started = Date.now();
  const value = await work();
  return { value, ms: Date.now() - started };
}

/** A Meeting delivery as Fathom would send it, for a new meeting of the account in the sandbox. */
async function meetingBody(): Promise<{ body: string; recordingId: number }> {
  const { recordingIds } = await s.sandboxPost<{ recordingIds: number[] }>('/_sandbox/fathom/meetings', {
    grantId: seed.grantId,
    count: 1,
  });
  const recordingId = recordingIds[0]!;
  const res = await fetch(`${s.sandbox.url}${PROVIDERS.fathom.sandboxPaths.apiBaseUrl}/meetings?limit=100`, {
    headers: { authorization: `Bearer ${seed.accessToken}` },
  });
  const { items } = (await res.json()) as { items: Array<Record<string, unknown>> };
  const meeting = items.find((m) => m.recording_id === recordingId);
  if (!meeting) throw new Error(`the sandbox does not list recording ${recordingId}`);
  return { body: JSON.stringify(meeting), recordingId };
}

function signed(body: string, id = `msg_${randomUUID()}`) {
  return fetch(`${s.publicUrl}/v1/webhooks/fathom`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...webhookHeaders(s.webhookSecret!, id, Math.floor(Date.now() / 1000), body),
    },
    body,
  });
}

async function outageChecks(how: string) {
  const ready = await timed(() => fetch(`${s.publicUrl}/readyz`));
  expect(ready.ms, `readyz while Redis is ${how}`).toBeLessThan(2_000);
  const problem = expectProblem(await answer(ready.value), 503);
  const checks = problem.checks as Record<string, { ok: boolean }>;
  expect(checks.redis!.ok).toBe(false);
  expect(checks.postgres!.ok).toBe(true);

  const json = await timed(() => fetch(`${s.publicUrl}/admin/health.json`, { headers: auth }));
  expect(json.value.status).toBe(200);
  expect(json.ms, `health.json while Redis is ${how}`).toBeLessThan(BOUND_MS + 1_000);
  const snapshot = (await json.value.json()) as { datastores: Record<string, { ok: boolean }> };
  expect(snapshot.datastores).toMatchObject({ redis: { ok: false }, postgres: { ok: true } });

  const page = await timed(() => fetch(`${s.publicUrl}/admin/health`, { headers: auth }));
  expect(page.value.status).toBe(200);
  expect(page.ms).toBeLessThan(BOUND_MS + 1_000);
  expect(await page.value.text()).toContain('data-down="redis"');
}

describe('a Redis outage is answered, not waited out', () => {
  it('with Redis up, /readyz is 200', async () => {
    expect((await fetch(`${s.publicUrl}/readyz`)).status).toBe(200);
  });

  it('Redis hung (SIGSTOP): /readyz 503 within 2 s, the health page shows Redis down, a webhook is stored and answered 202', async () => {
    const { body } = await meetingBody();
    redis.hang();
    try {
      await outageChecks('hung');
      const id = `msg_${randomUUID()}`;
      const hook = await timed(() => signed(body, id));
      expect(hook.value.status).toBe(202);
      expect(hook.ms).toBeLessThan(2_000);
      expect(await s.ctx.db.webhookDelivery.count({ where: { deliveryId: id, status: 'received' } })).toBe(1);
    } finally {
      redis.resume();
    }
  });

  it('Redis down (killed): the same answers; once it is back, the inbox sweep queues what never reached a queue and it is processed', async () => {
    const { body, recordingId } = await meetingBody();
    await redis.kill();
    const id = `msg_${randomUUID()}`;
    await outageChecks('down');
    const hook = await timed(() => signed(body, id));
    expect(hook.value.status).toBe(202);
    expect(hook.ms).toBeLessThan(2_000);
    const stored = await s.ctx.db.webhookDelivery.findFirstOrThrow({ where: { deliveryId: id } });
    expect(stored).toMatchObject({ status: 'received', connectionId });

    await redis.restart(); // empty: whatever was queued before is gone
    await waitFor(
      async () => (await fetch(`${s.publicUrl}/readyz`)).status === 200,
      15_000,
      'ready again',
      50,
    );
    const sweep = await runInboxSweep(
      { deliveries: new WebhookDeliveryRepository(s.ctx.db), queues: s.ctx.queues },
      { requeueAfterMs: 0, batchSize: 100 },
    );
    expect(sweep.deliveriesQueued).toBeGreaterThanOrEqual(1);
    const jobs = await s.ctx.queues.get(QUEUE_NAMES.transcripts).getJobs(['waiting', 'delayed', 'active']);
    expect(jobs.map((j) => j.data.recordingId)).toContain(recordingId);
    s.startWorkers();
    await waitFor(
      async () =>
        (await s.ctx.db.webhookDelivery.findUniqueOrThrow({ where: { id: stored.id } })).status ===
        'processed',
      20_000,
      'the delivery processed',
      50,
    );
  });
});

describe('a Postgres that does not store the delivery in time', () => {
  it('is a 503 problem+json (nothing acknowledged); sent again once Postgres answers, it is stored once', async () => {
    const { body } = await meetingBody();
    const id = `msg_${randomUUID()}`;
    const blocker = new pg.Client({ connectionString: s.config.database.url });
    await blocker.connect();
    try {
      await blocker.query('BEGIN');
      await blocker.query('LOCK TABLE "WebhookDelivery" IN ACCESS EXCLUSIVE MODE');
      const hook = await timed(async () => answer(await signed(body, id)));
      expect(hook.ms).toBeLessThan(2_000);
      const p = expectProblem(hook.value, 503);
      expect(p.type).toMatch(/webhook-not-stored$/);
      await blocker.query('ROLLBACK');
    } finally {
      await blocker.end();
    }
    const again = await signed(body, id);
    expect([200, 202]).toContain(again.status);
    expect(await s.ctx.db.webhookDelivery.count({ where: { deliveryId: id } })).toBe(1);
  });
});
