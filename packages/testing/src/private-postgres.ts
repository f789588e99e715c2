// A Postgres cluster of a test's own, for faults the machine's shared server must never suffer
// (restart, crash, pause). It runs the Debian binaries as an unprivileged uid when the test runs as
// root (Postgres refuses root), with fsync off and its socket in its own folder, and is migrated
// with the committed migrations, each sent as one script.
import { execFile } from 'node:child_process';
import { chownSync, mkdtempSync, readdirSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';

const run = promisify(execFile);
const MIGRATIONS_DIR = join(import.meta.dirname, '../../../prisma/migrations');
/** `nobody`: an unprivileged uid that exists everywhere, so no OS user is created */
const UNPRIVILEGED = 65534;

export interface PrivatePostgres {
  /** URL of the migrated database `conduit` on this cluster */
  url: string;
  port: number;
  /** `fast` waits for sessions to end; `immediate` is a crash (no shutdown checkpoint) */
  stop(mode?: 'fast' | 'immediate'): Promise<void>;
  start(): Promise<void>;
  /** SIGSTOP / SIGCONT of the postmaster and every backend: Postgres stalls without dropping sockets */
  pause(): Promise<void>;
  resume(): Promise<void>;
  /** stops the cluster and deletes its files */
  destroy(): Promise<void>;
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

export async function startPrivatePostgres(opts: { port: number }): Promise<PrivatePostgres> {
  const bin = binDir();
  const dir = mkdtempSync(join(tmpdir(), 'conduit-pg-'));
  const data = join(dir, 'data');
  const asRoot = process.getuid?.() === 0;
  if (asRoot) chownSync(dir, UNPRIVILEGED, UNPRIVILEGED);
  const ids = asRoot ? { uid: UNPRIVILEGED, gid: UNPRIVILEGED } : {};
  const exec = (file: string, args: string[]) =>
    run(join(bin, file), args, { ...ids, cwd: dir, env: { ...process.env, LC_ALL: 'C' } });

  await exec('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync']);
  const options = `-p ${opts.port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off -c max_connections=200`;
  const start = async () => {
    await exec('pg_ctl', ['-D', data, '-o', options, '-w', '-t', '30', '-l', join(dir, 'log'), 'start']);
  };
  const stop = async (mode: 'fast' | 'immediate' = 'fast') => {
    await exec('pg_ctl', ['-D', data, '-m', mode, '-w', '-t', '30', 'stop']);
  };
  const signalAll = async (signal: 'SIGSTOP' | 'SIGCONT') => {
    const postmaster = Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
    const { stdout } = await run('pgrep', ['-P', String(postmaster)]).catch(() => ({ stdout: '' }));
    for (const pid of [postmaster, ...stdout.split('\n').filter(Boolean).map(Number)]) {
      try {
        process.kill(pid, signal);
      } catch {
        // a backend that ended meanwhile
      }
    }
  };
  await start();
  const url = `postgresql://postgres@127.0.0.1:${opts.port}/conduit`;
  const admin = new pg.Client({ connectionString: `postgresql://postgres@127.0.0.1:${opts.port}/postgres` });
  await admin.connect();
  await admin.query('CREATE DATABASE conduit');
  await admin.end();
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  for (const name of readdirSync(MIGRATIONS_DIR, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort()) {
    await client.query(readFileSync(join(MIGRATIONS_DIR, name, 'migration.sql'), 'utf8'));
  }
  await client.end();

  return {
    url,
    port: opts.port,
    stop,
    start,
    pause: () => signalAll('SIGSTOP'),
    resume: () => signalAll('SIGCONT'),
    async destroy() {
      await signalAll('SIGCONT').catch(() => undefined);
      await stop('immediate').catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
