// How each provider's token endpoint words its answers: token_type casing, scope separator,
// GitHub's form-encoded default, and the real error codes, descriptions and statuses
// (PROVIDERS.md; Fathom's are Doorkeeper's defaults, inferred). Statuses give way to the
// catalogue's `errorsWithHttp200` (GitHub answers every error with 200).
// A declaration names one of the hand-checked dialects below (`sandbox.dialect`), or the
// sandbox derives one from the rest of the declaration: its error codes, texts and shapes.
import { providerSpec, type ProviderKey, type ProviderSpec, type TokenErrorKind } from '@conduit/core';
import type { WireAnswer } from '../http.ts';
import type { IssuedTokens } from '../grants/store.ts';

export type TokenFailure =
  | 'invalid_request'
  | 'unsupported_grant_type'
  | 'unknown_client'
  | 'invalid_client'
  | 'bad_refresh_token'
  | 'revoked_refresh_token'
  | 'expired_refresh_token'
  | 'bad_code'
  | 'expired_code'
  | 'redirect_mismatch'
  | 'pkce_failed';

type Row = readonly [status: number, error: string, description?: string];

interface TokenDialect {
  tokenType: string;
  scopeSeparator: string;
  /** answers form-encoded unless the request's Accept asks for JSON (GitHub) */
  formUnlessJsonAccepted: boolean;
  /** redirect_uri may be left out of the code exchange (GitHub) */
  redirectUriOptional: boolean;
  errors: Readonly<Record<TokenFailure, Row>>;
  errorUri?: (error: string) => string;
  /** `{status, message}` instead of `{error, error_description}` (Twitch) */
  messageShape?: boolean;
  /** `ok: true|false` in every answer (Slack) */
  okField?: boolean;
}

const DOORKEEPER = {
  invalidRequest:
    'The request is missing a required parameter, includes an unsupported parameter value, or is otherwise malformed.',
  unsupported: 'The authorization grant type is not supported by the authorization server.',
  invalidClient:
    'Client authentication failed due to unknown client, no client authentication included, or unsupported authentication method.',
  invalidGrant:
    'The provided authorization grant is invalid, expired, revoked, does not match the redirection URI used in the authorization request, or was issued to another client.',
} as const;

const FATHOM: TokenDialect = {
  tokenType: 'Bearer',
  scopeSeparator: ' ',
  formUnlessJsonAccepted: false,
  redirectUriOptional: false,
  errors: {
    invalid_request: [400, 'invalid_request', DOORKEEPER.invalidRequest],
    unsupported_grant_type: [400, 'unsupported_grant_type', DOORKEEPER.unsupported],
    unknown_client: [401, 'invalid_client', DOORKEEPER.invalidClient],
    invalid_client: [401, 'invalid_client', DOORKEEPER.invalidClient],
    bad_refresh_token: [400, 'invalid_grant', DOORKEEPER.invalidGrant],
    revoked_refresh_token: [400, 'invalid_grant', DOORKEEPER.invalidGrant],
    expired_refresh_token: [400, 'invalid_grant', DOORKEEPER.invalidGrant],
    bad_code: [400, 'invalid_grant', DOORKEEPER.invalidGrant],
    expired_code: [400, 'invalid_grant', DOORKEEPER.invalidGrant],
    redirect_mismatch: [400, 'invalid_grant', DOORKEEPER.invalidGrant],
    pkce_failed: [400, 'invalid_grant', DOORKEEPER.invalidGrant],
  },
};

const SPOTIFY: TokenDialect = {
  tokenType: 'Bearer',
  scopeSeparator: ' ',
  formUnlessJsonAccepted: false,
  redirectUriOptional: false,
  errors: {
    invalid_request: [400, 'invalid_request', 'Invalid request'],
    unsupported_grant_type: [400, 'unsupported_grant_type', 'grant_type parameter is missing'],
    unknown_client: [400, 'invalid_client', 'Invalid client'],
    invalid_client: [400, 'invalid_client', 'Invalid client secret'],
    bad_refresh_token: [400, 'invalid_grant', 'Invalid refresh token'],
    revoked_refresh_token: [400, 'invalid_grant', 'Refresh token revoked'],
    expired_refresh_token: [400, 'invalid_grant', 'Invalid refresh token'],
    bad_code: [400, 'invalid_grant', 'Invalid authorization code'],
    expired_code: [400, 'invalid_grant', 'Authorization code expired'],
    redirect_mismatch: [400, 'invalid_grant', 'Invalid redirect URI'],
    pkce_failed: [400, 'invalid_grant', 'code_verifier was incorrect'],
  },
};

const GOOGLE_REVOKED = 'Token has been expired or revoked.';
const GOOGLE: TokenDialect = {
  tokenType: 'Bearer',
  scopeSeparator: ' ',
  formUnlessJsonAccepted: false,
  redirectUriOptional: false,
  errors: {
    invalid_request: [400, 'invalid_request', 'Missing required parameter: refresh_token'],
    unsupported_grant_type: [400, 'unsupported_grant_type', 'Invalid grant_type'],
    unknown_client: [401, 'invalid_client', 'The OAuth client was not found.'],
    invalid_client: [401, 'invalid_client', 'Unauthorized'],
    bad_refresh_token: [400, 'invalid_grant', GOOGLE_REVOKED],
    revoked_refresh_token: [400, 'invalid_grant', GOOGLE_REVOKED],
    expired_refresh_token: [400, 'invalid_grant', GOOGLE_REVOKED],
    bad_code: [400, 'invalid_grant', 'Malformed auth code.'],
    expired_code: [400, 'invalid_grant', 'Bad Request'],
    redirect_mismatch: [400, 'redirect_uri_mismatch', 'Bad Request'],
    pkce_failed: [400, 'invalid_grant', 'Invalid code verifier.'],
  },
};

const DISCORD: TokenDialect = {
  tokenType: 'Bearer',
  scopeSeparator: ' ',
  formUnlessJsonAccepted: false,
  redirectUriOptional: false,
  errors: {
    invalid_request: [400, 'invalid_request', 'Invalid request'],
    unsupported_grant_type: [400, 'unsupported_grant_type'],
    unknown_client: [401, 'invalid_client'],
    invalid_client: [401, 'invalid_client'],
    bad_refresh_token: [400, 'invalid_grant', 'Invalid "refresh_token" in request.'],
    revoked_refresh_token: [400, 'invalid_grant', 'Invalid "refresh_token" in request.'],
    expired_refresh_token: [400, 'invalid_grant', 'Invalid "refresh_token" in request.'],
    bad_code: [400, 'invalid_grant', 'Invalid "code" in request.'],
    expired_code: [400, 'invalid_grant', 'Invalid "code" in request.'],
    redirect_mismatch: [400, 'invalid_grant', 'Invalid "redirect_uri" in request.'],
    pkce_failed: [400, 'invalid_grant', 'Invalid "code_verifier" in request.'],
  },
};

const GITHUB_BAD_REFRESH = 'The refresh token passed is incorrect or expired.';
const GITHUB_BAD_CODE = 'The code passed is incorrect or expired.';
const GITHUB: TokenDialect = {
  tokenType: 'bearer',
  scopeSeparator: ',',
  formUnlessJsonAccepted: true,
  redirectUriOptional: true,
  errors: {
    invalid_request: [400, 'invalid_request', 'The request is missing a required parameter.'],
    unsupported_grant_type: [400, 'unsupported_grant_type', 'The grant type is not supported.'],
    unknown_client: [
      401,
      'incorrect_client_credentials',
      'The client_id and/or client_secret passed are incorrect.',
    ],
    invalid_client: [
      401,
      'incorrect_client_credentials',
      'The client_id and/or client_secret passed are incorrect.',
    ],
    bad_refresh_token: [400, 'bad_refresh_token', GITHUB_BAD_REFRESH],
    revoked_refresh_token: [400, 'bad_refresh_token', GITHUB_BAD_REFRESH],
    expired_refresh_token: [400, 'bad_refresh_token', GITHUB_BAD_REFRESH],
    bad_code: [400, 'bad_verification_code', GITHUB_BAD_CODE],
    expired_code: [400, 'bad_verification_code', GITHUB_BAD_CODE],
    redirect_mismatch: [
      400,
      'redirect_uri_mismatch',
      'The redirect_uri MUST match the registered callback URL for this application.',
    ],
    pkce_failed: [
      400,
      'bad_verification_code',
      'The code_verifier does not match the code_challenge supplied in the authorization request for PKCE.',
    ],
  },
  errorUri: (error) =>
    `https://docs.github.com/apps/managing-oauth-apps/troubleshooting-oauth-app-access-token-request-errors/#${error.replace(/_/g, '-')}`,
};

/** The dialects a declaration may name in `sandbox.dialect`. */
export const TOKEN_DIALECTS: Readonly<Record<string, TokenDialect>> = {
  fathom: FATHOM,
  spotify: SPOTIFY,
  google: GOOGLE,
  discord: DISCORD,
  github: GITHUB,
};

const RFC_DESCRIPTIONS: Readonly<Record<TokenErrorKind, string>> = {
  invalid_grant: DOORKEEPER.invalidGrant,
  invalid_client: DOORKEEPER.invalidClient,
  rejected: DOORKEEPER.invalidRequest,
};

/**
 * The plain dialect of a declaration: RFC 6749's rows, with the provider's own code and text for
 * each kind where the declaration maps one (the first listed), so the client's mapping is exercised.
 */
export function derivedDialect(spec: ProviderSpec): TokenDialect {
  const codeFor = (kind: TokenErrorKind, fallback: string): string =>
    Object.entries(spec.tokenErrors.codes).find(([, k]) => k === kind)?.[0] ?? fallback;
  const textFor = (kind: TokenErrorKind): string =>
    Object.entries(spec.tokenErrors.descriptions).find(([, k]) => k === kind)?.[0] ?? RFC_DESCRIPTIONS[kind];
  const grant: Row = [400, codeFor('invalid_grant', 'invalid_grant'), textFor('invalid_grant')];
  const client: Row = [401, codeFor('invalid_client', 'invalid_client'), textFor('invalid_client')];
  return {
    tokenType: spec.sandbox.tokenType ?? 'Bearer',
    scopeSeparator: spec.scopes.separator,
    formUnlessJsonAccepted: false,
    redirectUriOptional: false,
    messageShape: spec.sandbox.errorShape === 'message',
    okField: spec.sandbox.okField === true,
    errors: {
      invalid_request: [400, 'invalid_request', DOORKEEPER.invalidRequest],
      unsupported_grant_type: [400, 'unsupported_grant_type', DOORKEEPER.unsupported],
      unknown_client: client,
      invalid_client: client,
      bad_refresh_token: grant,
      revoked_refresh_token: grant,
      expired_refresh_token: grant,
      bad_code: grant,
      expired_code: grant,
      redirect_mismatch: grant,
      pkce_failed: grant,
    },
  };
}

export function tokenDialect(provider: ProviderKey): TokenDialect {
  const spec = providerSpec(provider);
  const named = spec.sandbox.dialect === undefined ? undefined : TOKEN_DIALECTS[spec.sandbox.dialect];
  return named ?? derivedDialect(spec);
}

const NO_STORE = { 'cache-control': 'no-store', pragma: 'no-cache' };

export function tokenSuccess(
  provider: ProviderKey,
  issued: IssuedTokens,
  accept: string | undefined,
): WireAnswer {
  const dialect = tokenDialect(provider);
  const body: Record<string, string | number | boolean> = {
    ...(dialect.okField ? { ok: true } : {}),
    access_token: issued.accessToken,
    token_type: dialect.tokenType,
  };
  if (issued.expiresIn !== null) body.expires_in = issued.expiresIn;
  if (issued.refreshToken !== null) body.refresh_token = issued.refreshToken;
  if (issued.refreshTokenExpiresIn !== null) body.refresh_token_expires_in = issued.refreshTokenExpiresIn;
  body.scope = issued.grant.scope.join(dialect.scopeSeparator);
  return render(dialect, 200, body, accept);
}

export function tokenError(
  provider: ProviderKey,
  failure: TokenFailure,
  accept: string | undefined,
): WireAnswer {
  const dialect = tokenDialect(provider);
  const [status, error, description] = dialect.errors[failure];
  const answerStatus = providerSpec(provider).tokenErrors.errorsWithHttp200 ? 200 : status;
  const body: Record<string, string | number | boolean> = dialect.messageShape
    ? { status: answerStatus, message: description ?? error }
    : { error };
  if (dialect.okField) Object.assign(body, { ok: false });
  if (!dialect.messageShape && description !== undefined) body.error_description = description;
  if (dialect.errorUri) body.error_uri = dialect.errorUri(error);
  const answer = render(dialect, answerStatus, body, accept);
  // RFC 6749 §5.2: a client that tried HTTP authentication learns how in WWW-Authenticate.
  if (answer.status === 401)
    answer.headers = { ...answer.headers, 'www-authenticate': 'Basic realm="OAuth"' };
  return answer;
}

function render(
  dialect: TokenDialect,
  status: number,
  body: Record<string, string | number | boolean>,
  accept: string | undefined,
): WireAnswer {
  if (dialect.formUnlessJsonAccepted && !(accept ?? '').includes('json')) {
    const form = new URLSearchParams(
      Object.entries(body).map(([k, v]): [string, string] => [k, String(v)]),
    ).toString();
    return {
      status,
      headers: NO_STORE,
      contentType: 'application/x-www-form-urlencoded; charset=utf-8',
      body: form,
    };
  }
  return { status, headers: NO_STORE, body };
}
