// The two grant types, once the client is authenticated: what they check, in the order the
// real servers check it, and what they change. Presenting a rotated-out refresh token revokes
// the whole family (RFC 9700 §4.14.2).
import { createHash } from 'node:crypto';
import type { ProviderKey } from '@conduit/core';
import type { Grant, IssuedTokens } from '../grants/store.ts';
import type { SandboxState } from '../state.ts';
import { tokenDialect, type TokenFailure } from './dialects.ts';

export type Exchange = { ok: true; issued: IssuedTokens } | { ok: false; failure: TokenFailure };

type Fields = Readonly<Record<string, string | undefined>>;

const fail = (failure: TokenFailure): Exchange => ({ ok: false, failure });

export function exchangeCode(
  sb: SandboxState,
  provider: ProviderKey,
  clientId: string,
  body: Fields,
  now: number,
): Exchange {
  const code = sb.codes.get(body.code);
  if (!code || code.provider !== provider || code.clientId !== clientId || code.used) return fail('bad_code');
  if (now >= code.expiresAt) return fail('expired_code');
  const redirectOk =
    body.redirect_uri === undefined
      ? tokenDialect(provider).redirectUriOptional
      : body.redirect_uri === code.redirectUri;
  if (!redirectOk) return fail('redirect_mismatch');
  if (
    code.codeChallenge !== null &&
    (body.code_verifier === undefined || s256(body.code_verifier) !== code.codeChallenge)
  ) {
    return fail('pkce_failed');
  }
  code.used = true;
  const issued = sb.grants.create({ provider, account: code.account, clientId, scope: code.scope, now });
  return { ok: true, issued };
}

/** `grant` is whoever the presented refresh token was issued to (looked up on arrival). */
export function refreshGrant(
  sb: SandboxState,
  provider: ProviderKey,
  clientId: string,
  body: Fields,
  grant: Grant | undefined,
  now: number,
  /** the caller's User-Agent, remembered as who received the grant's newest tokens */
  client?: string,
): Exchange {
  const token = body.refresh_token;
  if (token === undefined) return fail('invalid_request');
  if (!grant || grant.provider !== provider || grant.clientId !== clientId) return fail('bad_refresh_token');
  if (token !== grant.refreshToken) {
    const alreadyRevoked = grant.revokedAt !== null;
    grant.reuses += 1;
    sb.log.count(provider, 'reusedRefreshTokens', now, () => ({
      grantId: grant.id,
      accountId: grant.account.id,
      clientId,
      detail: alreadyRevoked
        ? 'a rotated-out refresh token of an already revoked family was presented again'
        : `a rotated-out refresh token was presented again (${grant.rotations} rotations so far); the family is revoked`,
    }));
    sb.revokeFamily(grant, 'refresh_token_reuse', now);
    return fail('bad_refresh_token');
  }
  if (grant.revokedAt !== null) return fail('revoked_refresh_token');
  if (now >= grant.refreshExpiresAt) return fail('expired_refresh_token');
  return { ok: true, issued: sb.grants.refresh(grant, now, sb.rotates(provider), client) };
}

export function s256(verifier: string): string {
  return createHash('sha256').update(verifier).digest('base64url');
}
