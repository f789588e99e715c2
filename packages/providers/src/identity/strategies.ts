// How each provider says who a token belongs to, as data (STYLE: providers are data). Most have a
// profile endpoint under their API base; Fathom has none and is identified from its meetings.
import type { ProviderKey } from '@conduit/core';

export type IdentityStrategy =
  | {
      kind: 'profile';
      /** appended to the provider's API base URL */
      path: string;
      /** fields of the profile JSON */
      id: string;
      email: string;
      name: string;
    }
  | { kind: 'fathom_recorder' };

const GITHUB_USER: IdentityStrategy = {
  kind: 'profile',
  path: '/user',
  id: 'id',
  email: 'email',
  name: 'name',
};

export const IDENTITY_STRATEGIES: Readonly<Record<ProviderKey, IdentityStrategy>> = {
  fathom: { kind: 'fathom_recorder' },
  // GET https://api.spotify.com/v1/me
  spotify: { kind: 'profile', path: '/me', id: 'id', email: 'email', name: 'display_name' },
  // GET https://www.googleapis.com/oauth2/v3/userinfo (OpenID Connect userinfo)
  google: { kind: 'profile', path: '/oauth2/v3/userinfo', id: 'sub', email: 'email', name: 'name' },
  // GET https://discord.com/api/v10/users/@me (email only with the `email` scope)
  discord: { kind: 'profile', path: '/users/@me', id: 'id', email: 'email', name: 'global_name' },
  // GET https://api.github.com/user (email is null when the user keeps it private)
  github: GITHUB_USER,
  github_app: GITHUB_USER,
};
