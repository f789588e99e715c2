import { describe, expect, it } from 'vitest';
import { PROVIDERS } from '@conduit/core';
import { buildAuthorizeUrl } from '../src/plugins/connect/authorize-url.ts';
import { returnToWith, validateReturnTo } from '../src/plugins/connect/return-to.ts';
import { hashState, newPkce, newState } from '../src/plugins/connect/oauth-secrets.ts';
import { HttpProblem } from '../src/problem.ts';
import { createHash } from 'node:crypto';

describe('connect › authorize URL', () => {
  it("carries the catalogue's scopes, extra parameters and, where supported, an S256 challenge", () => {
    const url = new URL(
      buildAuthorizeUrl(PROVIDERS.google, {
        authorizeUrl: 'https://accounts.google.com/o/oauth2/v2/auth',
        clientId: 'cid',
        redirectUri: 'https://conduit.example.com/v1/connect/google/callback',
        scopes: ['openid', 'email'],
        state: 's',
        codeChallenge: 'ch',
      }),
    );
    expect(Object.fromEntries(url.searchParams)).toEqual({
      response_type: 'code',
      client_id: 'cid',
      redirect_uri: 'https://conduit.example.com/v1/connect/google/callback',
      scope: 'openid email',
      state: 's',
      access_type: 'offline',
      prompt: 'consent',
      include_granted_scopes: 'true',
      code_challenge: 'ch',
      code_challenge_method: 'S256',
    });
  });
});

describe('connect › secrets', () => {
  it('a state is 32 random bytes and only its SHA-256 is kept; the PKCE challenge is S256 of the verifier', () => {
    const { state, stateHash } = newState();
    expect(Buffer.from(state, 'base64url')).toHaveLength(32);
    expect(stateHash).toBe(hashState(state));
    expect(stateHash).not.toContain(state);
    const { verifier, challenge } = newPkce();
    expect(verifier).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(challenge).toBe(createHash('sha256').update(verifier).digest('base64url'));
  });
});

describe('connect › returnTo', () => {
  it('must be an absolute http(s) URL without credentials, on the app origin unless that is *', () => {
    expect(validateReturnTo('https://app.example.com/x?y=1', 'https://app.example.com')).toBe(
      'https://app.example.com/x?y=1',
    );
    expect(validateReturnTo('http://localhost:5173/cb', '*')).toBe('http://localhost:5173/cb');
    for (const [bad, origin] of [
      ['/relative', '*'],
      ['javascript:alert(1)', '*'],
      ['https://user:pw@app.example.com/', '*'],
      ['https://evil.example/', 'https://app.example.com'],
      ['https://app.example.com.evil.example/', 'https://app.example.com'],
    ] as const) {
      expect(() => validateReturnTo(bad, origin)).toThrow(HttpProblem);
    }
  });

  it('gets the result appended, keeping its own parameters', () => {
    expect(
      returnToWith('https://app.example.com/i?tab=a', {
        conduit_status: 'connected',
        connection_id: 'c1',
        conduit_error: undefined,
      }),
    ).toBe('https://app.example.com/i?tab=a&conduit_status=connected&connection_id=c1');
  });
});
