import { providerSpec } from '@conduit/core';
import type { ProviderKey } from '@conduit/core';
import { describe, expect, it } from 'vitest';
import { classifyTokenResponse } from '../src/index.ts';
import type { HttpHeaders } from '../src/index.ts';

const NOW = new Date('2025-03-10T12:00:00.000Z');
const JSON_TYPE = { 'content-type': 'application/json; charset=utf-8' };

function classify(provider: ProviderKey, status: number, body: unknown, headers: HttpHeaders = JSON_TYPE) {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  return classifyTokenResponse(providerSpec(provider), status, headers, text, {
    now: NOW,
    rateLimitDefaultWaitMs: 60_000,
  });
}

describe('classifyTokenResponse › tokens', () => {
  it('reads a full RFC 6749 token response (Fathom, Discord)', () => {
    expect(
      classify('discord', 200, {
        access_token: 'at-1',
        token_type: 'Bearer',
        expires_in: 604800,
        refresh_token: 'rt-2',
        scope: 'identify email',
      }),
    ).toEqual({
      kind: 'tokens',
      accessToken: 'at-1',
      refreshToken: 'rt-2',
      expiresInSeconds: 604800,
      scope: 'identify email',
      tokenType: 'Bearer',
    });
  });
  it('tolerates a response without refresh_token (Google never rotates; Spotify sometimes)', () => {
    const google = classify('google', 200, {
      access_token: 'ya29',
      expires_in: 3599,
      scope: 'openid email',
      token_type: 'Bearer',
    });
    expect(google).toEqual({
      kind: 'tokens',
      accessToken: 'ya29',
      expiresInSeconds: 3599,
      scope: 'openid email',
      tokenType: 'Bearer',
    });
    expect(google).not.toHaveProperty('refreshToken');
    expect(
      classify('spotify', 200, { access_token: 'a', token_type: 'Bearer', scope: 's', expires_in: 3600 }),
    ).not.toHaveProperty('refreshToken');
  });
  it('tolerates a response with only access_token: no expires_in, no scope, no token_type', () => {
    expect(classify('fathom', 200, { access_token: 'a' })).toEqual({ kind: 'tokens', accessToken: 'a' });
  });
  it('reads expires_in given as a numeric string', () => {
    expect(classify('fathom', 200, { access_token: 'a', expires_in: '3600' })).toMatchObject({
      expiresInSeconds: 3600,
    });
  });
  it('drops nonsense lifetimes instead of guessing', () => {
    for (const expires_in of ['soon', -5, null, '1e3', true, {}]) {
      expect(classify('fathom', 200, { access_token: 'a', expires_in })).not.toHaveProperty(
        'expiresInSeconds',
      );
    }
  });
  it('reads refresh_token_expires_in (GitHub App user tokens)', () => {
    expect(
      classify('github_app', 200, {
        access_token: 'ghu_x',
        expires_in: 28800,
        refresh_token: 'ghr_y',
        refresh_token_expires_in: 15897600,
        scope: '',
        token_type: 'bearer',
      }),
    ).toEqual({
      kind: 'tokens',
      accessToken: 'ghu_x',
      refreshToken: 'ghr_y',
      expiresInSeconds: 28800,
      refreshTokenExpiresInSeconds: 15897600,
      scope: '',
      tokenType: 'bearer',
    });
  });
  it('treats an empty refresh_token as absent, and joins a scope array', () => {
    const outcome = classify('spotify', 200, { access_token: 'a', refresh_token: '', scope: ['a', 'b'] });
    expect(outcome).toEqual({ kind: 'tokens', accessToken: 'a', scope: 'a b' });
  });
  it('accepts any 2xx status', () => {
    expect(classify('fathom', 201, { access_token: 'a' })).toMatchObject({ kind: 'tokens' });
  });
  it('accepts a form-encoded answer when the content type says so (GitHub without Accept: application/json)', () => {
    const outcome = classify(
      'github_app',
      200,
      'access_token=ghu_a&expires_in=28800&refresh_token=ghr_b&scope=&token_type=bearer',
      {
        'content-type': 'application/x-www-form-urlencoded; charset=utf-8',
      },
    );
    expect(outcome).toMatchObject({
      kind: 'tokens',
      accessToken: 'ghu_a',
      refreshToken: 'ghr_b',
      expiresInSeconds: 28800,
    });
  });
  it('reads JSON whatever the content type claims', () => {
    expect(classify('fathom', 200, { access_token: 'a' }, { 'content-type': 'text/plain' })).toMatchObject({
      kind: 'tokens',
    });
    expect(classify('fathom', 200, { access_token: 'a' }, {})).toMatchObject({ kind: 'tokens' });
  });
});

describe('classifyTokenResponse › errors with HTTP 200 (catalogue errorsWithHttp200)', () => {
  it('GitHub bad_refresh_token with HTTP 200 is invalid_grant', () => {
    expect(
      classify('github_app', 200, {
        error: 'bad_refresh_token',
        error_description: 'The refresh token passed is incorrect or expired.',
        error_uri: 'https://docs.github.com',
      }),
    ).toEqual({
      kind: 'invalid_grant',
      error: 'bad_refresh_token',
      description: 'The refresh token passed is incorrect or expired.',
      status: 200,
    });
  });
  it('GitHub bad_verification_code with HTTP 200 is invalid_grant', () => {
    expect(classify('github', 200, { error: 'bad_verification_code' })).toMatchObject({
      kind: 'invalid_grant',
      status: 200,
    });
  });
  it('GitHub incorrect_client_credentials with HTTP 200 is invalid_client', () => {
    expect(
      classify('github_app', 200, {
        error: 'incorrect_client_credentials',
        error_description: 'The client_id and/or client_secret passed are incorrect.',
      }),
    ).toEqual({
      kind: 'invalid_client',
      error: 'incorrect_client_credentials',
      description: 'The client_id and/or client_secret passed are incorrect.',
      status: 200,
    });
  });
  it('GitHub codes the catalogue maps to rejected, and unknown codes, are rejected', () => {
    expect(classify('github_app', 200, { error: 'redirect_uri_mismatch' })).toEqual({
      kind: 'rejected',
      error: 'redirect_uri_mismatch',
      status: 200,
    });
    expect(classify('github_app', 200, { error: 'something_new' })).toEqual({
      kind: 'rejected',
      error: 'something_new',
      status: 200,
    });
  });
  it('GitHub RFC codes with HTTP 200 keep their RFC meaning', () => {
    expect(classify('github_app', 200, { error: 'invalid_grant' })).toMatchObject({ kind: 'invalid_grant' });
    expect(classify('github_app', 200, { error: 'unauthorized_client' })).toMatchObject({
      kind: 'invalid_client',
    });
  });
  it('an error wins over an access_token when errors come with HTTP 200', () => {
    expect(classify('github_app', 200, { error: 'bad_refresh_token', access_token: 'x' })).toMatchObject({
      kind: 'invalid_grant',
    });
  });
  it('for a provider that reports errors with an error status, a 200 with only an error is a server fault', () => {
    const outcome = classify('spotify', 200, { error: 'invalid_grant' });
    expect(outcome).toMatchObject({ kind: 'transient', cause: 'server_error', status: 200 });
    expect(classify('spotify', 200, { error: 'odd', access_token: 'a' })).toMatchObject({
      kind: 'tokens',
      accessToken: 'a',
    });
  });
});

describe('classifyTokenResponse › 2xx without tokens', () => {
  it('a 2xx without access_token and without error is a transient server_error', () => {
    for (const body of [{}, { token_type: 'Bearer' }, { access_token: '' }, { access_token: 42 }]) {
      expect(classify('fathom', 200, body)).toMatchObject({
        kind: 'transient',
        cause: 'server_error',
        status: 200,
      });
    }
  });
  it('a non-JSON 2xx body (an HTML page from a proxy) is a transient server_error', () => {
    const outcome = classify('spotify', 200, '<html>maintenance</html>', { 'content-type': 'text/html' });
    expect(outcome).toMatchObject({ kind: 'transient', cause: 'server_error', status: 200 });
    expect(outcome).toHaveProperty('detail', expect.stringContaining('text/html'));
    expect(outcome).not.toHaveProperty('detail', expect.stringContaining('maintenance'));
  });
  it('an empty 2xx body, a JSON array or a JSON string are transient server_errors', () => {
    for (const text of ['', '   ', '[]', '"ok"', 'null', '{"access_token":']) {
      expect(classify('fathom', 200, text, {})).toMatchObject({ kind: 'transient', cause: 'server_error' });
    }
    expect(classify('fathom', 204, '', {})).toMatchObject({
      kind: 'transient',
      cause: 'server_error',
      status: 204,
    });
  });
});

describe('classifyTokenResponse › RFC 6749 errors', () => {
  it('Spotify revoked: 400 invalid_grant "Refresh token revoked"', () => {
    expect(
      classify('spotify', 400, { error: 'invalid_grant', error_description: 'Refresh token revoked' }),
    ).toEqual({
      kind: 'invalid_grant',
      error: 'invalid_grant',
      description: 'Refresh token revoked',
      status: 400,
    });
  });
  it('Google revoked/expired: 400 invalid_grant', () => {
    expect(
      classify('google', 400, {
        error: 'invalid_grant',
        error_description: 'Token has been expired or revoked.',
      }),
    ).toMatchObject({
      kind: 'invalid_grant',
      status: 400,
    });
  });
  it('Google bad client: 401 invalid_client', () => {
    expect(classify('google', 401, { error: 'invalid_client', error_description: 'Unauthorized' })).toEqual({
      kind: 'invalid_client',
      error: 'invalid_client',
      description: 'Unauthorized',
      status: 401,
    });
  });
  it('invalid_client and unauthorized_client are invalid_client at 400 too', () => {
    expect(classify('discord', 400, { error: 'invalid_client' })).toEqual({
      kind: 'invalid_client',
      error: 'invalid_client',
      status: 400,
    });
    expect(classify('fathom', 400, { error: 'unauthorized_client' })).toMatchObject({
      kind: 'invalid_client',
      status: 400,
    });
  });
  it('a 401 with no body, or a body that is not JSON, is invalid_client', () => {
    expect(classify('fathom', 401, '', {})).toEqual({
      kind: 'invalid_client',
      error: 'http_401',
      status: 401,
    });
    expect(classify('fathom', 401, 'Unauthorized', { 'content-type': 'text/plain' })).toEqual({
      kind: 'invalid_client',
      error: 'http_401',
      status: 401,
    });
  });
  it('a 401 with an unknown code is still client authentication failing', () => {
    expect(classify('fathom', 401, { error: 'access_denied' })).toEqual({
      kind: 'invalid_client',
      error: 'access_denied',
      status: 401,
    });
    expect(classify('fathom', 401, { error: 'invalid_grant' })).toMatchObject({
      kind: 'invalid_grant',
      status: 401,
    });
  });
  it('other RFC codes are rejected', () => {
    for (const error of ['invalid_request', 'unsupported_grant_type', 'invalid_scope']) {
      expect(classify('discord', 400, { error })).toEqual({ kind: 'rejected', error, status: 400 });
    }
  });
  it('other 4xx without a code are rejected', () => {
    expect(classify('fathom', 400, '', {})).toEqual({ kind: 'rejected', status: 400 });
    expect(classify('fathom', 404, '<html>not found</html>', { 'content-type': 'text/html' })).toEqual({
      kind: 'rejected',
      status: 404,
    });
    expect(classify('spotify', 403, { error: { status: 403, message: 'forbidden' } })).toEqual({
      kind: 'rejected',
      status: 403,
    });
  });
  it('a code that only exists on Object.prototype is not a mapped code', () => {
    expect(classify('github_app', 200, { error: 'constructor' })).toEqual({
      kind: 'rejected',
      error: 'constructor',
      status: 200,
    });
    expect(classify('fathom', 400, { error: 'toString' })).toEqual({
      kind: 'rejected',
      error: 'toString',
      status: 400,
    });
  });
  it('keeps provider text to one bounded printable line', () => {
    const outcome = classify('fathom', 400, {
      error: 'invalid_grant',
      error_description: `line1\nline2\u0000${'x'.repeat(1000)}`,
    });
    expect(outcome).toMatchObject({ kind: 'invalid_grant' });
    const description = (outcome as { description: string }).description;
    expect(description).not.toContain('\n');
    expect(description).not.toContain('\u0000');
    expect(description.length).toBeLessThanOrEqual(300);
    expect(classify('fathom', 400, { error: 'invalid_grant', error_description: 42 })).not.toHaveProperty(
      'description',
    );
    expect(classify('fathom', 400, { error: '' })).toEqual({ kind: 'rejected', status: 400 });
  });
});

describe('classifyTokenResponse › rate limits', () => {
  it('a 429 is rate_limited with the wait its provider signals', () => {
    expect(
      classify(
        'spotify',
        429,
        { error: { status: 429, message: 'API rate limit exceeded' } },
        { 'retry-after': '7' },
      ),
    ).toEqual({
      kind: 'rate_limited',
      waitMs: 7_000,
      status: 429,
    });
    expect(
      classify('fathom', 429, '', {
        'ratelimit-limit': '60',
        'ratelimit-remaining': '0',
        'ratelimit-reset': '42',
      }),
    ).toEqual({
      kind: 'rate_limited',
      waitMs: 42_000,
      status: 429,
    });
  });
  it('Discord: the longest of Retry-After, X-RateLimit-Reset-After and JSON retry_after', () => {
    const outcome = classify(
      'discord',
      429,
      { message: 'You are being rate limited.', retry_after: 64.57, global: false },
      { 'retry-after': '65', 'x-ratelimit-reset-after': '64.57', ...JSON_TYPE },
    );
    expect(outcome).toEqual({ kind: 'rate_limited', waitMs: 65_000, status: 429 });
    expect(classify('discord', 429, { retry_after: 64.57 }, JSON_TYPE)).toEqual({
      kind: 'rate_limited',
      waitMs: 64_570,
      status: 429,
    });
  });
  it('GitHub: x-ratelimit-reset epoch, and a 403 with remaining 0 is a rate limit', () => {
    const reset = String(NOW.getTime() / 1000 + 300);
    expect(
      classify(
        'github_app',
        403,
        { message: 'API rate limit exceeded' },
        { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': reset },
      ),
    ).toEqual({
      kind: 'rate_limited',
      waitMs: 300_000,
      status: 403,
    });
    expect(
      classify('github_app', 403, { message: 'Forbidden' }, { 'x-ratelimit-remaining': '4999' }),
    ).toEqual({ kind: 'rejected', status: 403 });
  });
  it('Google: a 403 with a quota reason is a rate limit', () => {
    const body = { error: { code: 403, errors: [{ reason: 'userRateLimitExceeded' }] } };
    expect(classify('google', 403, body)).toEqual({ kind: 'rate_limited', waitMs: 60_000, status: 403 });
  });
  it('a 429 without any usable hint waits the default', () => {
    expect(classify('spotify', 429, '', {})).toEqual({ kind: 'rate_limited', waitMs: 60_000, status: 429 });
    expect(classify('spotify', 429, '', { 'retry-after': 'later' })).toEqual({
      kind: 'rate_limited',
      waitMs: 60_000,
      status: 429,
    });
  });
});

describe('classifyTokenResponse › server faults', () => {
  it('every 5xx is a transient server_error, whatever its body says', () => {
    for (const status of [500, 502, 503, 504]) {
      expect(classify('google', status, { error: 'invalid_grant' })).toMatchObject({
        kind: 'transient',
        cause: 'server_error',
        status,
      });
    }
  });
  it('a 408 is a transient timeout, not a verdict on the grant', () => {
    expect(classify('fathom', 408, '', {})).toMatchObject({
      kind: 'transient',
      cause: 'timeout',
      status: 408,
    });
  });
  it('a redirect is a transient server_error pointing at the configured URL', () => {
    const outcome = classify('fathom', 302, '', { location: 'https://elsewhere' });
    expect(outcome).toMatchObject({ kind: 'transient', cause: 'server_error', status: 302 });
    expect(outcome).toHaveProperty('detail', expect.stringContaining('token URL'));
  });
});
