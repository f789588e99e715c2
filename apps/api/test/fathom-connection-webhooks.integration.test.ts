// Per-connection Fathom webhooks end to end, over real HTTP: a user who connects through the
// connect flow, with no operator step, gets their next recording's transcript through a webhook
// Conduit registered for them; a reconnect replaces it (new secret, old deliveries refused); a
// disconnect deletes it at Fathom; the sweep puts back one deleted at Fathom.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROVIDERS, webhookHeaders } from '@conduit/core';
import { runWebhookSweep } from '@conduit/jobs';
import { createFathomWebhookRegistrar, createRefreshDeps, createTokenClient } from '@conduit/runtime';
import { waitFor } from '@conduit/testing';
import { startStack, type SeededGrant, type Stack } from './support/stack.ts';

const EMAIL = 'newcomer@acme.test';
let s: Stack;
let seed: SeededGrant;

interface SandboxWebhook {
  id: string;
  accountId: string;
  url: string;
}

beforeAll(async () => {
  s = await startStack({ label: 'conn-webhooks', sandbox: { webhookRetryDelaysMs: [50, 100] } });
  s.startWorkers();
});

afterAll(async () => {
  await s?.close();
});

const until = <T>(check: () => Promise<T | null | undefined | false>, what: string, timeoutMs = 10_000) =>
  waitFor(check, timeoutMs, what, 20);

const sandboxWebhooks = async () =>
  (await s.sandboxGet<{ webhooks: SandboxWebhook[] }>('/_sandbox/fathom/webhooks')).webhooks;

async function record(): Promise<number> {
  const { recordings } = await s.sandboxPost<{ recordings: Array<{ recording_id: number }> }>(
    '/_sandbox/fathom/recordings',
    { grantId: seed.grantId },
  );
  return recordings[0]!.recording_id;
}

const transcriptOf = (connectionId: string, recordingId: number) =>
  s.ctx.db.transcript.findFirst({ where: { meeting: { connectionId, recordingId: BigInt(recordingId) } } });

async function connectedFathom(ownerId: string): Promise<string> {
  const attempt = await s.connect('fathom', ownerId, { email: EMAIL });
  expect(attempt.message).toMatchObject({ status: 'connected' });
  return attempt.message!.connectionId!;
}

let connectionId: string;
let firstSecret: string;
let firstUrl: string;

describe('fathom webhooks › one per connection, registered by Conduit', () => {
  it('a user connected through the connect flow gets the transcript of their next recording through their own webhook', async () => {
    connectionId = await connectedFathom('owner-newcomer');
    seed = await s.sandboxGrant('fathom', EMAIL);
    // The lifetime issued at connect is kept: the refresh moment adapts to it.
    const conn = await s.ctx.db.connection.findUniqueOrThrow({ where: { id: connectionId } });
    expect(conn.tokenLifetimeSeconds).toBe(seed.expiresIn);

    // A newcomer's account has recorded a few meetings already: the first sync stores them.
    await until(
      async () => (await s.ctx.db.meeting.count({ where: { connectionId } })) >= 3,
      'the first sync of the meetings the new account has',
    );
    expect(conn).toMatchObject({ externalEmail: EMAIL, externalAccountId: null });

    const hooks = await sandboxWebhooks();
    expect(hooks).toHaveLength(1);
    const row = await s.ctx.db.connectionWebhook.findUniqueOrThrow({ where: { connectionId } });
    firstUrl = `${s.publicUrl}/v1/webhooks/fathom/${row.routingId}`;
    expect(hooks[0]!.url).toBe(firstUrl);
    expect(hooks[0]!.id).toBe(row.externalId);
    // The URL names the connection only by an opaque id; the secret is stored encrypted.
    expect(row.routingId).not.toContain(connectionId);
    expect(row.routingId).toMatch(/^[A-Za-z0-9_-]{24}$/);
    firstSecret = s.ctx.vault.decrypt(row.secretEnc!);
    expect(firstSecret).toMatch(/^whsec_/);
    expect(row.secretEnc).not.toContain(firstSecret.slice(6));

    const recordingId = await record();
    const transcript = await until(() => transcriptOf(connectionId, recordingId), 'the transcript');
    expect(Array.isArray(transcript.segments) && transcript.segments.length).toBeGreaterThan(0);
    const delivery = await s.ctx.db.webhookDelivery.findFirstOrThrow({
      where: { payload: { path: ['recording_id'], equals: recordingId } },
    });
    expect(delivery.connectionId).toBe(connectionId);
    const sent = await s.sandboxGet<{
      deliveries: Array<{ recordingId: number; url: string; attempts: Array<{ status: number }> }>;
    }>('/_sandbox/fathom/deliveries');
    const mine = sent.deliveries.filter((d) => d.recordingId === recordingId);
    expect(mine.map((d) => [d.url, d.attempts.map((a) => a.status)])).toEqual([[firstUrl, [202]]]);
  });

  it('a delivery signed with another secret, or to an unknown routing id, is refused', async () => {
    const body = JSON.stringify({
      recording_id: 1,
      title: 'x',
      url: 'https://fathom.video/x',
      created_at: new Date().toISOString(),
    });
    const other = `whsec_${Buffer.from(randomUUID()).toString('base64')}`;
    const at = Math.floor(Date.now() / 1000);
    const wrong = await fetch(firstUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...webhookHeaders(other, 'msg_wrong', at, body) },
      body,
    });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('content-type')).toMatch(/problem\+json/);
    const unknown = await fetch(`${s.publicUrl}/v1/webhooks/fathom/nosuchroute`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...webhookHeaders(firstSecret, 'msg_u', at, body) },
      body,
    });
    expect(unknown.status).toBe(404);
  });

  it('a reconnect registers a new webhook with a new secret; the old one is deleted and its deliveries refused', async () => {
    const again = await connectedFathom('owner-newcomer');
    expect(again).toBe(connectionId);
    const hooks = await sandboxWebhooks();
    const row = await s.ctx.db.connectionWebhook.findUniqueOrThrow({ where: { connectionId } });
    expect(hooks.map((h) => h.id)).toEqual([row.externalId]);
    const secret = s.ctx.vault.decrypt(row.secretEnc!);
    expect(secret).not.toBe(firstSecret);

    // What the old webhook would still send (a retry signed with its secret) is refused.
    const recordingId = await record();
    const body = JSON.stringify(
      (
        await until(
          () =>
            s.ctx.db.webhookDelivery.findFirst({
              where: { payload: { path: ['recording_id'], equals: recordingId } },
            }),
          'the new delivery',
        )
      ).payload,
    );
    const at = Math.floor(Date.now() / 1000);
    const old = await fetch(firstUrl, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...webhookHeaders(firstSecret, `msg_${randomUUID()}`, at, body),
      },
      body,
    });
    expect(old.status).toBe(401);
    await until(() => transcriptOf(connectionId, recordingId), 'the transcript through the new webhook');
  });

  it('the sweep registers the webhook again once it was deleted at Fathom, and leaves a present one alone', async () => {
    const before = await s.ctx.db.connectionWebhook.findUniqueOrThrow({ where: { connectionId } });
    const tokens = createTokenClient(s.config);
    const built = createFathomWebhookRegistrar(s.ctx, createRefreshDeps(s.ctx, tokens));
    try {
      const sweep = () =>
        runWebhookSweep(
          { webhooks: built.webhooks, registrar: built.registrar },
          { intervalMs: 0, batchSize: 100, now: new Date(Date.now() + 1000) },
        );
      expect(await sweep()).toMatchObject({ looked: 1, present: 1, registered: 0 });
      await fetch(`${s.sandbox.url}/_sandbox/fathom/webhooks/${before.externalId}`, { method: 'DELETE' });
      expect(await sweep()).toMatchObject({ looked: 1, registered: 1 });
      expect(await sweep()).toMatchObject({ looked: 1, present: 1, registered: 0 });
      const after = await s.ctx.db.connectionWebhook.findUniqueOrThrow({ where: { connectionId } });
      expect(after.externalId).not.toBe(before.externalId);
      expect(after.routingId).toBe(before.routingId);
      expect((await sandboxWebhooks()).map((h) => h.id)).toEqual([after.externalId]);
      const recordingId = await record();
      await until(
        () => transcriptOf(connectionId, recordingId),
        'the transcript through the re-registered webhook',
      );
    } finally {
      await built.close();
      await tokens.close();
    }
  });

  it('a registration that fails never fails the connect; the sweep registers the webhook later', async () => {
    await s.sandboxPost('/_sandbox/faults', { provider: 'fathom', endpoint: 'webhooks', rate5xx: 1 });
    let other: string;
    try {
      const attempt = await s.connect('fathom', 'owner-unlucky', { email: 'unlucky@acme.test' });
      expect(attempt.message).toMatchObject({ status: 'connected' });
      other = attempt.message!.connectionId!;
      const row = await s.ctx.db.connectionWebhook.findUniqueOrThrow({ where: { connectionId: other } });
      expect(row.externalId).toBeNull();
      expect(row.lastError).toMatch(/registering the webhook/);
      expect(row.claimUntil).toBeNull();
    } finally {
      await fetch(`${s.sandbox.url}/_sandbox/faults`, { method: 'DELETE' });
    }
    const tokens = createTokenClient(s.config);
    const built = createFathomWebhookRegistrar(s.ctx, createRefreshDeps(s.ctx, tokens));
    try {
      const report = await runWebhookSweep(
        { webhooks: built.webhooks, registrar: built.registrar },
        { intervalMs: 60_000, batchSize: 100 },
      );
      expect(report).toMatchObject({ registered: 1, failed: 0 });
    } finally {
      await built.close();
      await tokens.close();
    }
    const row = await s.ctx.db.connectionWebhook.findUniqueOrThrow({ where: { connectionId: other } });
    expect(row.externalId).not.toBeNull();
    expect(row.lastError).toBeNull();
    const theirs = (await sandboxWebhooks()).filter((h) => h.url.endsWith(row.routingId));
    expect(theirs.map((h) => h.id)).toEqual([row.externalId]);
  });

  it('a disconnect deletes the webhook at Fathom, handles the grant as the catalogue says, and its route accepts nothing more', async () => {
    const row = await s.ctx.db.connectionWebhook.findUniqueOrThrow({ where: { connectionId } });
    const secret = s.ctx.vault.decrypt(row.secretEnc!);
    const res = await s.api('DELETE', `/v1/connections/${connectionId}`);
    expect(res.status).toBe(200);
    const conn = await s.ctx.db.connection.findUniqueOrThrow({ where: { id: connectionId } });
    expect(conn).toMatchObject({ status: 'disconnected', accessTokenEnc: null, refreshTokenEnc: null });
    // Fathom documents no revocation endpoint (catalogue `revocation: none`): nothing is queued and
    // the grant stays until the user removes the app in Fathom; where a provider offers one, the
    // revocation tests show it revoked at the sandbox.
    expect(PROVIDERS.fathom.revocation.kind).toBe('none');
    expect(await s.ctx.db.grantRevocation.count({ where: { connectionId } })).toBe(0);
    expect((await sandboxWebhooks()).map((h) => h.id)).not.toContain(row.externalId);
    expect((await sandboxWebhooks()).filter((h) => h.url.endsWith(row.routingId))).toEqual([]);
    const body = JSON.stringify({
      recording_id: 2,
      title: 'x',
      url: 'https://fathom.video/x',
      created_at: new Date().toISOString(),
    });
    const late = await fetch(`${s.publicUrl}/v1/webhooks/fathom/${row.routingId}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...webhookHeaders(secret, 'msg_late', Math.floor(Date.now() / 1000), body),
      },
      body,
    });
    expect(late.status).toBe(410);
  });
});
