// The Fathom client and the identity client against the sandbox's imitation of each provider.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROVIDER_KEYS, resolveEndpoints, type ProviderKey, providerSpec } from '@conduit/core';
import { startSandbox, type Sandbox } from '@conduit/sandbox';
import { FathomClient, IdentityClient } from '../src/index.ts';

let sandbox: Sandbox;
let fathom: FathomClient;
let identity: IdentityClient;
const timeouts = { connectMs: 1_000, headersMs: 3_000, bodyMs: 3_000 };

beforeAll(async () => {
  sandbox = await startSandbox({ port: 0, pageSize: 5 });
  const base = (p: ProviderKey) => resolveEndpoints(providerSpec(p), { sandboxUrl: sandbox.url }).apiBaseUrl;
  fathom = new FathomClient({ apiBaseUrl: base('fathom'), timeouts, rateLimitDefaultWaitMs: 60_000 });
  identity = new IdentityClient({
    apiBaseUrls: Object.fromEntries(PROVIDER_KEYS.map((p) => [p, base(p)])),
    timeouts,
    rateLimitDefaultWaitMs: 60_000,
  });
});

afterAll(async () => {
  await fathom?.close();
  await identity?.close();
  await sandbox?.close();
});

async function post<T>(path: string, body: unknown): Promise<T> {
  const res = await fetch(`${sandbox.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return (await res.json()) as T;
}

async function grant(provider: ProviderKey, email: string) {
  const { grants } = await post<{
    grants: Array<{ grantId: string; accountId: string; accessToken: string }>;
  }>('/_sandbox/grants', { provider, email });
  return grants[0]!;
}

describe('fathom client', () => {
  it('pages through /meetings with next_cursor, newest first, and honours created_after', async () => {
    const g = await grant('fathom', 'pager@acme.test');
    const { recordingIds } = await post<{ recordingIds: number[] }>('/_sandbox/fathom/meetings', {
      grantId: g.grantId,
      count: 12,
    });
    const seen: number[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await fathom.listMeetings(g.accessToken, { cursor });
      if (page.kind !== 'ok') throw new Error(page.kind);
      seen.push(...page.value.items.map((m) => m.recording_id));
      cursor = page.value.next_cursor ?? undefined;
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
    expect(seen.sort()).toEqual([...recordingIds].sort());
    const first = await fathom.listMeetings(g.accessToken);
    if (first.kind !== 'ok') throw new Error(first.kind);
    const newest = first.value.items[0]!;
    const after = await fathom.listMeetings(g.accessToken, {
      createdAfter: new Date(Date.parse(newest.created_at) - 1),
    });
    expect(after.kind === 'ok' && after.value.items.map((m) => m.recording_id)).toEqual([
      newest.recording_id,
    ]);
  });

  it('reads a transcript and a summary; an unknown recording is not_found', async () => {
    const g = await grant('fathom', 'reader@acme.test');
    const { recordingIds } = await post<{ recordingIds: number[] }>('/_sandbox/fathom/meetings', {
      grantId: g.grantId,
      count: 1,
    });
    const transcript = await fathom.getTranscript(g.accessToken, recordingIds[0]!);
    expect(transcript.kind).toBe('ok');
    if (transcript.kind === 'ok')
      expect(transcript.value[0]).toMatchObject({
        speaker: { display_name: expect.any(String) },
        text: expect.any(String),
      });
    expect((await fathom.getSummary(g.accessToken, recordingIds[0]!)).kind).toBe('ok');
    expect((await fathom.getTranscript(g.accessToken, 1)).kind).toBe('not_found');
  });

  it('classifies a refused token (401) and a rate limit (429, RateLimit-Reset)', async () => {
    const refused = await fathom.listMeetings('not-a-token');
    expect(refused).toMatchObject({ kind: 'unauthorized', detail: expect.stringContaining('401') });
    expect(JSON.stringify(refused)).not.toContain('not-a-token');
    const g = await grant('fathom', 'limited@acme.test');
    await post('/_sandbox/faults', { provider: 'fathom', endpoint: 'api', rate429: 1, retryAfterSeconds: 7 });
    try {
      expect(await fathom.listMeetings(g.accessToken)).toEqual({
        kind: 'rate_limited',
        waitMs: 7_000,
        status: 429,
      });
    } finally {
      await fetch(`${sandbox.url}/_sandbox/faults`, { method: 'DELETE' });
    }
  });

  it('a 5xx and an unreachable host are transient', async () => {
    const g = await grant('fathom', 'flaky@acme.test');
    await post('/_sandbox/faults', { provider: 'fathom', endpoint: 'api', rate5xx: 1, status5xx: 502 });
    try {
      expect(await fathom.listMeetings(g.accessToken)).toMatchObject({
        kind: 'transient',
        cause: 'server_error',
        status: 502,
      });
    } finally {
      await fetch(`${sandbox.url}/_sandbox/faults`, { method: 'DELETE' });
    }
    const nowhere = new FathomClient({
      apiBaseUrl: 'http://127.0.0.1:1/x',
      timeouts,
      rateLimitDefaultWaitMs: 60_000,
    });
    expect(await nowhere.listMeetings('t')).toMatchObject({ kind: 'transient', cause: 'network' });
    await nowhere.close();
  });
});

describe('identity client', () => {
  it.each(PROVIDER_KEYS.filter((p) => p !== 'fathom'))(
    '%s: names the account from its profile endpoint',
    async (provider) => {
      const email = `${provider.replace('_', '-')}.who@acme.test`;
      const g = await grant(provider, email);
      const who = await identity.identify(provider, g.accessToken);
      // Some identity endpoints name no email (X, Reddit, Slack's auth.test, Twitch): null, not made up.
      const spec = providerSpec(provider);
      const withEmail = spec.identity.kind !== 'profile' || spec.identity.email !== undefined;
      expect(who).toEqual({
        outcome: {
          kind: 'ok',
          value: { accountId: g.accountId, email: withEmail ? email : null, name: expect.any(String) },
        },
        requests: 1,
      });
    },
  );

  it('fathom: the recorder of the listed meetings; without meetings and with a team, nobody yet', async () => {
    const email = 'fathom.who@acme.test';
    const g = await grant('fathom', email);
    expect(await identity.identify('fathom', g.accessToken)).toEqual({
      outcome: { kind: 'ok', value: null },
      requests: 2,
    });
    await post('/_sandbox/fathom/meetings', { grantId: g.grantId, count: 2 });
    expect(await identity.identify('fathom', g.accessToken)).toEqual({
      // Fathom's API names no account id: the email identifies the account.
      outcome: { kind: 'ok', value: { accountId: null, email, name: expect.any(String) } },
      requests: 1,
    });
  });

  it('a refused token is unauthorized, not an identity', async () => {
    expect((await identity.identify('spotify', 'nope')).outcome.kind).toBe('unauthorized');
  });
});
