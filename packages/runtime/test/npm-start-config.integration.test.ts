// `npm start` checks the configuration before it touches a datastore: each mistake is one line
// with its fix and exit 78, never a stack trace, and never "is it running?" for the wrong cause.
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startProcess } from './support.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'conduit-start-config-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

async function start(env: NodeJS.ProcessEnv) {
  const p = startProcess('scripts/start.ts', {
    // where the embedded Postgres would go, and a probe port nothing listens on (17490):
    // neither may be touched while the configuration is wrong
    CONDUIT_DATA_DIR: join(dataDir, 'data'),
    CONDUIT_LOCAL_POSTGRES_PORT: '17490',
    CONDUIT_LOCAL_REDIS_PORT: '6379',
    CONDUIT_API_PORT: '17493',
    CONDUIT_SANDBOX_PORT: '17494',
    CONDUIT_WORKER_METRICS_PORT: '0',
    ...env,
  });
  try {
    const code = await Promise.race([
      p.exited,
      new Promise<'hung'>((r) => setTimeout(() => r('hung'), 25_000)),
    ]);
    return { code, stderr: p.stderr(), output: p.output() };
  } finally {
    p.kill();
  }
}

const lines = (text: string) => text.split('\n').filter((l) => l.trim() !== '');

describe('npm start › configuration is checked before any datastore', () => {
  it.each([
    [
      'DATABASE_URL=not-a-url',
      { DATABASE_URL: 'not-a-url' },
      /^ {2}DATABASE_URL: "not-a-url" is not a Postgres URL; expected a postgres:\/\/ or postgresql:\/\/ URL/,
    ],
    [
      'a mysql:// URL',
      { DATABASE_URL: 'mysql://app@127.0.0.1:3306/conduit' },
      /^ {2}DATABASE_URL: .* is not a Postgres URL/,
    ],
    [
      'a key of the wrong length',
      { CONDUIT_ENCRYPTION_KEYS: 'k1:c2hvcnQ=' },
      /^ {2}CONDUIT_ENCRYPTION_KEYS: key "k1" is 5 bytes, expected 32; .*openssl rand -base64 32/,
    ],
  ])(
    '%s is one line with its fix, and exit 78',
    async (_name, env, line) => {
      const { code, stderr, output } = await start(env);
      expect(code).toBe(78);
      expect(lines(stderr)).toHaveLength(2);
      expect(lines(stderr)[0]).toBe('conduit start: configuration is invalid:');
      expect(lines(stderr)[1]).toMatch(line);
      expect(output).not.toMatch(/\n\s+at |Is it running|embedded/);
      expect(existsSync(join(dataDir, 'data'))).toBe(false);
    },
    30_000,
  );

  it('NODE_ENV=production without secrets lists every missing one at once, each with its fix', async () => {
    const { code, stderr } = await start({ NODE_ENV: 'production' });
    expect(code).toBe(78);
    const problems = lines(stderr).slice(1);
    expect(problems.length).toBeGreaterThanOrEqual(4);
    for (const p of problems) expect(p).toMatch(/^ {2}[A-Z_]+: .*(set|required)/);
    expect(stderr).toContain('CONDUIT_ENCRYPTION_KEYS: required when NODE_ENV=production');
    expect(existsSync(join(dataDir, 'data'))).toBe(false);
  }, 30_000);

  it('a role that does not exist is one line naming the role problem and exit 78, not "is it running?"', async () => {
    const { code, stderr, output } = await start({
      DATABASE_URL: 'postgresql://no_such_role@127.0.0.1:5432/conduit',
      CONDUIT_DATASTORE_WAIT_SECONDS: '3',
    });
    expect(code).toBe(78);
    expect(lines(stderr)).toHaveLength(1);
    expect(stderr).toMatch(
      /^conduit: the role in DATABASE_URL does not exist on that server; .*role "no_such_role" does not exist/,
    );
    expect(output).not.toMatch(/\n\s+at |running/);
  }, 30_000);

  it('a Postgres that is not running is one line after the bounded wait, with a non-zero exit', async () => {
    const started = Date.now();
    const { code, stderr } = await start({
      DATABASE_URL: 'postgresql://postgres@127.0.0.1:17491/conduit',
      CONDUIT_DATASTORE_WAIT_SECONDS: '2',
    });
    expect(code).toBe(69);
    expect(lines(stderr)).toHaveLength(1);
    expect(stderr).toMatch(
      /^conduit: cannot reach Postgres at 127\.0\.0\.1:17491 \(.*ECONNREFUSED.*\); check DATABASE_URL and that Postgres is running; waited 2 s/,
    );
    expect(Date.now() - started).toBeLessThan(20_000);
  }, 30_000);
});

describe('npm start › ports', () => {
  it('a port already in use is one line naming the variable that moves it, before anything starts', async () => {
    const server = createServer().listen(17492, '127.0.0.1');
    await once(server, 'listening');
    try {
      const { code, stderr } = await start({ CONDUIT_API_PORT: '17492' });
      expect(code).toBe(69);
      expect(lines(stderr)).toEqual([
        'conduit: port 17492 (CONDUIT_API_PORT) is in use, perhaps by an earlier npm start (lsof -i :17492); stop that, or set CONDUIT_API_PORT to a free port',
      ]);
      expect(existsSync(join(dataDir, 'data'))).toBe(false);
    } finally {
      server.close();
    }
  }, 30_000);
});
