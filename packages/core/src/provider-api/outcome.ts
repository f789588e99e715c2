// What a provider's data API answered, classified at the HTTP edge (packages/providers) the way
// token-endpoint answers are, so job handlers switch on a kind instead of reading statuses.

export type ApiOutcome<T> =
  | { readonly kind: 'ok'; readonly value: T }
  /** 401: the access token was refused (expired, revoked or unknown). */
  | { readonly kind: 'unauthorized'; readonly detail: string }
  /** 404: no such resource — for Fathom's transcripts also "not ready yet". */
  | { readonly kind: 'not_found'; readonly detail: string }
  /** 429 (or a provider's rate-limit 403). `waitMs` is the longest wait the answer indicated, else the default. */
  | { readonly kind: 'rate_limited'; readonly waitMs: number; readonly status: number }
  /** 5xx, timeout, network failure, or a 2xx whose body is not what the API documents. */
  | {
      readonly kind: 'transient';
      readonly cause: 'server_error' | 'timeout' | 'network';
      readonly status?: number;
      readonly detail: string;
    }
  /** Any other 4xx: retrying the same request cannot help. */
  | { readonly kind: 'rejected'; readonly status: number; readonly detail: string };

export type ApiOutcomeKind = ApiOutcome<unknown>['kind'];

/** Who an access token belongs to, as the provider reports it. */
export interface AccountIdentity {
  /** the provider's stable account id; null where its API names none (Fathom: the email identifies it) */
  readonly accountId: string | null;
  readonly email: string | null;
  readonly name: string | null;
}
