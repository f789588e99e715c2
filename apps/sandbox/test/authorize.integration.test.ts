import { createHash, randomBytes } from 'node:crypto';
import { PROVIDERS, type ProviderKey , providerSpec } from '@conduit/core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../src/index.ts';
import { WHO_AM_I, api, control, http, tokenRequest } from './helpers.ts';

const REDIRECT = 'https://app.example.test/connect/callback';

let sb: Sandbox;
beforeAll(async () => {
  sb = await startSandbox();
});
afterAll(() => sb.close());
beforeEach(() => control(sb, 'POST', '/reset'));

async function authorize(provider: ProviderKey, params: Record<string, string> = {}): Promise<URL> {
  const q = new URLSearchParams({
    client_id: `conduit-${provider}`,
    redirect_uri: REDIRECT,
    response_type: 'code',
    scope: providerSpec(provider).scopes.default.join(' '),
    state: 'st-123',
    ...params,
  });
  const res = await fetch(`${sb.url}${providerSpec(provider).sandboxPaths.authorizeUrl}?${q}`, {
    redirect: 'manual',
  });
  expect(res.status).toBe(302);
  return new URL(res.headers.get('location')!);
}

function exchange(provider: ProviderKey, code: string, extra: Record<string, string> = {}) {
  return tokenRequest(
    sb,
    provider,
    { grant_type: 'authorization_code', code, redirect_uri: REDIRECT, ...extra },
    { accept: 'application/json' },
  );
}

const pkcePair = (): { verifier: string; challenge: string } => {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
};

describe('authorize › auto-approve', () => {
  it.each(['fathom', 'spotify', 'google', 'discord', 'github', 'github_app'] as const)(
    '%s: 302 to redirect_uri with code and state; the code buys tokens for the consenting account',
    async (provider) => {
      const location = await authorize(provider, { sandbox_email: `ada+${provider}@example.com` });
      expect(`${location.origin}${location.pathname}`).toBe(REDIRECT);
      expect(location.searchParams.get('state')).toBe('st-123');
      const code = location.searchParams.get('code')!;
      const res = await exchange(provider, code);
      expect(res.status).toBe(200);
      expect(res.body.access_token).toBeTruthy();
      const whoAmI = WHO_AM_I[provider];
      if (whoAmI) {
        const me = await api(sb, provider, whoAmI, res.body.access_token);
        expect(me.status).toBe(200);
        expect(me.text).toContain(`ada+${provider}@example.com`);
      }
    },
  );

  it('GitHub tells its OAuth app and its App apart by client_id on the shared paths', async () => {
    const oauthApp = await exchange('github', (await authorize('github')).searchParams.get('code')!);
    expect(oauthApp.body).toEqual({
      access_token: expect.stringMatching(/^gho_/),
      token_type: 'bearer',
      scope: 'read:user,user:email',
    });
    const app = await exchange('github_app', (await authorize('github_app')).searchParams.get('code')!);
    expect(app.body).toMatchObject({
      access_token: expect.stringMatching(/^ghu_/),
      refresh_token: expect.stringMatching(/^ghr_/),
    });
  });

  it('a code is single use', async () => {
    const code = (await authorize('discord')).searchParams.get('code')!;
    expect((await exchange('discord', code)).status).toBe(200);
    const again = await exchange('discord', code);
    expect(again.status).toBe(400);
    expect(again.body).toEqual({ error: 'invalid_grant', error_description: 'Invalid "code" in request.' });
  });

  it('the redirect_uri of the exchange must match the one authorized (GitHub: 200 redirect_uri_mismatch)', async () => {
    const code = (await authorize('discord')).searchParams.get('code')!;
    const res = await exchange('discord', code, { redirect_uri: 'https://elsewhere.test/cb' });
    expect(res.body).toEqual({
      error: 'invalid_grant',
      error_description: 'Invalid "redirect_uri" in request.',
    });
    const ghCode = (await authorize('github_app')).searchParams.get('code')!;
    const gh = await exchange('github_app', ghCode, { redirect_uri: 'https://elsewhere.test/cb' });
    expect(gh.status).toBe(200);
    expect(gh.body.error).toBe('redirect_uri_mismatch');
  });
});

describe('authorize › refusals', () => {
  it('sandbox_deny=1 redirects with error=access_denied and the state', async () => {
    const location = await authorize('discord', { sandbox_deny: '1' });
    expect(location.searchParams.get('error')).toBe('access_denied');
    expect(location.searchParams.get('state')).toBe('st-123');
    expect(location.searchParams.has('code')).toBe(false);
  });

  it('POST /_sandbox/consent {decision:"deny"} makes the user refuse until reset', async () => {
    await control(sb, 'POST', '/consent', { provider: 'github', decision: 'deny' });
    const location = await authorize('github');
    expect(location.searchParams.get('error')).toBe('access_denied');
    expect(location.searchParams.get('error_description')).toBe(
      'The user has denied your application access.',
    );
    await control(sb, 'POST', '/reset');
    expect((await authorize('github')).searchParams.has('code')).toBe(true);
  });

  it('an unknown client_id is an error page, never a redirect', async () => {
    const q = new URLSearchParams({ client_id: 'stranger', redirect_uri: REDIRECT, response_type: 'code' });
    const res = await http(`${sb.url}${PROVIDERS.google.sandboxPaths.authorizeUrl}?${q}`, {
      redirect: 'manual',
    });
    expect(res.status).toBe(400);
    expect(res.text).toContain('stranger');
  });

  it('a redirect_uri outside the registered ones is an error page', async () => {
    await control(sb, 'POST', '/clients/google', { redirectUris: ['https://registered.test/cb'] });
    const q = new URLSearchParams({
      client_id: 'conduit-google',
      redirect_uri: REDIRECT,
      response_type: 'code',
    });
    const res = await http(`${sb.url}${PROVIDERS.google.sandboxPaths.authorizeUrl}?${q}`, {
      redirect: 'manual',
    });
    expect(res.status).toBe(400);
  });
});

describe('authorize › PKCE (S256) where the catalogue says pkce: true', () => {
  it('Spotify checks the code_verifier against the S256 challenge', async () => {
    const { verifier, challenge } = pkcePair();
    const params = { code_challenge: challenge, code_challenge_method: 'S256' };
    const wrong = await exchange('spotify', (await authorize('spotify', params)).searchParams.get('code')!, {
      code_verifier: pkcePair().verifier,
    });
    expect(wrong.status).toBe(400);
    expect(wrong.body).toEqual({ error: 'invalid_grant', error_description: 'code_verifier was incorrect' });
    const missing = await exchange('spotify', (await authorize('spotify', params)).searchParams.get('code')!);
    expect(missing.body.error).toBe('invalid_grant');
    const right = await exchange('spotify', (await authorize('spotify', params)).searchParams.get('code')!, {
      code_verifier: verifier,
    });
    expect(right.status).toBe(200);
  });

  it('only S256 is accepted as a challenge method', async () => {
    const location = await authorize('google', { code_challenge: 'abc', code_challenge_method: 'plain' });
    expect(location.searchParams.get('error')).toBe('invalid_request');
  });

  it('Fathom has no PKCE: a challenge is ignored and the exchange needs no verifier', async () => {
    const { challenge } = pkcePair();
    const code = (
      await authorize('fathom', { code_challenge: challenge, code_challenge_method: 'S256' })
    ).searchParams.get('code')!;
    expect((await exchange('fathom', code)).status).toBe(200);
  });
});
