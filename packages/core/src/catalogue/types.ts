// The shape of a provider as data. The refresh path, the token client and the sandbox read
// these fields; none of them branches on a provider's name.

/**
 * A provider's key, as declared: any provider in the catalogue, built-in or from
 * CONDUIT_PROVIDERS_FILE. Code never branches on a particular one.
 */
export type ProviderKey = string;

/** The providers Conduit ships a declaration for (packages/core/providers/), for typed access in tests. */
export type BuiltInProviderKey = 'fathom' | 'spotify' | 'google' | 'discord' | 'github' | 'github_app';

/** How the client authenticates at the token endpoint. */
export type ClientAuthStyle = 'basic' | 'body';

/** Normalised token-endpoint error kinds (RFC 6749 §5.2 and providers' own codes). */
export type TokenErrorKind = 'invalid_grant' | 'invalid_client' | 'rejected';

/** Where a provider says how long to wait after a rate limit. The longest indicated wait wins. */
export type NamedRateLimitSignal =
  /** `Retry-After`: delta-seconds or an HTTP-date */
  | 'retry-after'
  /** `RateLimit-Reset`: seconds until the window resets (IETF draft, Fathom) */
  | 'ratelimit-reset-seconds'
  /** `X-RateLimit-Reset-After`: float seconds (Discord) */
  | 'x-ratelimit-reset-after-seconds'
  /** `X-RateLimit-Reset`: epoch seconds, possibly fractional (Discord, GitHub) */
  | 'x-ratelimit-reset-epoch'
  /** JSON body `retry_after`: float seconds (Discord) */
  | 'json-retry_after';

/** How a header states a wait: seconds from now, an epoch time in seconds, or as `Retry-After` does. */
export type WaitFormat = 'delta-seconds' | 'epoch-seconds' | 'retry-after';

/** A named signal, or any header (or JSON body field) with the format it uses. */
export type RateLimitSignal =
  NamedRateLimitSignal | { header: string; format: WaitFormat } | { json: string };

export interface RateLimitSpec {
  signals: readonly RateLimitSignal[];
  /** A 403 that is really a rate limit: GitHub answers 403 with `x-ratelimit-remaining: 0`. */
  forbiddenIsRateLimitWhenRemainingZero: boolean;
  /** Google answers 403 with `errors[].reason` of these for quota exhaustion. */
  forbiddenRateLimitReasons: readonly string[];
  /** Documented per-account API budget, where there is one (Fathom: 60 per 60 s). */
  accountBudget?: { requests: number; windowSeconds: number };
}

export type RefreshTokenLifetime =
  /** refresh tokens never lapse by time (they may still be revoked) */
  | { kind: 'none' }
  /** lapse a fixed time after the original consent; refreshing does not extend (Spotify) */
  | { kind: 'absolute_from_consent'; seconds: number }
  /** die after this long unused; refreshing extends (Google: 6 months unused) */
  | { kind: 'inactivity'; seconds: number }
  /** the token response says (`refresh_token_expires_in`, GitHub Apps) */
  | { kind: 'from_response'; typicalSeconds: number };

export type RefreshSpec =
  /** tokens that never expire and cannot be refreshed (GitHub OAuth apps, PATs) */
  | { kind: 'none' }
  | {
      kind: 'refresh_token';
      /** always: every refresh returns a new refresh token and retires the old one;
       *  sometimes: a refresh may or may not return one (keep the old one when absent);
       *  never: the refresh token stays the same forever */
      rotation: 'always' | 'sometimes' | 'never';
      refreshTokenLifetime: RefreshTokenLifetime;
    };

/**
 * How a disconnect revokes the grant at the provider, or that it cannot. URLs are the real one
 * and the sandbox's path (under its base URL), like the other endpoints.
 */
export type RevocationSpec =
  /** no documented way: the user revokes the app in the provider's settings */
  | { kind: 'none'; note: string }
  /** RFC 7009: POST form `token` (+ `token_type_hint`), with the token endpoint's client authentication or none */
  | {
      kind: 'rfc7009';
      url: string;
      sandboxPath: string;
      /** `client_id`: the client id in the form, no secret (Twitch) */
      clientAuth: ClientAuthStyle | 'none' | 'client_id';
      token: 'refresh_token' | 'access_token';
    }
  /** GitHub: DELETE /applications/{client_id}/grant, Basic client id and secret, JSON {access_token} */
  | { kind: 'github_grant'; url: string; sandboxPath: string };

export interface EndpointSet {
  authorizeUrl: string;
  tokenUrl: string;
  apiBaseUrl: string;
}

/** How a provider says who a token belongs to. */
export type IdentitySpec =
  /** a profile endpoint under the API base; fields are dotted paths into its JSON (`data.id`) */
  | { kind: 'profile'; path: string; id: string; email?: string | undefined; name?: string | undefined }
  /** Fathom has no profile endpoint: the account is named by its recordings */
  | { kind: 'fathom_recorder' };

/** The data sync a provider's connections get, if any (only Fathom's meetings today). */
export type DataSyncKind = 'none' | 'fathom_meetings';

/**
 * How the local sandbox words this provider's answers. Every field is optional: without them the
 * sandbox derives a plain RFC 6749 dialect from the rest of the declaration.
 */
export interface SandboxWireSpec {
  /** a wire dialect the sandbox ships (the built-ins' hand-checked wording); overrides the fields below */
  dialect?: string | undefined;
  /** `token_type` in token answers (default `Bearer`) */
  tokenType?: string | undefined;
  /** prefixes of issued tokens, e.g. `gho_` */
  accessTokenPrefix?: string | undefined;
  refreshTokenPrefix?: string | undefined;
  /** error bodies: RFC 6749 `{error, error_description}` (default), or `{status, message}` (Twitch) */
  errorShape?: 'rfc6749' | 'message' | undefined;
  /** add `ok: false` to error bodies and `ok: true` to token answers (Slack) */
  okField?: boolean | undefined;
  /** the account ids the sandbox makes: a number counting up from here (default 100000) */
  accountIdStart?: number | undefined;
}

export interface ProviderSpec {
  key: ProviderKey;
  displayName: string;
  /** Real endpoints: production defaults, each overridable by configuration. */
  endpoints: EndpointSet;
  /** The same endpoints inside the local sandbox, relative to its base URL. */
  sandboxPaths: EndpointSet;
  /** What Conduit sends at the token endpoint. */
  clientAuth: ClientAuthStyle;
  /** What the real server accepts (the sandbox enforces this). */
  acceptedClientAuth: readonly ClientAuthStyle[];
  pkce: boolean;
  refresh: RefreshSpec;
  /** Typical access-token lifetime; the client always reads `expires_in`. null: never expires. */
  accessTokenLifetimeSeconds: number | null;
  scopes: {
    default: readonly string[];
    /** Products sharing one OAuth client (Google: YouTube, Gmail, Calendar). */
    products?: Readonly<Record<string, { scopes: readonly string[]; apiBaseUrl?: string }>>;
    separator: ' ' | ',';
  };
  /** Extra authorize parameters the provider needs (Google: offline access). */
  authorizeParams: Readonly<Record<string, string>>;
  tokenErrors: {
    /** GitHub reports token-endpoint errors with HTTP 200 and an `error` field. */
    errorsWithHttp200: boolean;
    /** Provider-specific error codes mapped to their meaning; RFC 6749 codes are built in. */
    codes: Readonly<Record<string, TokenErrorKind>>;
    /**
     * Error texts that decide the kind, for providers whose code says too little (X: a rotated-out
     * refresh token is `invalid_request`; Twitch sends only `{status, message}`). Matched exactly
     * against `error_description`, `message` and `reason`; they win over the code.
     */
    descriptions: Readonly<Record<string, TokenErrorKind>>;
  };
  rateLimit: RateLimitSpec;
  revocation: RevocationSpec;
  identity: IdentitySpec;
  dataSync: DataSyncKind;
  sandbox: SandboxWireSpec;
}
