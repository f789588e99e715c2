// `npm run bench -- refresh [--connections N=100000] [--workers K=2] [--concurrency C=10]
//                            [--floor F=20000] [--rules-floor R=12000] [--profile]`
// Seeds N due connections in the sandbox and the database, then runs the real scheduler and K
// real worker processes until every one is refreshed and committed, on a Postgres and a Redis of
// the run's own (so their CPU and counters are the run's alone). In the same run, with the same
// processes and concurrency, it measures two ceilings (BullMQ no-op jobs: the queue; single-row
// compare-and-set updates through the same Prisma driver: the database; each once before the run
// and once after it) and the floor (the bare token exchange: a plain undici client against the
// sandbox's token endpoints), in bursts: one before the run, several during it while the
// scheduler and workers are paused (SIGSTOP), one after it, so that floor and run see the same
// machine however its speed drifts. Every phase is timed and measured from its first operation
// after its processes are ready. See docs/benchmarks.md for what each field means.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { Queue } from 'bullmq';
import pg from 'pg';
import { TokenVault, parseKeyring, type ProviderKey } from '@conduit/core';
import { createDb } from '@conduit/db';
import { REFRESH_PROVIDERS, createRedis, queueKeyPrefix } from '@conduit/jobs';
import {
  PrivateRedis,
  PrivateRedisCluster,
  startPrivatePostgres,
  type PrivatePostgres,
} from '@conduit/testing';
import { arg, machine, nodeTs, ROOT, startSandboxProcess, stop } from './support.ts';
import { readAppLine } from './refresh/log-lines.ts';
import {
  commandStats,
  cpuTicks,
  diffCounts,
  diffPg,
  pgCounters,
  resetStatements,
  sentCommands,
  statements,
  type Measured,
} from './refresh/measure.ts';
import { readIo, rssMb, TICKS_PER_SECOND, type ProcIo } from './refresh/proc.ts';
import { perOperation, total } from './refresh/redis-stats.ts';
import { quantile, round } from './refresh/stats.ts';

const DB_NAME = 'conduit_bench_refresh';
/** The worker's production V8 flags (apps/worker/package.json `start`, Dockerfile): a small young
 *  generation and a capped old one keep its memory bounded under load. */
const WORKER_NODE_FLAGS = ['--max-semi-space-size=4', '--max-old-space-size=160'];
/** This benchmark's own ports (the private Postgres and Redis): the first free ones in the range. */
const PORT_RANGE = [18200, 18299] as const;
const REDIS_SENT_PRELOAD = join(import.meta.dirname, 'refresh', 'redis-sent.ts');
/** Everything the scheduler does besides the refresh sweep stays off during the run. */
const SWEEPS_OFF = 'lapse-sweep,sync-sweep,recovery-sweep,inbox-sweep,webhook-sweep,cleanup';
const MS_PER_TICK = 1000 / TICKS_PER_SECOND;

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

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

async function portsInRange(count: number): Promise<number[]> {
  const out: number[] = [];
  for (let p = PORT_RANGE[0]; p <= PORT_RANGE[1] && out.length < count; p++)
    if (await portFree(p)) out.push(p);
  if (out.length < count) throw new Error(`no ${count} free ports in ${PORT_RANGE.join('–')}`);
  return out;
}

/** A child whose stdout is JSON lines; `ready` resolves at its `{"ready":true}` (or `<app> ready`) line. */
interface Child {
  child: ChildProcess;
  ready: Promise<void>;
  /** resolves with the first line that has `done: true` */
  done: Promise<Record<string, unknown>>;
}

function spawnChild(
  entry: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  opts: { nodeFlags?: string[]; preload?: boolean; onLine?: (line: string) => void } = {},
): Child {
  const [cmd, base] = nodeTs(entry);
  // base is ['--import', 'tsx', <entry>]: the preload goes after tsx so that it may be TypeScript.
  const nodeArgs = [
    ...(opts.nodeFlags ?? []),
    base[0]!,
    base[1]!,
    ...(opts.preload ? ['--import', REDIS_SENT_PRELOAD] : []),
    base[2]!,
    ...args,
  ];
  const child = spawn(cmd, nodeArgs, {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  let onReady: () => void;
  let onDone: (v: Record<string, unknown>) => void;
  const ready = new Promise<void>((resolve) => (onReady = resolve));
  const done = new Promise<Record<string, unknown>>((resolve) => (onDone = resolve));
  const exited = new Promise<never>((_, reject) =>
    child.once('exit', (code, signal) => reject(new Error(`${entry} exited (${code ?? signal})`))),
  );
  // A child that dies before it is ready or done fails the phase waiting for it.
  const guard = <T>(p: Promise<T>) => {
    const raced = Promise.race([p, exited]);
    raced.catch(() => undefined); // rejects for whoever awaits it; nobody may (a child stopped on purpose)
    return raced;
  };
  const lines = createInterface({ input: child.stdout! });
  lines.on('line', (line) => {
    opts.onLine?.(line);
    if (!line.startsWith('{')) return;
    if (line.includes('"ready":true') || readAppLine(line).kind === 'ready') onReady();
    if (line.includes('"done":true')) onDone(JSON.parse(line) as Record<string, unknown>);
  });
  exited.catch(() => undefined);
  return { child, ready: guard(ready), done: guard(done) };
}

const go = (c: Child) => c.child.stdin!.write('go\n');

/** The `{"burst":true,…}` lines of a child that serves bursts (floor-child, rules-floor-child). */
function burstLines() {
  let waiting: ((b: BurstLine) => void) | undefined;
  return {
    onLine: (line: string) => {
      if (line.includes('"burst":true')) waiting?.(JSON.parse(line) as BurstLine);
    },
    next: () => new Promise<BurstLine>((resolve) => (waiting = resolve)),
  };
}

/** Asks `child` for a burst of `count` and returns its line with the CPU ticks of `measured` over it. */
async function measuredBurst(
  child: Child,
  lines: ReturnType<typeof burstLines>,
  measured: readonly Measured[],
  count: number,
  what: string,
): Promise<{ b: BurstLine; ticks: Record<string, number> }> {
  const t0 = cpuTicks(measured);
  const line = lines.next();
  child.child.stdin!.write(`go ${count}\n`);
  // `done` never resolves here (the child prints no done line); it rejects if the child dies
  const b = (await Promise.race([line, child.done])) as BurstLine;
  const t1 = cpuTicks(measured);
  if (b.failed > 0) throw new Error(`${what} saw ${b.failed} failures in a burst`);
  return { b, ticks: Object.fromEntries(Object.keys(t1).map((k) => [k, t1[k]! - t0[k]!])) };
}

const ms = (ticks: number, per: number) => round((ticks * MS_PER_TICK) / per, 3);

/** A pause for a floor burst waits this long first, for the paused workers' requests in flight to be answered. */
const FLOOR_DRAIN_MS = 150;
/** How often the run pauses for a floor burst. */
const FLOOR_EVERY_MS = 2_500;

interface BurstLine {
  burst: true;
  ok: number;
  failed: number;
  seconds: number;
  left: number;
}

interface Burst {
  phase: 'before' | 'during' | 'after';
  ok: number;
  seconds: number;
  /** CPU ticks of the floor client, the sandbox, Postgres and Redis over the burst */
  ticks: Record<string, number>;
}

/**
 * The floor over the bursts during and after the run, with each phase's own figure to show how
 * far the machine drifted. The burst before the run is not counted: the sandbox's code is not
 * warm yet then (it has served only the floor's warm-up), and that burst costs two to three times
 * what the later ones do; a floor measured cold is a floor too high.
 */
function floorOf(all: readonly Burst[]) {
  const bursts = all.filter((b) => b.phase !== 'before');
  const sum = (list: readonly Burst[], name?: string) =>
    list.reduce((a, b) => a + (name ? (b.ticks[name] ?? 0) : b.ticks.client! + b.ticks.sandbox!), 0);
  const exchanges = bursts.reduce((a, b) => a + b.ok, 0);
  const byPhase: Partial<Record<Burst['phase'], number>> = {};
  for (const phase of ['before', 'during', 'after'] as const) {
    const list = all.filter((b) => b.phase === phase);
    const ok = list.reduce((a, b) => a + b.ok, 0);
    if (ok > 0) byPhase[phase] = ms(sum(list), ok);
  }
  return {
    exchanges,
    /** counted bursts (the one before the run is not) */
    bursts: bursts.length,
    perSecond: Math.round(exchanges / bursts.reduce((a, b) => a + b.seconds, 0)),
    cpuMsPerExchange: ms(sum(bursts), exchanges),
    byProcess: {
      client: ms(sum(bursts, 'client'), exchanges),
      sandbox: ms(sum(bursts, 'sandbox'), exchanges),
    },
    byPhase,
    list: all.map((b) => ({ phase: b.phase, ok: b.ok, seconds: round(b.seconds, 3), ticks: b.ticks })),
  };
}

/** Rounds of the rules floor, each run right after a floor burst (`floor`) on the same machine. */
const RULES_ROUNDS = 4;
/** Then rounds on a Connection table with only its key and the sweep's index. */
const MINIMAL_INDEX_ROUNDS = 2;
/** The indexes the refresh path itself uses: rows by id, and the sweep's due order. */
const REFRESH_PATH_INDEXES = ['Connection_pkey', 'Connection_status_tokenExpiresAt_id_idx'];

/** Drops every index of Connection but the refresh path's own (the benchmark's private database only). */
async function dropIndexesBeyondRefresh(databaseUrl: string): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ indexname: string }>(
      `SELECT indexname FROM pg_indexes WHERE tablename = 'Connection'`,
    );
    const names = rows.map((r) => r.indexname);
    for (const keep of REFRESH_PATH_INDEXES) {
      if (!names.includes(keep)) throw new Error(`the Connection table has no index ${keep}; have ${names.join(', ')}`);
    }
    for (const name of names.filter((i) => !REFRESH_PATH_INDEXES.includes(i))) {
      await client.query(`DROP INDEX "${name}"`);
    }
  } finally {
    await client.end();
  }
}

interface RulesRound {
  /** the floor burst run just before */
  floor: Burst;
  ok: number;
  seconds: number;
  /** CPU ticks of the rules-floor child, the sandbox, Postgres and Redis over the burst */
  ticks: Record<string, number>;
  /** run on the table with only the refresh path's indexes */
  minimalIndexes: boolean;
}

/**
 * The rules floor over its rounds, and its ratio to the floor read from the same rounds: the floor
 * bursts that ran right before each rules-floor burst, so that a machine whose speed drifts moves
 * both sides of the ratio alike.
 */
function rulesFloorOf(rounds: readonly RulesRound[]) {
  const ok = rounds.reduce((a, r) => a + r.ok, 0);
  const all = (r: RulesRound) => Object.values(r.ticks).reduce((a, t) => a + t, 0);
  const floorTicks = (b: Burst) => b.ticks.client! + b.ticks.sandbox!;
  const names = Object.keys(rounds[0]?.ticks ?? {});
  const rulesMs = ms(rounds.reduce((a, r) => a + all(r), 0), ok);
  const floorMs = ms(
    rounds.reduce((a, r) => a + floorTicks(r.floor), 0),
    rounds.reduce((a, r) => a + r.floor.ok, 0),
  );
  return {
    refreshes: ok,
    perSecond: Math.round(ok / rounds.reduce((a, r) => a + r.seconds, 0)),
    cpuMsPerRefresh: rulesMs,
    byProcess: Object.fromEntries(names.map((k) => [k, ms(rounds.reduce((a, r) => a + r.ticks[k]!, 0), ok)])),
    /** the floor of the bursts run beside these rounds, and the ratio of the two */
    pairedFloorCpuMsPerExchange: floorMs,
    pairedRatioToFloor: round(floorMs / rulesMs, 3),
    rounds: rounds.map((r) => {
      const f = ms(floorTicks(r.floor), r.floor.ok);
      const q = ms(all(r), r.ok);
      return { floor: f, rules: q, ratio: round(f / q, 3) };
    }),
  };
}

export async function run(argv: string[]): Promise<void> {
  const n = arg(argv, 'connections', 100_000);
  const workers = arg(argv, 'workers', 2);
  const providers = REFRESH_PROVIDERS as readonly ProviderKey[];
  const concurrency = arg(argv, 'concurrency', 10);
  // the floor's exchanges, after a warm-up of a tenth as many (its own grants, in the sandbox only)
  const floorExchanges = arg(argv, 'floor', 20_000);
  const floorWarmup = Math.ceil(floorExchanges / 10);
  // the rules floor's refreshes, after a warm-up of a tenth as many (rows the run has refreshed)
  const rulesCount = Math.min(arg(argv, 'rules-floor', 12_000), Math.floor(n * 0.9));
  const rulesWarmup = Math.min(Math.ceil(rulesCount / 10), n - rulesCount);
  // --profile: the worker processes write V8 CPU profiles to bench/results/profiles/.
  const profile = argv.includes('--profile');
  const profileDir = join(import.meta.dirname, 'results', 'profiles');
  const slotsPerProcess = providers.length * concurrency;
  const totalConcurrency = workers * slotsPerProcess;
  // --redis-cluster: a private 3-master Redis Cluster (ports 18300–18302) instead of one server,
  // with a prefix without a hash tag, so the lanes spread over the masters.
  const useCluster = argv.includes('--redis-cluster');
  const tag = `bench-refresh-${randomBytes(3).toString('hex')}`;
  const prefix = useCluster ? tag : `{${tag}}`;
  const keySpec = `bench:${randomBytes(32).toString('base64')}`;
  const vault = new TokenVault(parseKeyring(keySpec));
  const scratch = mkdtempSync(join(tmpdir(), 'conduit-bench-refresh-'));
  const sentDir = join(scratch, 'redis-sent');
  mkdirSync(sentDir);

  console.log(
    `refresh bench: ${n.toLocaleString()} connections, ${workers} worker processes × ${providers.length} lanes × ${concurrency}`,
  );
  const [pgPort, redisPort] = await portsInRange(2);
  const children: ChildProcess[] = [];
  // However the run ends, no child outlives it (the private Postgres and Redis have their own hook).
  const killChildren = () => children.forEach((c) => c.exitCode === null && c.kill('SIGKILL'));
  process.once('exit', killChildren);
  let postgres: PrivatePostgres | undefined;
  let privateRedis: PrivateRedis | undefined;
  let cluster: PrivateRedisCluster | undefined;
  let redis: ReturnType<typeof createRedis> | undefined;
  let admin: pg.Client | undefined;
  let inDb: pg.Client | undefined;
  try {
    // Postgres as the machine's is configured where it matters (fsync and full-page writes on,
    // which the private cluster turns off by default: WAL flushes and full-page images are real),
    // pg_stat_statements loaded, and no checkpoint due inside a run (each would move the WAL
    // counts: full-page images after it).
    postgres = await startPrivatePostgres({
      port: pgPort,
      database: DB_NAME,
      settings: {
        fsync: 'on',
        full_page_writes: 'on',
        shared_preload_libraries: 'pg_stat_statements',
        'pg_stat_statements.track_planning': 'on',
        'pg_stat_statements.max': '1000',
        checkpoint_timeout: '1h',
        max_wal_size: '8GB',
      },
    });
    if (useCluster) {
      cluster = new PrivateRedisCluster([18300, 18301, 18302]);
      await cluster.start();
    } else {
      privateRedis = new PrivateRedis(redisPort!);
      await privateRedis.start();
    }
    const databaseUrl = postgres.url;
    // Every child is given the same Redis: the cluster's nodes, or the private server.
    const redisUrl = privateRedis?.url ?? '';
    const redisEnv: NodeJS.ProcessEnv = cluster
      ? { REDIS_CLUSTER_NODES: cluster.nodesSetting, REDIS_URL: '' }
      : { REDIS_URL: redisUrl };
    admin = new pg.Client({ connectionString: postgres.urlOf('postgres') });
    await admin.connect();
    inDb = new pg.Client({ connectionString: postgres.url });
    await inDb.connect();
    const haveStatements = await admin
      .query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements')
      .then(() => true)
      .catch(() => false);
    console.log(
      `private Postgres on ${pgPort} (pg_stat_statements ${haveStatements ? 'loaded' : 'not available'}), ${cluster ? `Redis Cluster on ${cluster.nodesSetting}` : `Redis on ${redisPort}`}`,
    );

    const sandbox = await startSandboxProcess();
    children.push(sandbox.child);
    let db = createDb({ databaseUrl, poolSize: 4 });
    redis = cluster ? createRedis({ clusterNodes: cluster.nodes }) : createRedis(redisUrl);

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
    // The floor's grants: the same providers in the same shares, in the sandbox only.
    const floorGrants: { provider: ProviderKey; refreshToken: string }[] = [];
    const floorPer = Math.ceil((floorExchanges + floorWarmup) / providers.length);
    for (const provider of providers) {
      const { grants } = await post<{ grants: Grant[] }>(`${sandbox.url}/_sandbox/grants`, {
        provider,
        count: floorPer,
      });
      for (const g of grants)
        if (g.refreshToken) floorGrants.push({ provider, refreshToken: g.refreshToken });
    }
    // interleaved, as the lanes run side by side
    floorGrants.sort((a, b) => a.refreshToken.localeCompare(b.refreshToken));
    await db.$executeRawUnsafe('ANALYZE "Connection"');
    console.log(
      `seeded ${seeded.toLocaleString()} grants and rows (+${floorGrants.length.toLocaleString()} floor grants) in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
    );

    // The two ceilings, measured once before the run and once after it, so that a machine whose
    // load drifts during the run moves both halves and the mean stays fair.
    const baselines = async (): Promise<{ queue: number; db: number }> => {
      // Baseline 1: the queue's ceiling — no-op jobs through the same number of processes and slots.
      const queueName = 'baseline-noop';
      const queue = new Queue(queueName, { connection: redis!, prefix: queueKeyPrefix(prefix, queueName) });
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
      const qWorkers = Array.from({ length: workers }, () =>
        spawnChild('bench/baseline-child.ts', ['queue', queueName, String(slotsPerProcess)], {
          ...redisEnv,
          CONDUIT_QUEUE_PREFIX: prefix,
        }),
      );
      children.push(...qWorkers.map((c) => c.child));
      await Promise.all(qWorkers.map((c) => c.ready));
      const qStart = performance.now();
      qWorkers.forEach(go);
      for (;;) {
        const c = await queue.getJobCounts('wait', 'active', 'prioritized');
        if ((c.wait ?? 0) + (c.active ?? 0) + (c.prioritized ?? 0) === 0) break;
        await sleep(20);
      }
      const queuePerSecond = m / ((performance.now() - qStart) / 1000);
      await Promise.all(qWorkers.map((w) => stop(w.child)));
      await queue.obliterate({ force: true });
      await queue.close();

      // Baseline 2: the database's ceiling — single-row compare-and-set updates, same slots.
      const dbOps = Math.min(n, 50_000);
      const rowsEach = Math.min(20_000, Math.floor(n / workers));
      const dbChildren = Array.from({ length: workers }, (_, i) =>
        spawnChild(
          'bench/baseline-child.ts',
          // each process its own rows, so the processes never update the same one
          [
            'db',
            String(slotsPerProcess),
            String(Math.ceil(dbOps / workers)),
            String(i * rowsEach),
            String(rowsEach),
          ],
          { DATABASE_URL: databaseUrl },
        ),
      );
      children.push(...dbChildren.map((c) => c.child));
      await Promise.all(dbChildren.map((c) => c.ready));
      const dbStart = performance.now();
      dbChildren.forEach(go);
      await Promise.all(dbChildren.map((c) => c.done));
      const dbPerSecond = dbOps / ((performance.now() - dbStart) / 1000);
      console.log(
        `baselines: ${Math.round(queuePerSecond).toLocaleString()} no-op jobs/s, ${Math.round(dbPerSecond).toLocaleString()} compare-and-set updates/s`,
      );
      return { queue: queuePerSecond, db: dbPerSecond };
    };
    const before = await baselines();
    // Back to the seeded state, dead rows gone, and a checkpoint now rather than during the run.
    await db.$executeRawUnsafe(`UPDATE "Connection" SET version = 0`);
    await db.$executeRawUnsafe('VACUUM (ANALYZE) "Connection"');
    await db.$executeRawUnsafe('CHECKPOINT');
    await db.$disconnect();

    // The processes every phase's CPU is also read from: the sandbox, the whole Postgres cluster, Redis.
    const servers: Measured[] = [
      { name: 'sandbox', pids: [sandbox.child.pid!] },
      { name: 'postgres', pids: [postgres.postmasterPid()!], tree: true },
      { name: 'redis', pids: cluster ? cluster.pids : [privateRedis!.pid!] },
    ];

    // The floor: the bare token exchange, client and sandbox CPU per exchange, in bursts (above).
    const grantsFile = join(scratch, 'floor-grants.json');
    writeFileSync(grantsFile, JSON.stringify(floorGrants));
    const floorLines = burstLines();
    const floorChild = spawnChild(
      'bench/refresh/floor-child.ts',
      [grantsFile, String(totalConcurrency), String(8 * workers), String(floorWarmup)],
      { NODE_ENV: 'development', CONDUIT_SANDBOX_URL: sandbox.url, LOG_LEVEL: 'silent' },
      { onLine: floorLines.onLine },
    );
    children.push(floorChild.child);
    await floorChild.ready;
    const floorMeasured: Measured[] = [{ name: 'client', pids: [floorChild.child.pid!] }, ...servers];
    const bursts: Burst[] = [];
    let floorLeft = floorExchanges;
    let pausedMs = 0;
    /** the floor bursts' pauses, epoch ms, to leave the commit windows they stretched out */
    const pauses: { from: number; to: number }[] = [];
    /** One floor burst; with `pause`, those processes are stopped around it (and their answers in flight drain first). */
    const floorBurst = async (phase: Burst['phase'], count: number, pause: readonly number[] = []) => {
      const paused = performance.now();
      const pausedAt = Date.now();
      for (const pid of pause) process.kill(pid, 'SIGSTOP');
      try {
        if (pause.length > 0) await sleep(FLOOR_DRAIN_MS);
        const { b, ticks } = await measuredBurst(floorChild, floorLines, floorMeasured, count, 'the floor client');
        const burst: Burst = { phase, ok: b.ok, seconds: b.seconds, ticks };
        bursts.push(burst);
        floorLeft = b.left;
        return burst;
      } finally {
        for (const pid of pause) process.kill(pid, 'SIGCONT');
        if (pause.length > 0) {
          pausedMs += performance.now() - paused;
          pauses.push({ from: pausedAt, to: Date.now() });
        }
      }
    };
    const edgeBurst = Math.max(1, Math.floor(floorExchanges / 20));
    // kept for the rounds after the run, each a burst twice this size beside a rules-floor burst
    const afterReserve = (RULES_ROUNDS + MINIMAL_INDEX_ROUNDS) * 2 * edgeBurst;
    await floorBurst('before', edgeBurst);

    // The real thing: K worker processes, then the scheduler's sweep.
    const env: NodeJS.ProcessEnv = {
      NODE_ENV: 'development',
      LOG_LEVEL: 'info',
      LOG_FORMAT: 'json',
      DATABASE_URL: databaseUrl,
      ...redisEnv,
      CONDUIT_QUEUE_PREFIX: prefix,
      CONDUIT_ENCRYPTION_KEYS: keySpec,
      CONDUIT_SANDBOX_URL: sandbox.url,
      CONDUIT_REFRESH_CONCURRENCY: String(concurrency),
      CONDUIT_REFRESH_SWEEP_INTERVAL_SECONDS: '5',
      CONDUIT_REFRESH_SWEEP_BATCH_SIZE: '5000',
      // Every row is due at once, so the queue holds minutes of work, which steady production
      // never does; with the default requeue-after (120 s) the sweep's lost-job safety net would
      // claim and queue the waiting rows again, and the counts would grow with --connections.
      // 1,500 s keeps a 3,600 s token's next refresh 35 minutes out, beyond the 30-minute limit.
      CONDUIT_REFRESH_BUFFER_SECONDS: '1500',
      CONDUIT_REFRESH_REQUEUE_AFTER_SECONDS: '1440',
      CONDUIT_WORKER_METRICS_PORT: '0',
      CONDUIT_DEMO_USERS: '0',
      // nothing but refreshes: no other sweep, no notification-outbox poll
      CONDUIT_SCHEDULER_SWEEPS_OFF: SWEEPS_OFF,
      CONDUIT_NOTIFY_POLL_MS: '3600000',
      CONDUIT_BENCH_REDIS_SENT_DIR: sentDir,
      // lets a run try other V8 flags on the workers than the production ones below
      ...(process.env.CONDUIT_BENCH_WORKER_NODE_OPTIONS && {
        NODE_OPTIONS: process.env.CONDUIT_BENCH_WORKER_NODE_OPTIONS,
      }),
    };
    if (profile) mkdirSync(profileDir, { recursive: true });
    const outcomes: Record<string, number> = {};
    const commits: { ms: number; at: number | undefined }[] = [];
    let refreshed = 0;
    const onLine = (line: string) => {
      const l = readAppLine(line);
      if (l.kind !== 'refresh') return;
      outcomes[l.outcome] = (outcomes[l.outcome] ?? 0) + 1;
      if (l.outcome === 'refreshed') {
        refreshed++;
        if (l.commitMs !== undefined) commits.push({ ms: l.commitMs, at: l.at });
      }
    };
    const spawnStarted = performance.now();
    const appWorkers = Array.from({ length: workers }, () =>
      spawnChild('apps/worker/src/main.ts', [], env, {
        preload: true,
        onLine,
        nodeFlags: [...WORKER_NODE_FLAGS, ...(profile ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [])],
      }),
    );
    children.push(...appWorkers.map((c) => c.child));
    await Promise.all(appWorkers.map((c) => c.ready));
    const workerPids = appWorkers.map((c) => c.child.pid!);
    const measured: Measured[] = [{ name: 'worker', pids: workerPids }, ...servers];
    // The window opens here: workers ready and idle, nothing queued yet.
    const c0 = cpuTicks(measured);
    const r0 = await commandStats(redis);
    const s0 = await sentCommands(sentDir, workerPids);
    const p0 = await pgCounters(admin, DB_NAME, inDb);
    await resetStatements(admin);
    const refreshedBefore = refreshed;

    const scheduler = spawnChild('apps/scheduler/src/main.ts', [], env, { preload: true });
    children.push(scheduler.child);
    await scheduler.ready;
    // Its start-up (module loading) stays out; its sweep is in.
    const schedulerTicks0 = cpuTicks([{ name: 'scheduler', pids: [scheduler.child.pid!] }]).scheduler!;
    const schedulerSent0 = await sentCommands(sentDir, [scheduler.child.pid!]);
    const start = performance.now();
    console.log(
      `workers and scheduler ready ${((start - spawnStarted) / 1000).toFixed(1)} s after their spawn; measuring`,
    );
    let peakRss = 0;
    let lastLog = 0;
    let lastBurst = performance.now();
    // CPU is also taken over the steady part, from the first tenth of the refreshes on: the
    // workers' first refreshes compile their code (JIT, Prisma's query compiler), a cost that
    // does not grow with --connections and would make small runs look dearer per refresh.
    const steadyFrom = Math.ceil(n / 10);
    let steady: { ticks: Record<string, number>; io: ProcIo; refreshed: number } | undefined;
    for (;;) {
      for (const pid of workerPids) peakRss = Math.max(peakRss, rssMb(pid));
      if (!steady && refreshed >= steadyFrom)
        steady = { ticks: cpuTicks(measured), io: readIo(workerPids), refreshed };
      // the floor, between pauses of the system, while there are grants left for the rounds after
      if (
        steady &&
        refreshed < n &&
        floorLeft >= edgeBurst + afterReserve &&
        performance.now() - lastBurst > FLOOR_EVERY_MS
      ) {
        await floorBurst('during', edgeBurst, [
          ...workerPids,
          scheduler.child.pid!,
        ]);
        lastBurst = performance.now();
      }
      if (Date.now() - lastLog > 5_000) {
        console.log(`  ${refreshed.toLocaleString()} / ${n.toLocaleString()} refreshed`);
        lastLog = Date.now();
      }
      if (refreshed >= n) break;
      if (performance.now() - start > 30 * 60_000)
        throw new Error(`only ${refreshed} of ${n} refreshed after 30 minutes`);
      await sleep(100);
    }
    // the run's own time: the pauses for the floor's bursts are left out
    const seconds = (performance.now() - start - pausedMs) / 1000;
    const measuredAll = [...measured, { name: 'scheduler', pids: [scheduler.child.pid!] }];
    const c1 = cpuTicks(measuredAll);
    const io1 = readIo(workerPids);
    const r1 = await commandStats(redis);
    const s1 = await sentCommands(sentDir, [...workerPids, scheduler.child.pid!]);
    const windowRefreshes = refreshed - refreshedBefore;
    await Promise.all([...appWorkers, scheduler].map((c) => stop(c.child)));
    // Backends flush their statistics when their session ends: read them after the apps stopped,
    // and before the rules floor writes anything.
    const p1 = await pgCounters(admin, DB_NAME, inDb);
    const stmts = haveStatements ? await statements(admin, DB_NAME) : null;

    // The rules floor: DESIGN.md's refresh-safety pieces alone (bench/refresh/rules-floor-child.ts),
    // on rows the run has refreshed, with the same pool size, batch size and requests in flight.
    const rowsClient = new pg.Client({ connectionString: databaseUrl });
    await rowsClient.connect();
    const rulesIds = await rowsClient
      .query<{ id: string }>(
        `SELECT id FROM "Connection" WHERE status = 'connected' ORDER BY random() LIMIT $1`,
        [rulesCount + rulesWarmup],
      )
      .then((r) => r.rows.map((row) => row.id))
      .finally(() => rowsClient.end());
    const rulesFile = join(scratch, 'rules-ids.json');
    writeFileSync(rulesFile, JSON.stringify(rulesIds));
    const rulesLines = burstLines();
    const rulesChild = spawnChild(
      'bench/refresh/rules-floor-child.ts',
      [
        rulesFile,
        String(totalConcurrency / 10),
        '10',
        String(8 * workers),
        String(Math.min(rulesWarmup, rulesIds.length)),
      ],
      { ...env, LOG_LEVEL: 'silent' },
      { onLine: rulesLines.onLine },
    );
    children.push(rulesChild.child);
    await rulesChild.ready;
    const rulesMeasured: Measured[] = [{ name: 'child', pids: [rulesChild.child.pid!] }, ...servers];
    const rulesRounds: RulesRound[] = [];
    const rulesBurst = async (count: number, floor: Burst, minimalIndexes: boolean) => {
      const { b, ticks } = await measuredBurst(rulesChild, rulesLines, rulesMeasured, count, 'the rules floor');
      rulesRounds.push({ floor, ok: b.ok, seconds: b.seconds, ticks, minimalIndexes });
    };
    // Side by side: each round a floor burst, then a rules-floor burst, so that both see the same
    // machine; their ratio is read from these rounds alone. The last rounds run on a Connection
    // table with only the two indexes the refresh path needs (its key and the sweep's), the best
    // any index layout could do: every other index dropped, so every lease write is HOT and the
    // commit writes two index entries instead of eight.
    const rulesLeft = Math.max(0, rulesIds.length - Math.min(rulesWarmup, rulesIds.length));
    const allRounds = RULES_ROUNDS + MINIMAL_INDEX_ROUNDS;
    for (let round = 0; round < allRounds; round++) {
      if (round === RULES_ROUNDS) await dropIndexesBeyondRefresh(databaseUrl);
      const left = allRounds - round;
      const beside = await floorBurst('after', Math.ceil(floorLeft / left));
      await rulesBurst(
        Math.ceil((rulesLeft - rulesRounds.reduce((a, r) => a + r.ok, 0)) / left),
        beside,
        round >= RULES_ROUNDS,
      );
    }
    floorChild.child.stdin!.end();
    rulesChild.child.stdin!.end();
    await Promise.all([stop(floorChild.child), stop(rulesChild.child)]);
    const floor = floorOf(bursts);
    console.log(
      `floor: ${floor.cpuMsPerExchange} ms CPU per token exchange (client ${floor.byProcess.client}, sandbox ${floor.byProcess.sandbox}), ` +
        `${floor.bursts} bursts counted (before ${floor.byPhase.before ?? '-'} not counted, during ${floor.byPhase.during ?? '-'}, after ${floor.byPhase.after ?? '-'})`,
    );
    const rulesFloor = {
      ...rulesFloorOf(rulesRounds.filter((r) => !r.minimalIndexes)),
      minimalIndexes: rulesFloorOf(rulesRounds.filter((r) => r.minimalIndexes)),
    };
    const rulesByProcess = rulesFloor.byProcess;
    console.log(
      `rules floor: ${rulesFloor.cpuMsPerRefresh} ms CPU per refresh (child ${rulesByProcess.child}, sandbox ${rulesByProcess.sandbox}, postgres ${rulesByProcess.postgres}, redis ${rulesByProcess.redis}), ${rulesFloor.perSecond}/s; ` +
        `side by side with the floor's bursts its ratio to the floor is ${rulesFloor.pairedRatioToFloor} (rounds ${rulesFloor.rounds.map((r) => r.ratio).join(', ')}); ` +
        `with only the refresh path's two indexes ${rulesFloor.minimalIndexes.cpuMsPerRefresh} ms (postgres ${rulesFloor.minimalIndexes.byProcess.postgres}), ratio ${rulesFloor.minimalIndexes.pairedRatioToFloor} (rounds ${rulesFloor.minimalIndexes.rounds.map((r) => r.ratio).join(', ')})`,
    );

    const report = (await (await fetch(`${sandbox.url}/_sandbox/report`)).json()) as { anomalies: number };
    db = createDb({ databaseUrl, poolSize: 1 });
    const [{ wrong, unrefreshed }] = await db.$queryRawUnsafe<[{ wrong: number; unrefreshed: number }]>(
      `SELECT count(*) FILTER (WHERE status <> 'connected')::int AS wrong,
              count(*) FILTER (WHERE "lastRefreshAt" IS NULL)::int AS unrefreshed FROM "Connection"`,
    );
    await db.$disconnect();
    const after = await baselines();
    const queueBaselinePerSecond = (before.queue + after.queue) / 2;
    const dbBaselinePerSecond = (before.db + after.db) / 2;

    // a window [logged - commitMs, logged] that overlaps a pause (1 ms either side: the log time is whole ms)
    const commitMs = commits
      .filter(
        (c) => c.at === undefined || !pauses.some((p) => c.at! + 1 >= p.from && c.at! - c.ms - 1 <= p.to),
      )
      .map((c) => c.ms);
    const steadyRefreshes = refreshed - steady!.refreshed;
    const cS = steady!.ticks;
    const wholeRun = {
      worker: c1.worker! - c0.worker!,
      scheduler: c1.scheduler! - schedulerTicks0,
      sandbox: c1.sandbox! - c0.sandbox!,
      postgres: c1.postgres! - c0.postgres!,
      redis: c1.redis! - c0.redis!,
    };
    // per refresh: the scheduler over the whole run (its sweep claims every row in the first
    // seconds, before the steady part), every other process over the steady part
    // the servers' CPU during the floor's bursts is the floor's (sandbox) or nobody's (idle Postgres, Redis)
    const inBursts = (name: string) =>
      bursts.filter((b) => b.phase === 'during').reduce((a, b) => a + (b.ticks[name] ?? 0), 0);
    for (const name of ['sandbox', 'postgres', 'redis'])
      wholeRun[name as keyof typeof wholeRun] -= inBursts(name);
    const byProcess = {
      worker: ms(c1.worker! - cS.worker!, steadyRefreshes),
      scheduler: ms(wholeRun.scheduler, windowRefreshes),
      sandbox: ms(c1.sandbox! - cS.sandbox! - inBursts('sandbox'), steadyRefreshes),
      postgres: ms(c1.postgres! - cS.postgres! - inBursts('postgres'), steadyRefreshes),
      redis: ms(c1.redis! - cS.redis! - inBursts('redis'), steadyRefreshes),
    };
    const allTicks = Object.values(wholeRun).reduce((a, b) => a + b, 0);
    const cpuMsPerRefresh = round(
      Object.values(byProcess).reduce((a, b) => a + b, 0),
      3,
    );
    const cpuMsPerRefreshWholeRun = ms(allTicks, windowRefreshes);
    // the bench's own INFO call at the window's start is counted inside it
    const executed = diffCounts(r0, r1);
    if (executed.info !== undefined) executed.info -= 1;
    if (executed.info === 0) delete executed.info;
    const sent = diffCounts({ ...s0 }, diffCounts(schedulerSent0, s1));
    const pgDelta = diffPg(p0, p1);
    const perRefresh = (x: number) => round(x / windowRefreshes, 3);
    const statementRows = stmts?.filter((s) => !/pg_stat_statements/.test(s.query));
    const result = {
      connections: n,
      workers,
      concurrencyPerLane: concurrency,
      totalConcurrency,
      seconds: Number(seconds.toFixed(2)),
      refreshesPerSecond: Math.round(windowRefreshes / seconds),
      queueBaselinePerSecond: Math.round(queueBaselinePerSecond),
      dbBaselinePerSecond: Math.round(dbBaselinePerSecond),
      // before and after the run: how far the machine drifted meanwhile
      baselineHalves: {
        queue: [Math.round(before.queue), Math.round(after.queue)],
        db: [Math.round(before.db), Math.round(after.db)],
      },
      ratioToDb: round(windowRefreshes / seconds / dbBaselinePerSecond, 3),
      ratioToQueue: round(windowRefreshes / seconds / queueBaselinePerSecond, 3),
      cpuMsPerRefresh,
      floorCpuMsPerExchange: floor.cpuMsPerExchange,
      ratioToFloor: round(floor.cpuMsPerExchange / cpuMsPerRefresh, 3),
      // what the refresh-safety rules cost by themselves, and the best ratio to the floor a path
      // that keeps them with these statements can reach (see docs/benchmarks.md)
      rulesFloorCpuMsPerRefresh: rulesFloor.cpuMsPerRefresh,
      rulesFloorRatioToFloor: round(floor.cpuMsPerExchange / rulesFloor.cpuMsPerRefresh, 3),
      // the share of Conduit's CPU that the rules floor's pieces account for: 1 would be no
      // overhead at all (the queue, the scheduler, logs and metrics free)
      ratioToRulesFloor: round(rulesFloor.cpuMsPerRefresh / cpuMsPerRefresh, 3),
      commitMs: {
        p50: quantile(commitMs, 0.5),
        p99: quantile(commitMs, 0.99),
        max: quantile(commitMs, 1),
        // windows that a floor burst's pause stretched (the benchmark's stop, not Conduit's) are left out
        leftOutForPauses: commits.length - commitMs.length,
      },
      workerPeakRssMb: Math.round(peakRss),
      sandboxAnomalies: report.anomalies,
      notConnected: wrong,
      notRefreshed: unrefreshed,
      cpuMsPerRefreshByProcess: byProcess,
      // the workers' system calls per refresh over the steady part (from /proc/<pid>/io): a count
      // that CPU speed does not move, so a change to the I/O pattern shows even on a noisy machine
      workerSyscallsPerRefresh: {
        reads: round((io1.syscr - steady!.io.syscr) / steadyRefreshes, 2),
        writes: round((io1.syscw - steady!.io.syscw) / steadyRefreshes, 2),
      },
      // the same from the workers' ready on, their warm-up included
      cpuMsPerRefreshWholeRun,
      redisPerRefresh: {
        sent: perRefresh(total(sent)),
        sentByCommand: perOperation(sent, windowRefreshes).byCommand,
        ...perOperation(executed, windowRefreshes),
      },
      postgresPerRefresh: {
        statements: statementRows ? perRefresh(statementRows.reduce((a, s) => a + s.calls, 0)) : null,
        plans: statementRows ? perRefresh(statementRows.reduce((a, s) => a + (s.plans ?? 0), 0)) : null,
        commits: perRefresh(pgDelta.xactCommit),
        rollbacks: perRefresh(pgDelta.xactRollback),
        rowsUpdated: perRefresh(pgDelta.tupUpdated),
        // HOT: the new row version on the same page and no index changed, so no index entry
        hotShareOfUpdates: pgDelta.connectionUpdates
          ? round(pgDelta.connectionHotUpdates / pgDelta.connectionUpdates, 3)
          : null,
        walFlushes: perRefresh(pgDelta.walSync),
        walWrites: perRefresh(pgDelta.walWrite),
        walRecords: perRefresh(pgDelta.walRecords),
        walFullPageImages: perRefresh(pgDelta.walFpi),
        walBytes: Math.round(pgDelta.walBytes / windowRefreshes),
        byStatement: statementRows
          ?.filter((s) => s.calls / windowRefreshes >= 0.005)
          .map((s) => ({
            calls: perRefresh(s.calls),
            plans: s.plans === null ? null : perRefresh(s.plans),
            query: s.query.replace(/\s+/g, ' ').slice(0, 160),
          })),
      },
      floor,
      rulesFloor,
      window: {
        refreshes: windowRefreshes,
        steadyRefreshes,
        outcomes,
        startupSeconds: Number(((start - spawnStarted) / 1000).toFixed(2)),
      },
      ...machine(),
      redis: cluster ? 'cluster of 3 masters' : 'one server',
      command: `npm run bench -- refresh --connections ${n} --workers ${workers} --concurrency ${concurrency}${cluster ? ' --redis-cluster' : ''}`,
    };
    const dir = join(import.meta.dirname, 'results');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'refresh.json'), JSON.stringify(result, null, 2) + '\n');
    const by = result.cpuMsPerRefreshByProcess;
    console.log(
      `refresh: ${result.refreshesPerSecond.toLocaleString()}/s (${result.seconds} s for ${windowRefreshes.toLocaleString()}); ` +
        `CPU ${cpuMsPerRefresh} ms per refresh (worker ${by.worker}, postgres ${by.postgres}, sandbox ${by.sandbox}, redis ${by.redis}, scheduler ${by.scheduler}); ` +
        `floor ${floor.cpuMsPerExchange} ms, ratio to floor ${result.ratioToFloor}; ` +
        `rules floor ${result.rulesFloorCpuMsPerRefresh} ms (its ratio to floor ${result.rulesFloorRatioToFloor}, ${result.rulesFloor.pairedRatioToFloor} side by side; Conduit's ratio to it ${result.ratioToRulesFloor}); ` +
        `worker syscalls ${result.workerSyscallsPerRefresh.reads} reads / ${result.workerSyscallsPerRefresh.writes} writes; ` +
        `Redis ${result.redisPerRefresh.sent} sent / ${result.redisPerRefresh.executed} executed; ` +
        `Postgres ${result.postgresPerRefresh.statements ?? '?'} statements, ${result.postgresPerRefresh.commits} commits, ${result.postgresPerRefresh.walFlushes} WAL flushes, ${result.postgresPerRefresh.rowsUpdated} row updates (HOT share ${result.postgresPerRefresh.hotShareOfUpdates ?? '?'}); ` +
        `commit p50 ${result.commitMs.p50} / p99 ${result.commitMs.p99} ms; ratio to db ${result.ratioToDb}, to queue ${result.ratioToQueue}; ` +
        `worker peak RSS ${result.workerPeakRssMb} MB; sandbox anomalies ${result.sandboxAnomalies}`,
    );
    if (result.sandboxAnomalies > 0 || wrong > 0 || unrefreshed > 0) process.exitCode = 1;
  } finally {
    await Promise.all(children.map((c) => stop(c, 'SIGKILL')));
    redis?.disconnect();
    await admin?.end().catch(() => undefined);
    await inDb?.end().catch(() => undefined);
    await privateRedis?.stop();
    await cluster?.stop();
    await postgres?.destroy();
    rmSync(scratch, { recursive: true, force: true });
    process.removeListener('exit', killChildren);
  }
}
