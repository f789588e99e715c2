// What each provider's tokens look like on the wire. Cosmetic but honest: GitHub's prefixes
// (gho_/ghu_/ghr_) are documented and clients sometimes branch on them. Sandbox-only facts.
import { providerSpec, type ProviderKey } from '@conduit/core';
import { randomAlphanumeric, randomBase64url } from './random.ts';

interface TokenFormat {
  access(): string;
  refresh(): string;
}

/** Each dialect's token bodies; the declaration's prefixes (`gho_`, `ya29.a0`…) go in front. */
const TOKEN_FORMATS: Readonly<Record<string, TokenFormat>> = {
  fathom: { access: () => randomBase64url(32), refresh: () => randomBase64url(32) },
  spotify: { access: () => randomBase64url(96), refresh: () => randomBase64url(96) },
  google: { access: () => randomBase64url(96), refresh: () => randomBase64url(72) },
  discord: { access: () => randomAlphanumeric(30), refresh: () => randomAlphanumeric(30) },
  github: { access: () => randomAlphanumeric(36), refresh: () => randomAlphanumeric(76) },
};

const PLAIN: TokenFormat = { access: () => randomBase64url(32), refresh: () => randomBase64url(32) };

export function newAccessToken(provider: ProviderKey): string {
  const sandbox = providerSpec(provider).sandbox;
  const format = TOKEN_FORMATS[sandbox.dialect ?? ''] ?? PLAIN;
  return `${sandbox.accessTokenPrefix ?? ''}${format.access()}`;
}

export function newRefreshToken(provider: ProviderKey): string {
  const sandbox = providerSpec(provider).sandbox;
  const format = TOKEN_FORMATS[sandbox.dialect ?? ''] ?? PLAIN;
  return `${sandbox.refreshTokenPrefix ?? ''}${format.refresh()}`;
}

export function newAuthorizationCode(): string {
  return randomBase64url(24);
}
