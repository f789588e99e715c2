import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, verifyStandardWebhook, type Sandbox } from '../src/index.ts';
import { api, control, eventually, seedGrant, type SeededGrant } from './helpers.ts';

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
  at: number;
}

/** A local webhook receiver that fails the first `failures` deliveries with a 500. */
async function receiver(
  failures = 0,
): Promise<{ url: string; received: Received[]; close(): Promise<void> }> {
  const received: Received[] = [];
  let failed = 0;
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    req.on('end', () => {
      received.push({ headers: req.headers, body, at: Date.now() });
      res.statusCode = failed++ < failures ? 500 : 200;
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/webhooks/fathom`,
    received,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

let sb: Sandbox;
const closers: (() => Promise<void>)[] = [];
beforeAll(async () => {
  sb = await startSandbox({ webhookRetryDelaysMs: [30, 60, 90] });
});
afterAll(() => sb.close());
afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
});

async function register(
  grant: SeededGrant,
  url: string,
  flags: Record<string, boolean> = { include_transcript: true },
): Promise<string> {
  const res = await api<{ secret: string }>(sb, 'fathom', '/webhooks', grant.accessToken, {
    method: 'POST',
    json: { destination_url: url, triggered_for: ['my_recordings'], ...flags },
  });
  expect(res.status).toBe(201);
  return res.body.secret;
}

describe('webhook delivery › a recorded meeting reaches every registered destination, signed', () => {
  it('delivers the Meeting payload with Standard Webhooks headers that verify', async () => {
    const a = await receiver();
    const b = await receiver();
    closers.push(a.close, b.close);
    const grant = await seedGrant(sb, 'fathom', { email: 'rec@acme.test' });
    const secretA = await register(grant, a.url, { include_transcript: true, include_summary: true });
    const secretB = await register(grant, b.url, { include_action_items: true });

    const recorded = await control<{ recordings: { recording_id: number }[] }>(
      sb,
      'POST',
      '/fathom/recordings',
      { grantId: grant.grantId },
    );
    await eventually(async () => a.received.length === 1 && b.received.length === 1);

    for (const [hook, secret] of [
      [a, secretA],
      [b, secretB],
    ] as const) {
      const { headers, body } = hook.received[0]!;
      expect(headers['content-type']).toBe('application/json');
      expect(headers['webhook-id']).toMatch(/^msg_/);
      expect(headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
      expect(Math.abs(Number(headers['webhook-timestamp']) - Date.now() / 1000)).toBeLessThan(5);
      expect(verifyStandardWebhook(secret, headers as Record<string, string>, body)).toBe(true);
      const meeting = JSON.parse(body) as Record<string, unknown>;
      expect(meeting.recording_id).toBe(recorded.recordings[0]!.recording_id);
      expect(meeting.recorded_by).toMatchObject({ email: 'rec@acme.test' });
    }
    const bodyA = JSON.parse(a.received[0]!.body) as Record<string, unknown>;
    expect(bodyA).toHaveProperty('transcript');
    expect(bodyA).toHaveProperty('default_summary');
    expect(JSON.parse(b.received[0]!.body)).toHaveProperty('action_items');
    // The meeting is also there for the API.
    const list = await api<{ items: { recording_id: number }[] }>(
      sb,
      'fathom',
      '/meetings',
      grant.accessToken,
    );
    expect(list.body.items[0]!.recording_id).toBe(recorded.recordings[0]!.recording_id);
  });

  it('fires only for the registering account and the triggers it chose, each signed with its own secret', async () => {
    const hook = await receiver();
    closers.push(hook.close);
    const alice = await seedGrant(sb, 'fathom', { email: 'alice@acme.test' });
    const bob = await seedGrant(sb, 'fathom', { email: 'bob@acme.test' });
    const aliceSecret = await register(alice, `${hook.url}?who=alice`);
    const bobSecret = await register(bob, `${hook.url}?who=bob`);
    const teamOnly = await api<{ secret: string }>(sb, 'fathom', '/webhooks', alice.accessToken, {
      method: 'POST',
      json: {
        destination_url: `${hook.url}?who=alice-team`,
        triggered_for: ['shared_team_recordings'],
        include_summary: true,
      },
    });
    expect(aliceSecret).not.toBe(bobSecret);

    await control(sb, 'POST', '/fathom/recordings', { grantId: alice.grantId });
    await eventually(async () => hook.received.length === 1);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(hook.received).toHaveLength(1);
    const [first] = hook.received;
    const headers = first!.headers as Record<string, string>;
    expect(verifyStandardWebhook(aliceSecret, headers, first!.body)).toBe(true);
    expect(verifyStandardWebhook(bobSecret, headers, first!.body)).toBe(false);
    expect(verifyStandardWebhook(teamOnly.body.secret, headers, first!.body)).toBe(false);
    expect(JSON.parse(first!.body)).toMatchObject({ recorded_by: { email: 'alice@acme.test' } });

    const shared = await control<{ deliveries: { url: string }[] }>(sb, 'POST', '/fathom/recordings', {
      grantId: alice.grantId,
      trigger: 'shared_team_recordings',
    });
    expect(shared.deliveries.map((d) => d.url)).toEqual([`${hook.url}?who=alice-team`]);
    await eventually(async () => hook.received.length === 2);
    expect(
      verifyStandardWebhook(
        teamOnly.body.secret,
        hook.received[1]!.headers as Record<string, string>,
        hook.received[1]!.body,
      ),
    ).toBe(true);
  });

  it('retries failed deliveries on the (shortened) schedule, same message id, freshly signed', async () => {
    const hook = await receiver(2);
    closers.push(hook.close);
    const grant = await seedGrant(sb, 'fathom');
    const secret = await register(grant, hook.url);
    const { deliveries } = await control<{ deliveries: { id: string }[] }>(sb, 'POST', '/fathom/recordings', {
      grantId: grant.grantId,
    });

    await eventually(async () => hook.received.length === 3);
    const ids = new Set(hook.received.map((r) => r.headers['webhook-id']));
    expect([...ids]).toEqual([deliveries[0]!.id]);
    for (const r of hook.received)
      expect(verifyStandardWebhook(secret, r.headers as Record<string, string>, r.body)).toBe(true);
    expect(hook.received[1]!.at - hook.received[0]!.at).toBeGreaterThanOrEqual(25);
    expect(hook.received[2]!.at - hook.received[1]!.at).toBeGreaterThanOrEqual(55);

    const state = await eventually(async () => {
      const all = await control<{
        deliveries: { id: string; state: string; attempts: { status: number }[] }[];
      }>(sb, 'GET', '/fathom/deliveries');
      const mine = all.deliveries.find((d) => d.id === deliveries[0]!.id);
      return mine?.state === 'delivered' && mine;
    });
    expect(state.attempts.map((a) => a.status)).toEqual([500, 500, 200]);
  });

  it('gives up after the last retry and marks the delivery failed', async () => {
    const hook = await receiver(100);
    closers.push(hook.close);
    const grant = await seedGrant(sb, 'fathom');
    await register(grant, hook.url);
    const { deliveries } = await control<{ deliveries: { id: string }[] }>(sb, 'POST', '/fathom/recordings', {
      grantId: grant.grantId,
    });
    const failed = await eventually(async () => {
      const all = await control<{ deliveries: { id: string; state: string; attempts: unknown[] }[] }>(
        sb,
        'GET',
        '/fathom/deliveries',
      );
      const mine = all.deliveries.find((d) => d.id === deliveries[0]!.id);
      return mine?.state === 'failed' && mine;
    });
    expect(failed.attempts).toHaveLength(4);
    expect(hook.received).toHaveLength(4);
  });

  it('a destination that is down counts as a failed attempt and is retried', async () => {
    const hook = await receiver();
    const url = hook.url;
    await hook.close();
    const grant = await seedGrant(sb, 'fathom');
    await register(grant, url);
    const { deliveries } = await control<{ deliveries: { id: string }[] }>(sb, 'POST', '/fathom/recordings', {
      grantId: grant.grantId,
    });
    const failed = await eventually(async () => {
      const all = await control<{
        deliveries: { id: string; state: string; attempts: { error: string | null }[] }[];
      }>(sb, 'GET', '/fathom/deliveries');
      const mine = all.deliveries.find((d) => d.id === deliveries[0]!.id);
      return mine?.state === 'failed' && mine;
    });
    expect(failed.attempts.every((a) => a.error)).toBe(true);
  });

  it('deliver: false records the meeting (its transcript is there) and sends nothing: the caller plays the sender', async () => {
    const hook = await receiver();
    closers.push(hook.close);
    const grant = await seedGrant(sb, 'fathom', { email: 'quiet@acme.test' });
    await register(grant, hook.url);
    const recorded = await control<{ recordings: { recording_id: number }[]; deliveries: unknown[] }>(
      sb,
      'POST',
      '/fathom/recordings',
      { grantId: grant.grantId, deliver: false },
    );
    expect(recorded.deliveries).toEqual([]);
    const id = recorded.recordings[0]!.recording_id;
    const transcript = await api<{ transcript: unknown[] }>(
      sb,
      'fathom',
      `/recordings/${id}/transcript`,
      grant.accessToken,
    );
    expect(transcript.status).toBe(200);
    expect(transcript.body.transcript.length).toBeGreaterThan(0);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(hook.received).toHaveLength(0);
  });
});
