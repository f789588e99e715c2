import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROVIDER_KEYS, type ProviderKey, providerSpec } from '@conduit/core';
import { QUEUE_NAMES } from '@conduit/jobs';
import { API_KEY, CLIENT_ANOMALIES, startStack, type Stack } from './support/stack.ts';

let s: Stack;

beforeAll(async () => {
  s = await startStack({ label: 'connect', env: { CONDUIT_APP_ORIGIN: 'https://app.example.com' } });
});

afterAll(async () => {
  await s?.close();
});

interface GrantState {
  grantId: string;
  email: string;
  accountId: string;
  accessToken: string;
  refreshToken: string | null;
}

async function sandboxGrantOf(provider: ProviderKey, email: string): Promise<GrantState> {
  const { grants } = await s.sandboxGet<{ grants: GrantState[] }>(`/_sandbox/grants?provider=${provider}`);
  const mine = grants.filter((g) => g.email === email);
  return mine[mine.length - 1]!;
}

async function connectionOf(ownerId: string, provider: ProviderKey) {
  return s.ctx.db.connection.findUnique({ where: { ownerId_provider: { ownerId, provider } } });
}

async function snapshot() {
  return {
    connections: await s.ctx.db.connection.findMany({ orderBy: { id: 'asc' } }),
    events: await s.ctx.db.connectionEvent.count(),
  };
}

describe('connect › every OAuth provider in the catalogue', () => {
  it.each(PROVIDER_KEYS)(
    '%s: start → consent → callback creates a connected connection with encrypted tokens, named after its account',
    async (provider) => {
      const ownerId = `owner-${provider}-${randomUUID()}`;
      const email = `${provider.replace('_', '-')}.user@example.com`;
      if (provider === 'fathom') {
        // Fathom names the account through its meetings' recorder: give the account some.
        const seed = await s.sandboxGrant('fathom', email);
        await s.sandboxPost('/_sandbox/fathom/meetings', { grantId: seed.grantId, count: 3 });
      }
      const attempt = await s.connect(provider, ownerId, { email });

      const spec = providerSpec(provider);
      const q = attempt.authUrl.searchParams;
      expect(q.get('redirect_uri')).toBe(`${s.publicUrl}/v1/connect/${provider}/callback`);
      expect(q.get('state')).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(q.get('scope')).toBe(spec.scopes.default.join(spec.scopes.separator));
      expect(q.get('code_challenge_method')).toBe(spec.pkce ? 'S256' : null);
      for (const [key, value] of Object.entries(spec.authorizeParams)) expect(q.get(key)).toBe(value);

      expect(attempt.callback.status).toBe(200);
      expect(attempt.callback.headers.get('content-security-policy')).toContain("script-src 'nonce-");
      expect(attempt.body).toContain('"https://app.example.com"');
      const conn = await connectionOf(ownerId, provider);
      expect(attempt.message).toEqual({
        type: 'conduit:connect',
        status: 'connected',
        provider,
        connectionId: conn!.id,
      });
      expect(conn!.status).toBe('connected');

      const grant = await sandboxGrantOf(provider, email);
      expect(conn!.accessTokenEnc).not.toContain(grant.accessToken);
      expect(s.ctx.vault.decrypt(conn!.accessTokenEnc!)).toBe(grant.accessToken);
      expect(conn!.refreshTokenEnc === null ? null : s.ctx.vault.decrypt(conn!.refreshTokenEnc)).toBe(
        grant.refreshToken,
      );
      // Some providers' identity endpoints name no email (X, Reddit, Slack's auth.test, Twitch).
      const withEmail = spec.identity.kind !== 'profile' || spec.identity.email !== undefined;
      expect(conn!.externalEmail).toBe(withEmail ? email : null);
      // The provider's account id, never an email: Fathom's API names none, so it stays unknown.
      expect(conn!.externalAccountId).toBe(provider === 'fathom' ? null : grant.accountId);
      expect(conn!.tokenExpiresAt === null).toBe(spec.accessTokenLifetimeSeconds === null);

      const events = await s.ctx.db.connectionEvent.findMany({ where: { connectionId: conn!.id } });
      expect(events).toMatchObject([
        { from: null, to: 'connected', reason: 'connected through an OAuth grant' },
      ]);
      // Only providers with data to sync get a first sync.
      const syncs = await s.ctx.queues.get(QUEUE_NAMES.syncFathom).getJobs(['waiting', 'delayed']);
      expect(syncs.some((j) => j.data.connectionId === conn!.id)).toBe(spec.dataSync !== 'none');
    },
  );

  it("a newcomer's Fathom account, made on the consent page with nothing seeded, looks real: an email, a numeric id, a few meetings", async () => {
    const ownerId = `owner-${randomUUID()}`;
    const email = 'first.timer@example.com';
    const attempt = await s.connect('fathom', ownerId, { email });
    expect(attempt.message).toMatchObject({ status: 'connected' });
    const grant = await sandboxGrantOf('fathom', email);
    expect(grant.accountId).toMatch(/^\d+$/);
    const listed = await fetch(`${s.sandbox.url}${providerSpec('fathom').sandboxPaths.apiBaseUrl}/meetings`, {
      headers: { authorization: `Bearer ${grant.accessToken}` },
    });
    const { items } = (await listed.json()) as { items: Array<{ recorded_by: { email: string } }> };
    expect(items.length).toBeGreaterThanOrEqual(3);
    expect(items.every((m) => m.recorded_by.email === email)).toBe(true);
    // Named through its meetings at once: the first sync has something to store.
    const conn = (await connectionOf(ownerId, 'fathom'))!;
    expect(conn).toMatchObject({ externalEmail: email, externalAccountId: null });
    // The same account connected again gets no more meetings made up.
    await s.connect('fathom', `owner-${randomUUID()}`, { email });
    const again = await fetch(`${s.sandbox.url}${providerSpec('fathom').sandboxPaths.apiBaseUrl}/meetings`, {
      headers: { authorization: `Bearer ${(await sandboxGrantOf('fathom', email)).accessToken}` },
    });
    expect(((await again.json()) as { items: unknown[] }).items).toHaveLength(items.length);
  });

  it('the state row keeps no state and no verifier in clear, and is single use', async () => {
    const ownerId = `owner-${randomUUID()}`;
    const attempt = await s.connect('spotify', ownerId);
    const state = new URL(attempt.location).searchParams.get('state')!;
    const verifier = await s.ctx.db.oAuthState.findFirstOrThrow({ where: { ownerId } });
    expect(verifier.stateHash).not.toContain(state);
    expect(verifier.codeVerifierEnc).toMatch(/^v1\./);
    expect(verifier.consumedAt).not.toBeNull();
  });
});

describe('connect › refused callbacks change nothing', () => {
  it('a replayed callback is refused with a problem page', async () => {
    const ownerId = `owner-${randomUUID()}`;
    const first = await s.connect('discord', ownerId);
    expect(first.message?.status).toBe('connected');
    const before = await snapshot();
    const replay = await s.follow(first.location);
    expect(replay.callback.status).toBe(400);
    expect(replay.message).toMatchObject({ status: 'error', error: 'invalid_state', provider: 'discord' });
    expect(replay.body).toContain('already used');
    expect(await snapshot()).toEqual(before);
  });

  it('an expired state is refused', async () => {
    const ownerId = `owner-${randomUUID()}`;
    const started = await s.api('POST', '/v1/connect/google/start', { ownerId });
    await s.ctx.db.oAuthState.updateMany({
      where: { ownerId },
      data: { expiresAt: new Date(Date.now() - 1000) },
    });
    const consent = await fetch(started.body!.authUrl as string, { redirect: 'manual' });
    const before = await snapshot();
    const res = await s.follow(consent.headers.get('location')!);
    expect(res.callback.status).toBe(400);
    expect(res.body).toContain('expired');
    expect(await snapshot()).toEqual(before);
    expect(await connectionOf(ownerId, 'google')).toBeNull();
  });

  it('a tampered state is refused, and the genuine one still works afterwards', async () => {
    const ownerId = `owner-${randomUUID()}`;
    const started = await s.api('POST', '/v1/connect/github/start', { ownerId });
    const consent = await fetch(started.body!.authUrl as string, { redirect: 'manual' });
    const genuine = new URL(consent.headers.get('location')!);
    const tampered = new URL(genuine);
    const state = genuine.searchParams.get('state')!;
    tampered.searchParams.set('state', (state[0] === 'A' ? 'B' : 'A') + state.slice(1));
    const before = await snapshot();
    const res = await s.follow(tampered.toString());
    expect(res.callback.status).toBe(400);
    expect(res.body).toContain('not one Conduit issued');
    expect(await snapshot()).toEqual(before);
    expect((await s.follow(genuine.toString())).message?.status).toBe('connected');
  });

  it("a state issued for another provider is refused at this provider's callback", async () => {
    const ownerId = `owner-${randomUUID()}`;
    const started = await s.api('POST', '/v1/connect/spotify/start', { ownerId });
    const consent = await fetch(started.body!.authUrl as string, { redirect: 'manual' });
    const elsewhere = consent.headers
      .get('location')!
      .replace('/v1/connect/spotify/', '/v1/connect/discord/');
    const before = await snapshot();
    const res = await s.follow(elsewhere);
    expect(res.callback.status).toBe(400);
    expect(res.message).toMatchObject({ status: 'error', error: 'invalid_state', provider: 'discord' });
    expect(await snapshot()).toEqual(before);
  });

  it('access_denied comes back as "denied" and creates nothing', async () => {
    const ownerId = `owner-${randomUUID()}`;
    const before = await snapshot();
    const res = await s.connect('fathom', ownerId, { deny: true });
    expect(res.callback.status).toBe(200);
    expect(res.message).toEqual({
      type: 'conduit:connect',
      status: 'denied',
      provider: 'fathom',
      error: 'access_denied',
    });
    expect(await snapshot()).toEqual(before);
  });

  it('a client asking for JSON gets problem details', async () => {
    const res = await fetch(`${s.publicUrl}/v1/connect/spotify/callback?state=forged&code=x`, {
      headers: { accept: 'application/json' },
    });
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    expect(await res.json()).toMatchObject({
      status: 400,
      type: 'https://conduit.dev/problems/invalid-state',
    });
  });
});

describe('connect › start', () => {
  it('needs the API key, compared in full', async () => {
    const body = { ownerId: 'o' };
    for (const authorization of [undefined, 'Bearer wrong', `Bearer ${API_KEY}x`, `Basic ${API_KEY}`]) {
      const res = await s.api(
        'POST',
        '/v1/connect/spotify/start',
        body,
        authorization ? { authorization } : {},
      );
      if (!authorization) {
        const anon = await fetch(`${s.publicUrl}/v1/connect/spotify/start`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
        expect(anon.status).toBe(401);
        continue;
      }
      expect(res.status).toBe(401);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      expect(res.headers.get('www-authenticate')).toContain('Bearer');
    }
  });

  it('refuses unknown providers and products, invalid bodies and returnTo elsewhere, as problem details', async () => {
    expect((await s.api('POST', '/v1/connect/myspace/start', { ownerId: 'o' })).body).toMatchObject({
      status: 404,
      type: 'https://conduit.dev/problems/unknown-provider',
    });
    expect(
      (await s.api('POST', '/v1/connect/google/start', { ownerId: 'o', products: ['fax'] })).status,
    ).toBe(400);
    expect((await s.api('POST', '/v1/connect/google/start', {})).status).toBe(400);
    const offsite = await s.api('POST', '/v1/connect/google/start', {
      ownerId: 'o',
      returnTo: 'https://evil.example/x',
    });
    expect(offsite.body).toMatchObject({
      status: 400,
      type: 'https://conduit.dev/problems/invalid-return-to',
    });
    const js = await s.api('POST', '/v1/connect/google/start', {
      ownerId: 'o',
      returnTo: 'javascript:alert(1)',
    });
    expect(js.status).toBe(400);
  });

  it('products add their scopes', async () => {
    const res = await s.api('POST', '/v1/connect/google/start', { ownerId: 'o', products: ['gmail'] });
    const scope = new URL(res.body!.authUrl as string).searchParams.get('scope')!;
    expect(scope.split(' ')).toEqual(['openid', 'email', 'https://www.googleapis.com/auth/gmail.readonly']);
  });

  it('with returnTo, the callback redirects there with the result appended', async () => {
    const ownerId = `owner-${randomUUID()}`;
    const res = await s.connect('spotify', ownerId, {
      returnTo: 'https://app.example.com/integrations?tab=music',
    });
    expect(res.callback.status).toBe(302);
    const back = new URL(res.callback.headers.get('location')!);
    const conn = await connectionOf(ownerId, 'spotify');
    expect(back.origin + back.pathname).toBe('https://app.example.com/integrations');
    expect(Object.fromEntries(back.searchParams)).toEqual({
      tab: 'music',
      conduit_status: 'connected',
      connection_id: conn!.id,
    });
    const denied = await s.connect('spotify', `owner-${randomUUID()}`, {
      returnTo: 'https://app.example.com/i',
      deny: true,
    });
    expect(new URL(denied.callback.headers.get('location')!).searchParams.get('conduit_status')).toBe(
      'denied',
    );
  });
});

describe('connect › reconnect', () => {
  it('reconnecting a needs_reauth connection returns it to connected with the same id, and says so', async () => {
    const ownerId = `owner-${randomUUID()}`;
    const email = 'returning.user@example.com';
    const first = await s.connect('spotify', ownerId, { email });
    const conn = (await connectionOf(ownerId, 'spotify'))!;
    await s.ctx.connections.changeStatus(
      conn,
      'needs_reauth',
      { kind: 'refresh_rejected', error: 'invalid_grant' },
      new Date(),
    );
    const again = await s.connect('spotify', ownerId, { email });
    expect(again.message).toEqual({ ...first.message, connectionId: conn.id });
    const after = (await connectionOf(ownerId, 'spotify'))!;
    expect(after.id).toBe(conn.id);
    expect(after.status).toBe('connected');
    expect(s.ctx.vault.decrypt(after.accessTokenEnc!)).toBe(
      (await sandboxGrantOf('spotify', email)).accessToken,
    );
    const events = await s.ctx.db.connectionEvent.findMany({
      where: { connectionId: conn.id },
      orderBy: { id: 'asc' },
    });
    expect(events.map((e) => [e.from, e.to])).toEqual([
      [null, 'connected'],
      ['connected', 'needs_reauth'],
      ['needs_reauth', 'connected'],
    ]);
    expect(events[2]!.reason).toBe('reconnected through a fresh OAuth grant');
  });
});

describe('connections API', () => {
  it('lists and reads connections with safe fields only', async () => {
    const ownerId = `owner-${randomUUID()}`;
    await s.connect('discord', ownerId);
    await s.connect('github', ownerId);
    const list = await s.api('GET', `/v1/connections?ownerId=${encodeURIComponent(ownerId)}`);
    const items = list.body!.items as Array<Record<string, unknown>>;
    expect(items.map((c) => c.provider).sort()).toEqual(['discord', 'github']);
    for (const c of items) {
      expect(Object.keys(c).some((k) => /token.*enc|version/i.test(k))).toBe(false);
      const one = await s.api('GET', `/v1/connections/${c.id as string}`);
      expect(one.body).toEqual(c);
    }
    expect((await s.api('GET', `/v1/connections/${randomUUID()}`)).status).toBe(404);
    expect((await s.api('GET', '/v1/connections/not-a-uuid')).status).toBe(400);
    expect((await s.api('GET', '/v1/connections')).status).toBe(400);
  });

  it('DELETE wipes the tokens and moves the connection to disconnected with an event', async () => {
    const ownerId = `owner-${randomUUID()}`;
    await s.connect('google', ownerId);
    const conn = (await connectionOf(ownerId, 'google'))!;
    const res = await s.api('DELETE', `/v1/connections/${conn.id}`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: conn.id, status: 'disconnected' });
    const row = (await connectionOf(ownerId, 'google'))!;
    expect([row.accessTokenEnc, row.refreshTokenEnc, row.tokenExpiresAt]).toEqual([null, null, null]);
    const last = await s.ctx.db.connectionEvent.findFirst({
      where: { connectionId: conn.id },
      orderBy: { id: 'desc' },
    });
    expect(last).toMatchObject({ from: 'connected', to: 'disconnected', reason: 'disconnected by the user' });
    expect((await s.api('DELETE', `/v1/connections/${conn.id}`)).status).toBe(200);
    expect((await s.api('POST', `/v1/connections/${conn.id}/sync`, { mode: 'full' })).status).toBe(409);
  });

  it('POST …/sync answers 202 with the job id, and the same job while one is queued', async () => {
    const ownerId = `owner-${randomUUID()}`;
    const email = 'manual.sync@example.com';
    await s.connect('fathom', ownerId, { email });
    const conn = (await connectionOf(ownerId, 'fathom'))!;
    const queue = s.ctx.queues.get(QUEUE_NAMES.syncFathom);
    // The sync queued on connect is still waiting (no workers here): a manual one joins it.
    const first = await s.api('POST', `/v1/connections/${conn.id}/sync`, { mode: 'full', limit: 20 });
    expect(first.status).toBe(202);
    expect(first.body).toMatchObject({ deduplicated: true });
    const queued = await queue.getJobs(['waiting', 'delayed']);
    expect(queued.filter((j) => j.data.connectionId === conn.id).map((j) => j.id)).toEqual([
      first.body!.jobId,
    ]);
    await queue.remove(first.body!.jobId as string);
    const fresh = await s.api('POST', `/v1/connections/${conn.id}/sync`, { mode: 'full', limit: 20 });
    expect(fresh.body).toMatchObject({ deduplicated: false });
    expect((await queue.getJob(fresh.body!.jobId as string))!.data).toEqual({
      connectionId: conn.id,
      mode: 'full',
      limit: 20,
      reason: 'manual',
    });
    const again = await s.api('POST', `/v1/connections/${conn.id}/sync`, { mode: 'incremental' });
    expect(again.body).toEqual({ jobId: fresh.body!.jobId, deduplicated: true });
    expect((await s.api('POST', `/v1/connections/${conn.id}/sync`, { mode: 'sideways' })).status).toBe(400);
    const spotify = await s.connect('spotify', ownerId);
    const res = await s.api('POST', `/v1/connections/${spotify.message!.connectionId}/sync`, {
      mode: 'full',
    });
    expect(res.body).toMatchObject({ status: 409, type: 'https://conduit.dev/problems/sync-not-supported' });
  });
});

describe('connect › the sandbox saw nothing wrong', () => {
  it('no anomaly attributable to Conduit', async () => {
    const report = await s.report();
    for (const provider of PROVIDER_KEYS) {
      for (const kind of CLIENT_ANOMALIES)
        expect(report.providers[provider]!.counts[kind], `${provider} ${kind}`).toBe(0);
    }
  });
});
