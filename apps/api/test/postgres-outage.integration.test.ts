// A Postgres outage is answered too: /readyz says 503 within 2 s, the health page shows Postgres
// as down, and the API answers 503 problem+json rather than a 500 or a hang. Postgres is reached
// through a TCP proxy of the test's own (port 17120), hung and cut; the shared server is untouched.
import { sha256Hex } from '@conduit/config';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, basic, startTestApi, type TestApi } from './admin-harness.ts';
import { answer, expectProblem } from './support/problem.ts';
import { startTcpProxy, type TcpProxy } from './support/tcp-proxy.ts';

const BOUND_MS = 1_000;
let proxy: TcpProxy;
let api: TestApi;

beforeAll(async () => {
  proxy = await startTcpProxy(17120, { host: '127.0.0.1', port: 5432 });
  api = await startTestApi('postgres-outage', {
    databaseUrl: (url) => url.replace('127.0.0.1:5432', `127.0.0.1:${proxy.port}`),
    env: {
      CONDUIT_READY_CHECK_TIMEOUT_MS: String(BOUND_MS),
      CONDUIT_HEALTH_READ_TIMEOUT_MS: String(BOUND_MS),
      CONDUIT_API_KEYS: `pg-outage:connections:read:${sha256Hex('pg-outage-key-0123456789')}`,
    },
  });
});

afterAll(async () => {
  await proxy?.up();
  await Promise.race([api?.close(), new Promise((r) => setTimeout(r, 30_000))]);
  await proxy?.close();
});

async function timed(path: string, headers: Record<string, string> = {}) {
  const started = Date.now();
  const res = await fetch(`${api.base}${path}`, { headers });
  return { res, ms: Date.now() - started };
}

async function expectDownAnswers(how: string) {
  const ready = await timed('/readyz');
  expect(ready.ms, `readyz while Postgres is ${how}`).toBeLessThan(2_000);
  const p = expectProblem(await answer(ready.res), 503);
  expect((p.checks as Record<string, { ok: boolean }>).postgres!.ok).toBe(false);
  expect((p.checks as Record<string, { ok: boolean }>).redis!.ok).toBe(true);

  const health = await timed('/admin/health.json', basic(ADMIN));
  expect(health.res.status).toBe(200);
  expect(health.ms).toBeLessThan(BOUND_MS + 1_000);
  expect(((await health.res.json()) as { datastores: unknown }).datastores).toMatchObject({
    postgres: { ok: false },
    redis: { ok: true },
  });
}

describe('a Postgres outage is answered, not waited out', () => {
  it('with Postgres up, /readyz is 200', async () => {
    expect((await timed('/readyz')).res.status).toBe(200);
  });

  it('Postgres hung: /readyz 503 within 2 s and the health page shows Postgres down', async () => {
    proxy.hang();
    try {
      await expectDownAnswers('hung');
    } finally {
      await proxy.down(); // the held connections are useless now; new ones are made on up()
      await proxy.up();
    }
  });

  it('Postgres unreachable: /readyz 503, and the API answers 503 problem+json, not a 500', async () => {
    await proxy.down();
    try {
      await expectDownAnswers('down');
      const list = await timed('/v1/connections?ownerId=someone', {
        authorization: 'Bearer pg-outage-key-0123456789',
      });
      const p = expectProblem(await answer(list.res), 503);
      expect(p.type).toMatch(/datastore-unavailable$/);
    } finally {
      await proxy.up();
    }
    expect((await timed('/readyz')).res.status).toBe(200);
  });
});
