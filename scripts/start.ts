// `npm start`: the whole system on one machine, in this order, each step failing with one line:
//   1. `.env` (the environment wins) and the configuration, checked before anything touches a
//      datastore (exit 78 with one line per mistake);
//   2. the datastores: DATABASE_URL / REDIS_URL when set; else the local ones on
//      CONDUIT_LOCAL_POSTGRES_PORT / CONDUIT_LOCAL_REDIS_PORT; else an embedded Postgres and a
//      private redis-server, their data in CONDUIT_DATA_DIR;
//   3. the database created if needed and the migrations applied (our runner, ~0.1 s);
//   4. sandbox, api, worker and scheduler as child processes, their logs interleaved;
//   5. a banner once the api's /readyz answers 200: the URLs, the logins, the datastores.
// Ctrl-C stops the apps (each lets running work finish), then the private datastores.
import { spawn, type ChildProcess } from 'node:child_process';
import { join, relative } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { EX_CONFIG, loadConfigOrExit, loadDotEnv, REPOSITORY_ROOT, type Config } from '@conduit/config';
import { MigrationError } from '@conduit/db/migrate';
import { DatastoreUnreachableError } from '@conduit/runtime/reachability';
import { startEmbeddedPostgres, type EmbeddedPostgres } from './start/embedded-postgres.ts';
import { prepareDatabase } from './start/prepare-database.ts';
import {
  INSTALL_REDIS,
  redisServerOnPath,
  startPrivateRedis,
  type PrivateRedis,
} from './start/private-redis.ts';
import { portAnswers } from './start/probe.ts';

const startedAt = performance.now();
const EX_UNAVAILABLE = 69;
const colour = process.stdout.isTTY === true;
const paint = (code: number, text: string) => (colour ? `\u001b[${code}m${text}\u001b[0m` : text);

function say(line: string): void {
  process.stdout.write(`${paint(1, 'conduit')} ${line}\n`);
}

function fail(line: string, code: number): never {
  process.stderr.write(`conduit: ${line}\n`);
  process.exit(code);
}

/** A folder as shown to people: from the repository root when it is inside it. */
function folder(dir: string): string {
  const rel = relative(REPOSITORY_ROOT, dir);
  return rel === '' || rel.startsWith('..') ? dir : rel;
}

/** A URL as shown to people: no password. */
function shown(url: string): string {
  return url.replace(/(\/\/[^/:@]*:)[^/@]*@/, '$1***@');
}

loadDotEnv(process.env);
const config: Config = loadConfigOrExit(process.env, 'start');
const dataDir = config.runtime.dataDir;
const waitMs = config.runtime.datastoreWaitSeconds * 1000;

interface Store {
  kind: 'configured' | 'local' | 'embedded' | 'private';
  url: string;
  stop?: () => Promise<void>;
}

const privateStores: { stop(): Promise<void> }[] = [];
const children = new Map<string, ChildProcess>();
let stopping = false;

async function stopPrivateStores(): Promise<void> {
  for (const s of privateStores.reverse()) await s.stop().catch(() => undefined);
}

/** One line and the exit, after stopping whatever private datastore this run already started. */
async function stopAndFail(line: string, code: number): Promise<never> {
  stopping = true;
  await stopPrivateStores();
  return fail(line, code);
}

// From here on Ctrl-C stops what was started so far, datastores included.
process.on('SIGINT', () => void stopAll(0));
process.on('SIGTERM', () => void stopAll(0));
process.on('SIGHUP', () => void stopAll(0));

async function postgres(): Promise<Store> {
  if (config.database.urlIsSet) return { kind: 'configured', url: config.database.url };
  const port = config.database.localPort;
  if (await portAnswers(port)) return { kind: 'local', url: config.database.url };
  const dir = join(dataDir, 'pg');
  say(`no Postgres on 127.0.0.1:${port}: starting the embedded one (data in ${folder(dir)})`);
  let pg: EmbeddedPostgres;
  try {
    pg = await startEmbeddedPostgres({ dataDir: dir, port });
  } catch (error) {
    return stopAndFail(
      `${(error as Error).message}; or start your Postgres, or set DATABASE_URL`,
      EX_UNAVAILABLE,
    );
  }
  privateStores.push(pg);
  return { kind: 'embedded', url: pg.url };
}

async function redis(): Promise<Store> {
  const cluster = config.redis.clusterNodes;
  if (cluster) return { kind: 'configured', url: cluster.map((n) => `${n.host}:${n.port}`).join(',') };
  if (config.redis.urlIsSet) return { kind: 'configured', url: config.redis.url };
  const port = config.redis.localPort;
  if (await portAnswers(port)) return { kind: 'local', url: config.redis.url };
  if (!redisServerOnPath())
    return stopAndFail(
      `no Redis on 127.0.0.1:${port}, and no redis-server to start one; ${INSTALL_REDIS}`,
      EX_UNAVAILABLE,
    );
  say(`no Redis on 127.0.0.1:${port}: starting a private redis-server`);
  let server: PrivateRedis;
  try {
    server = await startPrivateRedis({ port, dir: join(dataDir, 'redis') });
  } catch (error) {
    return stopAndFail(`${(error as Error).message}; or start your Redis, or set REDIS_URL`, EX_UNAVAILABLE);
  }
  privateStores.push(server);
  return { kind: 'private', url: server.url };
}

// A port already taken (often by an earlier `npm start`) would otherwise surface as one app's
// EADDRINUSE stack trace after the others started.
const ports: [string, number][] = [
  ['CONDUIT_API_PORT', config.api.port],
  ['CONDUIT_SANDBOX_PORT', config.sandbox.port],
  ['CONDUIT_WORKER_METRICS_PORT', config.api.workerMetricsPort],
];
for (const [name, port] of ports) {
  if (port > 0 && (await portAnswers(port)))
    fail(
      `port ${port} (${name}) is in use, perhaps by an earlier npm start (lsof -i :${port}); stop that, or set ${name} to a free port`,
      EX_UNAVAILABLE,
    );
}

// One after the other, so that a failure of the second stops the first.
const redisStore = await redis();
const pgStore = await postgres();

try {
  const prepared = await prepareDatabase(pgStore.url, waitMs);
  if (prepared.created) say(`created the database ${new URL(pgStore.url).pathname.slice(1)}`);
  if (prepared.applied.length > 0)
    say(`applied ${prepared.applied.length} migration(s): ${prepared.applied.join(', ')}`);
} catch (error) {
  if (error instanceof DatastoreUnreachableError)
    await stopAndFail(error.message, error.isConfiguration ? EX_CONFIG : EX_UNAVAILABLE);
  if (error instanceof MigrationError) await stopAndFail(error.message, 1);
  await stopPrivateStores();
  throw error;
}

interface App {
  name: string;
  entry: string;
  nodeFlags?: string[];
}

const APPS: App[] = [
  { name: 'sandbox', entry: 'apps/sandbox/src/main.ts' },
  { name: 'api', entry: 'apps/api/src/main.ts' },
  // bounded memory under load (docs/benchmarks.md)
  {
    name: 'worker',
    entry: 'apps/worker/src/main.ts',
    nodeFlags: ['--max-semi-space-size=4', '--max-old-space-size=160'],
  },
  { name: 'scheduler', entry: 'apps/scheduler/src/main.ts' },
];

const childEnv: NodeJS.ProcessEnv = {
  ...process.env,
  DATABASE_URL: pgStore.url,
  // A cluster is reached through REDIS_CLUSTER_NODES, passed on as set; REDIS_URL too would be refused.
  ...(config.redis.clusterNodes === undefined && { REDIS_URL: redisStore.url }),
  CONDUIT_DATA_DIR: dataDir,
  CONDUIT_SANDBOX_GRANTS_FILE:
    process.env.CONDUIT_SANDBOX_GRANTS_FILE || join(dataDir, 'sandbox-grants.json'),
  LOG_FORMAT: process.env.LOG_FORMAT || 'pretty',
};

for (const app of APPS) {
  const child = spawn(
    process.execPath,
    [...(app.nodeFlags ?? []), '--import', 'tsx', join(REPOSITORY_ROOT, app.entry)],
    {
      cwd: join(REPOSITORY_ROOT, app.entry, '../..'),
      env: childEnv,
      // Own process group: Ctrl-C reaches us only, and we stop the apps in order. The IPC channel
      // tells them when we are gone, even after a SIGKILL, so none is left behind. Their output
      // goes straight to ours (each line names its app): an app must never write into a pipe that
      // died with us, where a blocked log write would keep it from stopping.
      detached: true,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    },
  );
  child.on('exit', (code, signal) => {
    children.delete(app.name);
    if (!stopping) {
      process.stderr.write(
        `conduit: ${app.name} exited (${signal ?? `code ${code}`}); stopping the others\n`,
      );
      void stopAll(code === 0 || code === null ? 1 : code);
    }
  });
  children.set(app.name, child);
}

/** SIGTERM, and SIGKILL once the grace is over; resolves when the app has exited. */
function stopApp(child: ChildProcess, graceMs: number): Promise<void> {
  return new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const force = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(force);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

async function stopAll(code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  const graceMs = (config.timings.shutdownGraceSeconds + 5) * 1000;
  // The sandbox last: the refreshes the worker lets finish need their provider to answer, and a
  // rotation answered while the sandbox closes would be missing from its grants file.
  const sandbox = children.get('sandbox');
  await Promise.all(
    [...children.values()].filter((c) => c !== sandbox).map((child) => stopApp(child, graceMs)),
  );
  if (sandbox) await stopApp(sandbox, graceMs);
  await stopPrivateStores();
  process.exit(code);
}

const apiHost = ['0.0.0.0', '::'].includes(config.api.host) ? '127.0.0.1' : config.api.host;
const apiUrl = `http://${apiHost.includes(':') ? `[${apiHost}]` : apiHost}:${config.api.port}`;

async function waitUntilReady(): Promise<boolean> {
  for (;;) {
    if (stopping) return false;
    try {
      const res = await fetch(`${apiUrl}/readyz`, { signal: AbortSignal.timeout(1_000) });
      if (res.status === 200) return true;
    } catch {
      // not listening yet
    }
    await sleep(150);
  }
}

function describeStore(name: string, store: Store): string {
  const where = {
    configured: 'as configured',
    local: 'the local one',
    embedded: `embedded, data in ${folder(join(dataDir, 'pg'))}`,
    private: 'private redis-server, nothing kept on disk',
  }[store.kind];
  return `  ${name.padEnd(10)} ${shown(store.url)}  (${where})`;
}

if (await waitUntilReady()) {
  const seconds = ((performance.now() - startedAt) / 1000).toFixed(1);
  const lines = [
    `ready in ${seconds} s`,
    `  api        ${apiUrl}`,
    `  health     ${apiUrl}/admin/health`,
    `  queues     ${apiUrl}/admin/queues`,
  ];
  if (config.providers.sandboxUrl)
    lines.push(`  sandbox    ${config.providers.sandboxBrowserUrl}/_sandbox/report`);
  if (!config.runtime.isProduction) {
    const operators = process.env.CONDUIT_OPERATORS
      ? `${config.security.operators.map((o) => o.name).join(', ')} (passwords from CONDUIT_OPERATORS)`
      : 'admin / admin (the development default)';
    lines.push(`  login      ${operators}`);
  }
  lines.push(
    describeStore('postgres', pgStore),
    describeStore('redis', redisStore),
    '  Ctrl-C stops everything.',
  );
  say(lines.join('\n'));
}
