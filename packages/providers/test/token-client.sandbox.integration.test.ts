// The token client end to end over real HTTP against the local provider sandbox
// (@conduit/sandbox): every provider's client-auth style, rotation, revocation, bad
// credentials, rate limits, server errors, hangs and dropped connections.
import { createHash, randomBytes } from 'node:crypto';
import { PROVIDER_KEYS, PROVIDERS, resolveEndpoints, providerSpec } from '@conduit/core';
import type { ProviderKey, TokenEndpointOutcome } from '@conduit/core';
import { startSandbox } from '@conduit/sandbox';
import type { FaultRule, Sandbox } from '@conduit/sandbox';
import { request } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { TokenClient } from '../src/index.ts';
import type { ProviderClientConfig } from '../src/index.ts';
import type { SeededGrant } from '@conduit/sandbox';

/** Every declared provider that refreshes: the built-ins' declarations round-trip through the sandbox. */
const REFRESHABLE = PROVIDER_KEYS.filter((p) => providerSpec(p).refresh.kind === 'refresh_token');
const ROTATING = REFRESHABLE.filter((p) => {
  const refresh = providerSpec(p).refresh;
  return refresh.kind === 'refresh_token' && refresh.rotation === 'always';
});

let sb: Sandbox;
let tokens: TokenClient;

async function control<T>(path: string, body?: unknown, method = 'POST'): Promise<T> {
  const res = await fetch(`${sb.url}/_sandbox${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? null : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`sandbox control ${method} ${path} answered ${res.status}: ${text}`);
  return JSON.parse(text) as T;
}

async function seed(provider: ProviderKey): Promise<SeededGrant & { refreshToken: string }> {
  const { grants } = await control<{ grants: SeededGrant[] }>('/grants', { provider });
  const grant = grants[0];
  if (!grant?.refreshToken) throw new Error(`sandbox seeded no refresh token for ${provider}`);
  return { ...grant, refreshToken: grant.refreshToken };
}

const fault = (provider: ProviderKey, rule: FaultRule) =>
  control('/faults', { provider, endpoint: 'token', ...rule });

function clientFor(url: string): TokenClient {
  const providers: Partial<Record<ProviderKey, ProviderClientConfig>> = {};
  for (const key of Object.keys(PROVIDERS) as ProviderKey[]) {
    providers[key] = {
      clientId: `conduit-${key}`,
      clientSecret: `sandbox-secret-${key}`,
      tokenUrl: resolveEndpoints(providerSpec(key), { sandboxUrl: url }).tokenUrl,
    };
  }
  return new TokenClient({
    providers,
    timeouts: { connectMs: 300, headersMs: 300, bodyMs: 300 },
    rateLimitDefaultWaitMs: 60_000,
    userAgent: 'Conduit-Test/1',
  });
}

beforeAll(async () => {
  sb = await startSandbox({ port: 0 });
  tokens = clientFor(sb.url);
});

afterEach(async () => {
  await control('/reset');
});

afterAll(async () => {
  await tokens.close();
  await sb.close();
});

function expectTokens(outcome: TokenEndpointOutcome): Extract<TokenEndpointOutcome, { kind: 'tokens' }> {
  expect(outcome).toMatchObject({ kind: 'tokens' });
  if (outcome.kind !== 'tokens') throw new Error('unreachable');
  return outcome;
}

describe('sandbox › refresh', () => {
  it.each(REFRESHABLE)('%s refreshes end to end with its client-auth style', async (provider) => {
    const grant = await seed(provider);
    const outcome = expectTokens(await tokens.refresh(provider, grant.refreshToken));
    expect(outcome.accessToken).not.toBe(grant.accessToken);
    expect(outcome.accessToken.length).toBeGreaterThan(10);
    expect(outcome.expiresInSeconds).toBe(providerSpec(provider).accessTokenLifetimeSeconds);
    expect(outcome.tokenType?.toLowerCase()).toBe(
      (providerSpec(provider).sandbox.tokenType ?? 'bearer').toLowerCase(),
    );
  });

  it.each(ROTATING)(
    '%s rotates: a new refresh token, which works, while the old one is dead',
    async (provider) => {
      const grant = await seed(provider);
      const first = expectTokens(await tokens.refresh(provider, grant.refreshToken));
      expect(first.refreshToken).toBeDefined();
      expect(first.refreshToken).not.toBe(grant.refreshToken);
      expectTokens(await tokens.refresh(provider, first.refreshToken!));
      // RFC 9700 §4.14.2: presenting the rotated-out token again revokes the family.
      expect(await tokens.refresh(provider, grant.refreshToken)).toMatchObject({ kind: 'invalid_grant' });
    },
  );

  it('github_app reports the refresh token lifetime (refresh_token_expires_in)', async () => {
    const grant = await seed('github_app');
    const outcome = expectTokens(await tokens.refresh('github_app', grant.refreshToken));
    expect(outcome.refreshTokenExpiresInSeconds).toBeGreaterThan(0);
  });

  it('google returns no refresh token, and the one we hold keeps working', async () => {
    const grant = await seed('google');
    const first = expectTokens(await tokens.refresh('google', grant.refreshToken));
    expect(first).not.toHaveProperty('refreshToken');
    expectTokens(await tokens.refresh('google', grant.refreshToken));
  });

  it('spotify sometimes rotates: a new refresh token replaces the old one, none means keep the old one', async () => {
    for (const sometimesRotationRate of [0, 1]) {
      const own = await startSandbox({ port: 0, sometimesRotationRate });
      const client = clientFor(own.url);
      try {
        const res = await fetch(`${own.url}/_sandbox/grants`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ provider: 'spotify' }),
        });
        const { grants } = (await res.json()) as { grants: [{ refreshToken: string }] };
        const held = grants[0].refreshToken;
        const outcome = expectTokens(await client.refresh('spotify', held));
        if (sometimesRotationRate === 0) expect(outcome).not.toHaveProperty('refreshToken');
        else expect(outcome.refreshToken).toMatch(/.{20,}/);
        const next = outcome.refreshToken ?? held;
        expect(next === held).toBe(sometimesRotationRate === 0);
        expectTokens(await client.refresh('spotify', next));
      } finally {
        await client.close();
        await own.close();
      }
    }
  });
});

describe('sandbox › refusals', () => {
  it.each(REFRESHABLE)('%s: a revoked grant is invalid_grant', async (provider) => {
    const grant = await seed(provider);
    await control(`/grants/${grant.grantId}/revoke`);
    const outcome = await tokens.refresh(provider, grant.refreshToken);
    expect(outcome).toMatchObject({
      kind: 'invalid_grant',
      status: providerSpec(provider).tokenErrors.errorsWithHttp200 ? 200 : 400,
    });
  });

  it('an unknown refresh token is invalid_grant', async () => {
    expect(await tokens.refresh('discord', 'not-a-token')).toMatchObject({
      kind: 'invalid_grant',
      status: 400,
    });
    expect(await tokens.refresh('github_app', 'ghr_nope')).toMatchObject({
      kind: 'invalid_grant',
      error: 'bad_refresh_token',
      status: 200,
    });
  });

  it.each(REFRESHABLE)('%s: a wrong client secret is invalid_client', async (provider) => {
    const grant = await seed(provider);
    await control(`/clients/${provider}/secret`, { secret: 'rotated-by-someone-else' });
    const outcome = await tokens.refresh(provider, grant.refreshToken);
    expect(outcome).toMatchObject({ kind: 'invalid_client' });
    if (providerSpec(provider).tokenErrors.errorsWithHttp200) {
      const code = Object.entries(providerSpec(provider).tokenErrors.codes).find(
        ([, kind]) => kind === 'invalid_client',
      )?.[0];
      expect(outcome).toMatchObject({ error: code ?? 'invalid_client', status: 200 });
    }
    expect(JSON.stringify(outcome)).not.toContain(`sandbox-secret-${provider}`);
  });
});

describe('sandbox › rate limits', () => {
  it.each(REFRESHABLE)("%s: a 429 is rate_limited with the provider's announced wait", async (provider) => {
    const grant = await seed(provider);
    await fault(provider, { rate429: 1, retryAfterSeconds: 3 });
    const outcome = await tokens.refresh(provider, grant.refreshToken);
    const epoch = providerSpec(provider).rateLimit.signals.some(
      (s) => typeof s === 'object' && 'format' in s && s.format === 'epoch-seconds',
    );
    if (!epoch) expect(outcome).toEqual({ kind: 'rate_limited', waitMs: 3_000, status: 429 });
    else {
      // an epoch reset is whole seconds: the wait lands within a second of the announced one
      expect(outcome).toMatchObject({ kind: 'rate_limited', status: 429 });
      const { waitMs } = outcome as { waitMs: number };
      expect(waitMs).toBeGreaterThan(2_000);
      expect(waitMs).toBeLessThanOrEqual(4_000);
    }
  });

  it('discord: the longest of Retry-After (whole seconds), X-RateLimit-Reset-After and JSON retry_after', async () => {
    const grant = await seed('discord');
    await fault('discord', { rate429: 1, retryAfterSeconds: 2.25 });
    expect(await tokens.refresh('discord', grant.refreshToken)).toEqual({
      kind: 'rate_limited',
      waitMs: 3_000,
      status: 429,
    });
  });

  it('google: a 403 with a quota reason is rate_limited', async () => {
    const grant = await seed('google');
    await fault('google', { rate429: 1, retryAfterSeconds: 4, rateLimitStatus: 403 });
    expect(await tokens.refresh('google', grant.refreshToken)).toEqual({
      kind: 'rate_limited',
      waitMs: 4_000,
      status: 403,
    });
  });

  it('github_app: a 403 with x-ratelimit-remaining 0 is rate_limited until x-ratelimit-reset', async () => {
    const grant = await seed('github_app');
    await fault('github_app', { rate429: 1, retryAfterSeconds: 30, rateLimitStatus: 403 });
    const outcome = await tokens.refresh('github_app', grant.refreshToken);
    expect(outcome).toMatchObject({ kind: 'rate_limited', status: 403 });
    // the epoch reset is whole seconds, so the wait lands within a second of the announced one
    const { waitMs } = outcome as { waitMs: number };
    expect(waitMs).toBeGreaterThan(28_000);
    expect(waitMs).toBeLessThanOrEqual(31_000);
  });
});

describe('sandbox › transient failures', () => {
  it.each(REFRESHABLE)('%s: a 5xx is a transient server_error', async (provider) => {
    const grant = await seed(provider);
    await fault(provider, { rate5xx: 1, status5xx: 503 });
    expect(await tokens.refresh(provider, grant.refreshToken)).toMatchObject({
      kind: 'transient',
      cause: 'server_error',
      status: 503,
    });
  });

  it('a hang beyond the timeouts is a transient timeout, and the grant is untouched', async () => {
    const grant = await seed('spotify');
    await fault('spotify', { hangRate: 1 });
    const started = Date.now();
    expect(await tokens.refresh('spotify', grant.refreshToken)).toMatchObject({
      kind: 'transient',
      cause: 'timeout',
    });
    expect(Date.now() - started).toBeLessThan(2_500);
    await control('/faults', undefined, 'DELETE');
    expectTokens(await tokens.refresh('spotify', grant.refreshToken));
  });

  it('with an answer deadline, an answer slower than the headers timeout is awaited, not abandoned after the provider rotated', async () => {
    const grant = await seed('discord');
    await control('/holds', { provider: 'discord', endpoint: 'token' });
    try {
      const late = setTimeout(() => void control('/holds/release', {}), 2_500);
      const refreshed = await tokens.refresh('discord', grant.refreshToken, { answerDeadlineMs: 10_000 });
      clearTimeout(late);
      const rotated = expectTokens(refreshed);
      const state = await control<{ refreshToken: string | null; family: string }>(
        `/grants/${grant.grantId}`,
        undefined,
        'GET',
      );
      expect(state.family).toBe('active');
      expect(rotated.refreshToken).toBe(state.refreshToken);
    } finally {
      await control('/holds/release', {});
    }
  });

  it('latency within the timeouts still gets tokens', async () => {
    const grant = await seed('fathom');
    await fault('fathom', { latencyMs: 100 });
    expectTokens(await tokens.refresh('fathom', grant.refreshToken));
  });

  it('a dropped connection is a transient network failure', async () => {
    const grant = await seed('discord');
    await fault('discord', { dropRate: 1 });
    expect(await tokens.refresh('discord', grant.refreshToken)).toMatchObject({
      kind: 'transient',
      cause: 'network',
    });
  });

  it('a sandbox that is gone is a transient network failure', async () => {
    const gone = await startSandbox({ port: 0 });
    const client = clientFor(gone.url);
    await gone.close();
    try {
      expect(await client.refresh('fathom', 'whatever')).toMatchObject({
        kind: 'transient',
        cause: 'network',
      });
    } finally {
      await client.close();
    }
  });
});

describe('sandbox › code exchange', () => {
  async function authorize(provider: ProviderKey, params: Record<string, string>): Promise<string> {
    const url = new URL(resolveEndpoints(providerSpec(provider), { sandboxUrl: sb.url }).authorizeUrl);
    for (const [k, v] of Object.entries({
      client_id: `conduit-${provider}`,
      response_type: 'code',
      state: 's',
      ...params,
    })) {
      url.searchParams.set(k, v);
    }
    const res = await request(url);
    await res.body.dump();
    const location = res.headers.location;
    if (res.statusCode !== 302 || typeof location !== 'string')
      throw new Error(`authorize answered ${res.statusCode}`);
    const code = new URL(location).searchParams.get('code');
    if (!code) throw new Error(`authorize redirected without a code: ${location}`);
    return code;
  }

  it.each(['spotify', 'github_app'] as const)(
    '%s exchanges a code with its PKCE verifier',
    async (provider) => {
      const redirectUri = 'http://localhost:3000/connect/callback';
      const verifier = randomBytes(32).toString('base64url');
      const challenge = createHash('sha256').update(verifier).digest('base64url');
      const code = await authorize(provider, {
        redirect_uri: redirectUri,
        code_challenge: challenge,
        code_challenge_method: 'S256',
      });
      const outcome = expectTokens(
        await tokens.exchangeCode(provider, { code, redirectUri, codeVerifier: verifier }),
      );
      expect(outcome.refreshToken).toBeDefined();
      // the code is single-use
      expect(
        await tokens.exchangeCode(provider, { code, redirectUri, codeVerifier: verifier }),
      ).toMatchObject({ kind: 'invalid_grant' });
    },
  );

  it('a wrong PKCE verifier is invalid_grant', async () => {
    const redirectUri = 'http://localhost:3000/connect/callback';
    const challenge = createHash('sha256')
      .update('right-verifier-right-verifier-right-verifier')
      .digest('base64url');
    const code = await authorize('discord', {
      redirect_uri: redirectUri,
      code_challenge: challenge,
      code_challenge_method: 'S256',
    });
    expect(
      await tokens.exchangeCode('discord', {
        code,
        redirectUri,
        codeVerifier: 'wrong-verifier-wrong-verifier-wrong-verifier',
      }),
    ).toMatchObject({
      kind: 'invalid_grant',
      status: 400,
    });
  });

  it('github (OAuth app) exchanges a code for a token that never expires', async () => {
    const redirectUri = 'http://localhost:3000/connect/callback';
    const code = await authorize('github', { redirect_uri: redirectUri });
    const outcome = expectTokens(await tokens.exchangeCode('github', { code, redirectUri }));
    expect(outcome).not.toHaveProperty('expiresInSeconds');
    expect(outcome).not.toHaveProperty('refreshToken');
  });
});
