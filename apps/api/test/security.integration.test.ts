// Security at the edge: failed sign-ins are throttled per client and per operator name and
// logged by name (never the secret); every page carries helmet's headers, Bull Board's UI works
// under its CSP in a real browser; /metrics can require a token.
import { existsSync } from 'node:fs';
import { Writable } from 'node:stream';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, VIEWER, basic, startTestApi, type TestApi } from './admin-harness.ts';
import { answer, expectProblem } from './support/problem.ts';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
];
const METRICS_TOKEN = 'metrics-token-0123456789abcdef';
const WRONG_PASSWORD = 'not-the-password-7x';

class Lines extends Writable {
  readonly lines: Array<Record<string, unknown>> = [];
  readonly raw: string[] = [];
  override _write(chunk: Buffer, _enc: string, done: () => void) {
    for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) {
      this.raw.push(line);
      this.lines.push(JSON.parse(line) as Record<string, unknown>);
    }
    done();
  }
}

let byName: TestApi; // per-name limit 5
let byClient: TestApi; // per-client limit 10, metrics token required
let browser: Browser;
const logs = new Lines();

beforeAll(async () => {
  byName = await startTestApi('security-name', {
    logs,
    env: { CONDUIT_SIGNIN_MAX_FAILURES_PER_NAME: '5', CONDUIT_SIGNIN_MAX_FAILURES_PER_CLIENT: '1000' },
  });
  byClient = await startTestApi('security-client', {
    env: {
      CONDUIT_SIGNIN_MAX_FAILURES_PER_NAME: '1000',
      CONDUIT_SIGNIN_MAX_FAILURES_PER_CLIENT: '10',
      CONDUIT_SIGNIN_FAILURE_WINDOW_SECONDS: '60',
      CONDUIT_METRICS_TOKEN: METRICS_TOKEN,
    },
  });
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium`);
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
});

afterAll(async () => {
  // Each closes on its own, within a bound: one that hangs under load (a browser slow to exit)
  // must not keep the others' databases and Redis keys from being cleaned up.
  const bounded = (p: Promise<unknown> | undefined) =>
    Promise.race([p, new Promise((r) => setTimeout(r, 20_000).unref())]);
  await Promise.allSettled([bounded(browser?.close()), bounded(byName?.close()), bounded(byClient?.close())]);
});

const get = (api: TestApi, path: string, headers: Record<string, string> = {}) =>
  fetch(`${api.base}${path}`, { headers });

describe('security › headers', () => {
  it('the health page has nosniff, a Referrer-Policy and a CSP that forbids framing', async () => {
    const res = await get(byName, '/admin/health', basic(VIEWER));
    expect(res.status).toBe(200);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    expect(res.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(res.headers.get('x-frame-options')).toBe('SAMEORIGIN');
  });

  it('Bull Board is served with a CSP that forbids framing, and its UI works under it in Chromium', async () => {
    const res = await get(byName, '/admin/queues', basic(ADMIN));
    expect(res.status).toBe(200);
    const csp = res.headers.get('content-security-policy')!;
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');

    const context = await browser.newContext({
      httpCredentials: { username: ADMIN.name, password: ADMIN.password },
    });
    try {
      const page = await context.newPage();
      const violations: string[] = [];
      page.on('console', (m) => {
        if (/Content Security Policy|Refused to/i.test(m.text())) violations.push(m.text());
      });
      page.on('pageerror', (e) => violations.push(`page error: ${e.message}`));
      const response = await page.goto(`${byName.base}/admin/queues`);
      expect(response?.status()).toBe(200);
      await page.getByText('transcripts', { exact: true }).first().waitFor({ timeout: 15_000 });
      expect(await page.getByText('sync-fathom', { exact: true }).count()).toBeGreaterThan(0);
      expect(violations).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('JSON answers carry the same headers', async () => {
    const res = await get(byName, '/healthz');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('content-security-policy')).toContain("default-src 'self'");
  });
});

describe('security › /metrics', () => {
  it('is open when CONDUIT_METRICS_TOKEN is unset (development)', async () => {
    expect((await get(byName, '/metrics')).status).toBe(200);
  });

  it('with CONDUIT_METRICS_TOKEN set, needs it as a bearer token', async () => {
    expectProblem(await answer(await fetch(`${byClient.base}/metrics`)), 401);
    const ok = await fetch(`${byClient.base}/metrics`, {
      headers: { authorization: `Bearer ${METRICS_TOKEN}` },
    });
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain('conduit_queue_waiting');
  });
});

describe('security › failed sign-ins', () => {
  it('300 wrong passwords for one operator: 401 up to the limit, then 429 problem+json with Retry-After, even for the right password', async () => {
    const wrong = basic({ name: ADMIN.name, password: WRONG_PASSWORD });
    const statuses: number[] = [];
    for (let round = 0; round < 30; round += 1) {
      const batch = await Promise.all(
        Array.from({ length: 10 }, () => get(byName, '/admin/health.json', wrong)),
      );
      statuses.push(...batch.map((r) => r.status));
    }
    expect(statuses.filter((s) => s === 401)).toHaveLength(5);
    expect(statuses.filter((s) => s === 429)).toHaveLength(295);
    const locked = await get(byName, '/admin/health.json', basic(ADMIN));
    const p = expectProblem(await answer(locked), 429);
    expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(p.type).toMatch(/too-many-sign-in-failures$/);
    // Another operator, from the same client, is not locked out by alice's failures.
    expect((await get(byName, '/admin/health.json', basic(VIEWER))).status).toBe(200);
  });

  it('each failure is logged at warn with the name tried, never the password', () => {
    const failures = logs.lines.filter((l) => l.msg === 'sign-in failed');
    // five answered 401, then those that crossed the limit (429): the sixth, and any of its batch
    // of ten concurrent requests counted in Redis before the lockout reached this process;
    // attempts refused by the lockout are not checked, so not logged
    expect(failures.length).toBeGreaterThanOrEqual(6);
    expect(failures.length).toBeLessThanOrEqual(15);
    for (const f of failures)
      expect(f).toMatchObject({ level: 'warn', signIn: 'operator', name: ADMIN.name });
    expect(logs.raw.join('\n')).not.toContain(WRONG_PASSWORD);
    expect(logs.raw.join('\n')).not.toContain(ADMIN.password);
  });

  it('wrong API keys from one client: 401 up to the limit, then 429 for the client, operators included', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 30; i += 1) {
      const res = await get(byClient, '/v1/connections?ownerId=o', {
        authorization: `Bearer wrong-key-${i}`,
      });
      statuses.push(res.status);
    }
    expect(statuses.slice(0, 10)).toEqual(Array(10).fill(401));
    expect(new Set(statuses.slice(10))).toEqual(new Set([429]));
    const res = await get(byClient, '/admin/health.json', basic(ADMIN));
    expectProblem(await answer(res), 429);
    expect(res.headers.get('retry-after')).toMatch(/^\d+$/);
  });
});
