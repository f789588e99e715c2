// `npm run bench -- start [--runs 3] [--root DIR] [--embedded]`
// Seconds from `npm start` to the api's first `/readyz` 200, as a newcomer measures it: one cold
// run on a database that does not exist yet, then warm runs (database migrated, tsx cache warm).
// Each run is a real `npm start` in its own process group on free ports, with its own database
// and queue prefix, stopped with SIGINT like Ctrl-C. `--root` points at another checkout (the
// before figure); `--embedded` leaves DATABASE_URL unset and points the Postgres probe at a free
// port, so the run boots the embedded Postgres from its data folder.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { arg, machine } from './support.ts';
import { dropDatabase, databaseUrl } from './support.ts';

const ROOT = join(import.meta.dirname, '..');

async function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => done(port));
    });
  });
}

function option(args: string[], name: string): string | undefined {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
}

interface Run {
  kind: 'cold' | 'warm';
  readySeconds: number | null;
  exitCode: number | null;
}

async function stopGroup(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  try {
    process.kill(-child.pid!, 'SIGINT');
  } catch {
    // already gone
  }
  const code = await Promise.race([exited, sleep(20_000).then(() => 'timeout' as const)]);
  if (code !== 'timeout') {
    // Whatever the group left behind (it should be nothing) goes too.
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // the group is empty
    }
    return code;
  }
  try {
    process.kill(-child.pid!, 'SIGKILL');
  } catch {
    // gone meanwhile
  }
  await exited;
  return null;
}

async function oneRun(
  root: string,
  kind: Run['kind'],
  env: NodeJS.ProcessEnv,
  apiPort: number,
  timeoutMs: number,
  logFile: string,
): Promise<Run> {
  const started = performance.now();
  const child = spawn('npm', ['start'], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const log: string[] = [];
  child.stdout!.on('data', (b: Buffer) => log.push(b.toString()));
  child.stderr!.on('data', (b: Buffer) => log.push(b.toString()));
  let readySeconds: number | null = null;
  try {
    while (performance.now() - started < timeoutMs && child.exitCode === null) {
      try {
        const res = await fetch(`http://127.0.0.1:${apiPort}/readyz`, { signal: AbortSignal.timeout(1_000) });
        if (res.status === 200) {
          readySeconds = (performance.now() - started) / 1000;
          break;
        }
      } catch {
        // not listening yet
      }
      await sleep(100);
    }
  } finally {
    const exitCode = await stopGroup(child);
    writeFileSync(logFile, log.join(''));
    if (readySeconds === null) console.error(`${kind} run never became ready; its output is in ${logFile}`);
    // eslint-disable-next-line no-unsafe-finally
    return { kind, readySeconds, exitCode };
  }
}

export async function run(args: string[]): Promise<void> {
  const runs = arg(args, 'runs', 3);
  const timeoutMs = arg(args, 'timeout', 120) * 1000;
  const root = resolve(option(args, 'root') ?? ROOT);
  const embedded = args.includes('--embedded');
  const database = `conduit_bench_start_${process.pid}`;
  const [apiPort, sandboxPort, metricsPort, probePort] = await Promise.all([
    freePort(),
    freePort(),
    freePort(),
    freePort(),
  ]);
  const dataDir = join(ROOT, 'bench/results/start-data');
  if (embedded) rmSync(dataDir, { recursive: true, force: true });
  mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
  const env: NodeJS.ProcessEnv = {
    CONDUIT_API_PORT: String(apiPort),
    CONDUIT_SANDBOX_PORT: String(sandboxPort),
    CONDUIT_WORKER_METRICS_PORT: String(metricsPort),
    // Spelled out, so that a checkout whose URLs do not follow the ports measures the same thing.
    CONDUIT_PUBLIC_URL: `http://127.0.0.1:${apiPort}`,
    CONDUIT_SANDBOX_URL: `http://127.0.0.1:${sandboxPort}`,
    CONDUIT_QUEUE_PREFIX: `{bench-start-${process.pid}}`,
    LOG_FORMAT: 'json',
    ...(embedded
      ? { DATABASE_URL: '', CONDUIT_DATA_DIR: dataDir, CONDUIT_POSTGRES_PROBE_PORT: String(probePort) }
      : { DATABASE_URL: databaseUrl(database) }),
  };
  const results: Run[] = [];
  try {
    if (!embedded) await dropDatabase(database);
    for (let i = 0; i <= runs; i++) {
      const kind = i === 0 ? 'cold' : 'warm';
      const logFile = join(ROOT, `bench/results/start-${kind}-${i}.log`);
      const result = await oneRun(root, kind, env, apiPort, timeoutMs, logFile);
      results.push(result);
      console.log(
        `${kind} run ${i}: ${result.readySeconds === null ? 'not ready' : `${result.readySeconds.toFixed(1)} s`} to /readyz 200`,
      );
    }
  } finally {
    if (!embedded) await dropDatabase(database).catch(() => undefined);
  }
  const warm = results.filter((r) => r.kind === 'warm' && r.readySeconds !== null).map((r) => r.readySeconds!);
  const median = warm.length ? [...warm].sort((a, b) => a - b)[Math.floor(warm.length / 2)]! : null;
  const summary = {
    benchmark: 'start',
    command: `npm run bench -- start --runs ${runs}${embedded ? ' --embedded' : ''}${root === ROOT ? '' : ` --root ${root}`}`,
    machine: machine(),
    root,
    datastores: embedded ? 'embedded Postgres, machine Redis' : 'machine Postgres and Redis',
    coldSeconds: results[0]?.readySeconds ?? null,
    warmSeconds: warm,
    warmMedianSeconds: median,
    runs: results,
  };
  const name = `start${embedded ? '-embedded' : ''}${root === ROOT ? '' : '-other'}`;
  writeFileSync(join(ROOT, `bench/results/${name}.json`), `${JSON.stringify(summary, null, 2)}\n`);
  console.log(JSON.stringify({ coldSeconds: summary.coldSeconds, warmMedianSeconds: median }, null, 2));
  if (median === null) process.exitCode = 1;
}
