import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROVIDER_KEYS, webhookHeaders } from '@conduit/core';
import { QUEUE_NAMES } from '@conduit/jobs';
import { CLIENT_ANOMALIES, startStack, type SeededGrant, type Stack } from './support/stack.ts';
import { waitFor } from '@conduit/testing';

const EMAIL = 'ada.recorder@acme.test';
let s: Stack;
let seed: SeededGrant;
let connectionId: string;

beforeAll(async () => {
  s = await startStack({ label: 'webhooks', webhookEmail: EMAIL });
  seed = await s.sandboxGrant('fathom', EMAIL);
  await s.sandboxPost('/_sandbox/fathom/meetings', { grantId: seed.grantId, count: 2 });
  const attempt = await s.connect('fathom', 'owner-webhooks', { email: EMAIL });
  connectionId = attempt.message!.connectionId!;
  s.startWorkers();
  await until(
    async () => (await s.ctx.queues.get(QUEUE_NAMES.syncFathom).getJobCounts('completed')).completed === 1,
    'first sync',
  );
});

afterAll(async () => {
  await s?.close();
});

const until = <T>(check: () => Promise<T | null | undefined | false>, what: string, timeoutMs = 10_000) =>
  waitFor(check, timeoutMs, what, 20);

function post(body: string | Buffer, headers: Record<string, string>) {
  return fetch(`${s.publicUrl}/v1/webhooks/fathom`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
  });
}

function signed(
  body: string,
  id = `msg_${randomUUID()}`,
  at = Math.floor(Date.now() / 1000),
  secret = s.webhookSecret!,
) {
  return post(body, { ...webhookHeaders(secret, id, at, body) });
}

async function transcriptOf(recordingId: number) {
  return s.ctx.db.transcript.findFirst({
    where: { meeting: { connectionId, recordingId: BigInt(recordingId) } },
  });
}

/** A meeting of the connected account, recorded in the sandbox (its transcript exists there). */
async function recordedMeeting(): Promise<Record<string, unknown>> {
  const { recordings } = await s.sandboxPost<{ recordings: Array<{ recording_id: number }> }>(
    '/_sandbox/fathom/recordings',
    { grantId: seed.grantId },
  );
  const id = recordings[0]!.recording_id;
  const delivery = await until(
    () => s.ctx.db.webhookDelivery.findFirst({ where: { payload: { path: ['recording_id'], equals: id } } }),
    'the sandbox delivery',
  );
  return delivery.payload as Record<string, unknown>;
}

describe('webhooks › fathom', () => {
  it("a signed delivery from Fathom is stored, acknowledged with 202 and fetches the recording's transcript", async () => {
    const { recordings } = await s.sandboxPost<{
      recordings: Array<{ recording_id: number }>;
      deliveries: Array<{ id: string }>;
    }>('/_sandbox/fathom/recordings', { grantId: seed.grantId });
    const recordingId = recordings[0]!.recording_id;
    const transcript = await until(() => transcriptOf(recordingId), 'the transcript');
    expect(Array.isArray(transcript.segments) && transcript.segments.length).toBeGreaterThan(0);
    const meeting = await s.ctx.db.meeting.findFirstOrThrow({
      where: { connectionId, recordingId: BigInt(recordingId) },
    });
    expect(meeting.recordedByEmail).toBe(EMAIL);
    const delivery = await until(
      () =>
        s.ctx.db.webhookDelivery.findFirst({
          where: {
            connectionId,
            status: 'processed',
            payload: { path: ['recording_id'], equals: recordingId },
          },
        }),
      'the delivery marked processed',
    );
    expect(delivery.provider).toBe('fathom');
    const sent = await s.sandboxGet<{
      deliveries: Array<{ recordingId: number; state: string; attempts: Array<{ status: number }> }>;
    }>('/_sandbox/fathom/deliveries');
    const mine = sent.deliveries.find((d) => d.recordingId === recordingId)!;
    expect(mine.state).toBe('delivered');
    expect(mine.attempts.map((a) => a.status)).toEqual([202]);
  });

  it('replaying a delivery 10 times (also concurrently) stores and processes it once', async () => {
    const payload = await recordedMeeting();
    const recordingId = payload.recording_id as number;
    await until(() => transcriptOf(recordingId), 'the first transcript');
    const body = JSON.stringify(payload);
    const id = `msg_${randomUUID()}`;
    const answers = await Promise.all(Array.from({ length: 10 }, () => signed(body, id)));
    const statuses = answers.map((a) => a.status).sort();
    expect(statuses).toEqual([200, 200, 200, 200, 200, 200, 200, 200, 200, 202]);
    const again = await signed(body, id);
    expect(again.status).toBe(200);
    expect(await again.json()).toMatchObject({ status: 'duplicate' });
    // Fathom's own delivery of this recording, sent again (Svix re-signs each attempt).
    const original = await s.ctx.db.webhookDelivery.findFirstOrThrow({
      where: { deliveryId: { not: id }, payload: { path: ['recording_id'], equals: recordingId } },
    });
    expect((await signed(body, original.deliveryId)).status).toBe(200);
    expect(
      await s.ctx.db.webhookDelivery.count({
        where: { payload: { path: ['recording_id'], equals: recordingId } },
      }),
    ).toBe(2);
    expect(await s.ctx.db.webhookDelivery.count({ where: { deliveryId: id } })).toBe(1);
    expect(
      await s.ctx.db.transcript.count({
        where: { meeting: { connectionId, recordingId: BigInt(recordingId) } },
      }),
    ).toBe(1);
    await until(
      async () =>
        (await s.ctx.db.webhookDelivery.findFirst({ where: { deliveryId: id } }))?.status === 'processed',
      'the replayed delivery processed',
    );
  });

  it('accepts a delivery when any one of several signatures matches (secret rotation)', async () => {
    const payload = await recordedMeeting();
    const body = JSON.stringify(payload);
    const id = `msg_${randomUUID()}`;
    const at = Math.floor(Date.now() / 1000);
    const good = webhookHeaders(s.webhookSecret!, id, at, body)['webhook-signature'];
    const old = webhookHeaders('whsec_b2xkLXNlY3JldC1vbGQtc2VjcmV0LW9sZA==', id, at, body)[
      'webhook-signature'
    ];
    const res = await post(body, {
      'webhook-id': id,
      'webhook-timestamp': String(at),
      'webhook-signature': `${old} ${good}`,
    });
    expect(res.status).toBe(202);
  });

  describe('bad input gets its status and stores nothing', () => {
    const cases: Array<[string, () => Promise<Response>, number, string]> = [
      ['no signature headers', () => post('{"recording_id":1}', {}), 401, 'invalid-webhook-signature'],
      [
        'a signature made with another secret',
        () =>
          signed(
            JSON.stringify({ recording_id: 1, created_at: new Date().toISOString() }),
            undefined,
            undefined,
            'whsec_d3Jvbmctc2VjcmV0LXdyb25nLXNlY3JldA==',
          ),
        401,
        'invalid-webhook-signature',
      ],
      [
        'a body changed after signing',
        async () => {
          const body = JSON.stringify({ recording_id: 1, created_at: new Date().toISOString() });
          const headers = webhookHeaders(s.webhookSecret!, 'msg_x', Math.floor(Date.now() / 1000), body);
          return post(body.replace('1', '2'), { ...headers });
        },
        401,
        'invalid-webhook-signature',
      ],
      [
        'a stale timestamp (10 minutes old)',
        () => signed('{"recording_id":1}', undefined, Math.floor(Date.now() / 1000) - 600),
        401,
        'invalid-webhook-signature',
      ],
      [
        'a timestamp 10 minutes ahead',
        () => signed('{"recording_id":1}', undefined, Math.floor(Date.now() / 1000) + 600),
        401,
        'invalid-webhook-signature',
      ],
      ['a body that is not JSON', () => signed('{"recording_id": 1,'), 400, 'malformed-webhook'],
      ['JSON that is not a Meeting', () => signed(JSON.stringify({ hello: 'world' })), 400, 'not-a-meeting'],
      [
        'a recording id that is not an integer',
        () => signed(JSON.stringify({ recording_id: 'x', created_at: new Date().toISOString() })),
        400,
        'not-a-meeting',
      ],
      [
        'a body over 1 MiB',
        () =>
          signed(
            JSON.stringify({
              recording_id: 1,
              created_at: new Date().toISOString(),
              pad: 'x'.repeat(1_100_000),
            }),
          ),
        413,
        'payload-too-large',
      ],
    ];
    it.each(cases)('%s', async (_name, send, status, slug) => {
      const before = await s.ctx.db.webhookDelivery.count();
      const res = await send();
      expect(res.status).toBe(status);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      expect(await res.json()).toMatchObject({ status, type: `https://conduit.dev/problems/${slug}` });
      expect(await s.ctx.db.webhookDelivery.count()).toBe(before);
    });
  });

  it('a delivery for an account nobody connected is kept as unmatched, answered 202, and not processed', async () => {
    const meeting = {
      recording_id: 987_654_321,
      title: 'Someone else',
      created_at: new Date().toISOString(),
      recorded_by: {
        name: 'Stranger',
        email: 'stranger@elsewhere.test',
        email_domain: 'elsewhere.test',
        team: null,
      },
    };
    const res = await signed(JSON.stringify(meeting));
    expect(res.status).toBe(202);
    const answer = (await res.json()) as { status: string; deliveryId: string };
    expect(answer.status).toBe('unmatched');
    const row = await s.ctx.db.webhookDelivery.findUniqueOrThrow({ where: { id: answer.deliveryId } });
    expect(row).toMatchObject({ status: 'unmatched', connectionId: null });
    const jobs = await s.ctx.queues
      .get(QUEUE_NAMES.transcripts)
      .getJobs(['waiting', 'delayed', 'active', 'completed']);
    expect(jobs.some((j) => j.data.recordingId === meeting.recording_id)).toBe(false);
  });

  it('a transcript that is not ready yet (404) is retried with backoff, then the delivery is marked failed', async () => {
    const meeting = {
      recording_id: 55_555_555,
      title: 'Still processing',
      created_at: new Date().toISOString(),
      recorded_by: { name: 'Ada', email: EMAIL.toUpperCase(), email_domain: 'acme.test', team: 'Sales' },
    };
    const res = await signed(JSON.stringify(meeting));
    expect(res.status).toBe(202);
    const { deliveryId } = (await res.json()) as { deliveryId: string };
    const failed = await until(async () => {
      const row = await s.ctx.db.webhookDelivery.findUniqueOrThrow({ where: { id: deliveryId } });
      return row.status === 'failed' ? row : null;
    }, 'the delivery to fail');
    expect(failed.error).toMatch(/^no transcript after 2 tries/);
    // The webhook came first: its meeting was stored from the payload.
    expect(
      await s.ctx.db.meeting.count({ where: { connectionId, recordingId: BigInt(meeting.recording_id) } }),
    ).toBe(1);
    expect(await transcriptOf(meeting.recording_id)).toBeNull();
  });

  it('the sandbox saw no anomaly attributable to Conduit', async () => {
    const report = await s.report();
    for (const provider of PROVIDER_KEYS) {
      for (const kind of CLIENT_ANOMALIES)
        expect(report.providers[provider]!.counts[kind], `${provider} ${kind}`).toBe(0);
    }
  });
});
