// The pure parts of batched refreshes: how the sweep groups due connections into jobs, and which
// connections of a finished batch go back to the lane, how.
import { describe, expect, it } from 'vitest';
import { followUpJobs, planRefreshBatches, type RefreshResult } from '../src/index.ts';

const due = (id: string, delayMs: number, provider: 'spotify' | 'discord' = 'spotify') => ({
  provider,
  connectionId: id,
  reason: 'sweep' as const,
  delayMs,
});

describe('planRefreshBatches', () => {
  it('groups by lane, in due order, at most batchSize per job, within the window of its first', () => {
    const plan = planRefreshBatches(
      [due('c', 900), due('a', 0), due('b', 400), due('d', 1_200), due('e', 1_300), due('x', 0, 'discord')],
      { batchSize: 3, windowMs: 1_000 },
    );
    expect(plan.map((lane) => lane.map((b) => [b.ids, b.delayMs]))).toEqual([
      [
        [['a', 'b', 'c'], 900],
        [['d', 'e'], 1_300],
      ],
      [[['x'], 0]],
    ]);
  });

  it('runs each job when its last connection is due, never before any of them', () => {
    const jobs = Array.from({ length: 40 }, (_, i) => due(`c${i}`, i * 137));
    for (const batch of planRefreshBatches(jobs, { batchSize: 7, windowMs: 500 }).flat()) {
      for (const id of batch.ids) expect(batch.delayMs).toBeGreaterThanOrEqual(jobs.find((j) => j.connectionId === id)!.delayMs);
      expect(batch.delayMs - batch.firstMs).toBeLessThanOrEqual(500);
      expect(batch.ids.length).toBeLessThanOrEqual(7);
    }
  });

  it('batchSize 1 is a job per connection', () => {
    const plan = planRefreshBatches([due('a', 0), due('b', 0)], { batchSize: 1, windowMs: 1_000 });
    expect(plan.flat().map((b) => b.ids)).toEqual([['a'], ['b']]);
  });
});

describe('followUpJobs', () => {
  it('requeues only what must be tried again, each the way a single job would wait', () => {
    const results = new Map<string, RefreshResult>([
      ['done', { kind: 'refreshed', accessTokenExpiresAt: null, commitMs: 3 }],
      ['fresh', { kind: 'fresh' }],
      ['busy', { kind: 'busy' }],
      ['retry', { kind: 'retry', delayMs: 2_000, attempt: 2 }],
      ['failed', { kind: 'failed', error: new Error('boom') }],
      ['limited', { kind: 'rate_limited', delayMs: 5_000 }],
      ['held', { kind: 'gated', delayMs: 4_000 }],
      ['gone', { kind: 'marked', status: 'needs_reauth', reason: 'invalid_grant' }],
    ]);
    const jobs = followUpJobs(results, { connectionIds: [...results.keys()], reason: 'sweep' }, 750);
    expect(jobs).toEqual([
      { name: 'refresh', data: { connectionId: 'busy', reason: 'sweep' }, opts: { delay: 750, deduplication: { id: 'refresh:busy' } } },
      {
        name: 'refresh',
        data: { connectionId: 'retry', reason: 'sweep', attempt: 2 },
        opts: { delay: 2_000, deduplication: { id: 'refresh:retry' } },
      },
      { name: 'refresh', data: { connectionId: 'failed', reason: 'sweep' }, opts: { delay: 1_000, deduplication: { id: 'refresh:failed' } } },
      { name: 'refresh-batch', data: { connectionIds: ['limited', 'held'], reason: 'sweep' }, opts: { delay: 5_000 } },
    ]);
  });
});
