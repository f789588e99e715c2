import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConnectionStatus, ProviderKey } from '@conduit/core';
import type { StatusReport } from '../src/commands/status.ts';
import type { ListedConnection } from '../src/commands/connections-list.ts';
import { createCliHarness, type CliHarness } from './support/cli-harness.ts';

let h: CliHarness;
const HOUR = 3_600_000;
const now = Date.now();

interface Seed {
  provider: ProviderKey;
  status: ConnectionStatus;
  expiresInMs: number | null;
  refresh?: boolean;
}

// spotify: 2 expired, 1 within the hour, 1 within a day, 1 later; one of them has no refresh token.
// github: tokens that never expire and no refresh token (normal there). discord: one of each other status.
const SEEDS: Seed[] = [
  { provider: 'spotify', status: 'connected', expiresInMs: -10 * 60_000 },
  { provider: 'spotify', status: 'token_expired', expiresInMs: -2 * HOUR },
  { provider: 'spotify', status: 'connected', expiresInMs: 30 * 60_000, refresh: false },
  { provider: 'spotify', status: 'connected', expiresInMs: 5 * HOUR },
  { provider: 'spotify', status: 'connected', expiresInMs: 48 * HOUR },
  { provider: 'github', status: 'connected', expiresInMs: null, refresh: false },
  { provider: 'github', status: 'connected', expiresInMs: null, refresh: false },
  { provider: 'discord', status: 'needs_reauth', expiresInMs: -HOUR },
  { provider: 'discord', status: 'error', expiresInMs: 2 * HOUR },
  { provider: 'discord', status: 'disconnected', expiresInMs: null, refresh: false },
];

beforeAll(async () => {
  h = await createCliHarness();
  await h.db.connection.createMany({
    data: SEEDS.map((s, i) => ({
      ownerId: `user-${i}`,
      provider: s.provider,
      status: s.status,
      accessTokenEnc: h.ctx.vault.encrypt(`access-${i}`),
      refreshTokenEnc: s.refresh === false ? null : h.ctx.vault.encrypt(`refresh-${i}`),
      tokenExpiresAt: s.expiresInMs === null ? null : new Date(now + s.expiresInMs),
      createdAt: new Date(now - (SEEDS.length - i) * 1000),
    })),
  });
});

afterAll(async () => {
  await h?.close();
});

describe('cli › status', () => {
  it('--json counts each provider by status, expiry window and missing refresh token', async () => {
    const r = await h.run(['status', '--json']);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as StatusReport;
    const by = new Map(report.providers.map((p) => [p.provider, p]));
    expect(by.get('spotify')).toEqual({
      provider: 'spotify',
      total: 5,
      byStatus: { connected: 4, token_expired: 1, needs_reauth: 0, error: 0, disconnected: 0 },
      expired: 2,
      expiringWithin1h: 1,
      expiringWithin24h: 2,
      connectedWithoutRefreshToken: 1,
    });
    expect(by.get('github')).toMatchObject({
      total: 2,
      expired: 0,
      // GitHub OAuth-app tokens never refresh: a missing refresh token is not a fault there.
      connectedWithoutRefreshToken: null,
    });
    expect(by.get('discord')).toMatchObject({
      total: 3,
      byStatus: { connected: 0, token_expired: 0, needs_reauth: 1, error: 1, disconnected: 1 },
      // only connected and token_expired count as expiring: the others are not refreshed
      expired: 0,
      expiringWithin24h: 0,
    });
    expect(by.get('google')).toMatchObject({ total: 0, expired: 0 });
  });

  it('prints a table with one row per provider', async () => {
    const r = await h.run(['status']);
    expect(r.code).toBe(0);
    const spotify = r.stdout.split('\n').find((l) => l.startsWith('spotify'));
    expect(spotify?.split(/\s+/)).toEqual(['spotify', '5', '4', '1', '0', '0', '0', '2', '1', '2', '1']);
  });
});

describe('cli › connections list', () => {
  it('--json lists safe fields of the seeded rows, newest first, owners hashed', async () => {
    const r = await h.run(['connections', 'list', '--json']);
    expect(r.code).toBe(0);
    const listed = JSON.parse(r.stdout) as ListedConnection[];
    expect(listed).toHaveLength(SEEDS.length);
    expect(listed.map((c) => c.owner)).toEqual(SEEDS.map((_, i) => h.ctx.hashOwner(`user-${i}`)).reverse());
    expect(listed.map((c) => [c.provider, c.status])).toEqual(
      SEEDS.map((s) => [s.provider, s.status]).reverse(),
    );
    const text = r.stdout;
    expect(text).not.toMatch(/user-\d/);
    expect(text).not.toMatch(/access-\d|refresh-\d|v1\.k1\./);
    expect(text).not.toContain('ownerId');
    expect(text).not.toContain('TokenEnc');
  });

  it('filters by status and provider and honours --limit', async () => {
    const r = await h.run([
      'connections',
      'list',
      '--provider',
      'spotify',
      '--status',
      'connected',
      '--limit',
      '2',
      '--json',
    ]);
    expect(r.code).toBe(0);
    const listed = JSON.parse(r.stdout) as ListedConnection[];
    expect(listed).toHaveLength(2);
    expect(listed.every((c) => c.provider === 'spotify' && c.status === 'connected')).toBe(true);
    expect(listed.map((c) => c.owner)).toEqual([h.ctx.hashOwner('user-4'), h.ctx.hashOwner('user-3')]);
  });

  it('prints a table with hashed owners', async () => {
    const r = await h.run(['connections', 'list', '--provider', 'discord']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(h.ctx.hashOwner('user-7'));
    expect(r.stdout).not.toMatch(/user-\d/);
    expect(r.stdout.trim().split('\n')).toHaveLength(2 + 3);
  });
});
