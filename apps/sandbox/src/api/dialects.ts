// How each provider's API refuses a bad access token (401). Fathom's wording is Doorkeeper's
// (inferred); the others are what their APIs send. A declaration without a named dialect gets
// RFC 6750's answer (or `{status, message}` when it declares that error shape).
import { providerSpec, type ProviderKey } from '@conduit/core';
import type { WireAnswer } from '../http.ts';

export type BadToken = 'missing' | 'unknown' | 'expired' | 'revoked';

const DOORKEEPER: Record<BadToken, string> = {
  missing: 'The access token is invalid',
  unknown: 'The access token is invalid',
  expired: 'The access token expired',
  revoked: 'The access token was revoked',
};

const github = (): WireAnswer => ({
  status: 401,
  body: { message: 'Bad credentials', documentation_url: 'https://docs.github.com/rest', status: '401' },
});

const UNAUTHORIZED_DIALECTS: Readonly<Record<string, (why: BadToken) => WireAnswer>> = {
  fathom: (why) => ({
    status: 401,
    headers: {
      'www-authenticate': `Bearer realm="Doorkeeper", error="invalid_token", error_description="${DOORKEEPER[why]}"`,
    },
    body: { error: 'invalid_token', error_description: DOORKEEPER[why] },
  }),
  spotify: (why) => {
    const message =
      why === 'expired'
        ? 'The access token expired'
        : why === 'missing'
          ? 'No token provided'
          : 'Invalid access token';
    return {
      status: 401,
      headers: {
        'www-authenticate': `Bearer realm="spotify", error="invalid_token", error_description="${message}"`,
      },
      body: { error: { status: 401, message } },
    };
  },
  google: () => ({
    status: 401,
    headers: { 'www-authenticate': 'Bearer realm="https://accounts.google.com/", error="invalid_token"' },
    body: { error: 'invalid_request', error_description: 'Invalid Credentials' },
  }),
  discord: () => ({ status: 401, body: { message: '401: Unauthorized', code: 0 } }),
  github,
};

const RFC6750: Record<BadToken, string> = {
  missing: 'The access token is missing',
  unknown: 'The access token is invalid',
  expired: 'The access token expired',
  revoked: 'The access token was revoked',
};

/** The provider's 401 for a bad access token. */
export function unauthorized(provider: ProviderKey, why: BadToken): WireAnswer {
  const spec = providerSpec(provider);
  const named = spec.sandbox.dialect === undefined ? undefined : UNAUTHORIZED_DIALECTS[spec.sandbox.dialect];
  if (named) return named(why);
  if (spec.sandbox.errorShape === 'message') {
    return { status: 401, body: { status: 401, message: 'invalid access token' } };
  }
  return {
    status: 401,
    headers: {
      'www-authenticate': `Bearer realm="${spec.key}", error="invalid_token", error_description="${RFC6750[why]}"`,
    },
    body: { error: 'invalid_token', error_description: RFC6750[why] },
  };
}

/** The bearer token of an Authorization header (GitHub also takes `token <t>`). */
export function bearerToken(authorization: string | undefined): string | undefined {
  if (authorization === undefined) return undefined;
  const space = authorization.indexOf(' ');
  if (space < 0) return undefined;
  const scheme = authorization.slice(0, space).toLowerCase();
  return scheme === 'bearer' || scheme === 'token' ? authorization.slice(space + 1).trim() : undefined;
}
