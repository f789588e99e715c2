import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loggableUrl } from '../src/edge/request-log.ts';
import { ADMIN, basic, startTestApi, type TestApi } from './admin-harness.ts';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
];

let api: TestApi;
let browser: Browser;
const lines: Array<Record<string, unknown>> = [];

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium`);
  const logs = new Writable({
    write(chunk, _enc, done) {
      for (const l of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(l));
      done();
    },
  });
  api = await startTestApi('operator-pages', { logs });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
});

afterAll(async () => {
  await browser?.close();
  await api?.close();
});

describe('GET / on the api', () => {
  it('is a small HTML page with links for a browser', async () => {
    const res = await fetch(`${api.base}/`, { headers: { accept: 'text/html,application/xhtml+xml' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/html');
    const html = await res.text();
    for (const href of ['/admin/health', '/admin/queues', '/docs', '/metrics'])
      expect(html).toContain(`href="${href}"`);
  });

  it('is still a problem+json 404 for a client that does not ask for HTML', async () => {
    const res = await fetch(`${api.base}/`);
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(await res.json()).toMatchObject({ status: 404, title: 'Not found' });
  });
});

describe('request logging', () => {
  it('writes exactly one info line per request, with method, url, status and ms', async () => {
    const before = lines.length;
    const res = await fetch(`${api.base}/healthz?probe=1`);
    expect(res.status).toBe(200);
    await new Promise((r) => setTimeout(r, 50));
    const mine = lines.slice(before);
    expect(mine).toHaveLength(1);
    expect(mine[0]).toMatchObject({ level: 'info', method: 'GET', url: '/healthz?probe=1', status: 200 });
    expect(typeof mine[0]!.ms).toBe('number');
  });

  it('in the pretty format of a terminal, a request is one line too', async () => {
    const text: string[] = [];
    const pretty = await startTestApi('operator-pages-pretty', {
      logFormat: 'pretty',
      logs: new Writable({
        write(chunk, _enc, done) {
          text.push(String(chunk));
          done();
        },
      }),
    });
    try {
      text.length = 0; // "Server listening at …"
      await fetch(`${pretty.base}/healthz`);
      await new Promise((r) => setTimeout(r, 50));
      const lines = text.join('').split('\n').filter(Boolean);
      expect(lines, lines.join('\n')).toHaveLength(1);
      expect(lines[0]).toMatch(/INFO.*GET \/healthz 200/);
    } finally {
      await pretty.close();
    }
  });

  it('hides query values that may be secrets or one-time codes', () => {
    expect(loggableUrl('/v1/connect/spotify/callback?code=abc&state=xyz&page=2')).toBe(
      '/v1/connect/spotify/callback?code=%E2%80%A6&state=%E2%80%A6&page=2',
    );
    expect(loggableUrl('/metrics')).toBe('/metrics');
  });
});

describe('Bull Board', () => {
  it('lists only queues with workers: no notify queue (notifications are polled from Postgres)', async () => {
    const body = (await (
      await fetch(`${api.base}/admin/queues/api/queues`, { headers: basic(ADMIN) })
    ).json()) as {
      queues: Array<{ name: string }>;
    };
    const names = body.queues.map((q) => q.name);
    expect(names).not.toContain('notify');
    expect(names).toEqual(
      expect.arrayContaining(['sweeps', 'sync-fathom', 'transcripts', 'refresh-spotify']),
    );
  });

  it('in Chromium, renders its queues without any external request, and links to the health page', async () => {
    const context = await browser.newContext({
      httpCredentials: { username: ADMIN.name, password: ADMIN.password },
    });
    try {
      const page = await context.newPage();
      const external: string[] = [];
      const refused: string[] = [];
      page.on('request', (r) => {
        if (!r.url().startsWith(api.base)) external.push(r.url());
      });
      page.on('console', (m) => {
        if (m.type() === 'error') refused.push(m.text());
      });
      await page.goto(`${api.base}/admin/queues`);
      await page.getByText('sync-fathom').first().waitFor({ timeout: 15_000 });
      expect(await page.getByText('transcripts').count()).toBeGreaterThan(0);
      expect(external).toEqual([]);
      expect(refused).toEqual([]);
      const link = page.locator('#conduit-health-link');
      expect(await link.getAttribute('href')).toBe('/admin/health');
      await page.screenshot({ path: join(import.meta.dirname, '../../../test-results/bull-board.png') });
      await link.click();
      await page.waitForURL(/\/admin\/health$/);
      expect(await page.title()).toBe('Conduit · connection health');
    } finally {
      await context.close();
    }
  });
});
