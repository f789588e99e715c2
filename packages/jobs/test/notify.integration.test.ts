// The notification outbox drained to a real HTTP receiver: signed Standard Webhooks deliveries,
// retries with the same webhook-id, dead after the last attempt, and safe claims across drains.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { verifyWebhook } from '@conduit/core';
import {
  ConnectionRepository,
  NotificationRepository,
  createDb,
  notificationPayload,
  type Db,
} from '@conduit/db';
import { createTestDatabase, type TestDatabase } from '@conduit/testing';
import { NotificationDrain, type NotificationDrainSettings, type NotifyTarget } from '../src/index.ts';
import { waitFor } from './support/harness.ts';

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
  answered: number;
  /** when it arrived (Date.now()) */
  at: number;
}

/** A webhook receiver that answers each request with the next status of `answers` (the last one repeats). */
async function startReceiver(answers: number[] | ((n: number) => number | 'hang')) {
  const received: Received[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      const n = received.length;
      const answer =
        typeof answers === 'function' ? answers(n) : (answers[n] ?? answers[answers.length - 1]!);
      received.push({ headers: req.headers, body, answered: answer === 'hang' ? 0 : answer, at: Date.now() });
      if (answer === 'hang') return;
      res
        .writeHead(answer, { 'content-type': 'text/plain' })
        .end(answer >= 300 ? 'receiver is down for maintenance' : 'ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    received,
    target: { url: `http://127.0.0.1:${port}/hooks/conduit`, secret: SECRET } satisfies NotifyTarget,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

let database: TestDatabase;
let db: Db;
let connections: ConnectionRepository;
const cleanups: Array<() => Promise<void>> = [];

function logCapture() {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString().split('\n').filter(Boolean))
        lines.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  return { lines, logger: pino({ level: 'debug' }, stream) };
}

function startDrain(target: NotifyTarget | undefined, overrides: Partial<NotificationDrainSettings> = {}) {
  const log = logCapture();
  const drain = new NotificationDrain(
    { notifications: new NotificationRepository(db), logger: log.logger },
    { target, pollMs: 25, maxAttempts: 12, timeoutMs: 2_000, retryBaseMs: 50, retryMaxMs: 100, ...overrides },
  );
  drain.start();
  cleanups.push(() => drain.stop());
  return { drain, log };
}

/** A connection that goes needs_reauth the way the refresh path does it: one status change with its notification. */
async function connectionGoesNeedsReauth(owner: string) {
  const conn = await db.connection.create({
    data: { ownerId: owner, provider: 'spotify', accessTokenEnc: 'v1.k1.x.y.z' },
  });
  const ok = await connections.changeStatus(
    conn,
    'needs_reauth',
    { kind: 'refresh_rejected', error: 'invalid_grant', status: 400 },
    new Date(),
    {
      notify: [
        { type: 'connection.needs_reauth', payload: notificationPayload(conn, { reason: 'invalid_grant' }) },
      ],
    },
  );
  expect(ok).toBe(true);
  return conn;
}

beforeAll(async () => {
  database = await createTestDatabase();
  db = createDb({ databaseUrl: database.url, poolSize: 8 });
  connections = new ConnectionRepository(db);
});

afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
  await db.notification.deleteMany();
});

afterAll(async () => {
  await db?.$disconnect();
  await database?.drop();
});

describe('notify › delivery', () => {
  it('a needs_reauth transition produces exactly one signed notification, retried with the same webhook-id after a 500', async () => {
    const receiver = await startReceiver([500, 200]);
    cleanups.push(receiver.close);
    const conn = await connectionGoesNeedsReauth('user-1');
    const { log } = startDrain(receiver.target);

    const row = await waitFor(async () => {
      const n = await db.notification.findFirst({ where: { connectionId: conn.id } });
      return n?.status === 'delivered' ? n : null;
    });
    expect(row.attempts).toBe(2);
    expect(row.deliveredAt).not.toBeNull();
    expect(row.lastError).toBeNull();

    // Nothing more arrives once delivered.
    await new Promise((r) => setTimeout(r, 200));
    expect(receiver.received.map((r) => r.answered)).toEqual([500, 200]);
    const [first, second] = receiver.received;
    expect(first!.headers['webhook-id']).toBe(row.id);
    expect(second!.headers['webhook-id']).toBe(row.id);
    for (const r of receiver.received) {
      const verified = verifyWebhook({
        secret: SECRET,
        headers: r.headers,
        rawBody: r.body,
        now: new Date(),
        toleranceSeconds: 300,
      });
      expect(verified.id).toBe(row.id);
      expect(r.headers['content-type']).toBe('application/json');
    }
    expect(JSON.parse(second!.body)).toEqual({
      id: row.id,
      type: 'connection.needs_reauth',
      createdAt: row.createdAt.toISOString(),
      data: {
        connectionId: conn.id,
        ownerId: 'user-1',
        teamId: null,
        provider: 'spotify',
        reason: 'invalid_grant',
      },
    });
    expect(second!.body).not.toContain('v1.k1');

    const failed = log.lines.find((l) => l.msg === 'notification delivery failed; will retry');
    expect(failed).toMatchObject({
      notificationId: row.id,
      attempt: 1,
      error: 'HTTP 500: receiver is down for maintenance',
    });
    expect(JSON.stringify(log.lines)).not.toContain('user-1');
  });

  it('a notification is dead after the last attempt, with its error kept, and is never sent again', async () => {
    const receiver = await startReceiver([503]);
    cleanups.push(receiver.close);
    const conn = await connectionGoesNeedsReauth('user-2');
    const { log } = startDrain(receiver.target, { maxAttempts: 3 });

    const row = await waitFor(async () => {
      const n = await db.notification.findFirst({ where: { connectionId: conn.id } });
      return n?.status === 'dead' ? n : null;
    });
    expect(row.attempts).toBe(3);
    expect(row.lastError).toBe('HTTP 503: receiver is down for maintenance');
    expect(row.deliveredAt).toBeNull();
    await new Promise((r) => setTimeout(r, 200));
    expect(receiver.received).toHaveLength(3);
    expect(new Set(receiver.received.map((r) => r.headers['webhook-id']))).toEqual(new Set([row.id]));
    expect(
      log.lines.some(
        (l) => l.level === 50 && String(l.msg).startsWith('notification is dead after 3 attempts'),
      ),
    ).toBe(true);
  });

  it('a receiver that does not answer in time is a failed attempt', async () => {
    const receiver = await startReceiver(() => 'hang');
    cleanups.push(receiver.close);
    const conn = await connectionGoesNeedsReauth('user-3');
    startDrain(receiver.target, { timeoutMs: 300, maxAttempts: 1 });
    const row = await waitFor(async () => {
      const n = await db.notification.findFirst({ where: { connectionId: conn.id } });
      return n?.status === 'dead' ? n : null;
    });
    expect(row.lastError).toBe('no answer within 300 ms (CONDUIT_NOTIFY_TIMEOUT_MS)');
  });

  it('an unreachable receiver is a failed attempt, retried later', async () => {
    const receiver = await startReceiver([200]);
    await receiver.close();
    const conn = await connectionGoesNeedsReauth('user-4');
    startDrain(receiver.target, { retryBaseMs: 60_000, retryMaxMs: 60_000 });
    const row = await waitFor(async () => {
      const n = await db.notification.findFirst({ where: { connectionId: conn.id } });
      return n && n.attempts === 1 && n.lastError ? n : null;
    });
    expect(row.status).toBe('pending');
    expect(row.lastError).toMatch(/^network error: ECONNREFUSED/);
    // equal jitter: between half and all of the 60 s step
    const wait = row.nextAttemptAt.getTime() - Date.now();
    expect(wait).toBeGreaterThan(25_000);
    expect(wait).toBeLessThanOrEqual(60_000);
  });

  it('two drains on the same outbox deliver each of 60 notifications exactly once', async () => {
    const receiver = await startReceiver([200]);
    cleanups.push(receiver.close);
    await db.notification.createMany({
      data: Array.from({ length: 60 }, (_, i) => ({
        type: 'connection.refresh_expiring',
        provider: 'spotify' as const,
        payload: { connectionId: `c-${i}` },
      })),
    });
    startDrain(receiver.target, { batchSize: 7 });
    startDrain(receiver.target, { batchSize: 7 });
    await waitFor(async () => (await db.notification.count({ where: { status: 'delivered' } })) === 60);
    await new Promise((r) => setTimeout(r, 100));
    const ids = receiver.received.map((r) => r.headers['webhook-id']);
    expect(ids).toHaveLength(60);
    expect(new Set(ids).size).toBe(60);
  });

  it('a row whose worker died mid-send is sent again once its lease runs out (at least once)', async () => {
    const receiver = await startReceiver([200]);
    cleanups.push(receiver.close);
    const conn = await connectionGoesNeedsReauth('user-7');
    // A worker claims it and dies before recording anything.
    const claimedAt = Date.now();
    const [claimed] = await new NotificationRepository(db).claimDue({
      now: new Date(claimedAt),
      leaseMs: 300,
      limit: 10,
    });
    expect(claimed!.attempts).toBe(1);
    startDrain(receiver.target);
    const row = await waitFor(async () => {
      const n = await db.notification.findFirst({ where: { connectionId: conn.id } });
      return n?.status === 'delivered' ? n : null;
    });
    expect(row.attempts).toBe(2);
    expect(receiver.received.map((r) => r.headers['webhook-id'])).toEqual([row.id]);
    // Not before the dead worker's lease ran out (judged by the clock, not by a sleep shorter
    // than the lease, which a loaded machine can stretch past it).
    expect(receiver.received[0]!.at).toBeGreaterThanOrEqual(claimedAt + 300);
  });

  it('a row whose last attempt never reported back is dead, without another send', async () => {
    const receiver = await startReceiver([200]);
    cleanups.push(receiver.close);
    const conn = await connectionGoesNeedsReauth('user-8');
    await db.notification.updateMany({ where: { connectionId: conn.id }, data: { attempts: 3 } });
    startDrain(receiver.target, { maxAttempts: 3 });
    const row = await waitFor(async () => {
      const n = await db.notification.findFirst({ where: { connectionId: conn.id } });
      return n?.status === 'dead' ? n : null;
    });
    expect(row.lastError).toBe('gave up after 3 attempts; the last one never reported back');
    expect(receiver.received).toHaveLength(0);
  });

  it('without a notify URL, rows stay pending and one warning says nothing is delivered', async () => {
    await connectionGoesNeedsReauth('user-5');
    const { log } = startDrain(undefined);
    await new Promise((r) => setTimeout(r, 150));
    expect(await db.notification.count({ where: { status: 'pending', attempts: 0 } })).toBe(1);
    const warnings = log.lines.filter((l) =>
      String(l.msg).startsWith('notifications are not being delivered'),
    );
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.msg).toContain('CONDUIT_NOTIFY_URL');
  });

  it('stop() lets a delivery in flight finish and record its result', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const received: string[] = [];
    const server = createServer((req, res) => {
      received.push(String(req.headers['webhook-id']));
      req.resume();
      void gate.then(() => res.writeHead(204).end());
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise<void>((r) => server.close(() => r())));
    const conn = await connectionGoesNeedsReauth('user-6');
    const { drain } = startDrain({
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
      secret: SECRET,
    });
    await waitFor(async () => received.length === 1);
    const stopped = drain.stop();
    setTimeout(release, 100);
    await stopped;
    const row = await db.notification.findFirstOrThrow({ where: { connectionId: conn.id } });
    expect(row.status).toBe('delivered');
  });
});
