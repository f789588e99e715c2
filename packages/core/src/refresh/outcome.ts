/**
 * What a token endpoint answered to a refresh, already classified by the HTTP client
 * (packages/providers). Provider quirks — GitHub's errors with HTTP 200, a 403 that is
 * really a rate limit — are resolved there, from the catalogue, before this point.
 */
export type TokenEndpointOutcome =
  | {
      readonly kind: 'tokens';
      readonly accessToken: string;
      /** Absent when the provider kept the refresh token (Google; Spotify sometimes). */
      readonly refreshToken?: string;
      readonly expiresInSeconds?: number;
      readonly refreshTokenExpiresInSeconds?: number;
      readonly scope?: string;
      readonly tokenType?: string;
    }
  /** The refresh token is revoked, expired or already used. */
  | {
      readonly kind: 'invalid_grant';
      readonly error: string;
      readonly description?: string;
      readonly status: number;
    }
  /** Our client id/secret were refused. */
  | {
      readonly kind: 'invalid_client';
      readonly error: string;
      readonly description?: string;
      readonly status: number;
    }
  /** 429 (or a provider's rate-limit 403). `waitMs` is the longest wait the response indicated; 0 when it gave none. */
  | { readonly kind: 'rate_limited'; readonly waitMs: number; readonly status: number }
  | {
      readonly kind: 'transient';
      readonly cause: 'server_error' | 'timeout' | 'network';
      readonly status?: number;
      readonly detail: string;
    }
  /** Any other 4xx. */
  | {
      readonly kind: 'rejected';
      readonly error?: string;
      readonly description?: string;
      readonly status: number;
    };

export type TokenEndpointOutcomeKind = TokenEndpointOutcome['kind'];
