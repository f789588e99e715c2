// Everything a Fathom sync test needs, real: a cloned database, a Redis prefix of the file's own,
// the sandbox over HTTP, and the context, refresh path and Fathom jobs built by @conduit/runtime
// from configuration — the same wiring the worker runs. Connections are seeded as the connect
// flow leaves them: a sandbox grant, its tokens encrypted in a connection row.
import { Worker } from 'bullmq';
import { randomUUID } from 'node:crypto';
import { loadConfig } from '@conduit/config';
import {
  createContext,
  createFathomJobs,
  createRefreshDeps,
  createTokenClient,
  type AppContext,
  type FathomJobs,
} from '@conduit/runtime';
import { startSandbox, type Sandbox, type SandboxOptions } from '@conduit/sandbox';
import { createTestDatabase, testPrefix, TEST_REDIS_URL, waitFor, type TestDatabase } from '@conduit/testing';
import {
  QUEUE_NAMES,
  createSyncProcessor,
  enqueueSync,
  type RefreshDeps,
  type SyncDeps,
  type SyncJobData,
  type SyncReport,
  type SyncSettings,
} from '../../src/index.ts';

export interface FathomGrant {
  grantId: string;
  accountId: string;
  email: string;
  accessToken: string;
  refreshToken: string | null;
  expiresIn: number | null;
}

export type FathomStack = Awaited<ReturnType<typeof startFathomStack>>;

export async function startFathomStack(options: {
  label: string;
  sandbox?: SandboxOptions;
  env?: Record<string, string>;
}) {
  const database: TestDatabase = await createTestDatabase();
  const sandbox: Sandbox = await startSandbox({ port: 0, ...options.sandbox });
  /** The configuration, as environment: child processes get the very same. */
  const env: Record<string, string> = {
    NODE_ENV: 'test',
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'silent',
    DATABASE_URL: database.url,
    REDIS_URL: TEST_REDIS_URL,
    CONDUIT_QUEUE_PREFIX: `{${testPrefix(options.label)}}`,
    CONDUIT_SANDBOX_URL: sandbox.url,
    CONDUIT_PUBLIC_URL: 'http://127.0.0.1:1',
    CONDUIT_LOCK_RETRY_DELAY_MS: '50',
    CONDUIT_ENCRYPTION_KEYS: `k1:${Buffer.from(randomUUID().replace(/-/g, '')).toString('base64')}`,
    ...options.env,
  };
  const config = loadConfig({ ...process.env, ...env });
  const ctx: AppContext = createContext(config, 'test');
  const tokens = createTokenClient(config);
  const refresh: RefreshDeps = createRefreshDeps(ctx, tokens);
  const jobs: FathomJobs = createFathomJobs(ctx, refresh);
  const workers: Worker[] = [];
  const syncQueue = ctx.queues.get(QUEUE_NAMES.syncFathom);

  async function sandboxPost<T>(path: string, body?: unknown): Promise<T> {
    const res = await fetch(`${sandbox.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body ?? {}),
    });
    if (!res.ok) throw new Error(`sandbox POST ${path}: ${res.status} ${await res.text()}`);
    return (await res.json()) as T;
  }

  async function sandboxGet<T>(path: string): Promise<T> {
    const res = await fetch(`${sandbox.url}${path}`);
    if (!res.ok) throw new Error(`sandbox GET ${path}: ${res.status} ${await res.text()}`);
    return (await res.json()) as T;
  }

  /** A Fathom account with `meetings` past meetings, connected for `ownerId`. */
  async function seedConnection(email: string, meetings: number, ownerId = `owner-${randomUUID()}`) {
    const { grants } = await sandboxPost<{ grants: FathomGrant[] }>('/_sandbox/grants', {
      provider: 'fathom',
      email,
    });
    const grant = grants[0]!;
    const seeded =
      meetings > 0
        ? await sandboxPost<{ recordingIds: number[] }>('/_sandbox/fathom/meetings', {
            grantId: grant.grantId,
            count: meetings,
            days: 60,
          })
        : { recordingIds: [] };
    const conn = await ctx.db.connection.create({
      data: {
        ownerId,
        provider: 'fathom',
        externalAccountId: email,
        externalEmail: email,
        accessTokenEnc: ctx.vault.encrypt(grant.accessToken),
        refreshTokenEnc: grant.refreshToken === null ? null : ctx.vault.encrypt(grant.refreshToken),
        tokenExpiresAt: grant.expiresIn === null ? null : new Date(Date.now() + grant.expiresIn * 1000),
      },
    });
    return { connectionId: conn.id, ownerId, grant, recordingIds: seeded.recordingIds };
  }

  /** A sync worker (only: transcript fetches stay queued), with the given dependencies swapped in. */
  function startSyncWorker(overrides: Partial<SyncDeps> = {}, settings: Partial<SyncSettings> = {}): Worker {
    const worker = new Worker(
      QUEUE_NAMES.syncFathom,
      createSyncProcessor({ ...jobs.deps.sync, ...overrides }, { ...jobs.settings.sync, ...settings }),
      {
        connection: ctx.redis.duplicate(),
        prefix: config.redis.queuePrefix,
        concurrency: 2,
        stalledInterval: 300,
      },
    );
    workers.push(worker);
    return worker;
  }

  /** Queues a sync and waits for its job to finish; returns what the job returned. */
  async function sync(
    connectionId: string,
    data: Partial<SyncJobData> = {},
    timeoutMs = 15_000,
  ): Promise<SyncReport> {
    const { jobId } = await enqueueSync(ctx.queues, 'fathom', {
      connectionId,
      mode: 'incremental',
      reason: 'manual',
      ...data,
    });
    return finished(jobId, timeoutMs);
  }

  async function finished(jobId: string, timeoutMs = 15_000): Promise<SyncReport> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const state = await syncQueue.getJobState(jobId);
      // Read the job only after it finished: a copy read just before holds no return value yet.
      if (state === 'completed') return (await syncQueue.getJob(jobId))!.returnvalue as SyncReport;
      if (state === 'failed')
        throw new Error(`sync job failed: ${(await syncQueue.getJob(jobId))!.failedReason}`);
      if (Date.now() > deadline) throw new Error(`sync job ${jobId} still ${state} after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  async function close(): Promise<void> {
    await Promise.all(workers.map((w) => w.close()));
    await jobs.close();
    await tokens.close();
    for (const name of [QUEUE_NAMES.syncFathom, QUEUE_NAMES.transcripts])
      await ctx.queues.get(name).obliterate({ force: true });
    const keys = await ctx.redis.keys(`${config.redis.queuePrefix}*`);
    if (keys.length > 0) await ctx.redis.del(...keys);
    await ctx.close();
    await sandbox.close();
    await database.drop();
  }

  return {
    env,
    config,
    ctx,
    refresh,
    jobs,
    sandbox,
    syncQueue,
    sandboxGet,
    sandboxPost,
    seedConnection,
    startSyncWorker,
    sync,
    finished,
    close,
  };
}

/** Polls until `check` returns something truthy. */
export const until = <T>(
  check: () => Promise<T | null | undefined | false>,
  what: string,
  timeoutMs = 10_000,
) => waitFor(check, timeoutMs, what, 20);
