// What happens to a disconnected user's data: kept for CONDUIT_DISCONNECTED_RETENTION_DAYS, then
// purged by the retention sweep; `DELETE /v1/connections/:id?purge=true` purges at once. A purge
// deletes what was synced (meetings, transcripts, webhook deliveries, the webhook) and the
// account's email; the connection row, without secrets, and its status events stay as the audit.
import { createHash, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MeetingRepository } from '@conduit/db';
import { runRetentionSweep } from '@conduit/jobs';
import { answer, expectProblem } from './support/problem.ts';
import { API_KEYS_ENTRY, startStack, type Stack } from './support/stack.ts';

const READER_KEY = 'purge-reader-key-0123456789';
const sha256 = (key: string) => createHash('sha256').update(key).digest('hex');
let s: Stack;

beforeAll(async () => {
  s = await startStack({
    label: 'purge',
    env: { CONDUIT_API_KEYS: [API_KEYS_ENTRY, `reader:connections:read:${sha256(READER_KEY)}`].join(',') },
  });
});

afterAll(async () => {
  await s?.close();
});

/** A Fathom connection through the connect flow, with synced meetings, a transcript and a delivery. */
async function connectedWithData(email: string) {
  const attempt = await s.connect('fathom', `owner-${randomUUID()}`, { email });
  expect(attempt.message).toMatchObject({ status: 'connected' });
  const connectionId = attempt.message!.connectionId!;
  const repo = new MeetingRepository(s.ctx.db);
  const base = Date.now() - 86_400_000;
  await repo.upsert(
    connectionId,
    [1, 2, 3].map((i) => ({
      recordingId: 9_000_000 + Math.floor(Math.random() * 1_000_000) * 10 + i,
      title: `Call ${i}`,
      url: null,
      shareUrl: null,
      providerCreatedAt: new Date(base + i * 60_000),
      scheduledStartAt: null,
      scheduledEndAt: null,
      recordingStartAt: null,
      recordingEndAt: null,
      transcriptLanguage: 'en',
      recordedByEmail: email,
      invitees: [],
      raw: { title: `Call ${i}` },
    })),
  );
  const [first] = await s.ctx.db.meeting.findMany({ where: { connectionId }, take: 1 });
  await repo.storeTranscript(
    first!.id,
    {
      language: 'en',
      segments: [{ speaker: 'Ada', text: 'hello' }],
      summaryTemplate: null,
      summaryMarkdown: null,
    },
    new Date(),
  );
  await s.ctx.db.webhookDelivery.create({
    data: {
      provider: 'fathom',
      deliveryId: `msg_${randomUUID()}`,
      sentAt: new Date(),
      payload: { recording_id: Number(first!.recordingId) },
      connectionId,
      status: 'processed',
    },
  });
  return connectionId;
}

async function leftOf(connectionId: string) {
  const db = s.ctx.db;
  return {
    meetings: await db.meeting.count({ where: { connectionId } }),
    transcripts: await db.transcript.count({ where: { meeting: { connectionId } } }),
    deliveries: await db.webhookDelivery.count({ where: { connectionId } }),
    webhooks: await db.connectionWebhook.count({ where: { connectionId } }),
  };
}

describe('purge › DELETE /v1/connections/:id?purge=true', () => {
  it("disconnects and deletes the connection's synced data at once; the row and its status history stay, without secrets", async () => {
    const connectionId = await connectedWithData('purge-now@acme.test');
    expect(await leftOf(connectionId)).toEqual({ meetings: 3, transcripts: 1, deliveries: 1, webhooks: 1 });

    const res = await s.api('DELETE', `/v1/connections/${connectionId}?purge=true`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      id: connectionId,
      status: 'disconnected',
      externalEmail: null,
      purged: { meetings: 3, transcripts: 1, webhookDeliveries: 1, webhooks: 1 },
    });
    expect(await leftOf(connectionId)).toEqual({ meetings: 0, transcripts: 0, deliveries: 0, webhooks: 0 });
    const row = await s.ctx.db.connection.findUniqueOrThrow({ where: { id: connectionId } });
    expect(row).toMatchObject({
      status: 'disconnected',
      accessTokenEnc: null,
      refreshTokenEnc: null,
      externalEmail: null,
    });
    expect(row.purgedAt).toBeInstanceOf(Date);
    const events = await s.ctx.db.connectionEvent.findMany({
      where: { connectionId },
      orderBy: { id: 'asc' },
    });
    expect(events.map((e) => [e.from, e.to])).toEqual([
      [null, 'connected'],
      ['connected', 'disconnected'],
    ]);
    // The webhook at Fathom went with the disconnect.
    const hooks = (await s.sandboxGet<{ webhooks: Array<{ url: string }> }>('/_sandbox/fathom/webhooks'))
      .webhooks;
    expect(hooks.filter((h) => h.url.includes(connectionId))).toEqual([]);

    // Again: idempotent, nothing left to delete.
    const again = await s.api('DELETE', `/v1/connections/${connectionId}?purge=true`);
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({
      purged: { meetings: 0, transcripts: 0, webhookDeliveries: 0, webhooks: 0 },
    });
  });

  it('without purge the data is kept; a later purge=true on the disconnected connection deletes it', async () => {
    const connectionId = await connectedWithData('purge-later@acme.test');
    const res = await s.api('DELETE', `/v1/connections/${connectionId}`);
    expect(res.status).toBe(200);
    expect(res.body).not.toHaveProperty('purged');
    expect(await leftOf(connectionId)).toMatchObject({ meetings: 3, transcripts: 1, deliveries: 1 });
    const purged = await s.api('DELETE', `/v1/connections/${connectionId}?purge=true`);
    expect(purged.body).toMatchObject({ purged: { meetings: 3, transcripts: 1, webhookDeliveries: 1 } });
    expect(await leftOf(connectionId)).toMatchObject({ meetings: 0, transcripts: 0, deliveries: 0 });
  });

  it('bad input is a 400 problem; a read-only key gets 403; an unknown id 404', async () => {
    const connectionId = await connectedWithData('purge-refused@acme.test');
    const bad = await fetch(`${s.publicUrl}/v1/connections/${connectionId}?purge=maybe`, {
      method: 'DELETE',
      headers: { authorization: 'Bearer test-api-key-0123456789' },
    });
    expectProblem(await answer(bad), 400);
    const reader = await s.api('DELETE', `/v1/connections/${connectionId}?purge=true`, undefined, {
      authorization: `Bearer ${READER_KEY}`,
    });
    expect(reader.status).toBe(403);
    expect(reader.body).toMatchObject({ requiredScope: 'connections:write' });
    expect(await leftOf(connectionId)).toMatchObject({ meetings: 3 });
    expect((await s.ctx.db.connection.findUniqueOrThrow({ where: { id: connectionId } })).status).toBe(
      'connected',
    );
    const unknown = await s.api('DELETE', `/v1/connections/${randomUUID()}?purge=true`);
    expect(unknown.status).toBe(404);
  });

  it('the purge is in the OpenAPI document, on the disconnect route', async () => {
    const doc = (await (await fetch(`${s.publicUrl}/docs/json`)).json()) as {
      paths: Record<string, Record<string, { parameters?: Array<{ name: string; in: string }> }>>;
    };
    const params = doc.paths['/v1/connections/{id}']!.delete!.parameters ?? [];
    expect(params).toContainEqual(expect.objectContaining({ name: 'purge', in: 'query' }));
  });
});

describe('purge › the retention sweep', () => {
  it('purges connections disconnected longer than the retention period, and nothing else', async () => {
    const old = await connectedWithData('retention-old@acme.test');
    const recent = await connectedWithData('retention-recent@acme.test');
    const live = await connectedWithData('retention-live@acme.test');
    for (const id of [old, recent]) expect((await s.api('DELETE', `/v1/connections/${id}`)).status).toBe(200);
    const day = 86_400_000;
    await s.ctx.db.connection.update({
      where: { id: old },
      data: { statusChangedAt: new Date(Date.now() - 31 * day) },
    });
    await s.ctx.db.connection.update({
      where: { id: recent },
      data: { statusChangedAt: new Date(Date.now() - 29 * day) },
    });

    const deps = { db: s.ctx.db, logger: s.ctx.logger };
    expect(await runRetentionSweep(deps, { retentionDays: 0, batchSize: 1 })).toMatchObject({
      purged: 0,
      skipped: expect.stringContaining('0'),
    });
    expect(await leftOf(old)).toMatchObject({ meetings: 3 });

    const report = await runRetentionSweep(deps, { retentionDays: 30, batchSize: 1 });
    expect(report).toMatchObject({ purged: 1, meetings: 3, transcripts: 1, webhookDeliveries: 1 });
    expect(await leftOf(old)).toEqual({ meetings: 0, transcripts: 0, deliveries: 0, webhooks: 0 });
    expect(await leftOf(recent)).toMatchObject({ meetings: 3, transcripts: 1, deliveries: 1 });
    expect(await leftOf(live)).toMatchObject({ meetings: 3, transcripts: 1, deliveries: 1, webhooks: 1 });
    // Purged once: the next sweep has nothing to do.
    expect(await runRetentionSweep(deps, { retentionDays: 30, batchSize: 1 })).toMatchObject({ purged: 0 });
  });

  it('a reconnect after a purge starts a new retention: its next disconnect is purged again in time', async () => {
    const email = 'retention-back@acme.test';
    const id = await connectedWithData(email);
    await s.api('DELETE', `/v1/connections/${id}?purge=true`);
    const owner = (await s.ctx.db.connection.findUniqueOrThrow({ where: { id } })).ownerId;
    const back = await s.connect('fathom', owner, { email });
    expect(back.message).toMatchObject({ status: 'connected', connectionId: id });
    const row = await s.ctx.db.connection.findUniqueOrThrow({ where: { id } });
    expect(row).toMatchObject({ purgedAt: null, externalEmail: email });
  });
});
