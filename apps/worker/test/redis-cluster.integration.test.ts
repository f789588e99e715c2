// Conduit on a real Redis Cluster of three masters (ports 18320–18322, bus ports 28320–28322),
// started here and killed at the end: the api, a scheduler, two worker processes and the CLI
// all connect through REDIS_CLUSTER_NODES with the default key layout. Due connections of three
// providers are refreshed (rotated tokens stored), a Fathom sync queued from the CLI runs, the
// health page and Bull Board read through the cluster, and the keys really spread: each lane's
// keys on one master, the lanes over all three.
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TokenVault, parseKeyring, type ProviderKey } from '@conduit/core';
import { createDb, type Db } from '@conduit/db';
import {
  QUEUE_NAMES,
  Queues,
  RescueSlots,
  createRedis,
  isCluster,
  scanKeys,
  type RedisClient,
} from '@conduit/jobs';
import { startSandbox, type Sandbox, type SeededGrant } from '@conduit/sandbox';
import {
  PrivateRedisCluster,
  createTestDatabase,
  killAllTracked,
  runTracked,
  spawnTracked,
  waitFor,
  type TestDatabase,
} from '@conduit/testing';

const ROOT = join(import.meta.dirname, '../../..');
const TSX = join(ROOT, 'node_modules/.bin/tsx');
const CLI = join(ROOT, 'packages/cli/bin/conduit.js');
const main = (app: string) => join(ROOT, `apps/${app}/src/main.ts`);

// Not the 18300–18302 of `npm run bench -- refresh --redis-cluster`, so the two can run side by side.
const PORTS = [18320, 18321, 18322];
const API_PORT = 18330;
/** The default prefix when REDIS_CLUSTER_NODES is set: no hash tag, so Conduit tags per queue. */
const PREFIX = 'conduit';
/** Rotation always, sometimes and never; their lanes' hash tags fall on different masters. */
const REFRESHED: readonly ProviderKey[] = ['discord', 'spotify', 'google'];
const PER_PROVIDER = 4;
const MEETINGS = 3;
const OPERATOR = { name: 'olga', password: 'cluster-operator-pass' };

const keys = `k1:${randomBytes(32).toString('base64')}`;
const vault = new TokenVault(parseKeyring(keys));
const cluster = new PrivateRedisCluster(PORTS);
let database: TestDatabase;
let db: Db;
let sandbox: Sandbox;
let redis: RedisClient;
let queues: Queues;

function appEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_ENV: 'test',
    LOG_LEVEL: 'info',
    LOG_FORMAT: 'json',
    DATABASE_URL: database.url,
    REDIS_CLUSTER_NODES: cluster.nodesSetting,
    CONDUIT_ENCRYPTION_KEYS: keys,
    CONDUIT_SANDBOX_URL: sandbox.url,
    CONDUIT_API_PORT: String(API_PORT),
    CONDUIT_PUBLIC_URL: `http://127.0.0.1:${API_PORT}`,
    CONDUIT_OPERATORS: `${OPERATOR.name}:admin:${OPERATOR.password}`,
    CONDUIT_WORKER_METRICS_PORT: '0',
    CONDUIT_REFRESH_SWEEP_INTERVAL_SECONDS: '1',
  };
  // One server's settings would clash with the cluster's (and REDIS_URL with both set is refused).
  delete env.REDIS_URL;
  delete env.CONDUIT_QUEUE_PREFIX;
  return env;
}

interface App {
  child: ChildProcess;
  logs: Array<Record<string, unknown>>;
  output: () => string;
}

/** Starts apps/<app>/src/main.ts and collects its JSON log lines. */
function startApp(app: string): App {
  const child = spawnTracked(TSX, [main(app)], {
    cwd: ROOT,
    env: appEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: Array<Record<string, unknown>> = [];
  let text = '';
  let buffered = '';
  child.stdout!.on('data', (d: Buffer) => {
    text += d.toString();
    buffered += d.toString();
    const lines = buffered.split('\n');
    buffered = lines.pop()!;
    for (const line of lines.filter(Boolean)) {
      try {
        logs.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        logs.push({ msg: line });
      }
    }
  });
  child.stderr!.on('data', (d: Buffer) => (text += d.toString()));
  return { child, logs, output: () => text };
}

async function ready(app: App, name: string): Promise<void> {
  await waitFor(
    () => {
      if (app.child.exitCode !== null)
        throw new Error(`${name} exited with ${app.child.exitCode}:\n${app.output()}`);
      return app.logs.some((l) => l.msg === `${name} ready`);
    },
    90_000,
    `${name} to be ready`,
    100,
  );
}

async function sandboxCall<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${sandbox.url}${path}`, {
    method,
    ...(body !== undefined && {
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    }),
  });
  if (!res.ok) throw new Error(`sandbox ${method} ${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

/** Connections of `provider` whose access tokens are due now. */
async function seedDue(provider: ProviderKey, count: number) {
  const { grants } = await sandboxCall<{ grants: SeededGrant[] }>('POST', '/_sandbox/grants', {
    provider,
    count,
  });
  return Promise.all(
    grants.map(async (grant, i) => {
      const conn = await db.connection.create({
        data: {
          ownerId: `owner-${provider}-${i}`,
          provider,
          externalAccountId: grant.accountId,
          externalEmail: grant.email,
          accessTokenEnc: vault.encrypt(grant.accessToken),
          refreshTokenEnc: vault.encrypt(grant.refreshToken!),
          tokenExpiresAt: new Date(Date.now() + 30_000),
        },
      });
      return { conn, grant };
    }),
  );
}

/** A Fathom account with past meetings, its token good for an hour. */
async function seedFathom() {
  const email = 'cluster-sync@example.com';
  const { grants } = await sandboxCall<{ grants: SeededGrant[] }>('POST', '/_sandbox/grants', {
    provider: 'fathom',
    email,
  });
  const grant = grants[0]!;
  await sandboxCall('POST', '/_sandbox/fathom/meetings', {
    grantId: grant.grantId,
    count: MEETINGS,
    days: 30,
  });
  return db.connection.create({
    data: {
      ownerId: 'owner-fathom',
      provider: 'fathom',
      externalAccountId: email,
      externalEmail: email,
      accessTokenEnc: vault.encrypt(grant.accessToken),
      refreshTokenEnc: grant.refreshToken === null ? null : vault.encrypt(grant.refreshToken),
      tokenExpiresAt: new Date(Date.now() + 3_600_000),
    },
  });
}

/** The port of the master that serves `key`'s slot. */
async function masterOf(key: string): Promise<number> {
  const slot = Number(await cluster.cli(PORTS[0]!, 'cluster', 'keyslot', key));
  const shards = await cluster.cli(PORTS[0]!, 'cluster', 'nodes');
  for (const line of shards.split('\n')) {
    const [, address, flags, , , , , , ...ranges] = line.split(' ');
    if (!flags?.includes('master')) continue;
    for (const range of ranges) {
      const [from, to = from] = range.split('-').map(Number);
      if (slot >= from! && slot <= to!) return Number(address!.split(':')[1]!.split('@')[0]);
    }
  }
  throw new Error(`no master serves slot ${slot} of ${key}`);
}

beforeAll(async () => {
  await cluster.start();
  database = await createTestDatabase();
  db = createDb({ databaseUrl: database.url, poolSize: 4 });
  sandbox = await startSandbox({ port: 0 });
  redis = createRedis({ clusterNodes: cluster.nodes });
  queues = new Queues({ connection: redis, prefix: PREFIX });
}, 120_000);

afterAll(async () => {
  await killAllTracked();
  await queues?.close();
  redis?.disconnect();
  await cluster.stop();
  await sandbox?.close();
  await db?.$disconnect();
  await database?.drop();
}, 60_000);

describe('Redis Cluster › three masters', () => {
  it('refreshes and syncs through the cluster, every process connected to it, with the keys spread over all three masters', async () => {
    expect(isCluster(redis)).toBe(true);
    const due = (await Promise.all(REFRESHED.map((p) => seedDue(p, PER_PROVIDER)))).flat();

    const api = startApp('api');
    const scheduler = startApp('scheduler');
    const workers = [startApp('worker'), startApp('worker')];
    await Promise.all([
      ready(api, 'api'),
      ready(scheduler, 'scheduler'),
      ...workers.map((w) => ready(w, 'worker')),
    ]);

    // The scheduler's refresh sweep queues every due connection; the two workers refresh them.
    await waitFor(
      async () => {
        const rows = await db.connection.findMany({ where: { id: { in: due.map((d) => d.conn.id) } } });
        return rows.every((r) => r.lastRefreshAt !== null);
      },
      90_000,
      'every due connection to be refreshed',
      200,
    );
    for (const { conn, grant } of due) {
      const row = await db.connection.findUniqueOrThrow({ where: { id: conn.id } });
      const current = await sandboxCall<{ refreshToken: string; accessToken: string }>(
        'GET',
        `/_sandbox/grants/${grant.grantId}`,
      );
      // What Conduit stored is exactly the provider's current grant: a rotated refresh token too.
      expect(row.version, conn.provider).toBeGreaterThan(conn.version);
      expect(vault.decrypt(row.accessTokenEnc!)).toBe(current.accessToken);
      expect(vault.decrypt(row.refreshTokenEnc!)).toBe(current.refreshToken);
      expect(row.status).toBe('connected');
    }
    const discord = await sandboxCall<{ refreshToken: string }>(
      'GET',
      `/_sandbox/grants/${due[0]!.grant.grantId}`,
    );
    expect(discord.refreshToken).not.toBe(due[0]!.grant.refreshToken);

    // The CLI queues a sync through the cluster and follows it; a worker runs it. The connection
    // comes after the scheduler's first sync sweep, which would have queued its hourly sync.
    await waitFor(() => scheduler.logs.some((l) => l.sweep === 'sync-sweep'), 30_000, 'the first sync sweep');
    const fathom = await seedFathom();
    const cli = await runTracked(
      'timeout',
      ['60', 'node', CLI, 'sync', fathom.id, '--follow', '--poll-ms', '200'],
      {
        cwd: ROOT,
        env: { ...appEnv(), LOG_LEVEL: 'silent' },
      },
    );
    expect(
      cli.code,
      `${cli.stdout}${cli.stderr}\n${workers.map((w) => w.output().slice(-4000)).join('\n')}`,
    ).toBe(0);
    const run = await db.syncRun.findFirstOrThrow({ where: { connectionId: fathom.id } });
    expect(run.outcome).toBe('succeeded');
    expect(run.itemsStored).toBe(MEETINGS);
    expect(await db.meeting.count({ where: { connectionId: fathom.id } })).toBe(MEETINGS);

    const report = await sandboxCall<{ anomalies: number }>('GET', '/_sandbox/report');
    expect(report.anomalies).toBe(0);

    // The api reads its Redis side through the cluster: readiness, the health page, Bull Board.
    const base = `http://127.0.0.1:${API_PORT}`;
    const auth = {
      authorization: `Basic ${Buffer.from(`${OPERATOR.name}:${OPERATOR.password}`).toString('base64')}`,
    };
    const readyz = await fetch(`${base}/readyz`);
    expect(readyz.status, await readyz.clone().text()).toBe(200);
    const health = await fetch(`${base}/admin/health.json`, { headers: auth });
    expect(health.status).toBe(200);
    const snapshot = (await health.json()) as {
      datastores: { redis: { ok: boolean } };
      refresh: { byOutcome: Record<string, number> };
      queues: Array<{ queue: string }>;
    };
    expect(snapshot.datastores.redis.ok).toBe(true);
    expect(snapshot.queues.map((d) => d.queue)).toContain(QUEUE_NAMES.refresh('discord'));
    await waitFor(
      async () => {
        const again = (await (
          await fetch(`${base}/admin/health.json`, { headers: auth })
        ).json()) as typeof snapshot;
        return (again.refresh.byOutcome.refreshed ?? 0) >= due.length;
      },
      10_000,
      'the health page to count every refresh (the workers flush their counts each second)',
      250,
    );
    // A failed sign-in is counted in the shared store, on the cluster.
    const wrong = await fetch(`${base}/admin/health.json`, {
      headers: {
        authorization: `Basic ${Buffer.from(`${OPERATOR.name}:not-the-password`).toString('base64')}`,
      },
    });
    expect(wrong.status).toBe(401);
    expect(await scanKeys(redis, `${PREFIX}:sign-in-failures:*`)).not.toHaveLength(0);
    const board = await fetch(`${base}/admin/queues/api/queues`, { headers: auth });
    expect(board.status).toBe(200);
    expect(JSON.stringify(await board.json())).toContain(QUEUE_NAMES.refresh('spotify'));

    // Where the keys are: each lane's keys on one master, the three lanes on three masters.
    const lanesByMaster = new Map<number, Set<string>>();
    const mastersByLane = new Map<string, Set<number>>();
    for (const port of PORTS) {
      const dbsize = Number(await cluster.cli(port, 'dbsize'));
      expect(dbsize, `keys on the master at ${port}`).toBeGreaterThan(0);
      const laneKeys = (await cluster.cli(port, '--scan', '--pattern', `${PREFIX}:{refresh-*`)).split('\n');
      for (const key of laneKeys.filter(Boolean)) {
        const lane = /^conduit:\{(refresh-[a-z_]+)\}:/.exec(key)![1]!;
        (lanesByMaster.get(port) ?? lanesByMaster.set(port, new Set()).get(port)!).add(lane);
        (mastersByLane.get(lane) ?? mastersByLane.set(lane, new Set()).get(lane)!).add(port);
      }
    }
    for (const provider of REFRESHED) {
      expect([...(mastersByLane.get(QUEUE_NAMES.refresh(provider)) ?? [])], provider).toHaveLength(1);
    }
    const laneMasters = new Set(REFRESHED.map((p) => [...mastersByLane.get(QUEUE_NAMES.refresh(p))!][0]));
    expect(laneMasters.size).toBe(3);
    // The cluster client's scan reaches every master: it finds the keys of all three lanes.
    const all = await scanKeys(redis, `${PREFIX}*`);
    for (const provider of REFRESHED) {
      expect(
        all.some((k) => k.startsWith(`${PREFIX}:{${QUEUE_NAMES.refresh(provider)}}:`)),
        provider,
      ).toBe(true);
    }

    // Per-connection keys hash on their whole name: the rescue slots of these connections land
    // on every master. The two keys of a Fathom account budget, read by one script, share one.
    const rescue = new RescueSlots(redis, `${PREFIX}:rescue`, 60_000, 1_000);
    const rescueMasters = new Set(await Promise.all(due.map((d) => masterOf(rescue.keyFor(d.conn.id, 1)))));
    expect(rescueMasters.size).toBe(3);
    const [budgetLog] = (await scanKeys(redis, `${PREFIX}:budget:*`)).filter((k) => !k.endsWith(':paused'));
    expect(budgetLog, 'the Fathom sync took budget slots').toBeDefined();
    expect(await masterOf(`${budgetLog!}:paused`)).toBe(await masterOf(budgetLog!));
  }, 240_000);
});
