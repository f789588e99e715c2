import { createHash, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_KEY, API_KEYS_ENTRY, startStack, type Stack } from '../../../apps/api/test/support/stack.ts';
import {
  ConduitClient,
  ForbiddenError,
  NeedsReauthError,
  NotFoundError,
  UnauthorizedError,
  UnavailableError,
} from '../src/index.ts';

const READER_KEY = 'reader-key-for-client-tests-0123';
let s: Stack;
let calls: string[];
let client: ConduitClient;

const countingFetch: typeof fetch = (input, init) => {
  calls.push(`${init?.method ?? 'GET'} ${new URL(String(input)).pathname}${new URL(String(input)).search}`);
  return fetch(input, init);
};

beforeAll(async () => {
  s = await startStack({
    label: 'client',
    env: {
      CONDUIT_API_KEYS: `${API_KEYS_ENTRY},reader:${createHash('sha256').update(READER_KEY).digest('hex')}`,
    },
  });
  client = new ConduitClient({ baseUrl: s.publicUrl, apiKey: API_KEY, fetch: countingFetch });
});

afterAll(async () => {
  await s?.close();
});

async function user(provider: 'spotify' | 'github' = 'spotify') {
  const ownerId = `owner-${randomUUID()}`;
  const email = `${ownerId}@example.com`;
  const attempt = await s.connect(provider, ownerId, { email });
  const { grants } = await s.sandboxGet<{ grants: Array<{ grantId: string; email: string }> }>(
    `/_sandbox/grants?provider=${provider}`,
  );
  return {
    ownerId,
    email,
    connectionId: attempt.message!.connectionId!,
    grantId: grants.find((g) => g.email === email)!.grantId,
  };
}

describe('client › getAccessToken', () => {
  it('by connection id or by owner and provider; cached until shortly before expiry', async () => {
    const u = await user();
    calls = [];
    const byId = await client.getAccessToken(u.connectionId);
    const again = await client.getAccessToken(u.connectionId);
    const byOwner = await client.getAccessToken({ ownerId: u.ownerId, provider: 'spotify' });
    expect(again).toBe(byId);
    expect(byOwner.accessToken).toBe(byId.accessToken);
    expect(byId.expiresAt).toBeInstanceOf(Date);
    expect(byId.tokenType).toBe('Bearer');
    expect(calls).toHaveLength(2);
  });

  it('concurrent callers share one request; forceRefresh bypasses the cache and stores the new token', async () => {
    const u = await user();
    calls = [];
    const [a, b, c] = await Promise.all([1, 2, 3].map(() => client.getAccessToken(u.connectionId)));
    expect(calls).toHaveLength(1);
    expect(b).toBe(a);
    expect(c).toBe(a);
    const forced = await client.getAccessToken(u.connectionId, { forceRefresh: true });
    expect(forced.accessToken).not.toBe(a!.accessToken);
    expect((await client.getAccessToken(u.connectionId)).accessToken).toBe(forced.accessToken);
    expect(calls).toEqual([
      `GET /v1/connections/${u.connectionId}/access-token`,
      `GET /v1/connections/${u.connectionId}/access-token?forceRefresh=true`,
    ]);
  });

  it('a token that lapses within the margin is fetched again', async () => {
    const u = await user();
    const short = new ConduitClient({
      baseUrl: s.publicUrl,
      apiKey: API_KEY,
      fetch: countingFetch,
      refreshMarginSeconds: 7200,
    });
    calls = [];
    await short.getAccessToken(u.connectionId);
    await short.getAccessToken(u.connectionId);
    expect(calls).toHaveLength(2);
  });

  it('typed errors: NotFoundError, NeedsReauthError with the reconnect, ForbiddenError, UnauthorizedError, UnavailableError', async () => {
    await expect(client.getAccessToken(randomUUID())).rejects.toBeInstanceOf(NotFoundError);
    await expect(client.getAccessToken({ ownerId: 'nobody', provider: 'github' })).rejects.toMatchObject({
      code: 'not_found',
    });

    const u = await user();
    await s.sandboxPost(`/_sandbox/grants/${u.grantId}/revoke`);
    await s.ctx.db.connection.update({
      where: { id: u.connectionId },
      data: { tokenExpiresAt: new Date(Date.now() + 5_000) },
    });
    const err = await client.getAccessToken(u.connectionId).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NeedsReauthError);
    const reconnect = (err as NeedsReauthError).reconnect!;
    expect(reconnect.body.ownerId).toBe(u.ownerId);
    const again = await client.startConnect('spotify', reconnect.body);
    expect(again.authUrl).toContain('state=');

    const reader = new ConduitClient({ baseUrl: s.publicUrl, apiKey: READER_KEY });
    const forbidden = await reader.getAccessToken(u.connectionId).catch((e: unknown) => e);
    expect(forbidden).toBeInstanceOf(ForbiddenError);
    expect((forbidden as ForbiddenError).requiredScope).toBe('tokens:read');
    await expect(
      new ConduitClient({ baseUrl: s.publicUrl, apiKey: 'wrong' }).listConnections({ ownerId: 'x' }),
    ).rejects.toBeInstanceOf(UnauthorizedError);
    const down = new ConduitClient({ baseUrl: 'http://127.0.0.1:17599', apiKey: API_KEY });
    const unreachable = await down.getAccessToken(u.connectionId).catch((e: unknown) => e);
    expect(unreachable).toBeInstanceOf(UnavailableError);
    expect(String(unreachable)).not.toContain(API_KEY);
  });
});

describe('client › connections, sync and proxy', () => {
  it('listConnections by owner and by team, getConnection, disconnect (which forgets the cached token)', async () => {
    const u = await user();
    const [mine] = await client.listConnections({ ownerId: u.ownerId });
    expect(mine).toMatchObject({ id: u.connectionId, provider: 'spotify', status: 'connected' });
    expect(await client.listConnections({ teamId: `none-${randomUUID()}` })).toEqual([]);
    expect((await client.getConnection(u.connectionId)).id).toBe(u.connectionId);
    await client.getAccessToken(u.connectionId);
    expect((await client.disconnect(u.connectionId)).status).toBe('disconnected');
    await expect(client.getAccessToken(u.connectionId)).rejects.toMatchObject({ code: 'not_connected' });
    const purged = await client.disconnect(u.connectionId, { purge: true });
    expect(purged).toMatchObject({ status: 'disconnected', purged: { meetings: 0, transcripts: 0 } });
  });

  it('sync of a provider without data sync names its problem', async () => {
    const u = await user();
    await expect(client.sync(u.connectionId)).rejects.toMatchObject({
      status: 409,
      code: 'sync_not_supported',
    });
  });

  it("proxy hands back the provider's Response; Conduit's own refusals throw", async () => {
    const u = await user();
    const res = await client.proxy(u.connectionId, '/me');
    expect(res.status).toBe(200);
    expect(((await res.json()) as { email: string }).email).toBe(u.email);
    await expect(client.proxy(u.connectionId, 'me%2f..%2f..%2fadmin')).rejects.toMatchObject({
      status: 400,
      code: 'invalid_path',
    });
  });
});
