// `npm run bench -- refresh [--connections N=100000] [--workers K=2] [--concurrency C] [--redis-cluster]`
// Seeds N due connections in the sandbox and the database, then runs the real scheduler and K
// real worker processes until every one is refreshed and committed. In the same run, with the
// same processes and concurrency, it measures two ceilings: BullMQ no-op jobs (the queue) and
// single-row compare-and-set updates through the same Prisma driver (the database).
// --redis-cluster: everything runs against a private 3-master Redis Cluster (ports 18300–18302)
// started for the run, with a prefix without a hash tag so the lanes spread over the masters.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Queue } from 'bullmq';
import { randomBytes } from 'node:crypto';
import { TokenVault, parseKeyring, type ProviderKey } from '@conduit/core';
import { createDb } from '@conduit/db';
import { REFRESH_PROVIDERS, createRedis, deleteKeys, queueKeyPrefix, scanKeys } from '@conduit/jobs';
import { PrivateRedisCluster } from '@conduit/testing';
import {
  arg,
  dropDatabase,
  freshDatabase,
  machine,
  nodeTs,
  ROOT,
  rssMb,
  startSandboxProcess,
  stop,
} from './support.ts';

const DB_NAME = 'conduit_bench_refresh';
/** The worker's production V8 flags (apps/worker/package.json `start`, Dockerfile): a small young
 *  generation and a capped old one keep its memory bounded under load. */
const WORKER_NODE_FLAGS = ['--max-semi-space-size=1', '--max-old-space-size=160'];

interface Grant {
  accountId: string;
  email: string;
  accessToken: string;
  refreshToken: string | null;
}

async function post<T>(url: string, body: unknown): Promise<T> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${url}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

function spawnApp(
  entry: string,
  env: NodeJS.ProcessEnv,
  extra: string[] = [],
  nodeFlags: string[] = [],
): ChildProcess {
  const [cmd, args] = nodeTs(entry);
  return spawn(cmd, [...nodeFlags, ...args, ...extra], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

function collect(child: ChildProcess): Promise<string> {
  return new Promise((resolve) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.once('exit', () => resolve(out));
  });
}

export async function run(argv: string[]): Promise<void> {
  const n = arg(argv, 'connections', 100_000);
  const workers = arg(argv, 'workers', 2);
  const providers = REFRESH_PROVIDERS as readonly ProviderKey[];
  const concurrency = arg(argv, 'concurrency', 10);
  // --profile: the worker processes write V8 CPU profiles to bench/results/profiles/.
  const profile = argv.includes('--profile');
  const profileDir = join(import.meta.dirname, 'results', 'profiles');
  const totalConcurrency = workers * providers.length * concurrency;
  const cluster = argv.includes('--redis-cluster')
    ? new PrivateRedisCluster([18300, 18301, 18302])
    : undefined;
  const tag = `bench-refresh-${randomBytes(3).toString('hex')}`;
  const prefix = cluster ? tag : `{${tag}}`;
  const keySpec = `bench:${randomBytes(32).toString('base64')}`;
  const vault = new TokenVault(parseKeyring(keySpec));

  console.log(
    `refresh bench: ${n.toLocaleString()} connections, ${workers} worker processes × ${providers.length} lanes × ${concurrency}`,
  );
  const databaseUrl = await freshDatabase(DB_NAME);
  const sandbox = await startSandboxProcess();
  const db = createDb({ databaseUrl, poolSize: 4 });
  await cluster?.start();
  // Every child is given the same Redis: the cluster's nodes, or REDIS_URL as this process has it.
  const redisEnv: NodeJS.ProcessEnv = cluster
    ? { REDIS_CLUSTER_NODES: cluster.nodesSetting, REDIS_URL: '' }
    : {};
  const redis = cluster
    ? createRedis({ clusterNodes: cluster.nodes })
    : createRedis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  const children: ChildProcess[] = [sandbox.child];
  try {
    // Seed: grants in the sandbox (their refresh tokens are real), rows in the database, all due.
    const t0 = performance.now();
    const per = Math.ceil(n / providers.length);
    let seeded = 0;
    for (const provider of providers) {
      for (let done = 0; done < per && seeded < n;) {
        const count = Math.min(10_000, per - done, n - seeded);
        const { grants } = await post<{ grants: Grant[] }>(`${sandbox.url}/_sandbox/grants`, {
          provider,
          count,
        });
        const dueAt = new Date(Date.now() + 60_000);
        await db.connection.createMany({
          data: grants.map((g, i) => ({
            ownerId: `bench-${provider}-${done + i}`,
            provider,
            externalAccountId: g.accountId,
            externalEmail: g.email,
            accessTokenEnc: vault.encrypt(g.accessToken),
            refreshTokenEnc: g.refreshToken ? vault.encrypt(g.refreshToken) : null,
            tokenExpiresAt: dueAt,
          })),
        });
        done += count;
        seeded += count;
      }
    }
    await db.$executeRawUnsafe('ANALYZE "Connection"');
    console.log(
      `seeded ${seeded.toLocaleString()} grants and rows in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
    );

    // Baseline 1: the queue's ceiling — no-op jobs through the same number of processes and slots.
    const queueName = 'baseline-noop';
    const queue = new Queue(queueName, { connection: redis, prefix: queueKeyPrefix(prefix, queueName) });
    const m = Math.min(n, 50_000);
    for (let i = 0; i < m; i += 5_000) {
      await queue.addBulk(
        Array.from({ length: Math.min(5_000, m - i) }, () => ({
          name: 'noop',
          data: {},
          opts: { removeOnComplete: true },
        })),
      );
    }
    const qStart = performance.now();
    const qWorkers = Array.from({ length: workers }, () =>
      spawnApp('bench/baseline-child.ts', { ...redisEnv, CONDUIT_QUEUE_PREFIX: prefix }, [
        'queue',
        queueName,
        String(providers.length * concurrency),
      ]),
    );
    children.push(...qWorkers);
    for (;;) {
      const c = await queue.getJobCounts('wait', 'active', 'prioritized');
      if ((c.wait ?? 0) + (c.active ?? 0) + (c.prioritized ?? 0) === 0) break;
      await sleep(50);
    }
    const queueBaselinePerSecond = m / ((performance.now() - qStart) / 1000);
    await Promise.all(qWorkers.map((w) => stop(w)));
    await queue.obliterate({ force: true });
    await queue.close();
    console.log(`queue baseline: ${Math.round(queueBaselinePerSecond).toLocaleString()} no-op jobs/s`);

    // Baseline 2: the database's ceiling — single-row compare-and-set updates, same slots.
    const dbOps = Math.min(n, 50_000);
    const dbStart = performance.now();
    const dbChildren = Array.from({ length: workers }, (_, i) => {
      const [cmd, args] = nodeTs('bench/baseline-child.ts');
      return spawn(
        cmd,
        [
          ...args,
          'db',
          String(providers.length * concurrency),
          String(Math.ceil(dbOps / workers)),
          String(i * 20_000),
        ],
        {
          cwd: ROOT,
          env: { ...process.env, DATABASE_URL: databaseUrl },
          stdio: ['ignore', 'pipe', 'inherit'],
        },
      );
    });
    await Promise.all(dbChildren.map(collect));
    const dbBaselinePerSecond = dbOps / ((performance.now() - dbStart) / 1000);
    await db.$executeRawUnsafe(`UPDATE "Connection" SET version = 0`);
    console.log(
      `database baseline: ${Math.round(dbBaselinePerSecond).toLocaleString()} compare-and-set updates/s`,
    );

    // The real thing: the scheduler's sweep and K worker processes.
    const env: NodeJS.ProcessEnv = {
      NODE_ENV: 'development',
      LOG_LEVEL: 'info',
      DATABASE_URL: databaseUrl,
      ...redisEnv,
      CONDUIT_QUEUE_PREFIX: prefix,
      CONDUIT_ENCRYPTION_KEYS: keySpec,
      CONDUIT_SANDBOX_URL: sandbox.url,
      CONDUIT_REFRESH_CONCURRENCY: String(concurrency),
      CONDUIT_REFRESH_SWEEP_INTERVAL_SECONDS: '5',
      CONDUIT_REFRESH_SWEEP_BATCH_SIZE: '5000',
      CONDUIT_WORKER_METRICS_PORT: '0',
      CONDUIT_DEMO_USERS: '0',
      // lets a run try other V8 flags on the workers than the production ones below
      ...(process.env.CONDUIT_BENCH_WORKER_NODE_OPTIONS && {
        NODE_OPTIONS: process.env.CONDUIT_BENCH_WORKER_NODE_OPTIONS,
      }),
    };
    const start = performance.now();
    if (profile) mkdirSync(profileDir, { recursive: true });
    const appWorkers = Array.from({ length: workers }, () =>
      spawnApp(
        'apps/worker/src/main.ts',
        env,
        [],
        [...WORKER_NODE_FLAGS, ...(profile ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [])],
      ),
    );
    const scheduler = spawnApp('apps/scheduler/src/main.ts', env);
    children.push(...appWorkers, scheduler);
    let peakRss = 0;
    let refreshed = 0;
    let lastLog = 0;
    for (;;) {
      for (const w of appWorkers) peakRss = Math.max(peakRss, rssMb(w.pid!));
      const [{ done }] = await db.$queryRawUnsafe<[{ done: number }]>(
        `SELECT count(*)::int AS done FROM "Connection" WHERE "lastRefreshAt" IS NOT NULL`,
      );
      refreshed = done;
      if (Date.now() - lastLog > 5_000) {
        console.log(`  ${refreshed.toLocaleString()} / ${n.toLocaleString()} refreshed`);
        lastLog = Date.now();
      }
      if (refreshed >= n) break;
      if (performance.now() - start > 30 * 60_000)
        throw new Error(`only ${refreshed} of ${n} refreshed after 30 minutes`);
      await sleep(200);
    }
    const seconds = (performance.now() - start) / 1000;
    const refreshesPerSecond = n / seconds;
    await Promise.all([...appWorkers, scheduler].map((c) => stop(c)));

    const report = (await (await fetch(`${sandbox.url}/_sandbox/report`)).json()) as { anomalies: number };
    const [{ wrong }] = await db.$queryRawUnsafe<[{ wrong: number }]>(
      `SELECT count(*)::int AS wrong FROM "Connection" WHERE status <> 'connected'`,
    );
    const result = {
      connections: n,
      workers,
      redis: cluster ? 'cluster of 3 masters' : 'one server',
      concurrencyPerLane: concurrency,
      totalConcurrency,
      seconds: Number(seconds.toFixed(2)),
      refreshesPerSecond: Math.round(refreshesPerSecond),
      queueBaselinePerSecond: Math.round(queueBaselinePerSecond),
      dbBaselinePerSecond: Math.round(dbBaselinePerSecond),
      ratioToDb: Number((refreshesPerSecond / dbBaselinePerSecond).toFixed(3)),
      ratioToQueue: Number((refreshesPerSecond / queueBaselinePerSecond).toFixed(3)),
      workerPeakRssMb: Math.round(peakRss),
      sandboxAnomalies: report.anomalies,
      notConnected: wrong,
      ...machine(),
      command: `npm run bench -- refresh --connections ${n} --workers ${workers} --concurrency ${concurrency}${cluster ? ' --redis-cluster' : ''}`,
    };
    const dir = join(import.meta.dirname, 'results');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'refresh.json'), JSON.stringify(result, null, 2) + '\n');
    console.log(
      `refresh: ${result.refreshesPerSecond.toLocaleString()}/s (${result.seconds} s for ${n.toLocaleString()}); ` +
        `ratio to db ${result.ratioToDb}, to queue ${result.ratioToQueue}; worker peak RSS ${result.workerPeakRssMb} MB; ` +
        `sandbox anomalies ${result.sandboxAnomalies}`,
    );
  } finally {
    await Promise.all(children.map((c) => stop(c, 'SIGKILL')));
    const keys = await scanKeys(redis, `${prefix}*`);
    for (let i = 0; i < keys.length; i += 1000) await deleteKeys(redis, keys.slice(i, i + 1000));
    redis.disconnect();
    await cluster?.stop();
    await db.$disconnect();
    await dropDatabase(DB_NAME);
  }
}
