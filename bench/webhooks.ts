// `npm run bench -- webhooks [--seconds S=10] [--connections C=50] [--accounts A=100]
//                            [--webhook-mode per_connection|operator] [--log-level info] [--profile]`
// Signed Fathom deliveries at the real api process (fresh database, A connected Fathom accounts,
// the deliveries spread over them round robin, as many users' meetings are) from a load
// generator in a process of its own (autocannon). Each delivery has its own webhook-id; every one
// answered 2xx must be in WebhookDelivery afterwards (lost = accepted − stored). In the same run,
// with the same server, load generator and connections: the baseline, a route that does one
// INSERT of the same row (CONDUIT_BENCH_BASELINE_ROUTE=1), measured in two halves, before and
// after the webhook phase.
// Per connection (the default, as Conduit registers them): each account has its own webhook
// (seeded as the connect flow stores it: a routing id and its secret, vault-encrypted), and each
// delivery goes to /v1/webhooks/fathom/<routing id>, signed with that webhook's secret. The
// operator mode sends every delivery to /v1/webhooks/fathom with one secret, matched by email.
// CPU seconds per process (api, every postgres process, every redis-server, the load generator)
// are measured per phase, so the summary says where the time goes; --profile also runs the api
// under --cpu-prof and breaks its webhook-phase CPU down by package.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { Queue } from 'bullmq';
import { TokenVault, parseKeyring } from '@conduit/core';
import { createDb, newRoutingId } from '@conduit/db';
import { QUEUE_NAMES, createRedis } from '@conduit/jobs';
import { readMainProfile, summarizeWindow, type ProfileShare } from './cpu-profile.ts';
import type { LoadRoute } from './webhooks-load.ts';
import { arg, dropDatabase, freshDatabase, machine, nodeTs, ROOT, stop } from './support.ts';

const DB_NAME = 'conduit_bench_webhooks';
const emailOf = (i: number) => `bench.recorder.${i}@acme.test`;
const WEBHOOK_PATH = '/v1/webhooks/fathom';
const BASELINE_PATH = '/_bench/insert';
const WARMUP_SECONDS = 2;

interface LoadResult {
  seconds: number;
  sent: number;
  accepted: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  p50Ms: number;
  p99Ms: number;
  statusCodes: Record<string, { count: number }>;
  cpuSeconds: number;
}

interface Phase {
  load: LoadResult;
  acceptedIds: string[];
  fromMs: number;
  toMs: number;
  /** CPU seconds used during the phase, per process (group) */
  cpu: Record<string, number>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** CPU seconds (user + system) of one process, 0 once it is gone. */
function cpuOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

/** CPU seconds of every process whose name is `comm` (all postgres backends, every redis-server). */
function cpuOfAll(comm: string): number {
  let total = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() === comm) total += cpuOf(Number(entry));
    } catch {
      // the process ended meanwhile
    }
  }
  return total;
}

function cpuSnapshot(api: ChildProcess): Record<string, number> {
  return { api: cpuOf(api.pid!), postgres: cpuOfAll('postgres'), redis: cpuOfAll('redis-server') };
}

async function waitHealthy(base: string, api: ChildProcess): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (api.exitCode !== null)
      throw new Error(`the api exited with code ${api.exitCode} before it was ready`);
    try {
      if ((await fetch(`${base}/healthz`)).ok) return;
    } catch {
      // not listening yet
    }
    await sleep(200);
  }
  throw new Error('the api did not answer /healthz within 60 s');
}

async function runLoad(
  base: string,
  routes: LoadRoute[],
  seconds: number,
  connections: number,
  idPrefix: string,
  api: ChildProcess,
): Promise<Phase> {
  const dir = mkdtempSync(join(tmpdir(), 'conduit-webhooks-'));
  const acceptedFile = join(dir, 'accepted.txt');
  const routesFile = join(dir, 'routes.json');
  writeFileSync(routesFile, JSON.stringify({ routes }), { mode: 0o600 });
  const [cmd, args] = nodeTs('bench/webhooks-load.ts');
  const before = cpuSnapshot(api);
  const fromMs = Date.now();
  const child = spawn(
    cmd,
    [...args, base, String(seconds), String(connections), routesFile, idPrefix, acceptedFile],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let line = '';
  for await (const l of createInterface({ input: child.stdout! })) line = l;
  const code = await exited;
  const toMs = Date.now();
  const after = cpuSnapshot(api);
  if (code !== 0) throw new Error(`the load generator exited with code ${code}`);
  const load = JSON.parse(line) as LoadResult;
  const acceptedIds = readFileSync(acceptedFile, 'utf8').split('\n').filter(Boolean);
  rmSync(dir, { recursive: true, force: true });
  const cpu = Object.fromEntries(Object.keys(before).map((k) => [k, after[k]! - before[k]!]));
  cpu.loadGenerator = load.cpuSeconds;
  return { load, acceptedIds, fromMs, toMs, cpu };
}

function rate(phase: Phase): number {
  return Math.round(phase.load.accepted / phase.load.seconds);
}

/** Two runs of one route as one: counts and CPU add up; latency percentiles are the runs' worse. */
function combine(a: Phase, b: Phase): Phase {
  const sum = (x: number, y: number) => x + y;
  return {
    load: {
      ...a.load,
      seconds: a.load.seconds + b.load.seconds,
      sent: a.load.sent + b.load.sent,
      accepted: a.load.accepted + b.load.accepted,
      non2xx: a.load.non2xx + b.load.non2xx,
      errors: a.load.errors + b.load.errors,
      timeouts: a.load.timeouts + b.load.timeouts,
      p50Ms: Math.max(a.load.p50Ms, b.load.p50Ms),
      p99Ms: Math.max(a.load.p99Ms, b.load.p99Ms),
      cpuSeconds: a.load.cpuSeconds + b.load.cpuSeconds,
    },
    acceptedIds: [...a.acceptedIds, ...b.acceptedIds],
    fromMs: a.fromMs,
    toMs: b.toMs,
    cpu: Object.fromEntries(Object.keys(a.cpu).map((k) => [k, sum(a.cpu[k]!, b.cpu[k] ?? 0)])),
  };
}

/** Microseconds of CPU per 2xx request, per process group. */
function perRequest(phase: Phase): Record<string, number> {
  const n = Math.max(1, phase.load.accepted);
  return Object.fromEntries(Object.entries(phase.cpu).map(([k, s]) => [k, Math.round((s * 1e6) / n)]));
}

export async function run(argv: string[]): Promise<void> {
  const seconds = arg(argv, 'seconds', 10);
  const connections = arg(argv, 'connections', 50);
  const accounts = arg(argv, 'accounts', 100);
  const profile = argv.includes('--profile');
  const mi = argv.indexOf('--webhook-mode');
  const mode = mi >= 0 ? argv[mi + 1] : 'per_connection';
  if (mode !== 'per_connection' && mode !== 'operator') {
    throw new Error(`--webhook-mode must be per_connection or operator, not "${mode ?? ''}"`);
  }
  const li = argv.indexOf('--log-level');
  const logLevel = li >= 0 ? (argv[li + 1] ?? 'info') : 'info';
  const secret = `whsec_${randomBytes(32).toString('base64')}`;
  const keySpec = `bench:${randomBytes(32).toString('base64')}`;
  const prefix = `{bench-webhooks-${randomBytes(3).toString('hex')}}`;
  const runId = randomBytes(4).toString('hex');
  const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

  console.log(`webhooks bench: ${seconds} s per phase, ${connections} connections, ${mode} webhooks`);
  const databaseUrl = await freshDatabase(DB_NAME);
  const db = createDb({ databaseUrl, poolSize: 2 });
  const redis = createRedis(redisUrl);
  const profileDir = profile ? mkdtempSync(join(tmpdir(), 'conduit-webhooks-prof-')) : undefined;
  let api: ChildProcess | undefined;
  try {
    const vault = new TokenVault(parseKeyring(keySpec));
    const conns = await db.connection.createManyAndReturn({
      data: Array.from({ length: accounts }, (_, i) => ({
        ownerId: `bench-webhooks-owner-${i}`,
        provider: 'fathom' as const,
        externalEmail: emailOf(i),
        accessTokenEnc: vault.encrypt('bench-access-token'),
        refreshTokenEnc: vault.encrypt('bench-refresh-token'),
        tokenExpiresAt: new Date(Date.now() + 86_400_000),
      })),
      select: { id: true, externalEmail: true },
    });
    let routes: LoadRoute[];
    if (mode === 'per_connection') {
      // Each connection's webhook as the connect flow stores it once Fathom answered the registration.
      const hooks = conns.map((c, i) => ({
        connectionId: c.id,
        email: c.externalEmail!,
        routingId: newRoutingId(),
        secret: `whsec_${randomBytes(24).toString('base64')}`,
        externalId: `bench-webhook-${i}`,
      }));
      const now = new Date();
      await db.connectionWebhook.createMany({
        data: hooks.map((h) => ({
          connectionId: h.connectionId,
          provider: 'fathom' as const,
          routingId: h.routingId,
          externalId: h.externalId,
          secretEnc: vault.encrypt(h.secret),
          registeredAt: now,
          checkedAt: now,
        })),
      });
      routes = hooks.map((h) => ({
        path: `${WEBHOOK_PATH}/${h.routingId}`,
        secret: h.secret,
        email: h.email,
      }));
    } else {
      routes = conns.map((c) => ({ path: WEBHOOK_PATH, secret, email: c.externalEmail! }));
    }

    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const [cmd, args] = nodeTs('apps/api/src/main.ts');
    api = spawn(cmd, [...(profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : []), ...args], {
      cwd: ROOT,
      env: {
        ...process.env,
        NODE_ENV: 'development',
        LOG_LEVEL: logLevel,
        LOG_FORMAT: 'json',
        DATABASE_URL: databaseUrl,
        REDIS_URL: redisUrl,
        CONDUIT_QUEUE_PREFIX: prefix,
        CONDUIT_ENCRYPTION_KEYS: keySpec,
        CONDUIT_API_PORT: String(port),
        CONDUIT_PUBLIC_URL: base,
        CONDUIT_FATHOM_WEBHOOK_MODE: mode,
        ...(mode === 'operator' && { CONDUIT_FATHOM_WEBHOOK_SECRET: secret }),
        CONDUIT_DEMO_USERS: '0',
        CONDUIT_BENCH_BASELINE_ROUTE: '1',
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    await waitHealthy(base, api);

    // The baseline route stores the same body with the same signature, at one path.
    const baselineRoutes = routes.map((r) => ({ ...r, path: BASELINE_PATH }));
    const phase = (r: LoadRoute[], s: number, tag: string) =>
      runLoad(base, r, s, connections, `msg_${runId}_${tag}_`, api!);
    await phase(routes, WARMUP_SECONDS, 'warm');
    await phase(baselineRoutes, WARMUP_SECONDS, 'warmbase');
    // Baseline halves on either side of the webhook phase, so drift in the machine's load cancels.
    const before = await phase(baselineRoutes, seconds / 2, 'base1');
    const hooks = await phase(routes, seconds, 'hook');
    const after = await phase(baselineRoutes, seconds / 2, 'base2');
    const baseline = combine(before, after);
    console.log(
      `  baseline ${rate(before)} req/s, webhooks ${rate(hooks)} req/s, baseline ${rate(after)} req/s`,
    );

    // Every delivery answered 2xx must be in the inbox, found by its webhook-id.
    const [{ stored }] = await db.$queryRawUnsafe<[{ stored: number }]>(
      `SELECT count(*)::int AS stored FROM "WebhookDelivery" WHERE provider = 'fathom' AND "deliveryId" = ANY($1::text[])`,
      hooks.acceptedIds,
    );
    const transcripts = new Queue(QUEUE_NAMES.transcripts, { connection: redis, prefix });
    const queued = await transcripts.getJobCounts('wait', 'prioritized', 'delayed');
    await transcripts.close();

    let apiProfile: Record<'webhooks' | 'baseline', { busyMs: number; shares: ProfileShare[] }> | undefined;
    if (profileDir) {
      await stop(api);
      const exitWallMs = Date.now();
      const profile = readMainProfile(profileDir);
      apiProfile = {
        webhooks: summarizeWindow(profile, { fromMs: hooks.fromMs, toMs: hooks.toMs, exitWallMs }),
        baseline: summarizeWindow(profile, { fromMs: after.fromMs, toMs: after.toMs, exitWallMs }),
      };
    }

    const requestsPerSecond = hooks.load.accepted / hooks.load.seconds;
    const baselineRequestsPerSecond = baseline.load.accepted / baseline.load.seconds;
    const result = {
      requestsPerSecond: Math.round(requestsPerSecond),
      p50Ms: hooks.load.p50Ms,
      p99Ms: hooks.load.p99Ms,
      accepted: hooks.load.accepted,
      stored,
      lost: hooks.load.accepted - stored,
      baselineRequestsPerSecond: Math.round(baselineRequestsPerSecond),
      ratio: Number((requestsPerSecond / baselineRequestsPerSecond).toFixed(3)),
      baselineP50Ms: baseline.load.p50Ms,
      baselineP99Ms: baseline.load.p99Ms,
      seconds,
      connections,
      accounts,
      webhookMode: mode,
      logLevel,
      refused: {
        webhooks: hooks.load.non2xx + hooks.load.errors,
        baseline: baseline.load.non2xx + baseline.load.errors,
      },
      transcriptJobsQueued: (queued.wait ?? 0) + (queued.prioritized ?? 0) + (queued.delayed ?? 0),
      cpuMicrosecondsPerRequest: { webhooks: perRequest(hooks), baseline: perRequest(baseline) },
      ...(apiProfile && { apiProfile }),
      ...machine(),
      command:
        `npm run bench -- webhooks --seconds ${seconds} --connections ${connections} --accounts ${accounts}` +
        `${mode === 'per_connection' ? '' : ` --webhook-mode ${mode}`}` +
        `${logLevel === 'info' ? '' : ` --log-level ${logLevel}`}${profile ? ' --profile' : ''}`,
    };
    const dir = join(import.meta.dirname, 'results');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'webhooks.json'), JSON.stringify(result, null, 2) + '\n');
    console.log(
      `webhooks: ${result.requestsPerSecond}/s (p50 ${result.p50Ms} ms, p99 ${result.p99Ms} ms); ` +
        `baseline one INSERT: ${result.baselineRequestsPerSecond}/s; ratio ${result.ratio}; ` +
        `accepted ${result.accepted}, stored ${result.stored}, lost ${result.lost}`,
    );
    const cpu = result.cpuMicrosecondsPerRequest;
    console.log(
      `  CPU µs per request — webhooks ${JSON.stringify(cpu.webhooks)}; baseline ${JSON.stringify(cpu.baseline)}`,
    );
    if (apiProfile) {
      for (const [phase, p] of Object.entries(apiProfile)) {
        console.log(`  api CPU, ${phase} phase (${p.busyMs} ms busy):`);
        for (const s of p.shares) console.log(`    ${String(s.percent).padStart(5)} %  ${s.category}`);
      }
    }
    if (result.lost !== 0) process.exitCode = 1;
  } finally {
    if (api) await stop(api);
    if (profileDir) rmSync(profileDir, { recursive: true, force: true });
    let cursor = '0';
    for (let i = 0; i < 100_000; i++) {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      if (keys.length > 0) await redis.del(...keys);
      cursor = next;
      if (cursor === '0') break;
    }
    redis.disconnect();
    await db.$disconnect();
    await dropDatabase(DB_NAME);
  }
}
