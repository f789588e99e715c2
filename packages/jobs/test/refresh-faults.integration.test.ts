// DESIGN rule 2 outside the calm lab: a rotated refresh token is never lost and never presented
// twice while Postgres crashes, a row stays locked past the lease, or the holder dies between the
// provider's answer and its commit. The datastore that misbehaves is a private cluster this file
// starts itself; the sandbox counts every presentation of a rotated-out token.
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { killTree, spawnTracked, startPrivatePostgres, type PrivatePostgres } from '@conduit/testing';
import { RefreshLease, refreshConnection, refreshJobConnections, runRefreshSweep } from '../src/index.ts';
import { createHarness, waitFor, type Harness } from './support/harness.ts';

const PG_PORT = 17010;
const LEASE_MS = 3_000;
let cluster: PrivatePostgres;
let h: Harness;
const children: ChildProcess[] = [];
const lockers: pg.Client[] = [];

beforeAll(async () => {
  cluster = await startPrivatePostgres({ port: PG_PORT });
  h = await createHarness({
    database: { name: 'conduit', url: cluster.url, drop: async () => undefined },
    db: { lockTimeoutMs: 300, statementTimeoutMs: 5_000 },
    settings: { lockTtlMs: LEASE_MS, commitBudgetMs: 500, commitRetryMaxMs: 200 },
  });
}, 120_000);

afterEach(async () => {
  for (const c of children.splice(0)) await killTree(c);
  for (const l of lockers.splice(0)) await l.end().catch(() => undefined);
  await h.sandboxPost('/_sandbox/holds/release', {}).catch(() => undefined);
});

afterAll(async () => {
  for (const c of children.splice(0)) await killTree(c);
  await h?.close();
  await cluster?.destroy();
});

interface GrantView {
  refreshToken: string | null;
  family: 'active' | 'revoked';
  refreshes: number;
  reuses: number;
}

const grant = (grantId: string) => h.sandboxGet<GrantView>(`/_sandbox/grants/${grantId}`);

const parked = async () =>
  (await h.sandboxGet<{ holds: Array<{ parked: number }> }>('/_sandbox/holds')).holds.some(
    (x) => x.parked > 0,
  );

/** A second session that holds row locks on connections until `end()` (what an operator's psql does). */
async function lockRows(ids: string[]): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: cluster.url });
  await client.connect();
  lockers.push(client);
  await client.query('BEGIN');
  await client.query('SELECT id FROM "Connection" WHERE id = ANY($1::uuid[]) FOR UPDATE', [ids]);
  return client;
}

async function expectStoredIsCurrent(connectionId: string, grantId: string): Promise<GrantView> {
  const row = (await h.connections.findById(connectionId))!;
  const g = await grant(grantId);
  expect(row.status).toBe('connected');
  expect(g.family).toBe('active');
  expect(g.reuses).toBe(0);
  expect(h.vault.decrypt(row.refreshTokenEnc!)).toBe(g.refreshToken);
  return g;
}

describe('refresh › Postgres crashes between the answer and the commit', () => {
  it.each(['immediate', 'fast'] as const)(
    'the live holder keeps retrying the commit and stores the rotated tokens once Postgres is back (pg_ctl -m %s)',
    async (mode) => {
      const [c] = await h.seed('discord', 1, { expiresInMs: 60_000 });
      await h.sandboxPost('/_sandbox/holds', { provider: 'discord', endpoint: 'token' });
      const refresh = refreshConnection(h.deps, { connectionId: c!.connectionId, reason: 'sweep' });
      await waitFor(parked, 10_000, 'the refresh to reach the held token endpoint');
      await cluster.stop(mode);
      await h.sandboxPost('/_sandbox/holds/release', {});
      // The provider has rotated; Postgres stays down longer than the lease.
      await waitFor(
        async () => (await h.redis.keys(`${h.prefix}:rescue:*`)).length === 1,
        5_000,
        'the rescue copy of the answer',
      );
      await sleep(LEASE_MS + 500);
      await cluster.start();
      expect((await refresh).kind).toBe('refreshed');
      await expectStoredIsCurrent(c!.connectionId, c!.grant.grantId);
      // The next refresh presents the stored (current) token: no reuse, the family lives on.
      expect(
        (await refreshConnection(h.deps, { connectionId: c!.connectionId, reason: 'manual' })).kind,
      ).toBe('refreshed');
      const after = await expectStoredIsCurrent(c!.connectionId, c!.grant.grantId);
      expect(after.refreshes).toBe(2);
    },
    60_000,
  );
});

describe('refresh › a row locked longer than the lease', () => {
  it('the holder waits out the lock and commits; a second refresh meanwhile presents nothing', async () => {
    const [c] = await h.seed('discord', 1, { expiresInMs: 60_000 });
    await h.sandboxPost('/_sandbox/holds', { provider: 'discord', endpoint: 'token' });
    const first = refreshConnection(h.deps, { connectionId: c!.connectionId, reason: 'manual' });
    await waitFor(parked, 10_000, 'the refresh to reach the held token endpoint');
    const locker = await lockRows([c!.connectionId]);
    await h.sandboxPost('/_sandbox/holds/release', {});
    // The first holder's commit (and its lease renewals) now wait on the row lock, past the lease.
    await sleep(LEASE_MS + 500);
    const second = await refreshConnection(h.deps, { connectionId: c!.connectionId, reason: 'manual' });
    expect(second.kind).toBe('busy');
    expect((await grant(c!.grant.grantId)).refreshes).toBe(1);
    await locker.query('COMMIT');
    expect(['refreshed', 'lost_race']).toContain((await first).kind);
    const g = await expectStoredIsCurrent(c!.connectionId, c!.grant.grantId);
    expect(g.refreshes).toBe(1);
  }, 60_000);

  it('a refresh that finds its row locked gives up after lock_timeout, before presenting anything', async () => {
    const [c] = await h.seed('discord', 1, { expiresInMs: 60_000 });
    const locker = await lockRows([c!.connectionId]);
    expect((await refreshConnection(h.deps, { connectionId: c!.connectionId, reason: 'manual' })).kind).toBe(
      'busy',
    );
    expect((await grant(c!.grant.grantId)).refreshes).toBe(0);
    await locker.query('COMMIT');
    expect((await refreshConnection(h.deps, { connectionId: c!.connectionId, reason: 'manual' })).kind).toBe(
      'refreshed',
    );
  }, 30_000);
});

describe('refresh › the holder dies after the answer, before the commit', () => {
  it('the next lease holder stores the rescued answer and presents nothing', async () => {
    const [c] = await h.seed('discord', 1, { expiresInMs: 60_000 });
    await h.sandboxPost('/_sandbox/holds', { provider: 'discord', endpoint: 'token' });
    const root = join(import.meta.dirname, '../../..');
    const worker = spawnTracked(
      join(root, 'node_modules/.bin/tsx'),
      [join(root, 'apps/worker/src/main.ts')],
      {
        stdio: 'ignore',
        env: {
          ...process.env,
          NODE_ENV: 'test',
          LOG_LEVEL: 'silent',
          DATABASE_URL: cluster.url,
          CONDUIT_QUEUE_PREFIX: h.prefix,
          CONDUIT_ENCRYPTION_KEYS: h.keySpec,
          CONDUIT_SANDBOX_URL: h.sandbox.url,
          CONDUIT_HTTP_CONNECT_TIMEOUT_MS: '500',
          CONDUIT_HTTP_HEADERS_TIMEOUT_MS: '1000',
          CONDUIT_HTTP_BODY_TIMEOUT_MS: '1000',
          CONDUIT_LOCK_TTL_MS: String(LEASE_MS),
          CONDUIT_REFRESH_COMMIT_BUDGET_MS: '400',
          CONDUIT_REFRESH_RESCUE_TIMEOUT_MS: '300',
          CONDUIT_WORKER_METRICS_PORT: '0',
        },
      },
    );
    children.push(worker);
    await h.queues.enqueueRefresh('discord', c!.connectionId, 'sweep');
    await waitFor(parked, 30_000, 'the worker to reach the held token endpoint');
    await cluster.stop('immediate');
    await h.sandboxPost('/_sandbox/holds/release', {});
    await waitFor(
      async () => (await h.redis.keys(`${h.prefix}:rescue:*`)).length === 1,
      5_000,
      'the worker to keep a rescue copy of the answer',
    );
    // The only other copy of the rotated token dies with the worker.
    await killTree(worker);
    await cluster.start();
    const rotated = await grant(c!.grant.grantId);
    expect(rotated.refreshes).toBe(1);
    // Another holder, once the dead one's lease lapses.
    const next = await waitFor(
      async () => {
        const r = await refreshConnection(h.deps, { connectionId: c!.connectionId, reason: 'manual' });
        return r.kind === 'busy' ? null : r;
      },
      LEASE_MS * 4,
      "the dead holder's lease to lapse",
    );
    expect(next.kind).toBe('rescued');
    const g = await expectStoredIsCurrent(c!.connectionId, c!.grant.grantId);
    expect(g.refreshes).toBe(1);
    expect(await h.redis.keys(`${h.prefix}:rescue:*`)).toEqual([]);
  }, 90_000);
});

describe('sweeps › one locked row', () => {
  it('holds nothing back: the sweep reads no row lock, so it queues every due connection at once, the locked one too', async () => {
    const seeded = await h.seed('spotify', 6, { expiresInMs: 30_000 });
    const ids = seeded.map((s) => s.connectionId);
    const locker = await lockRows([ids[0]!]);
    const settings = {
      bufferMs: 5 * 60_000,
      intervalMs: 60_000,
      batchSize: 100,
      requeueAfterMs: 120_000,
      jobBatchSize: 50,
      jobBatchWindowMs: 1_000,
    };
    const deps = { connections: h.connections, queues: h.queues };
    try {
      const report = await Promise.race([
        runRefreshSweep(deps, settings),
        sleep(10_000, 'waited on a row lock' as const, { ref: false }),
      ]);
      expect(report).toMatchObject({ enqueued: 6, alreadyQueued: 0 });
      const queued = (await h.queues.refresh('spotify').getJobs(['waiting', 'delayed', 'prioritized'])).flatMap(
        (j) => refreshJobConnections(j.data),
      );
      expect(queued.sort()).toEqual([...ids].sort());
    } finally {
      await locker.query('COMMIT');
      await h.queues.refresh('spotify').obliterate({ force: true });
    }
  }, 30_000);
});

describe('refresh › the lease as its holder sees it', () => {
  it('a holder that paused renews before presenting, and cannot once another process took the lease', async () => {
    const [c] = await h.seed('spotify', 1, { expiresInMs: 30_000 });
    const taken = await RefreshLease.take(h.deps.leases, c!.connectionId, LEASE_MS, h.deps.logger);
    if (taken.kind !== 'taken') throw new Error(`lease not taken: ${taken.kind}`);
    const { lease, previousOwner } = taken;
    expect(previousOwner).toBeNull();
    expect(await RefreshLease.take(h.deps.leases, c!.connectionId, LEASE_MS, h.deps.logger)).toEqual({
      kind: 'held',
    });
    // Paused for a third of the lease: less than 90 % is left, so it renews before it may send.
    await sleep(LEASE_MS / 3);
    expect(lease.remainingMs()).toBeLessThan(LEASE_MS * 0.9);
    expect(await lease.ensure(LEASE_MS * 0.9)).toBe(true);
    expect(lease.remainingMs()).toBeGreaterThan(LEASE_MS * 0.9);
    // Paused past the lease, and another process took it meanwhile: it must not send.
    await h.db
      .$executeRaw`UPDATE "Connection" SET "leaseUntil" = now() - interval '1 second' WHERE id = ${c!.connectionId}::uuid`;
    const other = await RefreshLease.take(h.deps.leases, c!.connectionId, LEASE_MS, h.deps.logger);
    expect(other).toMatchObject({ kind: 'taken', previousOwner: lease.owner });
    await sleep(LEASE_MS / 3);
    expect(await lease.ensure(LEASE_MS * 0.9)).toBe(false);
    // Only the owner ends it.
    await lease.release();
    expect(await h.deps.leases.isHeld(c!.connectionId)).toBe(true);
    if (other.kind === 'taken') await other.lease.release();
    expect(await h.deps.leases.isHeld(c!.connectionId)).toBe(false);
  }, 30_000);
});
