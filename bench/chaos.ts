// `npm run chaos [--connections N=10000] [--minutes M=3] [--only a,b | --skip c,d] [--hog] [--out file]`
// (more knobs: bench/chaos/options.ts; every fault class: docs/chaos.md)
// The real apps as separate processes (api, scheduler, K workers, sandbox) against a private
// redis-server and a private Postgres cluster (through a latency proxy), with rotating refresh
// tokens, short token lifetimes and a fault mix, while workers are SIGKILLed, the datastores
// restart or go away, rows stay locked, a worker freezes, answers get lost, the cores starve and
// webhooks arrive (some twice). Then the faults stop, the system converges, the apps stop, and
// the invariants are counted. Writes bench/results/chaos.json (or --out); exits 1 on any
// violation, naming it. Everything it starts it stops, also on failure and on Ctrl-C.
import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { TokenVault, parseKeyring, type ProviderKey } from '@conduit/core';
import { createDb, type Db } from '@conduit/db';
import { freePort, PrivateRedis, startPrivatePostgres, type PrivatePostgres } from '@conduit/testing';
import { CpuHog } from './chaos/cpu-hog.ts';
import { TcpProxy } from './chaos/tcp-proxy.ts';
import { runFaultPhase, type Timeline } from './chaos/disruptions.ts';
import { waitForConvergence, type Convergence } from './chaos/convergence.ts';
import { Fleet } from './chaos/fleet.ts';
import { finalChecks } from './chaos/invariants.ts';
import { conduitTimings, parseOptions } from './chaos/options.ts';
import { notConverged, resultJson, summary, violationsOf, type RunRecord } from './chaos/result.ts';
import { SandboxControl, trafficOf } from './chaos/sandbox-control.ts';
import { seedConnections, seededRandom } from './chaos/seed.ts';
import { failedJobs, stuckJobs, transcriptJobs } from './chaos/stuck-jobs.ts';
import { operatorRoutes, registerConnectionWebhooks } from './chaos/webhook-routes.ts';
import { WebhookSender } from './chaos/webhook-sender.ts';
import { machine, startSandboxProcess, stop } from './support.ts';

const o = parseOptions(process.argv.slice(2));
const dbName = 'conduit_chaos';
const prefix = '{chaos}';
const keySpec = `chaos:${randomBytes(32).toString('base64')}`;
const webhookSecret = `whsec_${randomBytes(32).toString('base64')}`;
const goodSecret = (p: ProviderKey) => `sandbox-secret-${p}`;
const logDir = mkdtempSync(join(tmpdir(), 'conduit-chaos-'));
const seconds = (from: number) => Number(((Date.now() - from) / 1000).toFixed(1));
const runStartedAt = new Date();

console.log(
  `chaos: ${o.connections.toLocaleString()} connections, ${o.minutes} min of faults, ${o.workers} workers, ` +
    `token lifetimes ${o.ttlMinSeconds}–${o.ttlMaxSeconds} s; logs in ${logDir}`,
);
let redis: PrivateRedis | undefined;
let postgres: PrivatePostgres | undefined;
const proxies: { pg?: TcpProxy; redis?: TcpProxy } = {};
let hog: CpuHog | undefined;
let sandboxProcess: Awaited<ReturnType<typeof startSandboxProcess>> | undefined;
let fleet: Fleet | undefined;
let db: Db | undefined;
const vault = new TokenVault(parseKeyring(keySpec));

let cleaning: Promise<void> | undefined;
function cleanUp(keepLogs: boolean): Promise<void> {
  cleaning ??= (async () => {
    await fleet?.killAll().catch(() => undefined);
    if (sandboxProcess) await stop(sandboxProcess.child).catch(() => undefined);
    await hog?.stop().catch(() => undefined);
    for (const p of [proxies.pg, proxies.redis]) await p?.close().catch(() => undefined);
    await redis?.stop();
    await db?.$disconnect().catch(() => undefined);
    if (postgres) {
      if (keepLogs && existsSync(postgres.logFile))
        copyFileSync(postgres.logFile, join(logDir, 'postgres.log'));
      await postgres.destroy();
    }
    if (!keepLogs) rmSync(logDir, { recursive: true, force: true });
  })();
  return cleaning;
}

// The cluster, the CPU hogs, Redis and the apps kill themselves from `exit` handlers of their own.
process.once('exit', () => sandboxProcess?.child.kill('SIGKILL'));

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    console.error(`chaos: ${signal}, stopping everything it started`);
    void cleanUp(true).finally(() => process.exit(130));
  });
}

let violations: string[] = ['the run did not finish'];
try {
  redis = await PrivateRedis.onFreePort();
  postgres = await startPrivatePostgres({ database: dbName, maxConnections: 300 });
  db = createDb({ databaseUrl: postgres.url, poolSize: 4 });
  // The apps reach both datastores through the latency proxy when that class runs; the run's own
  // checks never do.
  if (!o.skip.has('latency')) {
    proxies.pg = await TcpProxy.start(postgres.port);
    proxies.redis = await TcpProxy.start(redis.port);
  }
  const appDatabaseUrl = `postgresql://postgres@127.0.0.1:${proxies.pg?.port ?? postgres.port}/${dbName}`;
  const appRedisUrl = `redis://127.0.0.1:${proxies.redis?.port ?? redis.port}`;
  console.log(
    `private Postgres on ${postgres.port}, private Redis on ${redis.port}` +
      (proxies.pg ? `, apps through latency proxies ${proxies.pg.port} and ${proxies.redis!.port}` : ''),
  );
  if (o.hogThroughout) {
    hog = CpuHog.start();
    console.log(`CPU hog on every core for the whole run (pids ${hog.pids.join(', ')})`);
  }
  sandboxProcess = await startSandboxProcess({ CONDUIT_SANDBOX_SEED: String(o.seed) });
  const sandbox = new SandboxControl(sandboxProcess.url);
  const apiPort = await freePort();
  const apiUrl = `http://127.0.0.1:${apiPort}`;
  fleet = new Fleet(
    {
      NODE_ENV: 'development',
      LOG_LEVEL: 'info',
      LOG_FORMAT: 'json',
      DATABASE_URL: appDatabaseUrl,
      REDIS_URL: appRedisUrl,
      CONDUIT_QUEUE_PREFIX: prefix,
      CONDUIT_ENCRYPTION_KEYS: keySpec,
      CONDUIT_SANDBOX_URL: sandboxProcess.url,
      CONDUIT_API_PORT: String(apiPort),
      CONDUIT_PUBLIC_URL: apiUrl,
      // per connection: each delivery on its connection's route, signed with that webhook's secret;
      // operator: one route and one secret, matched by the recorder's email
      CONDUIT_FATHOM_WEBHOOK_MODE: o.webhookMode,
      ...(o.webhookMode === 'operator' && { CONDUIT_FATHOM_WEBHOOK_SECRET: webhookSecret }),
      CONDUIT_DEMO_USERS: '0',
      CONDUIT_WORKER_METRICS_PORT: '0',
      ...conduitTimings(o),
    },
    logDir,
    o.workers,
  );
  const t0 = Date.now();
  const seeded = await seedConnections({ sandbox, db, vault, ...o, seed: o.seed });
  console.log(`seeded ${seeded.length} grants and connections in ${seconds(t0)} s`);
  const tw = Date.now();
  const routeOf =
    o.webhookMode === 'per_connection'
      ? await registerConnectionWebhooks({ apiUrl, sandbox, db, vault, seeded })
      : operatorRoutes(apiUrl, webhookSecret);
  if (o.webhookMode === 'per_connection') {
    const fathom = seeded.filter((c) => c.provider === 'fathom').length;
    console.log(`registered ${fathom} per-connection Fathom webhooks in ${seconds(tw)} s`);
  }
  const t1 = Date.now();
  await fleet.start(apiUrl);
  console.log(`api, scheduler and ${o.workers} workers ready in ${seconds(t1)} s`);

  const random = seededRandom(o.seed + 1);
  const targets = seeded.filter((c) => c.provider === 'fathom' && !c.revoked);
  const sender = new WebhookSender(routeOf, sandbox, targets, o.duplicateShare, random);
  const faultsFrom = Date.now();
  sender.start(o.webhooksPerSecond);
  const timeline: Timeline = await runFaultPhase({
    options: o,
    fleet,
    redis,
    pg: postgres,
    databaseUrl: postgres.url,
    proxies,
    sandbox,
    db,
    seeded,
    goodSecret,
    lockTtlMs: Number(conduitTimings(o).CONDUIT_LOCK_TTL_MS),
  });
  await sandbox.clearFaults();
  const faultSeconds = seconds(faultsFrom);
  const duringFaults = trafficOf(await sandbox.report(false));
  await sender.stop();
  console.log(`faults off after ${faultSeconds} s; waiting for the workers restarted last`);
  await fleet.workersReady(60_000);

  const acceptedIds = [...sender.accepted.keys()];
  const convergence: Convergence = await waitForConvergence(
    db,
    seeded,
    acceptedIds,
    o.convergeTimeoutSeconds,
    (p, s) => console.log(`  converging (${s.toFixed(0)} s): ${JSON.stringify(p)}`),
  );
  console.log(
    convergence.converged
      ? `converged in ${convergence.seconds.toFixed(1)} s`
      : `${notConverged(convergence, o.convergeTimeoutSeconds)}: ${JSON.stringify(convergence.last)}`,
  );
  const queues = await stuckJobs(
    redis.url,
    prefix,
    Number(conduitTimings(o).CONDUIT_JOB_STALLED_INTERVAL_MS),
  );
  await fleet.quiesce();

  const report = await sandbox.report(true);
  const checks = await finalChecks({
    db,
    vault,
    report,
    seeded,
    acceptedIds,
    duplicatesTakenAsNew: sender.stats.duplicatesTakenAsNew,
    stuckJobs: queues.stuck,
    killedAgents: fleet.killedAgents,
    stoppedAgents: fleet.stoppedAgents,
    lockTtlMs: Number(conduitTimings(o).CONDUIT_LOCK_TTL_MS),
    runStartedAt,
    answerLostWindows: timeline.windows
      .filter((w) => w.cls === 'lost-answer')
      .map((w) => ({ fromMs: faultsFrom + w.startedAtMs, toMs: faultsFrom + w.endedAtMs })),
  });
  // Where the fetches of unprocessed webhooks stand, and what failed: Redis still has it all.
  const lostWebhookJobs = await transcriptJobs(
    redis.url,
    prefix,
    checks.lostWebhookExamples.flatMap((w) =>
      w.connectionId ? [{ connectionId: w.connectionId, recordingId: w.recordingId }] : [],
    ),
  );
  const failed = await failedJobs(redis.url, prefix);

  const record: RunRecord = {
    options: o,
    checks,
    convergence,
    queues,
    timeline: [
      ...timeline.events,
      ...fleet.events.map((e) => ({ atMs: e.at - faultsFrom, what: e.what })),
    ].sort((x, y) => x.atMs - y.atMs),
    revoked: timeline.revoked,
    badSecretRefusals: timeline.badSecretRefusals,
    kills: fleet.kills,
    redisRestarts: timeline.windows.filter((w) => w.cls === 'redis-restart').length,
    redisOutages: timeline.windows.filter((w) => w.cls === 'redis-outage').length,
    pgRestarts: { ...postgres.restarts },
    windows: timeline.windows,
    phaseStart: faultsFrom,
    unexpectedExits: fleet.unexpectedExits,
    faultSeconds,
    totalSeconds: seconds(t0),
    duringFaults,
    traffic: trafficOf(report),
    webhooks: { ...sender.stats, accepted: acceptedIds.length },
    lostWebhookJobs,
    failedJobs: failed,
  };
  violations = violationsOf(record);
  mkdirSync(dirname(o.out), { recursive: true });
  writeFileSync(
    o.out,
    JSON.stringify(
      {
        ...resultJson(record, violations),
        ...machine(),
        command: ['npm run chaos', ...(process.argv.length > 2 ? ['--', ...process.argv.slice(2)] : [])].join(
          ' ',
        ),
      },
      null,
      2,
    ) + '\n',
  );
  for (const line of summary(record)) console.log(line);
  console.log(`wrote ${o.out}`);
} catch (err) {
  violations = [`the run failed: ${err instanceof Error ? err.message : String(err)}`];
  console.error(err);
} finally {
  await cleanUp(violations.length > 0 || o.keepLogs);
}

if (violations.length > 0) {
  console.error(`chaos: ${violations.length} violation(s):\n${violations.map((v) => `  - ${v}`).join('\n')}`);
  console.error(`logs of every app: ${logDir}`);
  process.exit(1);
}
console.log('chaos: every invariant held');
process.exit(0);
