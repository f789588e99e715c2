// Snapshots of everything the refresh benchmark counts, taken at the start and the end of a
// measured phase: CPU ticks of named processes (from /proc), Redis `INFO commandstats`, the
// commands the app processes sent (redis-sent.ts), and Postgres' own statistics views.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { isCluster, type RedisClient } from '@conduit/jobs';
import type pg from 'pg';
import { ownTicks, readAllStats, readStat, treeTicks } from './proc.ts';
import { parseCommandStats, type CommandCounts, addCounts, diffCounts } from './redis-stats.ts';

/** A process to measure: one pid (all its threads), or a tree (Postgres: postmaster and backends). */
export interface Measured {
  name: string;
  pids: number[];
  tree?: boolean;
}

/** CPU ticks per name; a process that is gone counts 0 (measure before stopping it). */
export function cpuTicks(measured: readonly Measured[]): Record<string, number> {
  const all = measured.some((m) => m.tree) ? readAllStats() : [];
  const out: Record<string, number> = {};
  for (const m of measured) {
    let ticks = 0;
    for (const pid of m.pids) {
      const stat = readStat(pid);
      if (stat) ticks += m.tree ? treeTicks(stat, all) : ownTicks(stat);
    }
    out[m.name] = (out[m.name] ?? 0) + ticks;
  }
  return out;
}

/** Commands Redis executed so far, summed over every master of a cluster. */
export async function commandStats(redis: RedisClient): Promise<CommandCounts> {
  const nodes = isCluster(redis) ? redis.nodes('master') : [redis];
  const sum: CommandCounts = {};
  for (const node of nodes) {
    for (const [name, n] of Object.entries(parseCommandStats(await node.info('commandstats')))) {
      sum[name] = (sum[name] ?? 0) + n;
    }
  }
  return sum;
}

/**
 * What the given app processes have sent to Redis so far: each is asked (SIGUSR2) to write its
 * counts, and the files are read once they have a newer sequence number than before.
 */
export async function sentCommands(dir: string, pids: readonly number[]): Promise<CommandCounts> {
  const read = (pid: number): { seq: number; counts: CommandCounts } | undefined => {
    const file = join(dir, `${pid}.json`);
    if (!existsSync(file)) return undefined;
    try {
      return JSON.parse(readFileSync(file, 'utf8')) as { seq: number; counts: CommandCounts };
    } catch {
      return undefined; // being written
    }
  };
  const before = new Map(pids.map((pid) => [pid, read(pid)?.seq ?? 0]));
  for (const pid of pids) process.kill(pid, 'SIGUSR2');
  const out: CommandCounts[] = [];
  for (const pid of pids) {
    for (let i = 0; ; i++) {
      const now = read(pid);
      if (now && now.seq > before.get(pid)!) {
        out.push(now.counts);
        break;
      }
      if (i > 200) throw new Error(`process ${pid} did not write its Redis command counts`);
      await sleep(10);
    }
  }
  return addCounts(...out);
}

export interface PgCounters {
  xactCommit: number;
  xactRollback: number;
  tupUpdated: number;
  tupInserted: number;
  walRecords: number;
  walFpi: number;
  walBytes: number;
  walWrite: number;
  walSync: number;
  /** updates of Connection rows, and of those the HOT ones (no index entry written) */
  connectionUpdates: number;
  connectionHotUpdates: number;
}

/** pg_stat_database of one database and the cluster's pg_stat_wal; `inDb` (a session on that
 *  database) reads its Connection table's update counts. */
export async function pgCounters(admin: pg.Client, database: string, inDb: pg.Client): Promise<PgCounters> {
  const { rows } = await admin.query<Record<string, string>>(
    `SELECT d.xact_commit, d.xact_rollback, d.tup_updated, d.tup_inserted,
            w.wal_records, w.wal_fpi, w.wal_bytes, w.wal_write, w.wal_sync
       FROM pg_stat_database d, pg_stat_wal w WHERE d.datname = $1`,
    [database],
  );
  const r = rows[0];
  if (!r) throw new Error(`no pg_stat_database row for ${database}`);
  const { rows: t } = await inDb.query<{ upd: string; hot: string }>(
    `SELECT n_tup_upd AS upd, n_tup_hot_upd AS hot FROM pg_stat_user_tables WHERE relname = 'Connection'`,
  );
  return {
    xactCommit: Number(r.xact_commit),
    xactRollback: Number(r.xact_rollback),
    tupUpdated: Number(r.tup_updated),
    tupInserted: Number(r.tup_inserted),
    walRecords: Number(r.wal_records),
    walFpi: Number(r.wal_fpi),
    walBytes: Number(r.wal_bytes),
    walWrite: Number(r.wal_write),
    walSync: Number(r.wal_sync),
    connectionUpdates: Number(t[0]?.upd ?? 0),
    connectionHotUpdates: Number(t[0]?.hot ?? 0),
  };
}

export function diffPg(a: PgCounters, b: PgCounters): PgCounters {
  const out = {} as PgCounters;
  for (const k of Object.keys(a) as (keyof PgCounters)[]) out[k] = b[k] - a[k];
  return out;
}

export interface StatementRow {
  query: string;
  calls: number;
  plans: number | null;
  rows: number;
}

/** pg_stat_statements of one database, if the extension is loaded (null otherwise). */
export async function statements(admin: pg.Client, database: string): Promise<StatementRow[] | null> {
  try {
    const { rows } = await admin.query<{ query: string; calls: string; plans: string | null; rows: string }>(
      `SELECT query, calls, plans, rows FROM pg_stat_statements
        WHERE dbid = (SELECT oid FROM pg_database WHERE datname = $1) ORDER BY calls DESC`,
      [database],
    );
    return rows.map((r) => ({
      query: r.query,
      calls: Number(r.calls),
      plans: r.plans === null ? null : Number(r.plans),
      rows: Number(r.rows),
    }));
  } catch {
    return null;
  }
}

export async function resetStatements(admin: pg.Client): Promise<boolean> {
  try {
    await admin.query('SELECT pg_stat_statements_reset()');
    return true;
  } catch {
    return false;
  }
}

export { diffCounts };
