// A Postgres cluster of a test's (or the chaos run's) own, for faults the machine's shared server
// must never suffer (restart, crash, pause). It runs the Debian binaries as an unprivileged uid
// when the test runs as root (Postgres refuses root), with fsync off and its socket in its own
// folder, and its database is migrated by our runner, as `npm run db:migrate` does. A process that
// exits without destroying it still stops it (an `exit` hook), so no cluster is left behind.
import { execFile, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import pg from 'pg';
import { migrate } from '@conduit/db/migrate';
import { freePort } from './ports.ts';

const run = promisify(execFile);
/** `nobody`: an unprivileged uid that exists everywhere, so no OS user is created */
const UNPRIVILEGED = 65534;

/** `fast` waits for sessions to end; `immediate` is a crash (no shutdown checkpoint, WAL replayed at start) */
export type StopMode = 'fast' | 'immediate';

export interface PrivatePostgresOptions {
  /** a port of the test's range; one the OS picks when absent */
  port?: number;
  /** the migrated database (`conduit` unless named) */
  database?: string;
  /** 200 unless named */
  maxConnections?: number;
  /** server settings given after the defaults, so they win (e.g. the refresh benchmark turns fsync back on and preloads pg_stat_statements) */
  settings?: Record<string, string>;
}

export interface PrivatePostgres {
  /** URL of the migrated database on this cluster */
  url: string;
  port: number;
  /** the cluster's folder (data, socket, log) */
  dir: string;
  /** the server's log file */
  logFile: string;
  /** restarts done through `restart`, by mode */
  readonly restarts: Record<StopMode, number>;
  urlOf(database: string): string;
  stop(mode?: StopMode): Promise<void>;
  start(): Promise<void>;
  /** stops (fast or immediate), stays down `downMs`, starts again on the same port */
  restart(mode: StopMode, downMs?: number): Promise<void>;
  /** SIGSTOP / SIGCONT of the postmaster and every backend: Postgres stalls without dropping sockets */
  pause(): Promise<void>;
  resume(): Promise<void>;
  /** stops the cluster and deletes its files (all but the log with `keepLog`) */
  destroy(keepLog?: boolean): Promise<void>;
  /** the postmaster's pid (its backends are its children); null while it is down */
  postmasterPid(): number | null;
}

function binDir(): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((v) => existsSync(join(root, v, 'bin/initdb')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (versions.length === 0)
    throw new Error(`no Postgres binaries under ${root}: apt-get install -y postgresql`);
  return join(root, versions[0]!, 'bin');
}

export async function startPrivatePostgres(opts: PrivatePostgresOptions = {}): Promise<PrivatePostgres> {
  const bin = binDir();
  const port = opts.port ?? (await freePort());
  const database = opts.database ?? 'conduit';
  const dir = mkdtempSync(join(tmpdir(), 'conduit-pg-'));
  const data = join(dir, 'data');
  const logFile = join(dir, 'log');
  const asRoot = process.getuid?.() === 0;
  if (asRoot) chownSync(dir, UNPRIVILEGED, UNPRIVILEGED);
  chmodSync(dir, 0o755);
  const ids = asRoot ? { uid: UNPRIVILEGED, gid: UNPRIVILEGED } : {};
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', LANG: 'C', LC_ALL: 'C' };
  const exec = (file: string, args: string[]) => run(join(bin, file), args, { ...ids, cwd: dir, env });

  const options = [
    `-p ${port} -k ${dir}`,
    '-c listen_addresses=127.0.0.1',
    // The machine never crashes here, only Postgres does, and the OS keeps what it was handed: an
    // immediate stop still loses no committed transaction, and a shared disk is spared.
    '-c fsync=off -c full_page_writes=off',
    `-c max_connections=${opts.maxConnections ?? 200}`,
    '-c log_min_messages=warning',
    ...Object.entries(opts.settings ?? {}).map(([name, value]) => `-c ${name}=${value}`),
  ].join(' ');
  let running = false;
  const start = async () => {
    await exec('pg_ctl', ['-D', data, '-o', options, '-w', '-t', '60', '-l', logFile, 'start']);
    running = true;
  };
  const stop = async (mode: StopMode = 'fast') => {
    if (!running) return;
    await exec('pg_ctl', ['-D', data, '-m', mode, '-w', '-t', '60', 'stop']);
    running = false;
  };
  // Synchronous, so that it also runs from the `exit` hook.
  const stopNow = () => {
    if (!existsSync(join(data, 'postmaster.pid'))) return;
    spawnSync(join(bin, 'pg_ctl'), ['-D', data, '-m', 'immediate', '-w', 'stop'], {
      ...ids,
      cwd: dir,
      env,
      stdio: 'ignore',
    });
    running = false;
  };
  const postmasterPid = () => {
    try {
      return Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
    } catch {
      return null;
    }
  };
  const signalAll = async (signal: 'SIGSTOP' | 'SIGCONT') => {
    const postmaster = postmasterPid();
    if (postmaster === null) return;
    const { stdout } = await run('pgrep', ['-P', String(postmaster)]).catch(() => ({ stdout: '' }));
    for (const pid of [postmaster, ...stdout.split('\n').filter(Boolean).map(Number)]) {
      try {
        process.kill(pid, signal);
      } catch {
        // a backend that ended meanwhile
      }
    }
  };
  const urlOf = (name: string) => `postgresql://postgres@127.0.0.1:${port}/${name}`;

  process.once('exit', stopNow);
  try {
    await exec('initdb', [
      '-D',
      data,
      '-A',
      'trust',
      '-U',
      'postgres',
      '-E',
      'UTF8',
      '--locale=C',
      '--no-sync',
    ]);
    await start();
    const admin = new pg.Client({ connectionString: urlOf('postgres') });
    await admin.connect();
    await admin.query(`CREATE DATABASE "${database}"`);
    await admin.end();
    const client = new pg.Client({ connectionString: urlOf(database) });
    await client.connect();
    try {
      await migrate(client);
    } finally {
      await client.end();
    }
  } catch (err) {
    stopNow();
    process.off('exit', stopNow);
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }

  const restarts: Record<StopMode, number> = { fast: 0, immediate: 0 };
  return {
    url: urlOf(database),
    port,
    dir,
    logFile,
    restarts,
    urlOf,
    stop,
    start,
    async restart(mode, downMs = 0) {
      await stop(mode);
      if (downMs > 0) await sleep(downMs);
      await start();
      restarts[mode] += 1;
    },
    postmasterPid,
    pause: () => signalAll('SIGSTOP'),
    resume: () => signalAll('SIGCONT'),
    async destroy(keepLog = false) {
      process.off('exit', stopNow);
      await signalAll('SIGCONT').catch(() => undefined);
      await stop('immediate').catch(() => undefined);
      stopNow();
      if (keepLog) rmSync(data, { recursive: true, force: true });
      else rmSync(dir, { recursive: true, force: true });
    },
  };
}
