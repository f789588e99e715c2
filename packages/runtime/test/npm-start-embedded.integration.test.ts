// `npm start` on a machine with neither Postgres nor Redis where it looks for them (the probe
// ports point at free ports of this test's range instead of stopping the machine's services):
// it boots an embedded Postgres and a private redis-server, the demo users connect, and a
// restart is a non-event — the sandbox kept its grants, so nobody goes to needs_reauth.
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it, onTestFailed } from 'vitest';
import { waitFor } from '@conduit/testing';
import { alive, killPidFile, startProcess, type Started } from './support.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'conduit-start-embedded-'));
// Postgres runs as nobody when the test runs as root: it must be able to enter the folder.
chmodSync(dataDir, 0o755);
const PG_PORT = 17450;
const REDIS_PORT = 17451;
const API_PORT = 17452;
const env: NodeJS.ProcessEnv = {
  CONDUIT_DATA_DIR: dataDir,
  CONDUIT_LOCAL_POSTGRES_PORT: String(PG_PORT),
  CONDUIT_LOCAL_REDIS_PORT: String(REDIS_PORT),
  CONDUIT_API_PORT: String(API_PORT),
  CONDUIT_SANDBOX_PORT: '17453',
  CONDUIT_WORKER_METRICS_PORT: '17454',
  // Demo tokens live 6 s, so each is due 3 s after it was issued (half its lifetime) and the
  // sweep every 2 s keeps refreshing them all the time: before the stop, while it stops, and at
  // once after the restart against the restarted sandbox — what sent every demo user to
  // needs_reauth when the sandbox forgot its grants. Nothing in the database is touched by hand.
  CONDUIT_DEMO_TOKEN_TTL_SECONDS: '6',
  CONDUIT_REFRESH_SWEEP_INTERVAL_SECONDS: '2',
  CONDUIT_REFRESH_REQUEUE_AFTER_SECONDS: '1',
};
const running: Started[] = [];

afterAll(() => {
  for (const p of running) p.kill();
  killPidFile(join(dataDir, 'pg', 'postmaster.pid'));
  killPidFile(join(dataDir, 'redis', 'redis.pid'));
  rmSync(dataDir, { recursive: true, force: true });
});

async function query<T extends pg.QueryResultRow>(sql: string): Promise<T[]> {
  const c = new pg.Client({ connectionString: `postgresql://postgres@127.0.0.1:${PG_PORT}/conduit` });
  await c.connect();
  try {
    return (await c.query<T>(sql)).rows;
  } finally {
    await c.end();
  }
}

interface Row {
  ownerId: string;
  status: string;
  lastRefreshAt: Date | null;
}
const demo = () =>
  query<Row>(`SELECT "ownerId", status, "lastRefreshAt" FROM "Connection" ORDER BY "ownerId"`);

async function start(): Promise<Started> {
  const p = startProcess('scripts/start.ts', env);
  running.push(p);
  await waitFor(
    () => p.output().includes('ready in') || p.child.exitCode !== null,
    90_000,
    'the ready banner',
    200,
  );
  expect(p.child.exitCode, p.output()).toBeNull();
  return p;
}

describe('npm start › embedded datastores and a restart that changes nothing', () => {
  it('boots an embedded Postgres and a private Redis, then keeps every demo user connected across a restart', async () => {
    // What the apps said is the only account of a failure under load: show it.
    onTestFailed(() => {
      for (const p of running) console.error(p.output());
    });
    const first = await start();
    expect(first.output()).toContain(`no Postgres on 127.0.0.1:${PG_PORT}: starting the embedded one`);
    expect(first.output()).toMatch(
      new RegExp(`postgres +postgresql://postgres@127\\.0\\.0\\.1:${PG_PORT}/conduit +\\(embedded`),
    );
    expect(first.output()).toMatch(
      new RegExp(`redis +redis://127\\.0\\.0\\.1:${REDIS_PORT} +\\(private redis-server`),
    );
    expect((await fetch(`http://127.0.0.1:${API_PORT}/readyz`)).status).toBe(200);
    // The demo users connected and were refreshed against the sandbox at least once.
    await waitFor(
      async () => {
        const rows = await demo().catch(() => []);
        return rows.length === 3 && rows.every((r) => r.status === 'connected' && r.lastRefreshAt !== null);
      },
      60_000,
      'three refreshed demo users',
      250,
    );
    const postgresPid = Number(readFileSync(join(dataDir, 'pg', 'postmaster.pid'), 'utf8').split('\n')[0]);
    expect(await first.stop()).toBe(0);
    // Ctrl-C stops the private datastores too.
    expect(alive(postgresPid)).toBe(false);

    const restartedAt = new Date();
    const second = await start();
    expect(second.output()).not.toContain('initdb');
    await waitFor(
      async () => {
        const rows = await demo();
        return rows.every((r) => r.lastRefreshAt !== null && r.lastRefreshAt > restartedAt);
      },
      60_000,
      'every demo user refreshed after the restart',
      250,
    );
    // Let a few more sweeps run: a refresh that met a sandbox without the grant would show now.
    await new Promise((r) => setTimeout(r, 5_000));
    expect((await demo()).map((r) => r.status)).toEqual(['connected', 'connected', 'connected']);
    expect(await query(`SELECT 1 FROM "ConnectionEvent" WHERE "to" = 'needs_reauth'`)).toEqual([]);
    expect(await query(`SELECT 1 FROM "Notification" WHERE type = 'connection.needs_reauth'`)).toEqual([]);
    expect(await second.stop()).toBe(0);
  }, 240_000);
});
