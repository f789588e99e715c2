// `npx tsx bench/proc-cpu.ts --db <name> [--redis-ports 18300,18301,18302] [--out file]`
// Runs beside `npm run bench -- refresh` (started from the same folder) and samples, once a
// second, the CPU time (/proc/<pid>/stat utime + stime) of every process of that run — workers,
// scheduler, sandbox, the Redis servers on the given ports and the Postgres backends of the
// benchmark's database — together with how many connections are refreshed. At the end (Ctrl-C or
// when every connection is refreshed) it prints CPU milliseconds per refresh per kind of process,
// over the steady part of the run (10 % to 90 % refreshed), so start-up and the tail are left out.
// The refresh benchmark now counts CPU per process itself (on a private Postgres this script does
// not look at); this stays as the tool that produced the Scale-out table of docs/benchmarks.md,
// and works beside any run on the machine's Postgres.
// Shared Postgres processes (WAL writer, checkpointer) serve every database and are not counted,
// nor are the backends of the benchmark driver's own progress count (recognised by its query).
import { readFileSync, readdirSync, readlinkSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { databaseUrl } from './support.ts';

type Kind = 'worker' | 'scheduler' | 'sandbox' | 'redis' | 'postgres';

const argv = process.argv.slice(2);
const opt = (name: string) => {
  const i = argv.indexOf(`--${name}`);
  return i === -1 ? undefined : argv[i + 1];
};
const dbName = opt('db') ?? 'conduit_bench_refresh';
const redisPorts = (opt('redis-ports') ?? '').split(',').filter(Boolean);
const out = opt('out');
const cwd = process.cwd();
const TICK_MS = 1000 / 100;

function kindOf(pid: string, cmdline: string): Kind | undefined {
  if (cmdline.startsWith('redis-server'))
    return redisPorts.some((p) => cmdline.includes(`:${p}`)) ? 'redis' : undefined;
  if (!cmdline.includes('tsx')) return undefined;
  let dir: string;
  try {
    dir = readlinkSync(`/proc/${pid}/cwd`);
  } catch {
    return undefined;
  }
  if (dir !== cwd) return undefined;
  if (cmdline.includes('apps/worker/src/main.ts')) return 'worker';
  if (cmdline.includes('apps/scheduler/src/main.ts')) return 'scheduler';
  if (cmdline.includes('apps/sandbox/src/main.ts')) return 'sandbox';
  return undefined;
}

function ticks(pid: string): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return undefined;
  }
}

/** pid → [kind, ticks when first seen, ticks last seen] */
const seen = new Map<string, [Kind, number, number]>();
/** pid → the port of a Redis server, for the CPU of each cluster node */
const redisPortOf = new Map<string, string>();
/** backends that ran the benchmark driver's progress count: not the refresh path's work */
const driver = new Set<string>();
const first = new Set<string>();
let started = false;

function sampleProcesses(backends: Set<string>): void {
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    let kind: Kind | undefined;
    if (backends.has(pid)) kind = 'postgres';
    else {
      let cmdline: string;
      try {
        cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
      } catch {
        continue;
      }
      kind = kindOf(pid, cmdline);
      if (kind === 'redis') redisPortOf.set(pid, /:(\d+)/.exec(cmdline)?.[1] ?? '?');
    }
    if (!kind) continue;
    const t = ticks(pid);
    if (t === undefined) continue;
    const entry = seen.get(pid);
    // A process already running at the first sample counts from then; a later one from its start.
    if (!entry) seen.set(pid, [kind, started ? 0 : t, t]);
    else entry[2] = t;
    if (!started) first.add(pid);
  }
  started = true;
}

function cpuMs(): Record<Kind, number> {
  const total: Record<Kind, number> = { worker: 0, scheduler: 0, sandbox: 0, redis: 0, postgres: 0 };
  for (const [pid, [kind, from, to]] of seen) if (!driver.has(pid)) total[kind] += (to - from) * TICK_MS;
  return total;
}

function redisMsByPort(): Record<string, number> {
  const byPort: Record<string, number> = {};
  for (const [pid, port] of redisPortOf) {
    const [, from, to] = seen.get(pid)!;
    byPort[port] = (byPort[port] ?? 0) + (to - from) * TICK_MS;
  }
  return byPort;
}

interface Sample {
  t: number;
  refreshed: number;
  total: number;
  cpu: Record<Kind, number>;
  redisByPort: Record<string, number>;
}

const samples: Sample[] = [];
let stop = false;
process.once('SIGINT', () => (stop = true));
process.once('SIGTERM', () => (stop = true));

const client = new pg.Client({ connectionString: databaseUrl('postgres') });
await client.connect();
let bench: pg.Client | undefined;
while (!stop) {
  const activity = (
    await client.query<{ pid: number; query: string | null }>(
      'SELECT pid, query FROM pg_stat_activity WHERE datname = $1',
      [dbName],
    )
  ).rows;
  for (const a of activity) if (a.query?.includes('AS done FROM "Connection"')) driver.add(String(a.pid));
  const backends = new Set(activity.map((r) => String(r.pid)));
  let refreshed = 0;
  let total = 0;
  try {
    if (!bench) {
      bench = new pg.Client({ connectionString: databaseUrl(dbName) });
      await bench.connect();
    }
    const { rows } = await bench.query<{ refreshed: number; total: number }>(
      'SELECT count(*) FILTER (WHERE "lastRefreshAt" IS NOT NULL)::int AS refreshed, count(*)::int AS total FROM "Connection"',
    );
    refreshed = rows[0]!.refreshed;
    total = rows[0]!.total;
  } catch {
    await bench?.end().catch(() => undefined);
    bench = undefined;
  }
  // this sampler's own backend is not the benchmark's
  for (const r of (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows)
    backends.delete(String(r.pid));
  if (bench) {
    const own = await bench.query<{ pid: number }>('SELECT pg_backend_pid() AS pid').catch(() => undefined);
    if (own) backends.delete(String(own.rows[0]!.pid));
  }
  sampleProcesses(backends);
  samples.push({ t: Date.now(), refreshed, total, cpu: cpuMs(), redisByPort: redisMsByPort() });
  if (total > 0 && refreshed >= total) break;
  await sleep(1_000);
}
await bench?.end().catch(() => undefined);
await client.end();

const n = samples.at(-1)?.total ?? 0;
const from = samples.find((s) => s.refreshed >= n * 0.1);
const to = [...samples].reverse().find((s) => s.refreshed <= n * 0.9);
if (!from || !to || to.refreshed <= from.refreshed) {
  console.error('proc-cpu: no steady part of a run seen');
  process.exit(1);
}
const refreshes = to.refreshed - from.refreshed;
const perRefresh = Object.fromEntries(
  (Object.keys(to.cpu) as Kind[]).map((k) => [k, Number(((to.cpu[k] - from.cpu[k]) / refreshes).toFixed(3))]),
) as Record<Kind, number>;
const result = {
  database: dbName,
  window: {
    refreshes,
    seconds: (to.t - from.t) / 1000,
    perSecond: Math.round(refreshes / ((to.t - from.t) / 1000)),
  },
  cpuMsPerRefresh: perRefresh,
  redisCpuMsPerRefreshByPort: Object.fromEntries(
    Object.keys(to.redisByPort).map((port) => [
      port,
      Number((((to.redisByPort[port] ?? 0) - (from.redisByPort[port] ?? 0)) / refreshes).toFixed(3)),
    ]),
  ),
  cpuMsPerRefreshTotal: Number(
    Object.values(perRefresh)
      .reduce((a, b) => a + b, 0)
      .toFixed(3),
  ),
  processes: Object.fromEntries(
    (['worker', 'scheduler', 'sandbox', 'redis', 'postgres'] as Kind[]).map((k) => [
      k,
      [...seen.values()].filter(([kind]) => kind === k).length,
    ]),
  ),
};
console.log(JSON.stringify(result, null, 2));
if (out) writeFileSync(out, JSON.stringify({ ...result, samples }, null, 2) + '\n');
