// "Who am I" for the providers whose connect flows identify the account that way: Spotify
// GET /v1/me, Google GET /oauth2/v3/userinfo, Discord GET /users/@me, GitHub GET /user.
// Paths sit under the catalogue's sandbox API base; the profile shapes are the real ones, trimmed.
// A provider without a hand-written profile gets one built from its declaration's `identity`:
// the account's id, email and name at the fields (dotted paths) the declaration names.
import { providerSpec, type IdentitySpec, type ProviderKey } from '@conduit/core';
import type { FastifyInstance } from 'fastify';
import type { Grant } from '../grants/store.ts';
import { providersByPath } from '../oauth/paths.ts';
import type { SandboxState } from '../state.ts';
import { guardApi } from './guard.ts';

interface Identity {
  path: string;
  profile(grant: Grant): Record<string, unknown>;
}

const githubUser = (grant: Grant): Record<string, unknown> => {
  const { id, email, name } = grant.account;
  const login = email.split('@')[0]!.replace(/[^A-Za-z0-9-]/g, '-');
  return {
    login,
    id: Number(id),
    node_id: `U_kgDO${Buffer.from(id).toString('base64url')}`,
    avatar_url: `https://avatars.githubusercontent.com/u/${id}?v=4`,
    html_url: `https://github.com/${login}`,
    type: 'User',
    site_admin: false,
    name,
    email,
    created_at: new Date(grant.consentedAt - 86_400_000 * 900).toISOString().replace('.000Z', 'Z'),
  };
};

/** Hand-written profiles, keyed by dialect (Fathom has none: it documents /teams and /team_members). */
const PROFILES: Readonly<Record<string, Identity['profile']>> = {
  spotify: ({ account }) => ({
    country: 'SE',
    display_name: account.name,
    email: account.email,
    explicit_content: { filter_enabled: false, filter_locked: false },
    external_urls: { spotify: `https://open.spotify.com/user/${account.id}` },
    followers: { href: null, total: 0 },
    href: `https://api.spotify.com/v1/users/${account.id}`,
    id: account.id,
    images: [],
    product: 'premium',
    type: 'user',
    uri: `spotify:user:${account.id}`,
  }),
  google: ({ account }) => {
    const [given, ...family] = account.name.split(' ');
    return {
      sub: account.id,
      name: account.name,
      given_name: given,
      family_name: family.join(' '),
      picture: `https://lh3.googleusercontent.com/a/${account.id}=s96-c`,
      email: account.email,
      email_verified: true,
    };
  },
  discord: ({ account, scope }) => ({
    id: account.id,
    username: account.email
      .split('@')[0]!
      .toLowerCase()
      .replace(/[^a-z0-9_.]/g, '_'),
    avatar: null,
    discriminator: '0',
    public_flags: 0,
    flags: 0,
    banner: null,
    accent_color: null,
    global_name: account.name,
    mfa_enabled: false,
    locale: 'en-US',
    premium_type: 0,
    ...(scope.includes('email') ? { email: account.email, verified: true } : {}),
  }),
  github: githubUser,
};

/** `{data: {id}}` for `data.id`: the account's fields where the declaration says to find them. */
function declaredProfile(
  identity: Extract<IdentitySpec, { kind: 'profile' }>,
  grant: Grant,
): Record<string, unknown> {
  const profile: Record<string, unknown> = {};
  const put = (path: string | undefined, value: string) => {
    if (path === undefined) return;
    const parts = path.split('.');
    let node = profile;
    for (const part of parts.slice(0, -1)) {
      node[part] ??= {};
      node = node[part] as Record<string, unknown>;
    }
    node[parts.at(-1)!] = value;
  };
  put(identity.id, grant.account.id);
  put(identity.email, grant.account.email);
  put(identity.name, grant.account.name);
  return profile;
}

function identityOf(provider: ProviderKey): Identity | undefined {
  const spec = providerSpec(provider);
  if (spec.identity.kind !== 'profile') return undefined;
  const identity = spec.identity;
  const written = spec.sandbox.dialect === undefined ? undefined : PROFILES[spec.sandbox.dialect];
  return { path: identity.path, profile: written ?? ((grant) => declaredProfile(identity, grant)) };
}

export function registerIdentityRoutes(app: FastifyInstance, sb: SandboxState): void {
  for (const [base, candidates] of providersByPath('apiBaseUrl')) {
    const identity = identityOf(candidates[0]!);
    if (!identity) continue;
    app.get(`${base}${identity.path}`, async (req, reply) => {
      const grant = await guardApi(sb, candidates, req, reply);
      if (!grant) return reply;
      return reply.send(identityOf(grant.provider)!.profile(grant));
    });
  }
}
