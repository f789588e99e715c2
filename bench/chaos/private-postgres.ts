// A Postgres cluster of the run's own: initdb into a temporary directory, started on a free port,
// migrated with the project's own `npm run db:migrate`, restarted mid-run (`-m fast` or
// `-m immediate`, the latter a crash: recovery replays the WAL) and always stopped and removed at
// the end. The machine's shared Postgres (5432) is never touched. Postgres refuses to run as
// root, so as root the cluster belongs to an unprivileged user, `conduitchaos`, made once.
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { ROOT } from '../support.ts';
import { freePort } from './private-redis.ts';

const USER = 'conduitchaos';

/** The newest Postgres under /usr/lib/postgresql (Debian's layout), or the one on PATH. */
function binDir(): string {
  const base = '/usr/lib/postgresql';
  const versions = existsSync(base)
    ? readdirSync(base)
        .filter((v) => existsSync(join(base, v, 'bin', 'pg_ctl')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (versions.length === 0)
    throw new Error('no Postgres server binaries under /usr/lib/postgresql (apt-get install -y postgresql)');
  return join(base, versions[0]!, 'bin');
}

/** As root: the unprivileged user the cluster runs as (made once). Otherwise: this process's own user. */
function owner(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const id = (flag: string) => spawnSync('id', [flag, USER], { encoding: 'utf8' });
  if (id('-u').status !== 0) {
    const made = spawnSync('useradd', ['-m', USER], { encoding: 'utf8' });
    if (made.status !== 0) throw new Error(`useradd ${USER} failed: ${made.stderr.trim()}`);
  }
  return { uid: Number(id('-u').stdout.trim()), gid: Number(id('-g').stdout.trim()) };
}

export type StopMode = 'fast' | 'immediate';

export class PrivatePostgres {
  /** restarts done, by mode */
  readonly restarts: Record<StopMode, number> = { fast: 0, immediate: 0 };
  private running = false;
  private readonly bin = binDir();
  private readonly as = owner();
  private readonly data: string;
  private readonly log: string;
  private readonly onExit = () => this.stopSync();

  private constructor(
    readonly dir: string,
    readonly port: number,
  ) {
    this.data = join(dir, 'data');
    this.log = join(dir, 'postgres.log');
  }

  /**
   * initdb, start, wait until it answers. `settings` are appended to postgresql.auto.conf after
   * the defaults below, so they win (the refresh benchmark turns fsync back on and preloads
   * pg_stat_statements); `port` replaces the free port picked otherwise.
   */
  static async start(
    opts: { port?: number; settings?: Record<string, string> } = {},
  ): Promise<PrivatePostgres> {
    const dir = mkdtempSync(join(tmpdir(), 'conduit-chaos-pg-'));
    const pgc = new PrivatePostgres(dir, opts.port ?? (await freePort()));
    try {
      if (pgc.as) chownSync(dir, pgc.as.uid, pgc.as.gid);
      chmodSync(dir, 0o755);
      writeFileSync(pgc.log, '');
      if (pgc.as) chownSync(pgc.log, pgc.as.uid, pgc.as.gid);
      pgc.run('initdb', [
        '-D',
        pgc.data,
        '-A',
        'trust',
        '-U',
        'postgres',
        '-E',
        'UTF8',
        '--locale=C',
        '--no-sync',
      ]);
      // fsync off: the machine never crashes here, only Postgres does, and the OS keeps what it
      // was handed, so an immediate stop still loses no committed transaction; it saves a shared disk.
      writeFileSync(
        join(pgc.data, 'postgresql.auto.conf'),
        [
          `listen_addresses = '127.0.0.1'`,
          `max_connections = 300`,
          `fsync = off`,
          `log_min_messages = warning`,
          ...Object.entries(opts.settings ?? {}).map(([name, value]) => `${name} = '${value}'`),
        ].join('\n') + '\n',
        { flag: 'a' },
      );
      process.once('exit', pgc.onExit);
      await pgc.launch();
      return pgc;
    } catch (err) {
      pgc.stopSync();
      rmSync(dir, { recursive: true, force: true });
      throw err;
    }
  }

  /** The postmaster's pid (its backends are its children); null while it is down. */
  get postmasterPid(): number | null {
    try {
      return Number(readFileSync(join(this.data, 'postmaster.pid'), 'utf8').split('\n')[0]);
    } catch {
      return null;
    }
  }

  url(database: string): string {
    return `postgresql://postgres@127.0.0.1:${this.port}/${database}`;
  }

  /** A fresh database, migrated the way an operator would: `npm run db:migrate`. */
  migrate(database: string): void {
    const r = spawnSync('npm', ['run', '--silent', 'db:migrate'], {
      cwd: ROOT,
      env: { ...process.env, DATABASE_URL: this.url(database) },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    if (r.status !== 0) throw new Error(`migrating ${database} on the private Postgres failed`);
  }

  private run(tool: string, args: string[]): SpawnSyncReturns<string> {
    const r = spawnSync(join(this.bin, tool), args, {
      cwd: this.dir,
      encoding: 'utf8',
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LANG: 'C', LC_ALL: 'C' },
      ...(this.as && { uid: this.as.uid, gid: this.as.gid }),
    });
    if (r.status !== 0) throw new Error(`${tool} ${args.join(' ')} failed: ${(r.stderr || r.stdout).trim()}`);
    return r;
  }

  /** pg_ctl start, without blocking the event loop (a start after a crash replays the WAL). */
  private async launch(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      const child = spawn(
        join(this.bin, 'pg_ctl'),
        ['-D', this.data, '-l', this.log, '-w', '-t', '60', '-o', `-p ${this.port} -k ${this.dir}`, 'start'],
        {
          cwd: this.dir,
          stdio: 'ignore',
          env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LANG: 'C', LC_ALL: 'C' },
          ...(this.as && { uid: this.as.uid, gid: this.as.gid }),
        },
      );
      child.once('error', reject);
      child.once('exit', (code) =>
        code === 0 ? resolve() : reject(new Error(`pg_ctl start exited ${code}; see ${this.log}`)),
      );
    });
    this.running = true;
    for (let i = 0; i < 100; i++) {
      const probe = new pg.Client({ connectionString: this.url('postgres') });
      try {
        await probe.connect();
        await probe.query('SELECT 1');
        return;
      } catch {
        await sleep(100);
      } finally {
        await probe.end().catch(() => undefined);
      }
    }
    throw new Error(`the private Postgres did not answer on port ${this.port}`);
  }

  /** `pg_ctl stop -m <mode>`: fast ends every session and checkpoints; immediate is a crash. */
  async stop(mode: StopMode): Promise<void> {
    if (!this.running) return;
    await new Promise<void>((resolve, reject) => {
      const child = spawn(join(this.bin, 'pg_ctl'), ['-D', this.data, '-m', mode, '-w', '-t', '60', 'stop'], {
        cwd: this.dir,
        stdio: 'ignore',
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LANG: 'C', LC_ALL: 'C' },
        ...(this.as && { uid: this.as.uid, gid: this.as.gid }),
      });
      child.once('error', reject);
      child.once('exit', (code) =>
        code === 0 ? resolve() : reject(new Error(`pg_ctl stop exited ${code}`)),
      );
    });
    this.running = false;
  }

  /** Stops (fast or immediate), stays down `downMs`, starts again on the same port. */
  async restart(mode: StopMode, downMs: number): Promise<void> {
    await this.stop(mode);
    await sleep(downMs);
    await this.launch();
    this.restarts[mode] += 1;
  }

  /** Synchronous, so it also runs from an `exit` handler: a crash of the run leaves no cluster behind. */
  private stopSync(): void {
    if (!existsSync(join(this.data, 'postmaster.pid'))) return;
    try {
      this.run('pg_ctl', ['-D', this.data, '-m', 'immediate', '-w', 'stop']);
    } catch {
      // already down
    }
    this.running = false;
  }

  /** Stops the cluster and removes its directory (logs included: keep them with `keepLog`). */
  destroy(keepLog = false): void {
    process.removeListener('exit', this.onExit);
    this.stopSync();
    if (keepLog) rmSync(this.data, { recursive: true, force: true });
    else rmSync(this.dir, { recursive: true, force: true });
  }
}
