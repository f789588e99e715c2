// Batched refreshes (issue 14): one job carries the connections due together; their leases are
// taken in one statement, their token requests run in parallel, their answers are stored by
// grouped compare-and-set writes. Each connection still gets its own outcome, and one that
// cannot go on (locked, rate-limited, failing) holds up only itself. Real Postgres, Redis and the
// sandbox over HTTP.
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RefreshStore } from '@conduit/db';
import type { TokenEndpointOutcome } from '@conduit/core';
import {
  RefreshCommits,
  refreshConnections,
  refreshJobConnections,
  runRefreshSweep,
  type RefreshDeps,
} from '../src/index.ts';
import { createHarness, waitFor, type Harness } from './support/harness.ts';

let h: Harness;
const lockers: pg.Client[] = [];

beforeAll(async () => {
  h = await createHarness();
});

afterEach(async () => {
  for (const l of lockers.splice(0)) await l.end().catch(() => undefined);
  await fetch(`${h.sandbox.url}/_sandbox/faults`, { method: 'DELETE' });
});

afterAll(async () => {
  await h?.close();
});

/** The store, counting its grouped writes (each one statement). */
class CountingStore extends RefreshStore {
  writes: number[] = [];
  override storeRefreshed(entries: Parameters<RefreshStore['storeRefreshed']>[0]) {
    this.writes.push(entries.length);
    return super.storeRefreshed(entries);
  }
}

function withTokens(deps: RefreshDeps, wrap: (outcome: TokenEndpointOutcome, call: number) => Promise<void>) {
  let calls = 0;
  const tokens: RefreshDeps['tokens'] = {
    async refresh(provider, refreshToken, opts) {
      const call = ++calls;
      const outcome = await deps.tokens.refresh(provider, refreshToken, opts);
      await wrap(outcome, call);
      return outcome;
    },
  };
  return { tokens, calls: () => calls };
}

describe('refresh › batches', () => {
  it('refreshes a batch: every connection stored, one row each in the sandbox, leases all ended', async () => {
    const seeded = await h.seed('discord', 12, { expiresInMs: 30_000 });
    const ids = seeded.map((s) => s.connectionId);
    const results = await refreshConnections(h.deps, { provider: 'discord', connectionIds: ids, reason: 'sweep' });
    expect([...results.values()].map((r) => r.kind)).toEqual(ids.map(() => 'refreshed'));
    for (const { connectionId, grant } of seeded) {
      const row = await h.connections.findById(connectionId);
      expect(row).toMatchObject({ status: 'connected', leaseOwner: null, leaseUntil: null, version: 1 });
      const g = await h.sandboxGet<{ refreshToken: string; refreshes: number; reuses: number }>(
        `/_sandbox/grants/${grant.grantId}`,
      );
      expect(g).toMatchObject({ refreshes: 1, reuses: 0 });
      expect(h.vault.decrypt(row!.refreshTokenEnc!)).toBe(g.refreshToken);
    }
  });

  it('groups answers that arrive while a write is in flight into one statement', async () => {
    const seeded = await h.seed('spotify', 20, { expiresInMs: 30_000 });
    const store = new CountingStore(h.db);
    const group = new RefreshCommits(store, h.deps.logger, { retryMaxMs: 100 });
    const rows = await Promise.all(seeded.map((s) => h.connections.findById(s.connectionId)));
    const at = new Date();
    // All in one tick: the first goes alone, the other 19 wait for it and go together.
    const stored = await Promise.all(
      rows.map((r) =>
        group.store({
          conn: r!,
          tokens: { accessTokenEnc: h.vault.encrypt(`at-${r!.id}`), tokenExpiresAt: new Date(at.getTime() + 3_600_000) },
          at,
          leaseOwner: 'nobody',
        }),
      ),
    );
    expect(stored.every(Boolean)).toBe(true);
    expect(store.writes).toEqual([1, 19]);
    // A second write of the same versions misses every compare-and-set: nothing is overwritten.
    const again = await group.store({
      conn: rows[0]!,
      tokens: { accessTokenEnc: 'stale', tokenExpiresAt: at },
      at,
      leaseOwner: 'nobody',
    });
    expect(again).toBe(false);
    expect(h.vault.decrypt((await h.connections.findById(rows[0]!.id))!.accessTokenEnc!)).toBe(`at-${rows[0]!.id}`);
  });

  it('reads rows through the prepared statements exactly as Prisma does', async () => {
    const [s] = await h.seed('google', 1, { expiresInMs: 30_000 });
    await h.db.connection.update({
      where: { id: s!.connectionId },
      data: { scopes: ['a', 'b'], refreshTokenExpiresAt: new Date('2027-01-02T03:04:05.678Z'), tokenLifetimeSeconds: 3599 },
    });
    const viaPrisma = await h.connections.findById(s!.connectionId);
    const store = new RefreshStore(h.db);
    const { taken } = await store.takeLeases([s!.connectionId], 'owner-x', 10_000);
    const { leaseOwner, leaseUntil, ...viaPg } = taken[0]!.row;
    const { leaseOwner: _o, leaseUntil: _u, ...expected } = viaPrisma!;
    expect(viaPg).toEqual(expected);
    expect(leaseOwner).toBe('owner-x');
    expect(leaseUntil!.getTime()).toBeGreaterThan(Date.now() + 5_000);
    expect(leaseUntil!.getTime()).toBeLessThan(Date.now() + 15_000);
    await store.releaseLeases([s!.connectionId], 'owner-x');
  });

  it('one locked row is busy at once; the others of its batch refresh without waiting for it', async () => {
    const seeded = await h.seed('fathom', 5, { expiresInMs: 30_000 });
    const ids = seeded.map((s) => s.connectionId);
    const locker = new pg.Client({ connectionString: h.database.url });
    await locker.connect();
    lockers.push(locker);
    await locker.query('BEGIN');
    await locker.query('SELECT id FROM "Connection" WHERE id = $1 FOR UPDATE', [ids[0]]);
    const results = await refreshConnections(h.deps, { provider: 'fathom', connectionIds: ids, reason: 'sweep' });
    expect(results.get(ids[0]!)).toEqual({ kind: 'busy' });
    for (const id of ids.slice(1)) expect(results.get(id)?.kind).toBe('refreshed');
    const g = await h.sandboxGet<{ refreshes: number }>(`/_sandbox/grants/${seeded[0]!.grant.grantId}`);
    expect(g.refreshes).toBe(0);
    await locker.query('COMMIT');
  });

  it('a 429 in a batch holds back every request not yet sent; nothing more reaches the provider', async () => {
    const rows = await h.seed('spotify', 5, { expiresInMs: 30_000 });
    const ids = rows.map((s) => s.connectionId);
    const counted = withTokens(h.deps, async (_o, call) => {
      if (call === 2) {
        await h.sandboxPost('/_sandbox/faults', {
          provider: 'spotify',
          endpoint: 'token',
          rate429: 1,
          retryAfterSeconds: 30,
        });
      }
    });
    const deps: RefreshDeps = {
      ...h.deps,
      tokens: counted.tokens,
      settings: { ...h.deps.settings, batchParallelism: 1 },
    };
    const results = await refreshConnections(deps, { provider: 'spotify', connectionIds: ids, reason: 'sweep' });
    const kinds = ids.map((id) => results.get(id)?.kind);
    expect(kinds).toEqual(['refreshed', 'refreshed', 'rate_limited', 'gated', 'gated']);
    expect(counted.calls()).toBe(3);
    await h.deps.gate.open('spotify'); // reopen the lane for the next tests
  });

  it('the worker runs a sweep batch job and queues follow-ups for the connections that must wait', async () => {
    const seeded = await h.seed('discord', 6, { expiresInMs: 10_000 });
    const ids = seeded.map((s) => s.connectionId);
    // One of them is held by another process's lease: it is retried on its own later.
    await h.db.$executeRaw`
      UPDATE "Connection" SET "leaseOwner" = 'someone-else', "leaseUntil" = (now() AT TIME ZONE 'UTC') + interval '2 seconds'
      WHERE id = ${ids[0]}::uuid`;
    const report = await runRefreshSweep(
      { connections: h.connections, queues: h.queues },
      {
        bufferMs: h.settings.bufferMs,
        intervalMs: 60_000,
        batchSize: 100,
        requeueAfterMs: 120_000,
        jobBatchSize: 50,
        jobBatchWindowMs: 1_000,
      },
    );
    expect(report.enqueued).toBeGreaterThanOrEqual(6);
    const queued = await h.queues.refresh('discord').getJobs(['waiting', 'delayed', 'prioritized']);
    expect(queued).toHaveLength(1); // the six are due together: one job
    expect(refreshJobConnections(queued[0]!.data).sort()).toEqual([...ids].sort());
    h.startWorker('discord', { lockRetryDelayMs: 500 });
    await waitFor(
      async () => {
        const rows = await Promise.all(ids.map((id) => h.connections.findById(id)));
        return rows.every((r) => r?.lastRefreshAt) ? rows : null;
      },
      20_000,
      'every connection of the batch refreshed',
    );
    const done = await h.queues.refresh('discord').getJobs(['completed']);
    const single = done.find((j) => j.name === 'refresh');
    expect(single && refreshJobConnections(single.data)).toEqual([ids[0]]);
  });
});
