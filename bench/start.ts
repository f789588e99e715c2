// `npm run bench -- start [--runs 3] [--compare DIR] [--embedded]`
// Seconds from `npm start` to the api's first `/readyz` 200, as a newcomer measures it: one cold
// run on a database that does not exist yet, then warm runs (database migrated, tsx cache warm).
// Each run is a real `npm start` in its own process group on free ports, with its own database,
// data folder and queue prefix, stopped with SIGINT like Ctrl-C. `--compare DIR` runs another
// checkout (the before figure) alternately with this one, so both see the same machine load (on
// a shared 2-core machine the absolute figures swing with it; the ratio holds). `--embedded`
// leaves DATABASE_URL unset and points the Postgres probe at a free port, so this checkout boots
// the embedded Postgres from its data folder.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { loadavg } from 'node:os';
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
        const res = await fetch(`http://127.0.0.1:${apiPort}/readyz`, { signal: AbortSignal.timeout(5_000) });
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

interface Subject {
  label: 'this' | 'compared';
  root: string;
  database: string;
  env: NodeJS.ProcessEnv;
  apiPort: number;
  runs: Run[];
}

async function subject(label: Subject['label'], root: string, embedded: boolean): Promise<Subject> {
  const [apiPort, sandboxPort, metricsPort, probePort] = await Promise.all([
    freePort(),
    freePort(),
    freePort(),
    freePort(),
  ]);
  const database = `conduit_bench_start_${label}_${process.pid}`;
  const dataDir = join(ROOT, `bench/results/start-data/${label}`);
  rmSync(dataDir, { recursive: true, force: true });
  mkdirSync(dataDir, { recursive: true });
  const env: NodeJS.ProcessEnv = {
    CONDUIT_API_PORT: String(apiPort),
    CONDUIT_SANDBOX_PORT: String(sandboxPort),
    CONDUIT_WORKER_METRICS_PORT: String(metricsPort),
    // Spelled out, so that a checkout whose URLs do not follow the ports measures the same thing.
    CONDUIT_PUBLIC_URL: `http://127.0.0.1:${apiPort}`,
    CONDUIT_SANDBOX_URL: `http://127.0.0.1:${sandboxPort}`,
    CONDUIT_QUEUE_PREFIX: `{bench-start-${label}-${process.pid}}`,
    CONDUIT_DATA_DIR: dataDir,
    LOG_FORMAT: 'json',
    ...(embedded
      ? { DATABASE_URL: '', CONDUIT_LOCAL_POSTGRES_PORT: String(probePort) }
      : { DATABASE_URL: databaseUrl(database) }),
  };
  return { label, root, database, env, apiPort, runs: [] };
}

function median(values: number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

export async function run(args: string[]): Promise<void> {
  const runs = arg(args, 'runs', 3);
  const timeoutMs = arg(args, 'timeout', 180) * 1000;
  const compare = option(args, 'compare');
  const embedded = args.includes('--embedded');
  mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
  const subjects = [await subject('this', ROOT, embedded)];
  if (compare) subjects.unshift(await subject('compared', resolve(compare), false));
  try {
    for (const s of subjects) await dropDatabase(s.database);
    for (let i = 0; i <= runs; i++) {
      const kind = i === 0 ? 'cold' : 'warm';
      for (const s of subjects) {
        const logFile = join(ROOT, `bench/results/start-${s.label}-${kind}-${i}.log`);
        const result = await oneRun(s.root, kind, s.env, s.apiPort, timeoutMs, logFile);
        s.runs.push(result);
        console.log(
          `${s.label} ${kind} run ${i}: ${result.readySeconds === null ? 'not ready' : `${result.readySeconds.toFixed(1)} s`} to /readyz 200`,
        );
      }
    }
  } finally {
    for (const s of subjects) await dropDatabase(s.database).catch(() => undefined);
  }
  const figures = Object.fromEntries(
    subjects.map((s) => {
      const warm = s.runs
        .filter((r) => r.kind === 'warm' && r.readySeconds !== null)
        .map((r) => r.readySeconds!);
      return [
        s.label,
        {
          root: s.root,
          coldSeconds: s.runs[0]?.readySeconds ?? null,
          warmSeconds: warm,
          warmMedianSeconds: median(warm),
        },
      ];
    }),
  ) as Partial<Record<Subject['label'], { warmMedianSeconds: number | null; coldSeconds: number | null }>>;
  const ratio =
    figures.compared?.warmMedianSeconds && figures.this?.warmMedianSeconds
      ? figures.compared.warmMedianSeconds / figures.this.warmMedianSeconds
      : null;
  const summary = {
    benchmark: 'start',
    command: `npm run bench -- start --runs ${runs}${embedded ? ' --embedded' : ''}${compare ? ` --compare ${compare}` : ''}`,
    machine: { ...machine(), loadAverage: loadavg() },
    datastores: embedded ? 'embedded Postgres, machine Redis' : 'machine Postgres and Redis',
    ...figures,
    warmSpeedup: ratio,
  };
  const name = `start${embedded ? '-embedded' : ''}`;
  writeFileSync(join(ROOT, `bench/results/${name}.json`), `${JSON.stringify(summary, null, 2)}\n`);
  console.log(JSON.stringify({ ...figures, warmSpeedup: ratio }, null, 2));
  if (!figures.this?.warmMedianSeconds) process.exitCode = 1;
}
