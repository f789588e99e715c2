import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { createContext, type AppContext } from '@conduit/runtime';
import { buildServer } from '../src/server.ts';
import { API_KEY, startStack, type Stack } from './support/stack.ts';

const WINDOW_SECONDS = 2;
let s: Stack;

beforeAll(async () => {
  s = await startStack({
    label: 'access-token',
    captureLogs: true,
    env: { CONDUIT_FORCE_REFRESH_WINDOW_SECONDS: String(WINDOW_SECONDS), CONDUIT_RETRY_ATTEMPTS: '1' },
  });
});

afterAll(async () => {
  await s?.close();
});

interface GrantState {
  grantId: string;
  email: string;
  accessToken: string;
  refreshes: number;
  accessTokenExpiresAt: string;
}

/** A user connected through the real flow, and the sandbox's grant behind it. */
async function connected(provider: 'spotify' | 'github' = 'spotify', teamId?: string) {
  const ownerId = `owner-${randomUUID()}`;
  const email = `${ownerId}@example.com`;
  const attempt = await s.connect(provider, ownerId, { email, ...(teamId !== undefined && { teamId }) });
  if (attempt.message?.status !== 'connected') throw new Error(`connect: ${attempt.body.slice(0, 300)}`);
  const connectionId = attempt.message.connectionId!;
  const { grants } = await s.sandboxGet<{ grants: GrantState[] }>(`/_sandbox/grants?provider=${provider}`);
  const grantId = grants.filter((g) => g.email === email).at(-1)!.grantId;
  return {
    ownerId,
    email,
    connectionId,
    grantId,
    grant: () => s.sandboxGet<GrantState>(`/_sandbox/grants/${grantId}`),
  };
}

const tokenPath = (id: string, force = false) =>
  `/v1/connections/${id}/access-token${force ? '?forceRefresh=true' : ''}`;

/** Moves the stored expiry into the refresh buffer, as if the token were about to lapse. */
async function dueSoon(connectionId: string) {
  await s.ctx.db.connection.update({
    where: { id: connectionId },
    data: { tokenExpiresAt: new Date(Date.now() + 10_000) },
  });
}

describe('token API › GET /v1/connections/:id/access-token', () => {
  it('returns the stored access token with its type, expiry and scopes, never cached', async () => {
    const c = await connected();
    const res = await s.api('GET', tokenPath(c.connectionId));
    expect(res.status).toBe(200);
    const grant = await c.grant();
    const row = await s.ctx.db.connection.findUniqueOrThrow({ where: { id: c.connectionId } });
    expect(res.body).toEqual({
      accessToken: grant.accessToken,
      tokenType: 'Bearer',
      expiresAt: row.tokenExpiresAt!.toISOString(),
      scopes: row.scopes,
      connectionId: c.connectionId,
      provider: 'spotify',
    });
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(grant.refreshes).toBe(0);
  });

  it('refreshes inline when the token is due, and 20 concurrent readers share that one refresh', async () => {
    const c = await connected();
    const before = (await c.grant()).accessToken;
    await dueSoon(c.connectionId);
    const answers = await Promise.all(
      Array.from({ length: 20 }, () => s.api('GET', tokenPath(c.connectionId))),
    );
    const grant = await c.grant();
    expect(grant.refreshes).toBe(1);
    for (const a of answers) {
      expect(a.status).toBe(200);
      expect(a.body!.accessToken).toBe(grant.accessToken);
    }
    expect(grant.accessToken).not.toBe(before);
    expect(new Date(answers[0]!.body!.expiresAt as string).getTime()).toBeGreaterThan(Date.now() + 600_000);
  });

  it('a token that never expires (GitHub OAuth app) has expiresAt null', async () => {
    const c = await connected('github');
    const res = await s.api('GET', tokenPath(c.connectionId));
    expect(res.status).toBe(200);
    expect(res.body!.expiresAt).toBeNull();
  });

  it('answers problem details with a stable code: 404 not_found, 400 for a malformed id', async () => {
    const missing = await s.api('GET', tokenPath(randomUUID()));
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-type')).toContain('application/problem+json');
    expect(missing.body).toMatchObject({ status: 404, code: 'not_found' });
    const malformed = await s.api('GET', tokenPath('not-a-uuid'));
    expect(malformed.status).toBe(400);
    const badFlag = await s.api('GET', `${tokenPath(randomUUID())}?forceRefresh=perhaps`);
    expect(badFlag.status).toBe(400);
  });

  it('409 needs_reauth, with where to start the reconnect, when the provider refuses the grant', async () => {
    const c = await connected();
    await s.sandboxPost(`/_sandbox/grants/${c.grantId}/revoke`);
    await dueSoon(c.connectionId);
    const res = await s.api('GET', tokenPath(c.connectionId));
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({
      code: 'needs_reauth',
      reconnectUrl: `${s.publicUrl}/v1/connect/spotify/start`,
      reconnect: {
        method: 'POST',
        url: `${s.publicUrl}/v1/connect/spotify/start`,
        body: { ownerId: c.ownerId },
      },
    });
    // Following it works: start answers with a consent URL.
    const reconnect = res.body!.reconnect as { url: string; body: unknown };
    const started = await s.api('POST', new URL(reconnect.url).pathname, reconnect.body);
    expect(started.status).toBe(200);
  });

  it('409 connection_error for a connection an operator must look at; 409 not_connected once disconnected', async () => {
    const c = await connected();
    await s.ctx.db.connection.update({
      where: { id: c.connectionId },
      data: { status: 'error', statusReason: 'invalid_client' },
    });
    const res = await s.api('GET', tokenPath(c.connectionId));
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({ code: 'connection_error' });

    const d = await connected();
    expect((await s.api('DELETE', `/v1/connections/${d.connectionId}`)).status).toBe(200);
    const gone = await s.api('GET', tokenPath(d.connectionId));
    expect(gone.status).toBe(409);
    expect(gone.body).toMatchObject({ code: 'not_connected', reconnect: { body: { ownerId: d.ownerId } } });
  });

  it('503 unavailable with Retry-After when the token has lapsed and the provider is failing', async () => {
    const c = await connected();
    await s.ctx.db.connection.update({
      where: { id: c.connectionId },
      data: { tokenExpiresAt: new Date(Date.now() - 1_000) },
    });
    await s.sandboxPost('/_sandbox/faults', { provider: 'spotify', endpoint: 'token', rate5xx: 1 });
    try {
      const res = await s.api('GET', tokenPath(c.connectionId));
      expect(res.status).toBe(503);
      expect(res.body).toMatchObject({ code: 'unavailable' });
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    } finally {
      await fetch(`${s.sandbox.url}/_sandbox/faults`, { method: 'DELETE' });
    }
  });
});

describe('token API › forceRefresh', () => {
  it('refreshes a token that still looks valid, once per window; later forced reads share its token', async () => {
    const c = await connected();
    const first = await s.api('GET', tokenPath(c.connectionId, true));
    expect(first.status).toBe(200);
    expect(first.headers.get('conduit-force-refresh')).toBe('performed');
    const grant = await c.grant();
    expect(grant.refreshes).toBe(1);
    expect(first.body!.accessToken).toBe(grant.accessToken);

    const again = await s.api('GET', tokenPath(c.connectionId, true));
    expect(again.headers.get('conduit-force-refresh')).toBe('shared');
    expect(again.body!.accessToken).toBe(grant.accessToken);
    expect((await c.grant()).refreshes).toBe(1);

    await new Promise((r) => setTimeout(r, WINDOW_SECONDS * 1000 + 100));
    const later = await s.api('GET', tokenPath(c.connectionId, true));
    expect(later.headers.get('conduit-force-refresh')).toBe('performed');
    expect((await c.grant()).refreshes).toBe(2);
  });

  it('10 concurrent forced reads make one refresh and all get its token', async () => {
    const c = await connected();
    const answers = await Promise.all(
      Array.from({ length: 10 }, () => s.api('GET', tokenPath(c.connectionId, true))),
    );
    const grant = await c.grant();
    expect(grant.refreshes).toBe(1);
    expect(answers.map((a) => a.headers.get('conduit-force-refresh')).sort()).toEqual([
      'performed',
      ...Array(9).fill('shared'),
    ]);
    for (const a of answers) expect(a.body!.accessToken).toBe(grant.accessToken);
  });

  it("the window holds across api processes: a second api shares the first one's forced refresh", async () => {
    const other: AppContext = createContext(s.config, 'test-other');
    const app: FastifyInstance = await buildServer(other);
    await app.listen({ port: 0, host: '127.0.0.1' });
    try {
      const c = await connected();
      const address = app.server.address() as { port: number };
      const viaOther = (path: string) =>
        fetch(`http://127.0.0.1:${address.port}${path}`, { headers: { authorization: `Bearer ${API_KEY}` } });
      const a = await s.api('GET', tokenPath(c.connectionId, true));
      const b = await viaOther(tokenPath(c.connectionId, true));
      expect(a.headers.get('conduit-force-refresh')).toBe('performed');
      expect(b.headers.get('conduit-force-refresh')).toBe('shared');
      expect(((await b.json()) as { accessToken: string }).accessToken).toBe(a.body!.accessToken);
      expect((await c.grant()).refreshes).toBe(1);
    } finally {
      await app.close();
      await other.close();
    }
  });
});

describe('token API › by owner and provider', () => {
  it('GET /v1/owners/:ownerId/connections/:provider/access-token finds the connection the way the seeds ask', async () => {
    const c = await connected();
    const res = await s.api(
      'GET',
      `/v1/owners/${encodeURIComponent(c.ownerId)}/connections/spotify/access-token`,
    );
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      connectionId: c.connectionId,
      accessToken: (await c.grant()).accessToken,
    });
    const none = await s.api('GET', `/v1/owners/nobody-${randomUUID()}/connections/spotify/access-token`);
    expect(none.status).toBe(404);
    expect(none.body).toMatchObject({ code: 'not_found' });
    expect((await s.api('GET', `/v1/owners/x/connections/myspace/access-token`)).status).toBe(400);
  });

  it("GET /v1/connections?teamId= lists the team's connections, safe fields only", async () => {
    const teamId = `team-${randomUUID()}`;
    const a = await connected('spotify', teamId);
    const b = await connected('github', teamId);
    await connected('spotify');
    const res = await s.api('GET', `/v1/connections?teamId=${teamId}`);
    expect(res.status).toBe(200);
    const items = res.body!.items as Array<Record<string, unknown>>;
    expect(items.map((i) => i.id).sort()).toEqual([a.connectionId, b.connectionId].sort());
    for (const item of items) {
      expect(item.teamId).toBe(teamId);
      expect(Object.keys(item).some((k) => /token(Enc)?$/i.test(k) && k !== 'tokenExpiresAt')).toBe(false);
      expect(JSON.stringify(item)).not.toContain((await a.grant()).accessToken);
    }
    expect((await s.api('GET', `/v1/connections?teamId=${teamId}&provider=github`)).body!.items).toHaveLength(
      1,
    );
    expect((await s.api('GET', '/v1/connections')).status).toBe(400);
  });
});

describe('token API › observability', () => {
  it('each read is logged with the hashed owner and counted; no token and no raw owner id in any log line', async () => {
    const c = await connected();
    await s.api('GET', tokenPath(c.connectionId));
    await s.api('GET', `/v1/owners/${c.ownerId}/connections/spotify/access-token`);
    await s.api('GET', tokenPath(randomUUID()));
    const token = (await c.grant()).accessToken;
    const reads = s.logs.filter((l) => l.includes('"token: read"') && l.includes(c.connectionId));
    expect(reads).toHaveLength(2);
    for (const line of reads) {
      expect(JSON.parse(line)).toMatchObject({
        owner: s.ctx.hashOwner(c.ownerId),
        keyName: 'test',
        result: 'ok',
      });
    }
    const all = s.logs.join('\n');
    expect(all).not.toContain(token);
    expect(all).not.toContain(c.ownerId);
    const metrics = await (await fetch(`${s.publicUrl}/metrics`)).text();
    expect(metrics).toMatch(/conduit_token_reads_total\{[^}]*provider="spotify"[^}]*result="ok"[^}]*\} \d+/);
    expect(metrics).toMatch(/conduit_token_reads_total\{[^}]*result="not_found"[^}]*\} \d+/);
  });
});
