import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { describeCause, type ConnectionStatus, type ProviderKey } from '@conduit/core';
import { ConnectionLeases } from '@conduit/db';
import { createCliHarness, type CliHarness } from './support/cli-harness.ts';

let h: CliHarness;
const DAY = 86_400_000;

interface Seed {
  key: string;
  provider: ProviderKey;
  status: ConnectionStatus;
  accessExpiresInMs: number | null;
  refreshExpiresInMs?: number | null;
  refresh?: boolean;
}

const SEEDS: Seed[] = [
  // lapsed: refresh token past its expiry (connected or token_expired)
  {
    key: 'rt-lapsed',
    provider: 'spotify',
    status: 'connected',
    accessExpiresInMs: 600_000,
    refreshExpiresInMs: -DAY,
  },
  {
    key: 'rt-lapsed-expired',
    provider: 'spotify',
    status: 'token_expired',
    accessExpiresInMs: -DAY,
    refreshExpiresInMs: -60_000,
  },
  // lapsed: no refresh token and the access token expired
  {
    key: 'no-rt-expired',
    provider: 'google',
    status: 'connected',
    accessExpiresInMs: -60_000,
    refresh: false,
  },
  // not lapsed: can still refresh
  {
    key: 'rt-valid',
    provider: 'spotify',
    status: 'connected',
    accessExpiresInMs: -60_000,
    refreshExpiresInMs: 30 * DAY,
  },
  { key: 'rotating', provider: 'discord', status: 'token_expired', accessExpiresInMs: -DAY },
  // not lapsed: no refresh token but the access token is still good, or never expires
  { key: 'no-rt-valid', provider: 'google', status: 'connected', accessExpiresInMs: 600_000, refresh: false },
  { key: 'github', provider: 'github', status: 'connected', accessExpiresInMs: null, refresh: false },
  // not active: left alone whatever its dates
  {
    key: 'already',
    provider: 'spotify',
    status: 'needs_reauth',
    accessExpiresInMs: -DAY,
    refreshExpiresInMs: -DAY,
  },
  {
    key: 'gone',
    provider: 'spotify',
    status: 'disconnected',
    accessExpiresInMs: -DAY,
    refreshExpiresInMs: -DAY,
  },
];
const LAPSED = ['rt-lapsed', 'rt-lapsed-expired', 'no-rt-expired'];

let ids: Map<string, string>;

async function snapshot() {
  const [connections, events, notifications] = await Promise.all([
    h.db.connection.findMany({
      select: { id: true, status: true, version: true, statusReason: true },
      orderBy: { id: 'asc' },
    }),
    h.db.connectionEvent.findMany({ orderBy: { id: 'asc' } }),
    h.db.notification.findMany({ orderBy: { id: 'asc' } }),
  ]);
  return { connections, events, notifications };
}

beforeAll(async () => {
  h = await createCliHarness();
});

beforeEach(async () => {
  await h.db.notification.deleteMany();
  await h.db.connection.deleteMany();
  const now = Date.now();
  const rows = await h.db.connection.createManyAndReturn({
    data: SEEDS.map((s) => ({
      ownerId: `owner-${s.key}`,
      provider: s.provider,
      status: s.status,
      accessTokenEnc: h.ctx.vault.encrypt(`access-${s.key}`),
      refreshTokenEnc: s.refresh === false ? null : h.ctx.vault.encrypt(`refresh-${s.key}`),
      tokenExpiresAt: s.accessExpiresInMs === null ? null : new Date(now + s.accessExpiresInMs),
      refreshTokenExpiresAt:
        s.refreshExpiresInMs === undefined || s.refreshExpiresInMs === null
          ? null
          : new Date(now + s.refreshExpiresInMs),
    })),
    select: { id: true, ownerId: true },
  });
  ids = new Map(rows.map((r) => [r.ownerId.replace(/^owner-/, ''), r.id]));
});

afterAll(async () => {
  await h?.close();
});

describe('cli › deactivate-expired', () => {
  it('--dry-run lists the lapsed connections and their hashed owners, and changes nothing', async () => {
    const before = await snapshot();
    const r = await h.run(['deactivate-expired', '--dry-run']);
    expect(r.code).toBe(0);
    expect(await snapshot()).toEqual(before);
    for (const key of LAPSED) {
      expect(r.stdout).toContain(ids.get(key));
      expect(r.stdout).toContain(h.ctx.hashOwner(`owner-${key}`));
    }
    for (const key of SEEDS.map((s) => s.key).filter((k) => !LAPSED.includes(k))) {
      expect(r.stdout).not.toContain(ids.get(key));
    }
    expect(r.stdout).not.toContain('owner-');
    expect(r.stdout).toContain('Dry run: 3 connections would move to needs_reauth; nothing was changed.');
  });

  it('moves exactly the lapsed ones to needs_reauth, each with its event and one notification', async () => {
    const before = await snapshot();
    const r = await h.run(['deactivate-expired']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Moved 3 connections to needs_reauth');
    const after = await snapshot();

    const lapsedIds = new Set(LAPSED.map((k) => ids.get(k)!));
    for (const c of after.connections) {
      const was = before.connections.find((b) => b.id === c.id)!;
      if (lapsedIds.has(c.id)) {
        expect(c.status).toBe('needs_reauth');
        expect(c.version).toBe(was.version + 1);
      } else {
        expect(c).toEqual(was);
      }
    }
    expect(after.events).toHaveLength(3);
    for (const e of after.events) {
      expect(lapsedIds.has(e.connectionId)).toBe(true);
      expect(e.to).toBe('needs_reauth');
      expect(e.reason).toBe(describeCause({ kind: 'refresh_token_lapsed' }));
    }
    expect(new Set(after.events.map((e) => e.connectionId))).toEqual(lapsedIds);
    expect(after.notifications.map((n) => [n.type, n.connectionId, n.status])).toEqual(
      expect.arrayContaining([...lapsedIds].map((id) => ['connection.needs_reauth', id, 'pending'])),
    );
    expect(after.notifications).toHaveLength(3);
    for (const n of after.notifications) {
      expect(Object.keys(n.payload as object).sort()).toEqual(
        ['connectionId', 'detail', 'ownerId', 'provider', 'reason', 'teamId'].sort(),
      );
      expect(JSON.stringify(n.payload)).not.toMatch(/access-|refresh-rt|v1\./);
    }
  });

  it('is a no-op when run again, and notify-reauth then adds no second notice for them', async () => {
    await h.run(['deactivate-expired']);
    const once = await snapshot();
    const again = await h.run(['deactivate-expired']);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('Moved 0 connections');
    expect(await snapshot()).toEqual(once);
    // Only the connection that was in needs_reauth before, without any notice, gets one.
    const notify = await h.run(['notify-reauth']);
    expect(notify.code).toBe(0);
    expect(notify.stdout).toContain('Queued 1 connection.needs_reauth notification.');
    expect(notify.stdout).toContain(ids.get('already'));
    for (const key of LAPSED) {
      expect(await h.db.notification.count({ where: { connectionId: ids.get(key)! } })).toBe(1);
    }
  });

  it('leaves a connection alone while a refresh holds its lease, and says to run again', async () => {
    const leases = new ConnectionLeases(h.db);
    const id = ids.get('rt-lapsed')!;
    expect((await leases.take(id, 'a-refresh', 10_000)).kind).toBe('taken');
    try {
      const r = await h.run(['deactivate-expired']);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`Skipped connection ${ids.get('rt-lapsed')}: a refresh holds its lease`);
      expect((await h.db.connection.findUnique({ where: { id: ids.get('rt-lapsed')! } }))!.status).toBe(
        'connected',
      );
    } finally {
      await leases.release(id, 'a-refresh');
    }
    const rerun = await h.run(['deactivate-expired']);
    expect(rerun.code).toBe(0);
    expect((await h.db.connection.findUnique({ where: { id: ids.get('rt-lapsed')! } }))!.status).toBe(
      'needs_reauth',
    );
  });
});

describe('cli › notify-reauth', () => {
  it('queues one notice per needs_reauth connection without one, idempotently, and again only after it went dead', async () => {
    const id = ids.get('already')!;
    const first = await h.run(['notify-reauth']);
    expect(first.code).toBe(0);
    expect(first.stdout).toContain('Queued 1 connection.needs_reauth notification.');
    expect(first.stdout).toContain(h.ctx.hashOwner('owner-already'));
    const second = await h.run(['notify-reauth']);
    expect(second.stdout).toContain('Queued 0 connection.needs_reauth notifications.');
    const notices = await h.db.notification.findMany({ where: { connectionId: id } });
    expect(notices).toHaveLength(1);
    expect(notices[0]!.type).toBe('connection.needs_reauth');

    await h.db.notification.update({ where: { id: notices[0]!.id }, data: { status: 'dead' } });
    const third = await h.run(['notify-reauth']);
    expect(third.stdout).toContain('Queued 1 connection.needs_reauth notification.');
    const fourth = await h.run(['notify-reauth']);
    expect(fourth.stdout).toContain('Queued 0 connection.needs_reauth notifications.');
    expect(await h.db.notification.count({ where: { connectionId: id, status: 'pending' } })).toBe(1);
  });

  it('a delivered notice since the status change counts as notified', async () => {
    const id = ids.get('already')!;
    await h.db.notification.create({
      data: {
        type: 'connection.needs_reauth',
        connectionId: id,
        provider: 'spotify',
        payload: {},
        status: 'delivered',
      },
    });
    const r = await h.run(['notify-reauth']);
    expect(r.stdout).toContain('Queued 0 connection.needs_reauth notifications.');
  });
});
