import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MeetingRepository } from '@conduit/db';
import { waitFor } from '@conduit/testing';
import { startStack, type Stack } from './support/stack.ts';

let s: Stack;

beforeAll(async () => {
  // A receiver is configured, so data events are written to the outbox (nothing drains it here).
  s = await startStack({
    label: 'data-notifications',
    env: { CONDUIT_NOTIFY_URL: 'http://127.0.0.1:17550/hook' },
  });
  s.startWorkers();
});

afterAll(async () => {
  await s?.close();
});

const rows = (type: string, connectionId: string) =>
  s.ctx.db.notification.findMany({ where: { type, connectionId }, orderBy: { createdAt: 'asc' } });

describe('notifications › meeting.synced and transcript.stored', () => {
  it('a sync writes one meeting.synced per new meeting and one transcript.stored per transcript, once', async () => {
    const email = `notify-${randomUUID().slice(0, 8)}@example.com`;
    const seed = await s.sandboxGrant('fathom', email);
    await s.sandboxPost('/_sandbox/fathom/meetings', { grantId: seed.grantId, count: 3 });
    const ownerId = `owner-${randomUUID()}`;
    const attempt = await s.connect('fathom', ownerId, { email, teamId: 'team-n' });
    const connectionId = attempt.message!.connectionId!;
    expect((await s.api('POST', `/v1/connections/${connectionId}/sync`, { mode: 'full' })).status).toBe(202);

    await waitFor(
      async () => (await rows('transcript.stored', connectionId)).length === 3,
      20_000,
      'three transcripts stored',
    );
    const synced = await rows('meeting.synced', connectionId);
    expect(synced).toHaveLength(3);
    const meetings = await s.ctx.db.meeting.findMany({ where: { connectionId } });
    expect(synced.map((n) => (n.payload as { meetingId: string }).meetingId).sort()).toEqual(
      meetings.map((m) => m.id).sort(),
    );
    expect(synced[0]).toMatchObject({ status: 'pending', provider: 'fathom' });
    expect(synced[0]!.payload).toMatchObject({ connectionId, ownerId, teamId: 'team-n', provider: 'fathom' });
    const stored = await rows('transcript.stored', connectionId);
    expect(stored[0]!.payload).toMatchObject({ connectionId, ownerId, provider: 'fathom', hasSummary: true });

    // The same meetings again: nothing new to say.
    expect((await s.api('POST', `/v1/connections/${connectionId}/sync`, { mode: 'full' })).status).toBe(202);
    await waitFor(
      async () => (await s.ctx.db.syncRun.count({ where: { connectionId, finishedAt: { not: null } } })) >= 2,
      20_000,
      'the second sync finished',
    );
    expect(await rows('meeting.synced', connectionId)).toHaveLength(3);
    expect(await rows('transcript.stored', connectionId)).toHaveLength(3);
  });

  it('without a receiver configured, nothing is written to the outbox for data', async () => {
    const conn = await s.ctx.db.connection.create({
      data: { ownerId: `o-${randomUUID()}`, provider: 'fathom' },
    });
    await new MeetingRepository(s.ctx.db).upsert(conn.id, [
      {
        recordingId: 42,
        title: 'Quiet',
        url: null,
        shareUrl: null,
        providerCreatedAt: new Date(),
        scheduledStartAt: null,
        scheduledEndAt: null,
        recordingStartAt: null,
        recordingEndAt: null,
        transcriptLanguage: null,
        recordedByEmail: null,
        invitees: [],
        raw: { recording_id: 42 },
      },
    ]);
    expect(await s.ctx.db.notification.count({ where: { connectionId: conn.id } })).toBe(0);
  });
});
