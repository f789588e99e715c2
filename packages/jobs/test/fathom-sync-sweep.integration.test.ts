import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSyncSweep, syncDelayMs } from '../src/index.ts';
import { startFathomStack, type FathomStack } from './support/fathom-stack.ts';

let h: FathomStack;

beforeAll(async () => {
  h = await startFathomStack({ label: 'sync-sweep' });
});

afterAll(async () => {
  await h?.close();
});

const HOUR = 3_600_000;

describe('sweeps › sync sweep', () => {
  it('queues one delayed sync per connected Fathom connection, at its own slot of the hour, in keyset batches', async () => {
    const seeded = await Promise.all(
      ['a', 'b', 'c', 'd', 'e'].map((x) => h.seedConnection(`sweep.${x}@acme.test`, 0)),
    );
    await h.ctx.db.connection.update({
      where: { id: seeded[3]!.connectionId },
      data: { status: 'needs_reauth' },
    });
    await h.ctx.db.connection.update({
      where: { id: seeded[4]!.connectionId },
      data: { status: 'disconnected' },
    });
    await h.ctx.db.connection.create({
      data: { ownerId: 'spotify-owner', provider: 'spotify', accessTokenEnc: 'x' },
    });
    const now = new Date();

    const report = await runSyncSweep(
      { db: h.ctx.db, queues: h.ctx.queues },
      { intervalMs: HOUR, batchSize: 2 },
      now,
    );
    expect(report).toEqual({ enqueued: 3, batches: 2 });
    const jobs = await h.syncQueue.getJobs(['delayed', 'waiting']);
    const expected = seeded
      .slice(0, 3)
      .map((c) => c.connectionId)
      .sort();
    expect(jobs.map((j) => j.data.connectionId).sort()).toEqual(expected);
    for (const job of jobs) {
      expect(job.data).toMatchObject({ mode: 'incremental', reason: 'sweep' });
      expect(job.opts.delay).toBe(syncDelayMs(job.data.connectionId, HOUR, now));
    }

    // A second sweep (another scheduler, or the next hour before these ran) adds nothing.
    await runSyncSweep({ db: h.ctx.db, queues: h.ctx.queues }, { intervalMs: HOUR, batchSize: 2 }, now);
    expect(await h.syncQueue.getJobs(['delayed', 'waiting'])).toHaveLength(3);
  });
});
