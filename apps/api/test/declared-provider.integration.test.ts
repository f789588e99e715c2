// A provider that exists only as a declaration in a temporary file — no code, no rebuild — goes
// through everything a built-in one does, against the sandbox over HTTP: connect, a refresh that
// rotates the refresh token, a 429 whose wait is in a header only this declaration names, a
// refused rotated-out token mapped by its text, and disconnect with revocation.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROVIDER_KEYS, providerSpec, useProviderFiles } from '@conduit/core';
import { createTokenClient } from '@conduit/runtime';
import { waitFor } from '@conduit/testing';
import { startStack, type Stack } from './support/stack.ts';

const DECLARATION = `# a made-up CRM, declared for this test only
acme_crm:
  displayName: Acme CRM
  endpoints:
    authorizeUrl: https://login.acme-crm.test/oauth/authorize
    tokenUrl: https://login.acme-crm.test/oauth/token
    apiBaseUrl: https://api.acme-crm.test/v3
  clientAuth: basic
  pkce: true
  refresh: { kind: refresh_token, rotation: always }
  accessTokenLifetimeSeconds: 30m
  scopes: { default: [contacts.read, offline], separator: ' ' }
  authorizeParams: { access: offline }
  tokenErrors:
    descriptions:
      Refresh token already used.: invalid_grant
  rateLimit:
    signals: [{ header: x-acme-retry-in, format: delta-seconds }]
  revocation: { kind: rfc7009, url: https://login.acme-crm.test/oauth/revoke, clientAuth: basic, token: refresh_token }
  identity: { kind: profile, path: /users/current, id: user.id, email: user.email, name: user.name }
`;

const WINDOW_SECONDS = 1;
let s: Stack;
let dir: string;

interface GrantState {
  grantId: string;
  email: string;
  accessToken: string;
  refreshToken: string | null;
  refreshes: number;
  family: 'active' | 'revoked';
  revokedReason: string | null;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'conduit-declared-'));
  const file = join(dir, 'acme.yaml');
  writeFileSync(file, DECLARATION);
  // What CONDUIT_PROVIDERS_FILE does at start, for the sandbox started in this process first.
  useProviderFiles([file]);
  s = await startStack({
    label: 'declared-provider',
    env: {
      CONDUIT_PROVIDERS_FILE: file,
      CONDUIT_FORCE_REFRESH_WINDOW_SECONDS: String(WINDOW_SECONDS),
      CONDUIT_RETRY_ATTEMPTS: '1',
    },
  });
});

afterAll(async () => {
  await s?.close();
  useProviderFiles([]);
  rmSync(dir, { recursive: true, force: true });
});

const grantOf = async (email: string): Promise<GrantState> => {
  const { grants } = await s.sandboxGet<{ grants: GrantState[] }>('/_sandbox/grants?provider=acme_crm');
  return grants.filter((g) => g.email === email).at(-1)!;
};

describe('a provider declared only in a file', () => {
  it('is in the catalogue with its defaults, and nothing was built for it', () => {
    expect(PROVIDER_KEYS).toContain('acme_crm');
    expect(providerSpec('acme_crm').sandboxPaths.tokenUrl).toBe('/acme_crm/oauth/token');
    expect(s.config.providers.clients.acme_crm).toMatchObject({
      enabled: true,
      clientId: 'conduit-acme_crm',
    });
  });

  it('connects, refreshes with rotation, backs off a 429 by its own header, and disconnects with revocation', async () => {
    const ownerId = `owner-${randomUUID()}`;
    const email = `${ownerId}@acme.example`;

    // connect: the authorize URL is the declaration's, PKCE and the extra parameter included
    const attempt = await s.connect('acme_crm', ownerId, { email });
    const q = attempt.authUrl.searchParams;
    expect(attempt.authUrl.pathname).toBe('/acme_crm/oauth/authorize');
    expect(q.get('scope')).toBe('contacts.read offline');
    expect(q.get('access')).toBe('offline');
    expect(q.get('code_challenge_method')).toBe('S256');
    expect(attempt.message).toMatchObject({ status: 'connected', provider: 'acme_crm' });
    const connectionId = attempt.message!.connectionId!;
    const conn = await s.ctx.db.connection.findUniqueOrThrow({ where: { id: connectionId } });
    const first = await grantOf(email);
    // identity: the account named through the declared dotted fields
    expect(conn.externalEmail).toBe(email);
    expect(conn.externalAccountId).toMatch(/^\d+$/);
    expect(s.ctx.vault.decrypt(conn.refreshTokenEnc!)).toBe(first.refreshToken);

    // refresh, with HTTP Basic client auth (the sandbox refuses any other style for this client)
    const refreshed = await s.api('GET', `/v1/connections/${connectionId}/access-token?forceRefresh=true`);
    expect(refreshed.status).toBe(200);
    expect(refreshed.headers.get('conduit-force-refresh')).toBe('performed');
    const second = await grantOf(email);
    expect(second.refreshes).toBe(1);
    expect(refreshed.body!.accessToken).toBe(second.accessToken);
    // rotation: a new refresh token, stored; the old one is no longer what the provider accepts
    expect(second.refreshToken).not.toBe(first.refreshToken);
    const stored = await s.ctx.db.connection.findUniqueOrThrow({ where: { id: connectionId } });
    expect(s.ctx.vault.decrypt(stored.refreshTokenEnc!)).toBe(second.refreshToken);

    // a 429 whose only wait is the declared x-acme-retry-in header
    await s.sandboxPost('/_sandbox/faults', {
      provider: 'acme_crm',
      endpoint: 'token',
      rate429: 1,
      retryAfterSeconds: 7,
    });
    try {
      await new Promise((r) => setTimeout(r, WINDOW_SECONDS * 1000 + 100));
      const limited = await s.api('GET', `/v1/connections/${connectionId}/access-token?forceRefresh=true`);
      expect(limited.status).toBe(503);
      expect(limited.headers.get('retry-after')).toBe('7');
      expect((await grantOf(email)).refreshes).toBe(1);
    } finally {
      await fetch(`${s.sandbox.url}/_sandbox/faults`, { method: 'DELETE' });
    }

    // disconnect: the grant is revoked at the provider's RFC 7009 endpoint
    const res = await s.api('DELETE', `/v1/connections/${connectionId}`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'disconnected' });
    // the revocation runs just after the disconnect answers (and is retried from its row if it fails)
    const revoked = await waitFor(
      async () => {
        const g = await grantOf(email);
        return g.family === 'revoked' ? g : null;
      },
      5_000,
      'the acme_crm grant revoked',
      20,
    );
    expect(revoked).toMatchObject({ revokedReason: 'revoked_by_client' });
  });

  it('maps a refused, rotated-out refresh token by the text the declaration names', async () => {
    const { grants } = await s.sandboxPost<{ grants: Array<{ refreshToken: string }> }>('/_sandbox/grants', {
      provider: 'acme_crm',
      email: `rotated-${randomUUID()}@acme.example`,
    });
    const tokens = createTokenClient(s.config);
    try {
      const old = grants[0]!.refreshToken;
      expect(await tokens.refresh('acme_crm', old)).toMatchObject({ kind: 'tokens' });
      // the sandbox words a spent token with the declaration's own text, and the client maps it
      expect(await tokens.refresh('acme_crm', old)).toMatchObject({
        kind: 'invalid_grant',
        description: 'Refresh token already used.',
      });
    } finally {
      await tokens.close();
    }
  });
});
