import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { Worker } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROVIDER_KEYS } from '@conduit/core';
import { killAllTracked, killTree, spawnTracked } from '@conduit/testing';
import { MEETINGS_RESOURCE, decodeCursor, enqueueSync, userLockName, type FathomApi } from '../src/index.ts';
import { startFathomStack, until, type FathomStack } from './support/fathom-stack.ts';

let h: FathomStack;
let worker: Worker;

beforeAll(async () => {
  // 25 meetings a page, so 250 meetings take 10 pages.
  h = await startFathomStack({ label: 'fathom-sync', sandbox: { pageSize: 25 } });
  worker = h.startSyncWorker();
});

afterAll(async () => {
  await killAllTracked();
  await h?.close();
});

const meetingsOf = (connectionId: string) =>
  h.ctx.db.meeting.findMany({ where: { connectionId }, select: { recordingId: true } });

const runsOf = (connectionId: string) =>
  h.ctx.db.syncRun.findMany({ where: { connectionId }, orderBy: { startedAt: 'asc' } });

async function cursorOf(connectionId: string) {
  const row = await h.ctx.db.syncState.findUnique({
    where: { connectionId_resource: { connectionId, resource: MEETINGS_RESOURCE } },
  });
  return decodeCursor(row?.cursor ?? null);
}

async function transcriptJobs(connectionId: string): Promise<number[]> {
  const jobs = await h.ctx.queues.get('transcripts').getJobs(['waiting', 'delayed']);
  return jobs.filter((j) => j.data.connectionId === connectionId).map((j) => j.data.recordingId as number);
}

describe('sync › meetings', () => {
  // Ten pages twice over real HTTP and Postgres: 2 s quiet, 15 s with a CPU hog on both cores.
  it('250 meetings over 10 pages are stored once each; a second sync stores nothing new; new ones are picked up', async () => {
    const c = await h.seedConnection('pages.user@acme.test', 250);
    const first = await h.sync(c.connectionId);
    expect(first).toMatchObject({ outcome: 'succeeded', pages: 10, itemsSeen: 250, itemsStored: 250 });
    const stored = (await meetingsOf(c.connectionId)).map((m) => Number(m.recordingId)).sort();
    expect(stored).toEqual([...c.recordingIds].sort());
    const [run] = await runsOf(c.connectionId);
    expect(run).toMatchObject({
      mode: 'incremental',
      outcome: 'succeeded',
      pages: 10,
      itemsSeen: 250,
      itemsStored: 250,
      error: null,
    });
    expect(run!.finishedAt!.getTime()).toBeGreaterThanOrEqual(run!.startedAt.getTime());
    const cursor = await cursorOf(c.connectionId);
    expect(cursor.pass).toBeNull();
    const newest = await h.ctx.db.meeting.findFirst({
      where: { connectionId: c.connectionId },
      orderBy: { providerCreatedAt: 'desc' },
    });
    expect(Date.parse(cursor.watermark!)).toBe(newest!.providerCreatedAt.getTime());
    // Every meeting without a transcript got one queued fetch.
    expect((await transcriptJobs(c.connectionId)).sort()).toEqual([...c.recordingIds].sort());
    const conn = await h.ctx.db.connection.findUniqueOrThrow({ where: { id: c.connectionId } });
    expect(conn.lastSyncAt).not.toBeNull();

    const second = await h.sync(c.connectionId);
    expect(second).toMatchObject({ outcome: 'succeeded', pages: 1, itemsStored: 0 });
    expect(await h.ctx.db.meeting.count({ where: { connectionId: c.connectionId } })).toBe(250);

    await h.sandboxPost('/_sandbox/fathom/recordings', { grantId: c.grant.grantId, count: 3 });
    expect(await h.sync(c.connectionId)).toMatchObject({ outcome: 'succeeded', itemsStored: 3 });
    expect(await h.ctx.db.meeting.count({ where: { connectionId: c.connectionId } })).toBe(253);
    expect((await transcriptJobs(c.connectionId)).length).toBe(253);
  }, 90_000);

  it('full mode ignores the cursor and re-reads everything, storing nothing twice', async () => {
    const c = await h.seedConnection('full.user@acme.test', 60);
    await h.sync(c.connectionId);
    const full = await h.sync(c.connectionId, { mode: 'full' });
    expect(full).toMatchObject({ outcome: 'succeeded', pages: 3, itemsSeen: 60, itemsStored: 0 });
    expect((await runsOf(c.connectionId)).map((r) => r.mode)).toEqual(['incremental', 'full']);
  });

  it('a limit stops the sync early (partial) and the next sync continues where it stopped', async () => {
    const c = await h.seedConnection('limit.user@acme.test', 100);
    const partial = await h.sync(c.connectionId, { limit: 30 });
    expect(partial).toMatchObject({ outcome: 'partial', pages: 2, itemsSeen: 50, itemsStored: 50 });
    expect((await cursorOf(c.connectionId)).pass).not.toBeNull();
    const rest = await h.sync(c.connectionId);
    expect(rest).toMatchObject({ outcome: 'succeeded', pages: 2, itemsStored: 50 });
    expect(await h.ctx.db.meeting.count({ where: { connectionId: c.connectionId } })).toBe(100);
    expect((await cursorOf(c.connectionId)).pass).toBeNull();
  });

  it('a sync killed (SIGKILL) mid-page resumes from the stored cursor, without duplicates or gaps', async () => {
    const c = await h.seedConnection('killed.user@acme.test', 250);
    // Slow every API call a little, so the kill lands mid-sync.
    await h.sandboxPost('/_sandbox/faults', { provider: 'fathom', endpoint: 'api', latencyMs: 120 });
    const child = startChild();
    try {
      await until(async () => child.ready, 'the child worker', 20_000);
      const { jobId } = await enqueueSync(h.ctx.queues, 'fathom', {
        connectionId: c.connectionId,
        mode: 'incremental',
        reason: 'manual',
      });
      await until(
        async () => (await h.ctx.db.meeting.count({ where: { connectionId: c.connectionId } })) >= 50,
        'two pages stored',
      );
      await h.sandboxPost('/_sandbox/holds', { provider: 'fathom', endpoint: 'api' });
      await until(async () => {
        const { holds } = await h.sandboxGet<{ holds: Array<{ parked: number }> }>('/_sandbox/holds');
        return holds.some((x) => x.parked > 0);
      }, 'a page request parked at the sandbox');
      const storedBeforeKill = await h.ctx.db.meeting.count({ where: { connectionId: c.connectionId } });
      await killTree(child.process);
      expect(storedBeforeKill).toBeGreaterThanOrEqual(50);
      expect(storedBeforeKill).toBeLessThan(250);
      expect((await cursorOf(c.connectionId)).pass).not.toBeNull();

      await h.sandboxPost('/_sandbox/holds/release', {});
      await fetch(`${h.sandbox.url}/_sandbox/faults`, { method: 'DELETE' });
      // This process's worker finds the job stalled (its lock lapsed with the child) and resumes it.
      const report = await h.finished(jobId, 20_000);
      expect(report.outcome).toBe('succeeded');
      const stored = (await meetingsOf(c.connectionId)).map((m) => Number(m.recordingId)).sort();
      expect(stored).toEqual([...c.recordingIds].sort());
      const runs = await runsOf(c.connectionId);
      // The same run continued: it saw the interrupted page twice but stored each meeting once.
      expect(runs).toHaveLength(1);
      expect(runs[0]).toMatchObject({ outcome: 'succeeded', itemsStored: 250 });
      expect((await cursorOf(c.connectionId)).pass).toBeNull();
    } finally {
      await killTree(child.process);
      await h.sandboxPost('/_sandbox/holds/release', {});
      await fetch(`${h.sandbox.url}/_sandbox/faults`, { method: 'DELETE' });
    }
  });
});

describe('sync › webhook deliveries', () => {
  it('settles deliveries whose transcript is already stored (their fetch died before marking them), and only those', async () => {
    const c = await h.seedConnection('settle.user@acme.test', 3);
    await h.sync(c.connectionId);
    const [done, open] = c.recordingIds;
    const meeting = await h.ctx.db.meeting.findFirstOrThrow({
      where: { connectionId: c.connectionId, recordingId: BigInt(done!) },
    });
    // What a transcript job leaves when its worker is SIGKILLed between the two writes.
    await h.ctx.db.transcript.create({ data: { meetingId: meeting.id, segments: [] } });
    const delivery = (recordingId: number, status: 'received' | 'failed') =>
      h.ctx.db.webhookDelivery.create({
        data: {
          provider: 'fathom',
          deliveryId: `msg_settle_${recordingId}_${status}`,
          sentAt: new Date(),
          payload: { recording_id: recordingId },
          connectionId: c.connectionId,
          status,
        },
      });
    const stranded = await delivery(done!, 'received');
    const gaveUp = await delivery(done!, 'failed');
    const waiting = await delivery(open!, 'received');

    expect(await h.sync(c.connectionId)).toMatchObject({ outcome: 'succeeded' });
    const status = async (id: string) =>
      (await h.ctx.db.webhookDelivery.findUniqueOrThrow({ where: { id } })).status;
    expect(await status(stranded.id)).toBe('processed');
    expect(await status(gaveUp.id)).toBe('processed');
    // No transcript yet: its fetch is queued and the delivery keeps waiting for it.
    expect(await status(waiting.id)).toBe('received');
    expect(await transcriptJobs(c.connectionId)).toContain(open);
  });
});

describe('sync › access tokens', () => {
  it('a 401 gets one forced refresh and one retry, and the sync goes on', async () => {
    const c = await h.seedConnection('stale.token@acme.test', 5);
    // A token the provider no longer honours, though Conduit believes it valid for an hour.
    await h.ctx.db.connection.update({
      where: { id: c.connectionId },
      data: {
        accessTokenEnc: h.ctx.vault.encrypt('revoked-elsewhere'),
        tokenExpiresAt: new Date(Date.now() + 3_600_000),
      },
    });
    expect(await h.sync(c.connectionId)).toMatchObject({ outcome: 'succeeded', itemsStored: 5 });
    const conn = await h.ctx.db.connection.findUniqueOrThrow({ where: { id: c.connectionId } });
    const grant = await h.sandboxGet<{ accessToken: string; refreshToken: string; refreshes: number }>(
      `/_sandbox/grants/${c.grant.grantId}`,
    );
    expect(grant.refreshes).toBe(1);
    expect(h.ctx.vault.decrypt(conn.accessTokenEnc!)).toBe(grant.accessToken);
    expect(h.ctx.vault.decrypt(conn.refreshTokenEnc!)).toBe(grant.refreshToken);
    expect(conn.status).toBe('connected');
  });

  it('a second 401 after the refresh means needs_reauth, with its event and a notification', async () => {
    const c = await h.seedConnection('refused.twice@acme.test', 0);
    let calls = 0;
    const refusing: FathomApi = {
      ...h.jobs.client,
      listMeetings: async () => {
        calls++;
        return {
          kind: 'unauthorized',
          detail: 'GET /meetings answered HTTP 401: The access token is invalid',
        };
      },
      getTranscript: h.jobs.client.getTranscript.bind(h.jobs.client),
      getSummary: h.jobs.client.getSummary.bind(h.jobs.client),
    };
    // Only a worker whose API refuses every token takes this job.
    await worker.close();
    const refusingWorker = h.startSyncWorker({ api: refusing });
    const report = await h.sync(c.connectionId);
    await refusingWorker.close();
    worker = h.startSyncWorker();
    expect(report).toMatchObject({ outcome: 'failed' });
    expect(report.detail).toMatch(/^needs_reauth: /);
    expect(calls).toBe(2);
    const conn = await h.ctx.db.connection.findUniqueOrThrow({ where: { id: c.connectionId } });
    expect(conn.status).toBe('needs_reauth');
    expect(conn.statusReason).toContain('provider API refused the access token (401');
    const grant = await h.sandboxGet<{ refreshes: number }>(`/_sandbox/grants/${c.grant.grantId}`);
    expect(grant.refreshes).toBe(1);
    const event = await h.ctx.db.connectionEvent.findFirstOrThrow({
      where: { connectionId: c.connectionId, to: 'needs_reauth' },
    });
    expect(event.from).toBe('connected');
    expect(
      await h.ctx.db.notification.count({
        where: { connectionId: c.connectionId, type: 'connection.needs_reauth' },
      }),
    ).toBe(1);
    const [run] = await runsOf(c.connectionId);
    expect(run).toMatchObject({ outcome: 'failed' });
    // A needs_reauth connection is not synced again.
    expect(await h.sync(c.connectionId)).toMatchObject({ outcome: 'skipped' });
  });
});

describe('sync › waits', () => {
  it('a 429 parks the job for the wait Fathom gave (RateLimit-Reset), without an attempt, never early', async () => {
    const c = await h.seedConnection('busy.account@acme.test', 30);
    await h.sandboxPost('/_sandbox/faults', {
      provider: 'fathom',
      endpoint: 'api',
      rate429: 1,
      retryAfterSeconds: 1,
    });
    const { jobId } = await enqueueSync(h.ctx.queues, 'fathom', {
      connectionId: c.connectionId,
      mode: 'incremental',
      reason: 'manual',
    });
    const toldAt = Date.now();
    await until(
      async () => (await (await h.syncQueue.getJob(jobId))?.getState()) === 'delayed',
      'the job to wait',
    );
    await fetch(`${h.sandbox.url}/_sandbox/faults`, { method: 'DELETE' });
    const report = await h.finished(jobId);
    expect(report).toMatchObject({ outcome: 'succeeded', itemsStored: 30 });
    expect(Date.now() - toldAt).toBeGreaterThanOrEqual(1_000);
    // Waiting did not count: the one attempt made is the one that completed.
    const job = await h.syncQueue.getJob(jobId);
    expect(job!.attemptsMade).toBe(1);
    expect(job!.attemptsStarted).toBeGreaterThan(1);
    expect(await runsOf(c.connectionId)).toHaveLength(1);
    const report429 = await h.sandboxGet<{
      providers: { fathom: { counts: { earlyRequests: number }; traffic: { rateLimited: number } } };
    }>('/_sandbox/report');
    expect(report429.providers.fathom.traffic.rateLimited).toBeGreaterThanOrEqual(1);
    expect(report429.providers.fathom.counts.earlyRequests).toBe(0);
  });

  it('one sync per user at a time: a second waits for the lock without using an attempt', async () => {
    const c = await h.seedConnection('locked.user@acme.test', 10);
    const held = await h.refresh.locks.acquire(userLockName(c.ownerId), 30_000);
    const { jobId } = await enqueueSync(h.ctx.queues, 'fathom', {
      connectionId: c.connectionId,
      mode: 'incremental',
      reason: 'manual',
    });
    await until(
      async () => (await (await h.syncQueue.getJob(jobId))?.getState()) === 'delayed',
      'the job to wait',
    );
    expect(await h.ctx.db.syncRun.count({ where: { connectionId: c.connectionId } })).toBe(0);
    await h.refresh.locks.release(held!);
    expect(await h.finished(jobId)).toMatchObject({ outcome: 'succeeded', itemsStored: 10 });
    const job = await h.syncQueue.getJob(jobId);
    expect(job!.attemptsMade).toBe(1);
    expect(job!.attemptsStarted).toBeGreaterThan(1);
  });
});

describe('sync › the sandbox saw nothing wrong', () => {
  it('no anomaly attributable to Conduit', async () => {
    const report = await h.sandboxGet<{ providers: Record<string, { counts: Record<string, number> }> }>(
      '/_sandbox/report',
    );
    for (const provider of PROVIDER_KEYS) {
      for (const kind of [
        'earlyRequests',
        'expiredTokenCalls',
        'reusedRefreshTokens',
        'concurrentRefreshes',
      ]) {
        expect(report.providers[provider]!.counts[kind], `${provider} ${kind}`).toBe(0);
      }
    }
  });
});

function startChild(): { process: ChildProcess; ready: boolean } {
  const script = join(import.meta.dirname, 'support/sync-child.ts');
  const proc = spawnTracked(process.execPath, ['--import', 'tsx', script], {
    env: { ...process.env, ...h.env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const child = { process: proc, ready: false };
  proc.stdout!.on('data', (chunk: Buffer) => {
    if (chunk.toString().includes('ready')) child.ready = true;
  });
  return child;
}
