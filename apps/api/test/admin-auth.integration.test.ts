import { Worker } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QUEUE_DESCRIPTIONS } from '@conduit/jobs';
import { ADMIN, VIEWER, basic, startTestApi, type TestApi } from './admin-harness.ts';

let api: TestApi;

beforeAll(async () => {
  api = await startTestApi('admin-auth');
});

afterAll(async () => {
  await api?.close();
});

const get = (path: string, headers: Record<string, string> = {}) =>
  fetch(api.base + path, { headers, redirect: 'manual' });
const put = (path: string, headers: Record<string, string> = {}) =>
  fetch(api.base + path, { method: 'PUT', headers, redirect: 'manual' });

/** Makes `n` jobs fail in the transcripts queue (one attempt each) and waits until they have. */
async function failJobs(n: number): Promise<string[]> {
  const queue = api.ctx.queues.get('transcripts');
  const before = (await queue.getJobCounts('failed')).failed ?? 0;
  const ids: string[] = [];
  for (let i = 0; i < n; i++)
    ids.push((await queue.add('fetch', { connectionId: `c-${i}`, recordingId: i }, { attempts: 1 })).id!);
  const worker = new Worker(
    'transcripts',
    async () => {
      throw new Error('receiver said 500');
    },
    { connection: api.ctx.redis.duplicate(), prefix: api.ctx.config.redis.queuePrefix },
  );
  try {
    const deadline = Date.now() + 10_000;
    while (((await queue.getJobCounts('failed')).failed ?? 0) < before + n) {
      if (Date.now() > deadline) throw new Error(`jobs did not fail within 10 s`);
      await new Promise((r) => setTimeout(r, 50));
    }
  } finally {
    await worker.close();
  }
  return ids;
}

describe('admin › operator sign-in', () => {
  it.each([
    '/admin/health',
    '/admin/health.json',
    '/admin/queues',
    '/admin/queues/api/queues',
    '/admin/queues/view/',
  ])('%s without credentials is 401 with a Basic challenge and a problem body', async (path) => {
    const res = await get(path);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Basic realm="conduit-operators"');
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({
      type: 'https://conduit.dev/problems/operator-auth-required',
      status: 401,
      instance: path,
    });
    expect(String(body.detail)).toContain('CONDUIT_OPERATORS');
  });

  it('a wrong password, an unknown name and a malformed header are all 401', async () => {
    for (const headers of [
      basic({ name: ADMIN.name, password: 'nope' }),
      basic({ name: 'mallory', password: ADMIN.password }),
      basic({ name: ADMIN.name, password: VIEWER.password }),
      { authorization: 'Basic !!!' },
      { authorization: `Bearer ${ADMIN.password}` },
    ]) {
      const res = await get('/admin/health.json', headers);
      expect(res.status).toBe(401);
      const text = await res.text();
      expect(text).not.toContain(ADMIN.password);
    }
  });

  it('both roles may read the health page and its JSON', async () => {
    for (const who of [ADMIN, VIEWER]) {
      const page = await get('/admin/health', basic(who));
      expect(page.status).toBe(200);
      expect(page.headers.get('content-type')).toMatch(/^text\/html/);
      expect(page.headers.get('content-security-policy')).toContain("default-src 'none'");
      expect(await page.text()).toContain(`signed in as ${who.name}`);
      expect((await get('/admin/health.json', basic(who))).status).toBe(200);
    }
  });
});

describe('admin › Bull Board', () => {
  it('lists every Conduit queue with its description', async () => {
    const res = await get('/admin/queues/api/queues', basic(ADMIN));
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      queues: Array<{ name: string; description?: string; readOnlyMode: boolean }>;
    };
    const names = api.ctx.queues.all().map((q) => q.name);
    expect(body.queues.map((q) => q.name).sort()).toEqual([...names].sort());
    for (const q of body.queues) {
      expect(q.description).toBe(QUEUE_DESCRIPTIONS[q.name]);
      expect(q.readOnlyMode).toBe(false);
    }
  });

  it('serves the board UI to an admin at /admin/queues', async () => {
    const res = await get('/admin/queues', basic(ADMIN));
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('/admin/queues/');
  });

  it('sends a viewer to the read-only board, whose queues are read-only', async () => {
    const res = await get('/admin/queues/queue/transcripts?status=failed', basic(VIEWER));
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/admin/queues/view/queue/transcripts?status=failed');
    const ui = await get('/admin/queues/view/', basic(VIEWER));
    expect(ui.status).toBe(200);
    const list = (await (await get('/admin/queues/view/api/queues', basic(VIEWER))).json()) as {
      queues: Array<{ readOnlyMode: boolean }>;
    };
    expect(list.queues.length).toBe(api.ctx.queues.all().length);
    expect(list.queues.every((q) => q.readOnlyMode)).toBe(true);
  });

  it('refuses a viewer every write with 403, on both boards, and leaves the jobs alone', async () => {
    await failJobs(1);
    const queue = api.ctx.queues.get('transcripts');
    const failed = (await queue.getJobCounts('failed')).failed;
    for (const path of [
      '/admin/queues/api/queues/transcripts/retry/failed',
      '/admin/queues/api/queues/transcripts/clean/failed',
      '/admin/queues/api/queues/transcripts/promote',
      '/admin/queues/view/api/queues/transcripts/retry/failed',
      '/admin/queues/api/queues/pause',
    ]) {
      const res = await put(path, basic(VIEWER));
      expect(res.status, path).toBe(403);
      expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(await res.json()).toMatchObject({
        type: 'https://conduit.dev/problems/operator-forbidden',
        status: 403,
      });
    }
    expect((await queue.getJobCounts('failed')).failed).toBe(failed);
    expect(await queue.isPaused()).toBe(false);
  });

  it('lets an admin retry failed jobs, clean them, and promote delayed ones', async () => {
    const queue = api.ctx.queues.get('transcripts');
    await failJobs(2);
    const retried = await put('/admin/queues/api/queues/transcripts/retry/failed', basic(ADMIN));
    expect(retried.status).toBe(200);
    const counts = await queue.getJobCounts('failed', 'wait');
    expect(counts.failed).toBe(0);
    expect(counts.wait).toBeGreaterThanOrEqual(2);
    await queue.drain();

    const [id] = await failJobs(1);
    const cleaned = await put(`/admin/queues/api/queues/transcripts/${id}/clean`, basic(ADMIN));
    expect(cleaned.status).toBe(204);
    expect(await queue.getJob(id!)).toBeUndefined();
    // The bulk clean keeps jobs younger than Bull Board's 5 s grace period, but must be allowed.
    expect((await put('/admin/queues/api/queues/transcripts/clean/failed', basic(ADMIN))).status).toBe(200);

    const delayed = await queue.add('fetch', { connectionId: 'later', recordingId: 0 }, { delay: 3_600_000 });
    const promoted = await put('/admin/queues/api/queues/transcripts/promote', basic(ADMIN));
    expect(promoted.status).toBe(200);
    expect(await delayed.getState()).toBe('waiting');
  });
});
