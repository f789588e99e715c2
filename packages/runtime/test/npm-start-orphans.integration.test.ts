// Whatever ends `npm start`, even a SIGKILL that gives it no chance to stop its children, no
// app is left running: each app watches its IPC channel to the start script.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, waitFor, type TestDatabase } from '@conduit/testing';
import { alive, startProcess, type Started } from './support.ts';

let db: TestDatabase;
let p: Started | undefined;
const dataDir = mkdtempSync(join(tmpdir(), 'conduit-start-orphans-'));
const appPids: number[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  p?.kill();
  for (const pid of appPids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone, as it should be
    }
  }
  await db.drop();
  rmSync(dataDir, { recursive: true, force: true });
});

/** The pids of the app processes whose environment names this run's data folder. */
async function appsOfThisRun(): Promise<number[]> {
  const { readdirSync, readFileSync } = await import('node:fs');
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .map(Number)
    .filter((pid) => {
      try {
        const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
        const env = readFileSync(`/proc/${pid}/environ`, 'utf8');
        return /apps\/\w+\/src\/main\.ts/.test(cmd) && env.includes(`CONDUIT_DATA_DIR=${dataDir}\0`);
      } catch {
        return false;
      }
    });
}

describe('npm start › no orphans', () => {
  it('a SIGKILLed npm start takes its four apps with it', async () => {
    p = startProcess('scripts/start.ts', {
      DATABASE_URL: db.url,
      CONDUIT_DATA_DIR: dataDir,
      CONDUIT_API_PORT: '17470',
      CONDUIT_SANDBOX_PORT: '17471',
      CONDUIT_WORKER_METRICS_PORT: '17472',
      CONDUIT_QUEUE_PREFIX: `{orphans-${process.pid}}`,
    });
    await waitFor(() => p!.output().includes('ready in') || p!.child.exitCode !== null, 90_000, 'ready', 200);
    const pids = await appsOfThisRun();
    appPids.push(...pids);
    expect(pids).toHaveLength(4);
    process.kill(p.child.pid!, 'SIGKILL');
    await waitFor(() => pids.every((pid) => !alive(pid)), 20_000, 'every app gone', 200);
  }, 150_000);
});
