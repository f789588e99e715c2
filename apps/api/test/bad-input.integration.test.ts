// Bad input never gets a 5xx: what cannot be stored is stored safely or refused with a 4xx that
// says why, and every refusal — whoever raises it — is problem+json.
import { randomUUID } from 'node:crypto';
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { webhookHeaders } from '@conduit/core';
import { QUEUE_NAMES } from '@conduit/jobs';
import { waitFor } from '@conduit/testing';
import { startStack, type SeededGrant, type Stack } from './support/stack.ts';
import { answer, expectProblem } from './support/problem.ts';

const EMAIL = 'nul.recorder@acme.test';
const OPERATOR = { name: 'olga', password: 'olga-pass-123' };
let s: Stack;
let seed: SeededGrant;
let connectionId: string;

beforeAll(async () => {
  s = await startStack({
    label: 'bad-input',
    webhookEmail: EMAIL,
    env: { CONDUIT_OPERATORS: `${OPERATOR.name}:admin:${OPERATOR.password}` },
  });
  seed = await s.sandboxGrant('fathom', EMAIL);
  // Fathom has no "who am I": the account's email comes from its meetings.
  await s.sandboxPost('/_sandbox/fathom/meetings', { grantId: seed.grantId, count: 1 });
  const attempt = await s.connect('fathom', 'owner-bad-input', { email: EMAIL });
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

const until = <T>(check: () => Promise<T | null | undefined | false>, what: string) =>
  waitFor(check, 15_000, what, 20);

const operatorAuth = {
  authorization: `Basic ${Buffer.from(`${OPERATOR.name}:${OPERATOR.password}`).toString('base64')}`,
};

/** A real meeting of the connected account, as Fathom delivered it (its transcript exists in the sandbox). */
async function deliveredMeeting(): Promise<{ text: string; recordingId: number }> {
  const { recordings } = await s.sandboxPost<{ recordings: Array<{ recording_id: number }> }>(
    '/_sandbox/fathom/recordings',
    { grantId: seed.grantId },
  );
  const id = recordings[0]!.recording_id;
  const delivery = await until(
    () => s.ctx.db.webhookDelivery.findFirst({ where: { payload: { path: ['recording_id'], equals: id } } }),
    'the sandbox delivery',
  );
  // Its own fetch done first, so ours is a fetch of its own rather than folded into that one.
  await until(
    async () =>
      (await s.ctx.db.webhookDelivery.findUniqueOrThrow({ where: { id: delivery.id } })).status ===
      'processed',
    "the sandbox delivery's fetch",
  );
  return { text: JSON.stringify(delivery.payload), recordingId: id };
}

function signed(body: string, id = `msg_${randomUUID()}`) {
  return fetch(`${s.publicUrl}/v1/webhooks/fathom`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...webhookHeaders(s.webhookSecret!, id, Math.floor(Date.now() / 1000), body),
    },
    body,
  });
}

describe('bad input › webhook bodies Postgres jsonb cannot hold', () => {
  for (const [what, escape] of [
    ['\\u0000 (NUL)', '\\u0000'],
    ['a lone surrogate (\\ud800)', '\\ud800'],
  ] as const) {
    it(`a signed delivery whose JSON holds ${what} is accepted (202), stored byte for byte and processed`, async () => {
      const meeting = await deliveredMeeting();
      const body = meeting.text.replace(/"title":"/, `"title":"odd${escape}title `);
      expect(body).toContain(escape);
      const id = `msg_${randomUUID()}`;
      const res = await signed(body, id);
      expect(res.status, await res.clone().text()).toBe(202);
      const stored = await s.ctx.db.webhookDelivery.findFirstOrThrow({ where: { deliveryId: id } });
      expect(Buffer.from(stored.body!).toString('utf8')).toBe(body);
      expect((stored.payload as { title: string }).title).toMatch(/^odd\ufffdtitle /);
      await until(
        async () =>
          (await s.ctx.db.webhookDelivery.findUniqueOrThrow({ where: { id: stored.id } })).status ===
          'processed',
        'the delivery processed',
      );
      // And sent again, it is a duplicate, not a 5xx.
      expect((await signed(body, id)).status).toBe(200);
    });
  }
});

describe('bad input › NUL and lone surrogates in ids', () => {
  it('a NUL in the ownerId query value is a 400 naming it, not a 500', async () => {
    const res = await fetch(`${s.publicUrl}/v1/connections?ownerId=a%00b`, {
      headers: { authorization: 'Bearer test-api-key-0123456789' },
    });
    const p = expectProblem(await answer(res), 400);
    expect(p.detail).toContain('query.ownerId');
    expect(p.detail).toContain('NUL');
  });

  it('a NUL or a lone surrogate in ownerId or teamId of a connect start is a 400', async () => {
    for (const body of [
      { ownerId: 'a\u0000b' },
      { ownerId: 'owner', teamId: 'team\u0000' },
      { ownerId: 'a\ud800b' },
      { ownerId: 'owner', teamId: '\udc00' },
    ]) {
      const res = await s.api('POST', '/v1/connect/fathom/start', body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(String(res.body!.detail)).toMatch(/body\.(ownerId|teamId) holds/);
    }
  });

  it('a NUL in a path parameter is a 400', async () => {
    const res = await fetch(`${s.publicUrl}/v1/connections/%00`, {
      headers: { authorization: 'Bearer test-api-key-0123456789' },
    });
    expectProblem(await answer(res), 400);
  });
});

describe('bad input › unknown body properties', () => {
  it('are refused with a 400 that names them, not silently dropped', async () => {
    const res = await s.api('POST', '/v1/connect/fathom/start', { ownerId: 'o-1', colour: 'red', size: 3 });
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(res.body!.detail).toContain('"colour"');
    expect(res.body!.detail).toContain('"size"');
    expect(res.body!.unknownProperties).toEqual(['colour', 'size']);
  });

  it('also on the sync route', async () => {
    const res = await s.api('POST', `/v1/connections/${connectionId}/sync`, { mode: 'full', extra: true });
    expect(res.status).toBe(400);
    expect(res.body!.unknownProperties).toEqual(['extra']);
  });
});

describe('bad input › every error is problem+json', () => {
  it('404 for a path nobody serves', async () => {
    const p = expectProblem(await answer(await fetch(`${s.publicUrl}/v1/nothing-here`)), 404);
    expect(p.instance).toBe('/v1/nothing-here');
  });

  it('405 with Allow for a GET on a POST-only route', async () => {
    const res = await fetch(`${s.publicUrl}/v1/webhooks/fathom`);
    expectProblem(await answer(res), 405);
    expect(res.headers.get('allow')).toBe('POST');
  });

  it('431 for oversized headers', async () => {
    const res = await new Promise<{
      status: number;
      headers: Record<string, string | string[] | undefined>;
      text: string;
    }>((resolve, reject) => {
      const req = request(`${s.publicUrl}/healthz`, { headers: { 'x-big': 'x'.repeat(20_000) } }, (r) => {
        let text = '';
        r.on('data', (c: Buffer) => (text += c.toString()));
        r.on('end', () => resolve({ status: r.statusCode!, headers: r.headers, text }));
      });
      req.on('error', reject);
      req.end();
    });
    expectProblem(res, 431);
  });

  it('400 for a URL that is not valid percent-encoding', async () => {
    const res = await fetch(`${s.publicUrl}/v1/connections/%E0%A4%A`, {
      headers: { authorization: 'Bearer test-api-key-0123456789' },
    });
    expectProblem(await answer(res), 400);
  });

  it("Bull Board's own errors under /admin/queues", async () => {
    const res = await fetch(`${s.publicUrl}/admin/queues/api/queues/no-such-queue/123`, {
      headers: operatorAuth,
    });
    const p = expectProblem(await answer(res), 404);
    expect(p.detail).toBe('ERRORS.QUEUE_NOT_FOUND');
  });
});
