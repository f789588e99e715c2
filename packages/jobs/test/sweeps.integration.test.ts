import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { refreshJobConnections, runLapseSweep, runRefreshSweep } from '../src/index.ts';
import { createHarness, type Harness } from './support/harness.ts';

let h: Harness;

beforeAll(async () => {
  h = await createHarness();
});

afterAll(async () => {
  await h?.close();
});

const MIN = 60_000;
const settings = {
  bufferMs: 5 * MIN,
  intervalMs: MIN,
  batchSize: 3,
  requeueAfterMs: 10 * MIN,
  jobBatchSize: 2,
  jobBatchWindowMs: 1_000,
};

async function waitingIds(provider: 'spotify' | 'google' | 'discord' | 'fathom') {
  const jobs = await h.queues.refresh(provider).getJobs(['waiting', 'delayed', 'prioritized']);
  return jobs.flatMap((j) => refreshJobConnections(j.data)).sort();
}

describe('sweeps › refresh sweep', () => {
  it('enqueues exactly the connections due within buffer + one interval, in keyset pages, once each', async () => {
    const now = new Date();
    const at = (ms: number) => new Date(now.getTime() + ms);
    const mk = (
      ownerId: string,
      status: 'connected' | 'token_expired' | 'needs_reauth',
      tokenExpiresAt: Date | null,
      refreshNotBefore?: Date,
    ) =>
      h.db.connection.create({
        data: {
          ownerId,
          provider: 'spotify',
          status,
          tokenExpiresAt,
          refreshTokenEnc: 'x',
          accessTokenEnc: 'x',
          ...(refreshNotBefore && { refreshNotBefore }),
        },
        select: { id: true },
      });
    const due = await Promise.all([
      ...Array.from({ length: 7 }, (_, i) => mk(`due-${i}`, 'connected', at(i * 30_000 - 60_000))),
      mk('lapsed-retrying', 'token_expired', at(-10 * MIN)),
    ]);
    await mk('later', 'connected', at(7 * MIN));
    await mk('never', 'connected', null);
    await mk('reauth', 'needs_reauth', at(-MIN));
    await mk('cooling', 'connected', at(MIN), at(10 * MIN));

    const report = await runRefreshSweep({ connections: h.connections, queues: h.queues }, settings, now);
    expect(report).toMatchObject({ selected: 9, enqueued: 8, coolingDown: 1 });
    expect(report.batches).toBeGreaterThanOrEqual(4);
    expect(await waitingIds('spotify')).toEqual(due.map((d) => d.id).sort());
    // Connections due together share a job, never more than jobBatchSize of them.
    const jobs = await h.queues.refresh('spotify').getJobs(['waiting', 'delayed', 'prioritized']);
    expect(jobs).toHaveLength(report.jobs);
    expect(report.jobs).toBeLessThan(report.enqueued);
    for (const j of jobs) expect(refreshJobConnections(j.data).length).toBeLessThanOrEqual(2);

    // A second sweep (or a second scheduler) while the jobs are pending claims and adds nothing.
    const again = await runRefreshSweep({ connections: h.connections, queues: h.queues }, settings, now);
    expect(again).toMatchObject({ enqueued: 0, alreadyQueued: 8 });
    expect(await waitingIds('spotify')).toHaveLength(8);

    // Jobs lost (a Redis that kept nothing): after the requeue interval, the sweep queues them again.
    await h.queues.refresh('spotify').obliterate({ force: true });
    const later = new Date(now.getTime() + 11 * MIN);
    const requeued = await runRefreshSweep(
      { connections: h.connections, queues: h.queues },
      { ...settings, bufferMs: 20 * MIN },
      later,
    );
    expect(requeued.enqueued).toBeGreaterThanOrEqual(8);
    expect(await waitingIds('spotify')).toEqual(expect.arrayContaining(due.map((d) => d.id)));
    await h.queues.refresh('spotify').obliterate({ force: true });
  });

  // Inserting and planning over 100,000 rows: 19 s with a CPU hog on both cores, close to the default 30 s.
  it('selects one batch by an index range scan whose cost follows the batch, not the table (100,000 rows)', async () => {
    await h.db.$executeRawUnsafe(`
      INSERT INTO "Connection" (id, "ownerId", provider, status, "tokenExpiresAt", scopes, "updatedAt")
      SELECT gen_random_uuid(), 'bulk-' || g, 'google',
             (CASE WHEN g % 10 = 0 THEN 'needs_reauth' ELSE 'connected' END)::"ConnectionStatus",
             now() + (g % 100000) * interval '1 minute', '{}', now()
      FROM generate_series(1, 100000) g`);
    await h.db.$executeRawUnsafe('ANALYZE "Connection"');
    const plan = JSON.stringify(
      await h.connections.explainDueForRefresh({
        status: 'connected',
        dueBefore: new Date(Date.now() + 6 * MIN),
        limit: 1000,
      }),
    );
    expect(plan).toContain('Index Scan');
    expect(plan).toContain('Connection_status_tokenExpiresAt_id_idx');
    expect(plan).not.toContain('Seq Scan');
    await h.db.$executeRawUnsafe(`DELETE FROM "Connection" WHERE "ownerId" LIKE 'bulk-%'`);
  }, 120_000);
});

describe('sweeps › refresh claims', () => {
  const due = (ownerId: string, provider: 'google' | 'discord', now: Date) =>
    h.db.connection.create({
      data: {
        ownerId,
        provider,
        tokenExpiresAt: new Date(now.getTime() + 2 * MIN),
        refreshTokenEnc: 'x',
        accessTokenEnc: 'x',
      },
      select: { id: true },
    });

  it('two schedulers sweeping at once queue each due connection once', async () => {
    await h.db.$executeRawUnsafe('TRUNCATE "Connection" CASCADE');
    const now = new Date();
    const rows = await Promise.all(Array.from({ length: 12 }, (_, i) => due(`race-${i}`, 'google', now)));
    const deps = { connections: h.connections, queues: h.queues };
    const [a, b] = await Promise.all([runRefreshSweep(deps, settings, now), runRefreshSweep(deps, settings, now)]);
    expect(a.enqueued + b.enqueued).toBe(12);
    expect(a.enqueued).toBeGreaterThan(0);
    expect(a.alreadyQueued + b.alreadyQueued).toBe(12);
    expect(await waitingIds('google')).toEqual(rows.map((r) => r.id).sort());
    await h.queues.refresh('google').obliterate({ force: true });
  });

  it('claims a page larger than one script call (5,000 connections in one page)', async () => {
    await h.db.$executeRawUnsafe('TRUNCATE "Connection" CASCADE');
    await h.redis.del(h.queues.refreshClaimsKey('google'));
    const now = new Date();
    await h.db.$executeRawUnsafe(`
      INSERT INTO "Connection" (id, "ownerId", provider, status, "tokenExpiresAt", "refreshTokenEnc", scopes, "updatedAt")
      SELECT gen_random_uuid(), 'page-' || g, 'google', 'connected', now() + interval '2 minutes', 'x', '{}', now()
      FROM generate_series(1, 5000) g`);
    const deps = { connections: h.connections, queues: h.queues };
    const big = { ...settings, batchSize: 5_000, jobBatchSize: 50 };
    expect(await runRefreshSweep(deps, big, now)).toMatchObject({ enqueued: 5000, batches: 1 });
    expect(await runRefreshSweep(deps, big, now)).toMatchObject({ enqueued: 0, alreadyQueued: 5000 });
    expect(await h.redis.zcard(h.queues.refreshClaimsKey('google'))).toBe(5000);
    await h.queues.refresh('google').obliterate({ force: true });
    await h.redis.del(h.queues.refreshClaimsKey('google'));
  }, 60_000);

  it('claims in Redis beside the lane and writes no connection row', async () => {
    await h.db.$executeRawUnsafe('TRUNCATE "Connection" CASCADE');
    const now = new Date();
    const row = await due('claim-0', 'discord', now);
    // xmin: the transaction that wrote the row's current version; any UPDATE changes it
    const xmin = async () =>
      (await h.db.$queryRaw<[{ xmin: string }]>`SELECT xmin::text FROM "Connection" WHERE id = ${row.id}::uuid`)[0]
        .xmin;
    const before = await xmin();
    const report = await runRefreshSweep({ connections: h.connections, queues: h.queues }, settings, now);
    expect(report).toMatchObject({ enqueued: 1, alreadyQueued: 0 });
    expect(Number(await h.redis.zscore(h.queues.refreshClaimsKey('discord'), row.id))).toBe(now.getTime());
    expect(await xmin()).toBe(before);
    // the set expires by itself once no sweep claims on the lane
    expect(await h.redis.pttl(h.queues.refreshClaimsKey('discord'))).toBeGreaterThan(settings.requeueAfterMs);
    await h.queues.refresh('discord').obliterate({ force: true });
  });

  it('a connection refreshed since its claim is queued again at once, before the requeue interval', async () => {
    await h.db.$executeRawUnsafe('TRUNCATE "Connection" CASCADE');
    const now = new Date();
    const row = await due('short-lived-0', 'discord', now);
    const deps = { connections: h.connections, queues: h.queues };
    expect(await runRefreshSweep(deps, settings, now)).toMatchObject({ enqueued: 1 });
    const soon = new Date(now.getTime() + 30_000);
    expect(await runRefreshSweep(deps, settings, soon)).toMatchObject({ enqueued: 0, alreadyQueued: 1 });
    // refreshed after the claim, and due again already (a token shorter-lived than the buffer)
    await h.db.connection.update({
      where: { id: row.id },
      data: { lastRefreshAt: new Date(now.getTime() + 10_000), tokenExpiresAt: new Date(now.getTime() + 3 * MIN) },
    });
    expect(await runRefreshSweep(deps, settings, soon)).toMatchObject({ enqueued: 1, alreadyQueued: 0 });
    // and claims older than the requeue interval are gone from the set
    await runRefreshSweep(deps, settings, new Date(soon.getTime() + settings.requeueAfterMs + 1));
    expect(await h.redis.zcard(h.queues.refreshClaimsKey('discord'))).toBe(1);
    await h.queues.refresh('discord').obliterate({ force: true });
  });
});

describe('sweeps › lapsing refresh tokens', () => {
  it('exercises tokens whose life a refresh extends, and warns once for those it cannot', async () => {
    const now = new Date();
    const soon = new Date(now.getTime() + 3 * 86_400_000);
    const google = await h.db.connection.create({
      data: {
        ownerId: 'g',
        provider: 'google',
        refreshTokenExpiresAt: soon,
        tokenExpiresAt: new Date(now.getTime() + 50 * MIN),
      },
    });
    const spotify = await h.db.connection.create({
      data: {
        ownerId: 's',
        provider: 'spotify',
        refreshTokenExpiresAt: soon,
        tokenExpiresAt: new Date(now.getTime() + 50 * MIN),
      },
    });
    await h.db.connection.create({
      data: {
        ownerId: 'far',
        provider: 'spotify',
        refreshTokenExpiresAt: new Date(now.getTime() + 30 * 86_400_000),
      },
    });
    const deps = { connections: h.connections, queues: h.queues };
    const first = await runLapseSweep(deps, { windowMs: 7 * 86_400_000, batchSize: 10 }, now);
    const second = await runLapseSweep(deps, { windowMs: 7 * 86_400_000, batchSize: 10 }, now);
    expect(first).toEqual({ exercised: 1, warned: 1 });
    expect(second).toEqual({ exercised: 1, warned: 1 });
    const [job] = await h.queues.refresh('google').getJobs(['waiting']);
    expect(job!.data).toEqual({ connectionId: google.id, reason: 'proactive' });
    const warnings = await h.db.notification.findMany({ where: { type: 'connection.refresh_expiring' } });
    expect(warnings.map((w) => w.connectionId)).toEqual([spotify.id]);
  });
});
