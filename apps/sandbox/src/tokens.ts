// What each provider's tokens look like on the wire. Cosmetic but honest: GitHub's prefixes
// (gho_/ghu_/ghr_) are documented and clients sometimes branch on them. Sandbox-only facts.
import type { ProviderKey } from '@conduit/core';
import { randomAlphanumeric, randomBase64url } from './random.ts';

interface TokenFormat {
  access(): string;
  refresh(): string;
}

export const TOKEN_FORMATS: Readonly<Record<ProviderKey, TokenFormat>> = {
  fathom: { access: () => randomBase64url(32), refresh: () => randomBase64url(32) },
  spotify: { access: () => `BQ${randomBase64url(96)}`, refresh: () => `AQ${randomBase64url(96)}` },
  google: { access: () => `ya29.a0${randomBase64url(96)}`, refresh: () => `1//0${randomBase64url(72)}` },
  discord: { access: () => randomAlphanumeric(30), refresh: () => randomAlphanumeric(30) },
  github: { access: () => `gho_${randomAlphanumeric(36)}`, refresh: () => `ghr_${randomAlphanumeric(76)}` },
  github_app: {
    access: () => `ghu_${randomAlphanumeric(36)}`,
    refresh: () => `ghr_${randomAlphanumeric(76)}`,
  },
};

export function newAuthorizationCode(): string {
  return randomBase64url(24);
}
