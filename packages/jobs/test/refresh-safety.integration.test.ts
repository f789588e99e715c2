import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { killAllTracked, killTree, spawnTracked } from '@conduit/testing';
import { refreshConnection } from '../src/index.ts';
import { createHarness, waitFor, type Harness } from './support/harness.ts';

// DESIGN rule 2: a rotated refresh token is never lost and never presented twice.
let h: Harness;

beforeAll(async () => {
  h = await createHarness();
});

afterAll(async () => {
  await h?.close();
});

async function grant(grantId: string) {
  return h.sandboxGet<{ refreshToken: string | null; family: string; refreshes: number }>(
    `/_sandbox/grants/${grantId}`,
  );
}

describe('refresh › compare-and-set', () => {
  it('a writer holding an old version cannot overwrite the newer tokens written by another', async () => {
    const [c] = await h.seed('discord', 1, { expiresInMs: 60_000 });
    const stale = (await h.connections.findById(c!.connectionId))!;
    // Another worker refreshes first and writes version + 1.
    const winner = await h.connections.storeRefreshedTokens(
      stale,
      {
        accessTokenEnc: h.vault.encrypt('access-new'),
        refreshTokenEnc: h.vault.encrypt('refresh-new'),
        tokenExpiresAt: new Date(Date.now() + 3_600_000),
      },
      new Date(),
    );
    expect(winner).toBe(true);
    const lost = await h.connections.storeRefreshedTokens(
      stale,
      {
        accessTokenEnc: h.vault.encrypt('access-old'),
        refreshTokenEnc: h.vault.encrypt('refresh-old'),
        tokenExpiresAt: new Date(Date.now() + 3_600_000),
      },
      new Date(),
    );
    expect(lost).toBe(false);
    const row = (await h.connections.findById(c!.connectionId))!;
    expect(h.vault.decrypt(row.refreshTokenEnc!)).toBe('refresh-new');
    expect(row.version).toBe(stale.version + 1);
  });

  it('a worker whose lease lapsed while its token request hung cannot overwrite the tokens another stored meanwhile', async () => {
    const [c] = await h.seed('discord', 1, { expiresInMs: 60_000 });
    // Worker A: a token endpoint it reaches only after its lease has lapsed and worker B has
    // refreshed. A's late answer must lose the compare-and-set.
    let releaseA!: () => void;
    const aMayAnswer = new Promise<void>((r) => (releaseA = r));
    let aStartedResolve!: () => void;
    const aStarted = new Promise<void>((r) => (aStartedResolve = r));
    const depsA = {
      ...h.deps,
      tokens: {
        async refresh() {
          aStartedResolve();
          await aMayAnswer;
          // What a provider would have answered A: tokens that are now older than B's.
          return {
            kind: 'tokens' as const,
            accessToken: 'late-access',
            refreshToken: 'late-refresh',
            expiresInSeconds: 3600,
          };
        },
      },
    };
    const a = refreshConnection(depsA, { connectionId: c!.connectionId, reason: 'sweep' });
    await aStarted;
    // A stalls past its lease: as far as Postgres can tell, the lease has lapsed.
    await h.db
      .$executeRaw`UPDATE "Connection" SET "leaseUntil" = now() - interval '1 second' WHERE id = ${c!.connectionId}::uuid`;
    const b = await refreshConnection(h.deps, { connectionId: c!.connectionId, reason: 'sweep' });
    expect(b.kind).toBe('refreshed');
    releaseA();
    expect((await a).kind).toBe('lost_race');
    const row = (await h.connections.findById(c!.connectionId))!;
    const sandboxState = await grant(c!.grant.grantId);
    expect(h.vault.decrypt(row.refreshTokenEnc!)).toBe(sandboxState.refreshToken);
    expect(sandboxState.family).toBe('active');
  });
});

describe('refresh › a worker killed mid-refresh', () => {
  let child: ChildProcess | undefined;

  afterAll(killAllTracked);

  it('loses no token: the job is recovered and the connection ends connected with the family intact', async () => {
    const [c] = await h.seed('discord', 1, { expiresInMs: 60_000 });
    await h.sandboxPost('/_sandbox/holds', { provider: 'discord', endpoint: 'token' });
    // The real worker app, as a separate process, with short lock and stall timings.
    const env = {
      ...process.env,
      NODE_ENV: 'test',
      LOG_LEVEL: 'silent',
      DATABASE_URL: h.database.url,
      CONDUIT_QUEUE_PREFIX: h.prefix,
      CONDUIT_ENCRYPTION_KEYS: h.keySpec,
      CONDUIT_SANDBOX_URL: h.sandbox.url,
      CONDUIT_HTTP_CONNECT_TIMEOUT_MS: '500',
      CONDUIT_HTTP_HEADERS_TIMEOUT_MS: '1000',
      CONDUIT_HTTP_BODY_TIMEOUT_MS: '1000',
      CONDUIT_LOCK_TTL_MS: '3000',
      CONDUIT_REFRESH_COMMIT_BUDGET_MS: '400',
      CONDUIT_REFRESH_RESCUE_TIMEOUT_MS: '300',
      CONDUIT_LOCK_RETRY_DELAY_MS: '200',
      CONDUIT_JOB_LOCK_MS: '2000',
      CONDUIT_JOB_STALLED_INTERVAL_MS: '1000',
      CONDUIT_WORKER_METRICS_PORT: '0',
    };
    const root = join(import.meta.dirname, '../../..');
    const start = () =>
      spawnTracked(join(root, 'node_modules/.bin/tsx'), [join(root, 'apps/worker/src/main.ts')], {
        env,
        stdio: 'ignore',
      });
    child = start();
    await h.queues.enqueueRefresh('discord', c!.connectionId, 'sweep');
    await waitFor(
      async () =>
        (await h.sandboxGet<{ holds: Array<{ parked: number }> }>('/_sandbox/holds')).holds.some(
          (x) => x.parked > 0,
        ),
      20_000,
      'the worker to reach the held token endpoint',
    );
    // The whole process group: SIGKILL on tsx alone would leave its child, the worker, running.
    await killTree(child);
    // The provider sees the dead worker's connection close and drops its parked request unanswered;
    // releasing the hold before that would process it, and its answer would have nowhere to go.
    await waitFor(
      async () =>
        (await h.sandboxGet<{ holds: Array<{ parked: number }> }>('/_sandbox/holds')).holds.every(
          (x) => x.parked === 0,
        ),
      20_000,
      "the killed worker's token request to be abandoned",
    );
    await h.sandboxPost('/_sandbox/holds/release', {});
    // A fresh worker recovers the stalled job once the dead one's locks lapse.
    child = start();
    const row = await waitFor(
      async () => {
        const r = await h.connections.findById(c!.connectionId);
        return r?.lastRefreshAt ? r : null;
      },
      30_000,
      'the recovered refresh',
    );
    await killTree(child);
    expect(row.status).toBe('connected');
    const sandboxState = await grant(c!.grant.grantId);
    expect(sandboxState.family).toBe('active');
    expect(h.vault.decrypt(row.refreshTokenEnc!)).toBe(sandboxState.refreshToken);
    const report = await h.sandboxGet<{ providers: Record<string, { counts: Record<string, number> }> }>(
      '/_sandbox/report',
    );
    expect(report.providers.discord!.counts.reusedRefreshTokens).toBe(0);
    expect(report.providers.discord!.counts.concurrentRefreshes).toBe(0);
  }, 60_000);
});
