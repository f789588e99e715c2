import { describe, expect, it } from 'vitest';
import { basicAuthorization, buildTokenRequest, formEncode } from '../src/index.ts';

const creds = { clientId: 'conduit-spotify', clientSecret: 'sandbox-secret-spotify' };

describe('token request › client authentication', () => {
  it("'basic' sends Authorization: Basic base64(id:secret) and keeps the secret out of the body", () => {
    const req = buildTokenRequest('basic', creds, { grantType: 'refresh_token', refreshToken: 'rt' }, 'ua');
    expect(req.headers.authorization).toBe(
      `Basic ${Buffer.from('conduit-spotify:sandbox-secret-spotify').toString('base64')}`,
    );
    const form = new URLSearchParams(req.body);
    expect(form.has('client_secret')).toBe(false);
    expect(form.has('client_id')).toBe(false);
  });
  it("'basic' form-encodes id and secret before joining them (RFC 6749 §2.3.1)", () => {
    const header = basicAuthorization({ clientId: 'id:with space', clientSecret: 's+e/c%r=t~é' });
    const decoded = Buffer.from(header.replace(/^Basic /, ''), 'base64').toString('utf8');
    expect(decoded).toBe('id%3Awith+space:s%2Be%2Fc%25r%3Dt%7E%C3%A9');
    const [id, secret] = decoded.split(':');
    expect(new URLSearchParams(`a=${id}&b=${secret}`).get('a')).toBe('id:with space');
    expect(new URLSearchParams(`a=${id}&b=${secret}`).get('b')).toBe('s+e/c%r=t~é');
    expect(formEncode('a b&c')).toBe('a+b%26c');
  });
  it("'body' sends client_id and client_secret in the form and no Authorization header", () => {
    const req = buildTokenRequest('body', creds, { grantType: 'refresh_token', refreshToken: 'rt' }, 'ua');
    expect(req.headers).not.toHaveProperty('authorization');
    const form = new URLSearchParams(req.body);
    expect(form.get('client_id')).toBe('conduit-spotify');
    expect(form.get('client_secret')).toBe('sandbox-secret-spotify');
  });
});

describe('token request › grants', () => {
  it('refresh_token: grant_type, refresh_token and an optional scope, form-encoded', () => {
    const req = buildTokenRequest(
      'basic',
      creds,
      { grantType: 'refresh_token', refreshToken: 'r/t+1=', scope: 'a b' },
      'Conduit-Test',
    );
    expect(req.headers).toMatchObject({
      'content-type': 'application/x-www-form-urlencoded',
      accept: 'application/json',
      'user-agent': 'Conduit-Test',
    });
    const form = new URLSearchParams(req.body);
    expect(Object.fromEntries(form)).toEqual({
      grant_type: 'refresh_token',
      refresh_token: 'r/t+1=',
      scope: 'a b',
    });
    expect(
      new URLSearchParams(
        buildTokenRequest('basic', creds, { grantType: 'refresh_token', refreshToken: 'r' }, 'ua').body,
      ).has('scope'),
    ).toBe(false);
  });
  it('authorization_code: code, redirect_uri and the PKCE verifier when there is one', () => {
    const withPkce = buildTokenRequest(
      'body',
      creds,
      {
        grantType: 'authorization_code',
        code: 'c',
        redirectUri: 'http://localhost:3000/cb?x=1',
        codeVerifier: 'v'.repeat(43),
      },
      'ua',
    );
    expect(Object.fromEntries(new URLSearchParams(withPkce.body))).toEqual({
      grant_type: 'authorization_code',
      code: 'c',
      redirect_uri: 'http://localhost:3000/cb?x=1',
      code_verifier: 'v'.repeat(43),
      client_id: 'conduit-spotify',
      client_secret: 'sandbox-secret-spotify',
    });
    const without = buildTokenRequest(
      'basic',
      creds,
      { grantType: 'authorization_code', code: 'c', redirectUri: 'https://x/cb' },
      'ua',
    );
    expect(new URLSearchParams(without.body).has('code_verifier')).toBe(false);
  });
});
