// An app whose Redis or Postgres does not answer at start says so in one line and exits non-zero
// after the configured wait, instead of logging "ready" and flooding the terminal.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, TEST_REDIS_URL, type TestDatabase } from '@conduit/testing';
import { startProcess, type Started } from './support.ts';

let db: TestDatabase;
const started: Started[] = [];
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  for (const p of started) p.kill();
  await db.drop();
});

async function run(app: string, env: NodeJS.ProcessEnv) {
  const p = startProcess(`apps/${app}/src/main.ts`, {
    CONDUIT_DATASTORE_WAIT_SECONDS: '2',
    CONDUIT_API_PORT: '17480',
    CONDUIT_WORKER_METRICS_PORT: '0',
    CONDUIT_QUEUE_PREFIX: `{wait-${process.pid}}`,
    ...env,
  });
  started.push(p);
  const t0 = Date.now();
  const code = await Promise.race([
    p.exited,
    new Promise<'hung'>((r) => setTimeout(() => r('hung'), 25_000)),
  ]);
  return { code, seconds: (Date.now() - t0) / 1000, stderr: p.stderr(), output: p.output() };
}

describe('apps › datastores unreachable at start', () => {
  it.each(['api', 'worker', 'scheduler'])(
    '%s: an unreachable Redis is one line and exit 1 after the bounded wait, never "ready"',
    async (app) => {
      const r = await run(app, { DATABASE_URL: db.url, REDIS_URL: 'redis://127.0.0.1:17481' });
      expect(r.code).toBe(1);
      expect(r.stderr.trim().split('\n')).toEqual([
        expect.stringMatching(
          new RegExp(
            `^conduit ${app}: cannot reach Redis at 127\\.0\\.0\\.1:17481 within 2 s .*ECONNREFUSED.*; check REDIS_URL and that Redis is running`,
          ),
        ),
      ]);
      expect(r.output).not.toContain(`${app} ready`);
    },
    30_000,
  );

  it('an unreachable Postgres is one line and exit 1 after the bounded wait', async () => {
    const r = await run('scheduler', {
      DATABASE_URL: 'postgresql://postgres@127.0.0.1:17482/conduit',
      REDIS_URL: TEST_REDIS_URL,
    });
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(
        /^conduit scheduler: cannot reach Postgres at 127\.0\.0\.1:17482 .*; check DATABASE_URL and that Postgres is running; waited 2 s/,
      ),
    ]);
    expect(r.output).not.toContain('scheduler ready');
  }, 30_000);
});
