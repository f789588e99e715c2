// The token request on the wire (RFC 6749 §4.1.3, §6): a form body, client authentication
// per the catalogue's `clientAuth`, and `Accept: application/json` (GitHub answers form-encoded without it).
import type { ClientAuthStyle } from '@conduit/core';

export interface ClientCredentials {
  clientId: string;
  clientSecret: string;
}

export type TokenGrant =
  | { grantType: 'refresh_token'; refreshToken: string; scope?: string | undefined }
  | { grantType: 'authorization_code'; code: string; redirectUri: string; codeVerifier?: string | undefined };

export interface TokenRequest {
  headers: Record<string, string>;
  /** application/x-www-form-urlencoded */
  body: string;
}

/** application/x-www-form-urlencoded encoding of one value (space → '+'), as RFC 6749 Appendix B asks. */
export function formEncode(value: string): string {
  return new URLSearchParams({ v: value }).toString().slice(2);
}

/** RFC 6749 §2.3.1: id and secret are form-encoded before they are joined and base64-encoded. */
export function basicAuthorization({ clientId, clientSecret }: ClientCredentials): string {
  const pair = `${formEncode(clientId)}:${formEncode(clientSecret)}`;
  return `Basic ${Buffer.from(pair, 'utf8').toString('base64')}`;
}

export function buildTokenRequest(
  clientAuth: ClientAuthStyle,
  credentials: ClientCredentials,
  grant: TokenGrant,
  userAgent: string,
): TokenRequest {
  const form = new URLSearchParams();
  form.set('grant_type', grant.grantType);
  switch (grant.grantType) {
    case 'refresh_token':
      form.set('refresh_token', grant.refreshToken);
      if (grant.scope !== undefined && grant.scope !== '') form.set('scope', grant.scope);
      break;
    case 'authorization_code':
      form.set('code', grant.code);
      form.set('redirect_uri', grant.redirectUri);
      if (grant.codeVerifier !== undefined && grant.codeVerifier !== '')
        form.set('code_verifier', grant.codeVerifier);
      break;
  }

  const headers: Record<string, string> = {
    'content-type': 'application/x-www-form-urlencoded',
    accept: 'application/json',
    'user-agent': userAgent,
  };
  switch (clientAuth) {
    case 'basic':
      headers.authorization = basicAuthorization(credentials);
      break;
    case 'body':
      form.set('client_id', credentials.clientId);
      form.set('client_secret', credentials.clientSecret);
      break;
  }
  return { headers, body: form.toString() };
}
