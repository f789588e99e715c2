// Everything a refresh integration test needs, real: a cloned Postgres database, Redis with a
// key prefix of the test's own, the sandbox over HTTP, the real token client and vault.
import { randomBytes } from 'node:crypto';
import { Worker } from 'bullmq';
import pino from 'pino';
import {
  PROVIDER_KEYS,
  TokenVault,
  defineRetryPolicy,
  parseKeyring,
  resolveEndpoints,
  type ProviderKey,
  type RetryPolicy,
  providerSpec,
} from '@conduit/core';
import { createDb, ConnectionLeases, ConnectionRepository, RefreshStore, type Db } from '@conduit/db';
import { TokenClient } from '@conduit/providers';
import { startSandbox, type Sandbox } from '@conduit/sandbox';
import { createTestDatabase, testPrefix, TEST_REDIS_URL, type TestDatabase } from '@conduit/testing';
import {
  AccessTokens,
  createRedis,
  createRefreshProcessor,
  ProviderGate,
  Queues,
  RedisLocks,
  LaneSlots,
  RefreshCommits,
  RescueSlots,
  type RefreshDeps,
  type RefreshOutcomeLabel,
  type RefreshSettings,
} from '../../src/index.ts';
import type { SeededGrant } from '@conduit/sandbox';

export interface HarnessOptions {
  sandbox?: Parameters<typeof startSandbox>[0];
  settings?: Partial<RefreshSettings>;
  policy?: Partial<RetryPolicy>;
  timeouts?: { connectMs: number; headersMs: number; bodyMs: number };
  /** a database elsewhere (a private cluster for fault tests) instead of a clone on the shared server */
  database?: TestDatabase;
  /** statement bounds of the pool */
  db?: { statementTimeoutMs?: number; lockTimeoutMs?: number };
}

export type Harness = Awaited<ReturnType<typeof createHarness>>;

export async function createHarness(options: HarnessOptions = {}) {
  const database: TestDatabase = options.database ?? (await createTestDatabase());
  const db: Db = createDb({ databaseUrl: database.url, poolSize: 8, ...options.db });
  const prefix = `{${testPrefix('refresh')}}`;
  const redis = createRedis(TEST_REDIS_URL);
  const sandbox: Sandbox = await startSandbox({ port: 0, ...options.sandbox });
  const keySpec = `k1:${randomBytes(32).toString('base64')}`;
  const vault = new TokenVault(parseKeyring(keySpec));
  const tokens = new TokenClient({
    providers: Object.fromEntries(
      PROVIDER_KEYS.map((p) => [
        p,
        {
          clientId: `conduit-${p}`,
          clientSecret: `sandbox-secret-${p}`,
          tokenUrl: resolveEndpoints(providerSpec(p), { sandboxUrl: sandbox.url }).tokenUrl,
        },
      ]),
    ) as ConstructorParameters<typeof TokenClient>[0]['providers'],
    timeouts: options.timeouts ?? { connectMs: 1_000, headersMs: 3_000, bodyMs: 3_000 },
    rateLimitDefaultWaitMs: 60_000,
  });
  const queues = new Queues({ connection: redis, prefix });
  const outcomes: Array<{ provider: ProviderKey; outcome: RefreshOutcomeLabel }> = [];
  const logger = pino({ level: process.env.LOG_LEVEL ?? 'silent' });
  const connections = new ConnectionRepository(db);
  const settings: RefreshSettings = {
    bufferMs: 5 * 60_000,
    lockTtlMs: 10_000,
    commitBudgetMs: 2_000,
    commitRetryMaxMs: 200,
    invalidClientPauseThreshold: 3,
    invalidClientPauseMs: 5 * 60_000,
    refreshTokenWindowMs: 7 * 86_400_000,
    batchParallelism: 10,
    ...options.settings,
  };
  const deps: RefreshDeps = {
    connections,
    vault,
    tokens,
    locks: new RedisLocks(redis, `${prefix}:lock`),
    leases: new ConnectionLeases(db),
    lanes: new LaneSlots(10),
    commits: new RefreshCommits(new RefreshStore(db), logger, { retryMaxMs: settings.commitRetryMaxMs }),
    rescue: new RescueSlots(redis, `${prefix}:rescue`, 3_600_000, 1_000),
    gate: new ProviderGate(redis, `${prefix}:gate`),
    redis,
    keyPrefix: prefix,
    policy: defineRetryPolicy({ baseDelayMs: 50, maxDelayMs: 400, ...options.policy }),
    settings,
    logger,
    hashOwner: (id) => `h_${id.length}`,
    observer: { onOutcome: (provider, outcome) => outcomes.push({ provider, outcome }) },
  };
  const accessTokens = new AccessTokens(deps, { pollMs: 20 });
  const workers: Worker[] = [];

  async function sandboxPost<T>(path: string, body: unknown): Promise<T> {
    const res = await fetch(`${sandbox.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body ?? {}),
    });
    if (!res.ok) throw new Error(`sandbox ${path}: ${res.status} ${await res.text()}`);
    return (await res.json()) as T;
  }

  async function sandboxGet<T>(path: string): Promise<T> {
    const res = await fetch(`${sandbox.url}${path}`);
    if (!res.ok) throw new Error(`sandbox ${path}: ${res.status} ${await res.text()}`);
    return (await res.json()) as T;
  }

  /** Grants in the sandbox, and connections for them in the database, expiring as asked. */
  async function seed(provider: ProviderKey, count: number, opts: { expiresInMs?: number } = {}) {
    const { grants } = await sandboxPost<{ grants: SeededGrant[] }>('/_sandbox/grants', { provider, count });
    const now = Date.now();
    const rows = grants.map((g, i) => ({
      ownerId: `owner-${provider}-${i}-${randomBytes(3).toString('hex')}`,
      provider,
      externalAccountId: g.accountId,
      externalEmail: g.email,
      accessTokenEnc: vault.encrypt(g.accessToken),
      refreshTokenEnc: g.refreshToken ? vault.encrypt(g.refreshToken) : null,
      tokenExpiresAt:
        opts.expiresInMs !== undefined
          ? new Date(now + opts.expiresInMs)
          : g.expiresIn === null
            ? null
            : new Date(now + g.expiresIn * 1000),
    }));
    const created = await db.connection.createManyAndReturn({ data: rows, select: { id: true } });
    return created.map((c, i) => ({ connectionId: c.id, grant: grants[i]! }));
  }

  function startWorker(
    provider: ProviderKey,
    opts: { concurrency?: number; lockRetryDelayMs?: number } = {},
  ) {
    const queue = queues.refresh(provider);
    const worker = new Worker(
      queue.name,
      createRefreshProcessor(deps, queue, { lockRetryDelayMs: opts.lockRetryDelayMs ?? 50, provider }),
      {
        connection: redis.duplicate(),
        prefix,
        concurrency: opts.concurrency ?? 4,
      },
    );
    workers.push(worker);
    return worker;
  }

  async function close() {
    await Promise.all(workers.map((w) => w.close()));
    for (const p of PROVIDER_KEYS) {
      if (providerSpec(p).refresh.kind === 'refresh_token')
        await queues.refresh(p).obliterate({ force: true });
    }
    await queues.close();
    await tokens.close();
    await sandbox.close();
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
    await db.$disconnect();
    await database.drop();
  }

  return {
    database,
    db,
    prefix,
    redis,
    sandbox,
    keySpec,
    vault,
    tokens,
    queues,
    deps,
    connections,
    accessTokens,
    outcomes,
    settings,
    seed,
    startWorker,
    sandboxPost,
    sandboxGet,
    close,
  };
}

export { waitFor } from '@conduit/testing';
