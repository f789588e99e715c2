// Provider catalogue: what each provider does on the wire (../shared/PROVIDERS.md), as data.
import type { ProviderKey, ProviderSpec } from './types.ts';

const DAY = 86_400;

const NO_FORBIDDEN_LIMITS = {
  forbiddenIsRateLimitWhenRemainingZero: false,
  forbiddenRateLimitReasons: [],
} as const;

const github = {
  revocation: {
    kind: 'github_grant',
    url: 'https://api.github.com/applications/{client_id}/grant',
    sandboxPath: '/github/api/applications/{client_id}/grant',
  },
  endpoints: {
    authorizeUrl: 'https://github.com/login/oauth/authorize',
    tokenUrl: 'https://github.com/login/oauth/access_token',
    apiBaseUrl: 'https://api.github.com',
  },
  sandboxPaths: {
    authorizeUrl: '/github/login/oauth/authorize',
    tokenUrl: '/github/login/oauth/access_token',
    apiBaseUrl: '/github/api',
  },
  clientAuth: 'body',
  acceptedClientAuth: ['body'],
  scopes: { default: ['read:user', 'user:email'], separator: ' ' },
  authorizeParams: {},
  tokenErrors: {
    errorsWithHttp200: true,
    codes: {
      bad_refresh_token: 'invalid_grant',
      bad_verification_code: 'invalid_grant',
      incorrect_client_credentials: 'invalid_client',
      redirect_uri_mismatch: 'rejected',
      unverified_user_email: 'rejected',
    },
  },
  rateLimit: {
    signals: ['retry-after', 'x-ratelimit-reset-epoch'],
    forbiddenIsRateLimitWhenRemainingZero: true,
    forbiddenRateLimitReasons: [],
  },
} as const;

export const PROVIDERS: Readonly<Record<ProviderKey, ProviderSpec>> = {
  fathom: {
    key: 'fathom',
    revocation: {
      kind: 'none',
      note: 'Fathom documents no token revocation; the user removes the app in Fathom settings',
    },
    displayName: 'Fathom',
    endpoints: {
      authorizeUrl: 'https://fathom.video/external/v1/oauth2/authorize',
      tokenUrl: 'https://fathom.video/external/v1/oauth2/token',
      apiBaseUrl: 'https://api.fathom.ai/external/v1',
    },
    sandboxPaths: {
      authorizeUrl: '/fathom/external/v1/oauth2/authorize',
      tokenUrl: '/fathom/external/v1/oauth2/token',
      apiBaseUrl: '/fathom/api/external/v1',
    },
    clientAuth: 'body',
    acceptedClientAuth: ['body'],
    pkce: false,
    // Lifetime undocumented: read expires_in. Refresh tokens: treat as rotating and single-use.
    refresh: { kind: 'refresh_token', rotation: 'always', refreshTokenLifetime: { kind: 'none' } },
    accessTokenLifetimeSeconds: 3600,
    scopes: { default: ['public_api'], separator: ' ' },
    authorizeParams: {},
    tokenErrors: { errorsWithHttp200: false, codes: {} },
    rateLimit: {
      signals: ['retry-after', 'ratelimit-reset-seconds'],
      ...NO_FORBIDDEN_LIMITS,
      accountBudget: { requests: 60, windowSeconds: 60 },
    },
  },
  spotify: {
    key: 'spotify',
    revocation: {
      kind: 'none',
      note: 'Spotify has no revocation endpoint; the user removes the app at spotify.com/account/apps',
    },
    displayName: 'Spotify',
    endpoints: {
      authorizeUrl: 'https://accounts.spotify.com/authorize',
      tokenUrl: 'https://accounts.spotify.com/api/token',
      apiBaseUrl: 'https://api.spotify.com/v1',
    },
    sandboxPaths: {
      authorizeUrl: '/spotify/authorize',
      tokenUrl: '/spotify/api/token',
      apiBaseUrl: '/spotify/v1',
    },
    clientAuth: 'basic',
    acceptedClientAuth: ['basic'],
    pkce: true,
    // Refresh tokens lapse 6 months after the original consent; refreshing does not extend that.
    refresh: {
      kind: 'refresh_token',
      rotation: 'sometimes',
      refreshTokenLifetime: { kind: 'absolute_from_consent', seconds: 182 * DAY },
    },
    accessTokenLifetimeSeconds: 3600,
    scopes: { default: ['user-read-email', 'user-read-recently-played'], separator: ' ' },
    authorizeParams: {},
    tokenErrors: { errorsWithHttp200: false, codes: {} },
    rateLimit: { signals: ['retry-after'], ...NO_FORBIDDEN_LIMITS },
  },
  google: {
    key: 'google',
    revocation: {
      kind: 'rfc7009',
      url: 'https://oauth2.googleapis.com/revoke',
      sandboxPath: '/google/revoke',
      clientAuth: 'none',
      // revoking the refresh token revokes the whole grant
      token: 'refresh_token',
    },
    displayName: 'Google',
    endpoints: {
      authorizeUrl: 'https://accounts.google.com/o/oauth2/v2/auth',
      tokenUrl: 'https://oauth2.googleapis.com/token',
      apiBaseUrl: 'https://www.googleapis.com',
    },
    sandboxPaths: {
      authorizeUrl: '/google/o/oauth2/v2/auth',
      tokenUrl: '/google/token',
      apiBaseUrl: '/google/api',
    },
    clientAuth: 'body',
    acceptedClientAuth: ['body', 'basic'],
    pkce: true,
    // Never rotated; dies after 6 months unused (also on revocation, password change…).
    refresh: {
      kind: 'refresh_token',
      rotation: 'never',
      refreshTokenLifetime: { kind: 'inactivity', seconds: 182 * DAY },
    },
    accessTokenLifetimeSeconds: 3599,
    scopes: {
      default: ['openid', 'email'],
      products: {
        youtube: {
          scopes: ['https://www.googleapis.com/auth/youtube.readonly'],
          apiBaseUrl: 'https://www.googleapis.com/youtube/v3',
        },
        gmail: {
          scopes: ['https://www.googleapis.com/auth/gmail.readonly'],
          apiBaseUrl: 'https://gmail.googleapis.com/gmail/v1',
        },
        calendar: {
          scopes: ['https://www.googleapis.com/auth/calendar.readonly'],
          apiBaseUrl: 'https://www.googleapis.com/calendar/v3',
        },
      },
      separator: ' ',
    },
    // offline + consent: the only way to be sure a refresh token comes back.
    authorizeParams: { access_type: 'offline', prompt: 'consent', include_granted_scopes: 'true' },
    tokenErrors: { errorsWithHttp200: false, codes: {} },
    rateLimit: {
      signals: ['retry-after'],
      forbiddenIsRateLimitWhenRemainingZero: false,
      forbiddenRateLimitReasons: ['rateLimitExceeded', 'userRateLimitExceeded'],
    },
  },
  discord: {
    key: 'discord',
    revocation: {
      kind: 'rfc7009',
      url: 'https://discord.com/api/oauth2/token/revoke',
      sandboxPath: '/discord/api/oauth2/token/revoke',
      clientAuth: 'basic',
      token: 'refresh_token',
    },
    displayName: 'Discord',
    endpoints: {
      authorizeUrl: 'https://discord.com/oauth2/authorize',
      tokenUrl: 'https://discord.com/api/oauth2/token',
      apiBaseUrl: 'https://discord.com/api/v10',
    },
    sandboxPaths: {
      authorizeUrl: '/discord/oauth2/authorize',
      tokenUrl: '/discord/api/oauth2/token',
      apiBaseUrl: '/discord/api/v10',
    },
    clientAuth: 'basic',
    acceptedClientAuth: ['basic', 'body'],
    pkce: true,
    refresh: { kind: 'refresh_token', rotation: 'always', refreshTokenLifetime: { kind: 'none' } },
    accessTokenLifetimeSeconds: 604_800,
    scopes: { default: ['identify', 'email'], separator: ' ' },
    authorizeParams: { prompt: 'consent' },
    tokenErrors: { errorsWithHttp200: false, codes: {} },
    rateLimit: {
      signals: ['retry-after', 'x-ratelimit-reset-after-seconds', 'json-retry_after'],
      ...NO_FORBIDDEN_LIMITS,
    },
  },
  github: {
    key: 'github',
    displayName: 'GitHub (OAuth app)',
    ...github,
    pkce: false,
    // OAuth-app tokens and PATs do not expire and cannot be refreshed.
    refresh: { kind: 'none' },
    accessTokenLifetimeSeconds: null,
  },
  github_app: {
    key: 'github_app',
    displayName: 'GitHub (App user token)',
    ...github,
    pkce: true,
    refresh: {
      kind: 'refresh_token',
      rotation: 'always',
      refreshTokenLifetime: { kind: 'from_response', typicalSeconds: 15_897_600 },
    },
    accessTokenLifetimeSeconds: 28_800,
  },
};

export function providerSpec(key: ProviderKey): ProviderSpec {
  return PROVIDERS[key];
}
