import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConnectionStatus, ProviderKey } from '@conduit/core';
import { ProviderGate, RefreshStats } from '@conduit/jobs';
import { ADMIN, VIEWER, basic, startTestApi, type TestApi } from './admin-harness.ts';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
];
const ARTIFACTS = join(import.meta.dirname, '../../../test-results');
const DOCS = join(import.meta.dirname, '../../../docs');
const MIN = 60_000;
const HOUR = 60 * MIN;

let api: TestApi;
let browser: Browser;
const now = new Date();
const owners: string[] = [];
const ids: string[] = [];

interface Seed {
  provider: ProviderKey;
  status: ConnectionStatus;
  expiresInMs?: number;
  reason?: string;
  lastError?: string;
  changedAgoMs?: number;
}

// 13 connections: 2 needs_reauth, 1 error; live tokens 2 lapsed, 3 within 1 h, 5 within 24 h, 6 within 7 d.
const SEEDS: Seed[] = [
  { provider: 'spotify', status: 'connected', expiresInMs: 30 * MIN },
  { provider: 'spotify', status: 'connected', expiresInMs: 5 * HOUR },
  { provider: 'spotify', status: 'connected', expiresInMs: 3 * 24 * HOUR },
  { provider: 'spotify', status: 'connected', expiresInMs: 30 * 24 * HOUR },
  {
    provider: 'spotify',
    status: 'needs_reauth',
    reason: 'invalid_grant: Refresh token revoked',
    changedAgoMs: 2 * HOUR,
  },
  {
    provider: 'spotify',
    status: 'needs_reauth',
    reason: 'invalid_grant: Refresh token expired',
    changedAgoMs: 10 * MIN,
  },
  {
    provider: 'spotify',
    status: 'token_expired',
    expiresInMs: -5 * MIN,
    reason: 'access token lapsed during retries',
  },
  { provider: 'google', status: 'connected', expiresInMs: -10 * MIN },
  { provider: 'google', status: 'connected', expiresInMs: 50 * MIN },
  {
    provider: 'google',
    status: 'error',
    reason: 'invalid_client: the OAuth client was deleted',
    lastError: 'invalid_client (401)',
    changedAgoMs: 40 * MIN,
  },
  { provider: 'discord', status: 'connected', expiresInMs: 20 * MIN },
  { provider: 'discord', status: 'disconnected', reason: 'disconnected by the user' },
  { provider: 'fathom', status: 'connected', expiresInMs: 2 * HOUR },
];

async function seed(): Promise<void> {
  const { db, vault } = api.ctx;
  for (const [i, s] of SEEDS.entries()) {
    const ownerId = `raw-owner-${i}@customer.example`;
    owners.push(ownerId);
    const changedAt = new Date(now.getTime() - (s.changedAgoMs ?? (20 + i) * MIN));
    const c = await db.connection.create({
      data: {
        ownerId,
        provider: s.provider,
        status: s.status,
        statusReason: s.reason ?? null,
        statusChangedAt: changedAt,
        accessTokenEnc: vault.encrypt(`access-${i}`),
        refreshTokenEnc: vault.encrypt(`refresh-${i}`),
        tokenExpiresAt: s.expiresInMs === undefined ? null : new Date(now.getTime() + s.expiresInMs),
        lastRefreshError: s.lastError ?? null,
      },
    });
    ids.push(c.id);
    await db.connectionEvent.create({
      data: {
        connectionId: c.id,
        from: null,
        to: 'connected',
        reason: 'oauth_callback',
        at: new Date(now.getTime() - 3 * HOUR + i * MIN),
      },
    });
    if (s.status !== 'connected') {
      await db.connectionEvent.create({
        data: {
          connectionId: c.id,
          from: 'connected',
          to: s.status,
          reason: s.reason ?? s.status,
          at: changedAt,
        },
      });
    }
  }
  // The fathom connection's sync log: an older success, then a failure (the seeds' cron_job_logs).
  await db.syncRun.createMany({
    data: [
      {
        connectionId: ids[12]!,
        resource: 'meetings',
        mode: 'full',
        startedAt: new Date(now.getTime() - 2 * HOUR),
        finishedAt: new Date(now.getTime() - 2 * HOUR + 40_000),
        pages: 3,
        itemsSeen: 120,
        itemsStored: 120,
        outcome: 'succeeded',
      },
      {
        connectionId: ids[12]!,
        resource: 'meetings',
        mode: 'incremental',
        startedAt: new Date(now.getTime() - 15 * MIN),
        finishedAt: new Date(now.getTime() - 15 * MIN + 2_000),
        pages: 1,
        itemsSeen: 4,
        itemsStored: 0,
        outcome: 'failed',
        error: 'fathom answered 503',
      },
    ],
  });
  await db.notification.createMany({
    data: [
      { type: 'connection.needs_reauth', provider: 'spotify', payload: {}, status: 'pending' },
      { type: 'connection.needs_reauth', provider: 'spotify', payload: {}, status: 'pending' },
      { type: 'connection.error', provider: 'google', payload: {}, status: 'pending' },
      { type: 'connection.recovered', provider: 'discord', payload: {}, status: 'delivered' },
      {
        type: 'connection.needs_reauth',
        provider: 'spotify',
        payload: {},
        status: 'dead',
        attempts: 8,
        lastError: 'receiver answered 500 Internal Server Error',
      },
    ],
  });
  // 10 token requests, 8 refreshed (80 %), plus 4 runs that needed none.
  const stats = new RefreshStats(api.ctx.redis, api.ctx.config.redis.queuePrefix);
  const record = (p: string, o: string, n: number, agoMin: number) =>
    Promise.all(Array.from({ length: n }, () => stats.record(p, o, new Date(now.getTime() - agoMin * MIN))));
  await record('spotify', 'refreshed', 4, 50);
  await record('spotify', 'refreshed', 2, 12);
  await record('google', 'refreshed', 2, 3);
  await record('google', 'error', 1, 40);
  await record('discord', 'retry', 1, 5);
  await record('spotify', 'fresh', 3, 1);
  await record('spotify', 'busy', 1, 0);
  await record('spotify', 'refreshed', 9, 61); // outside the window
  await new ProviderGate(api.ctx.redis, `${api.ctx.config.redis.queuePrefix}:gate`).close(
    'spotify',
    120_000,
    'rate_limited',
  );
  await api.ctx.queues.get('transcripts').add('fetch', { connectionId: 'x', recordingId: 1 });
  await api.ctx.queues
    .refresh('google')
    .add('refresh', { connectionId: 'y', reason: 'retry' }, { delay: HOUR });
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `${CHROMIUM} is missing: the health page is checked in a real browser. Install it with ` +
        '`apt-get update && apt-get install -y chromium` (Debian package), then run the tests again.',
    );
  }
  api = await startTestApi('admin-health');
  await seed();
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
});

afterAll(async () => {
  await browser?.close();
  await api?.close();
});

describe('admin › connection health', () => {
  it('/admin/health.json holds the seeded counts, with owners hashed', async () => {
    const res = await fetch(`${api.base}/admin/health.json`, { headers: basic(VIEWER) });
    expect(res.status).toBe(200);
    const text = await res.text();
    for (const raw of owners) expect(text).not.toContain(raw);
    const h = JSON.parse(text);
    expect(h.connections.total).toBe(13);
    expect(h.connections.byProvider.spotify).toMatchObject({
      connected: 4,
      needs_reauth: 2,
      token_expired: 1,
    });
    expect(h.connections.byStatus).toEqual({
      connected: 8,
      token_expired: 1,
      needs_reauth: 2,
      error: 1,
      disconnected: 1,
    });
    expect(h.tokenExpiry.total).toEqual({ expired: 2, within1h: 3, within24h: 5, within7d: 6 });
    expect(h.tokenExpiry.byProvider.google).toEqual({ expired: 1, within1h: 1, within24h: 1, within7d: 1 });
    expect(h.refresh).toMatchObject({ attempts: 10, succeeded: 8, successRate: 0.8, total: 14 });
    expect(h.refresh.byOutcome).toEqual({ refreshed: 8, error: 1, retry: 1, fresh: 3, busy: 1 });
    expect(h.refresh.perMinute).toHaveLength(60);
    expect(h.needsReauth.map((c: { owner: string }) => c.owner)).toEqual([
      api.ctx.hashOwner(owners[5]!),
      api.ctx.hashOwner(owners[4]!),
    ]);
    expect(h.errors).toEqual([
      expect.objectContaining({
        provider: 'google',
        owner: api.ctx.hashOwner(owners[9]!),
        reason: 'invalid_client: the OAuth client was deleted',
        lastError: 'invalid_client (401)',
      }),
    ]);
    expect(h.transitions).toHaveLength(18);
    expect(h.transitions[0]).toMatchObject({ provider: 'spotify', to: 'needs_reauth', from: 'connected' });
    expect(h.lanes).toContainEqual(expect.objectContaining({ provider: 'spotify', state: 'rate_limited' }));
    expect(h.lanes).toContainEqual({ provider: 'google', state: 'open', remainingMs: 0 });
    const q = (name: string) => h.queues.find((x: { queue: string }) => x.queue === name);
    expect(q('transcripts')).toMatchObject({ waiting: 1, active: 0, delayed: 0, failed: 0, paused: false });
    expect(q('refresh-google')).toMatchObject({ waiting: 0, delayed: 1 });
    expect(h.notifications).toMatchObject({ pending: 3, dead: 1 });
    expect(h.notifications.undeliverable).toEqual([
      expect.objectContaining({
        type: 'connection.needs_reauth',
        attempts: 8,
        lastError: 'receiver answered 500 Internal Server Error',
      }),
    ]);
  });

  it('in headless Chromium, shows the seeded counts from the page alone, and is screenshotted', async () => {
    const context = await browser.newContext({
      httpCredentials: { username: ADMIN.name, password: ADMIN.password },
      viewport: { width: 1440, height: 900 },
      colorScheme: 'dark',
    });
    try {
      const page = await context.newPage();
      const requested: string[] = [];
      page.on('request', (r) => requested.push(r.url()));
      const response = await page.goto(`${api.base}/admin/health`);
      expect(response?.status()).toBe(200);
      await expect(page.title()).resolves.toBe('Conduit · connection health');

      const tile = (id: string) => page.locator(`[data-tile="${id}"] .n`).innerText();
      expect(await tile('connections')).toBe('13');
      expect(await tile('needs_reauth')).toBe('2');
      expect(await tile('error')).toBe('1');
      expect(await tile('success_rate')).toBe('80%');
      expect(await tile('expired')).toBe('2');
      expect(await tile('expiring_1h')).toBe('3');
      expect(await tile('dead')).toBe('1');
      expect(await tile('closed_lanes')).toBe('1');

      const cell = (id: string) => page.locator(`[data-cell="${id}"]`).innerText();
      expect(await cell('spotify:connected')).toBe('4');
      expect(await cell('spotify:needs_reauth')).toBe('2');
      expect(await cell('google:error')).toBe('1');
      expect(await cell('all:total')).toBe('13');
      expect(await cell('all:expired')).toBe('2');
      expect(await cell('all:1h')).toBe('3');
      expect(await cell('all:24h')).toBe('5');
      expect(await cell('all:7d')).toBe('6');
      expect(await cell('queue:transcripts:waiting')).toBe('1');
      expect(await cell('queue:refresh-google:delayed')).toBe('1');
      expect(await cell('refresh:spotify:refreshed')).toBe('6');

      expect(await page.locator('[data-row="needs_reauth"]').count()).toBe(2);
      expect(await page.locator('[data-row="error"]').count()).toBe(1);
      expect(await page.locator('[data-row="transition"]').count()).toBe(18);
      expect(await page.locator('[data-row="dead"]').count()).toBe(1);
      expect(await page.locator('[data-lane="spotify"]').innerText()).toBe('rate_limited');
      expect(await page.locator('[data-notifications-pending]').innerText()).toBe('3');
      expect(await page.locator('#needs-reauth').innerText()).toContain(api.ctx.hashOwner(owners[4]!));
      expect(await page.locator('svg.chart [data-outcome]').count()).toBe(5);

      const html = await page.content();
      for (const raw of owners) expect(html).not.toContain(raw);
      // Nothing but the page itself: no CDN, no script, no external asset.
      expect(requested).toEqual([`${api.base}/admin/health`]);

      // Full ids, pasteable into `conduit refresh`, in the who-must-reconnect list.
      expect(await page.locator('#needs-reauth code.id').allInnerTexts()).toEqual([ids[5], ids[4]]);
      // Delivery is off in this configuration (CONDUIT_NOTIFY_URL unset), and the page says so.
      expect(await page.locator('[data-delivery-off]').innerText()).toContain('CONDUIT_NOTIFY_URL is unset');
      // The per-connection table answers the seeds' questions, first page of 13.
      expect(await page.locator('[data-row="connection"]').count()).toBe(13);
      expect(await page.locator('[data-table-total]').innerText()).toBe('1–13 of 13');
      const fathom = page.locator(`[data-row="connection"]:has(code:text-is("${ids[12]}"))`);
      expect(await fathom.locator('[data-label="token"]').innerText()).toBe('valid');
      expect(await fathom.locator('[data-label="until expiry"]').innerText()).toBe('2.0 h');
      expect(await fathom.locator('[data-label="refresh token"]').innerText()).toBe('yes');
      expect(await fathom.locator('[data-label="last sync"]').innerText()).toContain('failed');
      // The sync log, newest first.
      expect(await page.locator('[data-row="sync-run"]').count()).toBe(2);
      expect(await page.locator('[data-row="sync-run"] [data-label="outcome"]').allInnerTexts()).toEqual([
        'failed',
        'succeeded',
      ]);
      // Charts have axes with units.
      expect(await page.locator('svg.chart .unit').allTextContents()).toEqual([
        'refresh runs, last 60 min',
        'refresh runs per minute · minutes before now',
      ]);

      mkdirSync(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: join(ARTIFACTS, 'admin-health.png'), fullPage: true });
      await page.screenshot({ path: join(DOCS, 'health-page.png'), fullPage: true });
      await page.locator('#table').scrollIntoViewIfNeeded();
      await page.screenshot({ path: join(ARTIFACTS, 'admin-health-table.png') });
      expect(existsSync(join(ARTIFACTS, 'admin-health.png'))).toBe(true);
    } finally {
      await context.close();
    }
  });

  it('in Chromium, the table filters by provider, status, token and search, server-side, and pages', async () => {
    const context = await browser.newContext({
      httpCredentials: { username: ADMIN.name, password: ADMIN.password },
    });
    try {
      const page = await context.newPage();
      await page.goto(`${api.base}/admin/health`);
      await page.selectOption('form.filters select[name="provider"]', 'spotify');
      await page.selectOption('form.filters select[name="status"]', 'connected');
      await Promise.all([page.waitForURL(/provider=spotify/), page.click('form.filters button')]);
      const providers = await page
        .locator('[data-row="connection"]')
        .evaluateAll((rows) =>
          rows.map((r) => `${r.getAttribute('data-provider')}:${r.getAttribute('data-status')}`),
        );
      expect(providers).toEqual([
        'spotify:connected',
        'spotify:connected',
        'spotify:connected',
        'spotify:connected',
      ]);
      expect(new URL(page.url()).searchParams.get('status')).toBe('connected');

      await page.goto(`${api.base}/admin/health?token=expiring`);
      const expiring = await page
        .locator('[data-row="connection"]')
        .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-token')));
      expect(expiring).toEqual(['expiring', 'expiring', 'expiring']);

      await page.fill('form.filters input[name="q"]', ids[9]!);
      await Promise.all([page.waitForURL(/q=/), page.click('form.filters button')]);
      // the token select kept "expiring" and the google error connection has none: no match
      expect(await page.locator('[data-row="connection"]').count()).toBe(0);
      // a whole id narrows the sync log to that connection's runs
      await page.goto(`${api.base}/admin/health?q=${ids[9]}`);
      expect(await page.locator('[data-row="sync-run"]').count()).toBe(0);
      await page.goto(`${api.base}/admin/health?q=${ids[12]}`);
      expect(await page.locator('[data-row="sync-run"]').count()).toBe(2);
      await page.goto(`${api.base}/admin/health?q=${ids[9]!.slice(0, 13)}`);
      expect(await page.locator('[data-row="connection"] code.id').allInnerTexts()).toEqual([ids[9]]);
      await page.goto(`${api.base}/admin/health?q=${encodeURIComponent(owners[3]!)}`);
      expect(await page.locator('[data-row="connection"] code.id').allInnerTexts()).toEqual([ids[3]]);
      // the search box echoes what the operator typed; the table still shows only the hash
      expect(await page.locator('#table table').innerHTML()).not.toContain(owners[3]!);

      const json = (await (
        await fetch(`${api.base}/admin/health.json?page=2&provider=spotify`, { headers: basic(VIEWER) })
      ).json()) as { table: unknown };
      expect(json.table).toMatchObject({ total: 7, page: 2, pageSize: 25, rows: [] });
      const bad = await fetch(`${api.base}/admin/health?status=sleeping`, { headers: basic(VIEWER) });
      expect(bad.status).toBe(400);
      expect(bad.headers.get('content-type')).toContain('application/problem+json');
    } finally {
      await context.close();
    }
  });

  it("at phone width (375 px) nothing overflows sideways, and times are in the viewer's zone with UTC on hover", async () => {
    const context = await browser.newContext({
      httpCredentials: { username: ADMIN.name, password: ADMIN.password },
      viewport: { width: 375, height: 812 },
      isMobile: true,
      colorScheme: 'dark',
      timezoneId: 'Asia/Kolkata',
      locale: 'en-GB',
    });
    try {
      const page = await context.newPage();
      const errors: string[] = [];
      page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
      await page.goto(`${api.base}/admin/health`);
      const overflow = await page.evaluate(
        // a string, so the test's own TypeScript (no DOM lib) need not know the browser's globals
        'document.documentElement.scrollWidth - window.innerWidth',
      );
      expect(overflow as number).toBeLessThanOrEqual(0);
      const stamp = page.locator('header time[data-absolute]');
      expect(await stamp.innerText()).toMatch(/GMT\+5:30|IST/);
      expect(await stamp.getAttribute('title')).toMatch(/ UTC$/);
      const relative = page.locator('[data-row="sync-run"] time').first();
      expect(await relative.innerText()).toBe('15 min ago');
      expect(await relative.getAttribute('title')).toMatch(/(GMT\+5:30|IST) · .* UTC$/);
      expect(errors).toEqual([]); // the inline script ran under the page's CSP
      // the top of the page and the start of the connection table, at the phone's width
      await page.screenshot({
        path: join(DOCS, 'health-page-phone.png'),
        fullPage: true,
        clip: { x: 0, y: 0, width: 375, height: 2400 },
      });
    } finally {
      await context.close();
    }
  });

  it('in Chromium without operator credentials, the page is not shown', async () => {
    const context = await browser.newContext({
      httpCredentials: { username: VIEWER.name, password: 'wrong' },
    });
    try {
      const page = await context.newPage();
      const response = await page.goto(`${api.base}/admin/health`);
      expect(response?.status()).toBe(401);
      expect(response?.headers()['www-authenticate']).toBe('Basic realm="conduit-operators"');
      expect(await page.content()).not.toContain('connection health');
    } finally {
      await context.close();
    }
  });
});
