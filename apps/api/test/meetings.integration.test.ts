import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MeetingRepository, type MeetingInput } from '@conduit/db';
import { startStack, type Stack } from './support/stack.ts';

let s: Stack;
let connectionId: string;
const BASE = Date.parse('2026-11-01T10:00:00Z');

function meeting(i: number): MeetingInput {
  return {
    recordingId: 1000 + i,
    title: `Meeting ${i}`,
    url: `https://fathom.video/calls/${1000 + i}`,
    shareUrl: null,
    providerCreatedAt: new Date(BASE + i * 3_600_000),
    scheduledStartAt: null,
    scheduledEndAt: null,
    recordingStartAt: new Date(BASE + i * 3_600_000),
    recordingEndAt: null,
    transcriptLanguage: 'en',
    recordedByEmail: 'rec@example.com',
    invitees: [{ name: 'Ada', email: 'ada@example.com' }],
    raw: { recording_id: 1000 + i },
  };
}

beforeAll(async () => {
  s = await startStack({ label: 'meetings' });
  const conn = await s.ctx.db.connection.create({
    data: { ownerId: `owner-${randomUUID()}`, provider: 'fathom', externalEmail: 'rec@example.com' },
  });
  connectionId = conn.id;
  const repo = new MeetingRepository(s.ctx.db);
  await repo.upsert(
    connectionId,
    Array.from({ length: 7 }, (_, i) => meeting(i)),
  );
  const latest = await repo.find(connectionId, 1006);
  await repo.storeTranscript(
    latest!.id,
    {
      language: 'en',
      segments: [{ speaker: 'Ada', text: 'Hello', timestamp: '00:00:01' }],
      summaryTemplate: 'general',
      summaryMarkdown: '## Summary\nWe said hello.',
    },
    new Date(),
  );
});

afterAll(async () => {
  await s?.close();
});

describe('meetings API › GET /v1/connections/:id/meetings', () => {
  it('pages newest first with an opaque cursor, ending with nextCursor null', async () => {
    const seen: number[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const q: string = cursor === null ? '?limit=3' : `?limit=3&cursor=${cursor}`;
      const res = await s.api('GET', `/v1/connections/${connectionId}/meetings${q}`);
      expect(res.status).toBe(200);
      const items = res.body!.items as Array<{ recordingId: number; hasTranscript: boolean }>;
      seen.push(...items.map((m) => m.recordingId));
      cursor = res.body!.nextCursor as string | null;
      pages++;
    } while (cursor !== null);
    expect(pages).toBe(3);
    expect(seen).toEqual([1006, 1005, 1004, 1003, 1002, 1001, 1000]);
  });

  it('?since= keeps only meetings created at or after it; each says whether its transcript is stored', async () => {
    const since = new Date(BASE + 5 * 3_600_000).toISOString();
    const res = await s.api('GET', `/v1/connections/${connectionId}/meetings?since=${since}`);
    const items = res.body!.items as Array<Record<string, unknown>>;
    expect(items.map((m) => [m.recordingId, m.hasTranscript])).toEqual([
      [1006, true],
      [1005, false],
    ]);
    expect(items[0]).toMatchObject({
      title: 'Meeting 6',
      createdAt: new Date(BASE + 6 * 3_600_000).toISOString(),
      invitees: [{ name: 'Ada', email: 'ada@example.com' }],
    });
    expect(items[0]).not.toHaveProperty('raw');
  });

  it('refuses a bad cursor, date or limit with 400, and an unknown connection with 404 not_found', async () => {
    for (const q of ['?cursor=bm9wZQ', '?since=yesterday', '?limit=0', '?limit=1000']) {
      const res = await s.api('GET', `/v1/connections/${connectionId}/meetings${q}`);
      expect(res.status, q).toBe(400);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
    }
    const missing = await s.api('GET', `/v1/connections/${randomUUID()}/meetings`);
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject({ code: 'not_found' });
  });
});

describe('meetings API › GET /v1/meetings/:id', () => {
  it('returns the meeting with its transcript and summary when stored, and null for both when not', async () => {
    const list = await s.api('GET', `/v1/connections/${connectionId}/meetings?limit=2`);
    const [withTranscript, without] = list.body!.items as Array<{ id: string }>;
    const full = await s.api('GET', `/v1/meetings/${withTranscript!.id}`);
    expect(full.status).toBe(200);
    expect(full.body).toMatchObject({
      recordingId: 1006,
      transcript: { language: 'en', segments: [{ speaker: 'Ada', text: 'Hello', timestamp: '00:00:01' }] },
      summary: { template: 'general', markdown: '## Summary\nWe said hello.' },
    });
    const bare = await s.api('GET', `/v1/meetings/${without!.id}`);
    expect(bare.body).toMatchObject({ recordingId: 1005, transcript: null, summary: null });
  });

  it('404 not_found for an unknown meeting, 400 for a malformed id', async () => {
    expect((await s.api('GET', `/v1/meetings/${randomUUID()}`)).body).toMatchObject({
      status: 404,
      code: 'not_found',
    });
    expect((await s.api('GET', '/v1/meetings/42')).status).toBe(400);
  });
});
