import type { ConnectionStatus } from './statuses.ts';
import { CONNECTION_STATUSES } from './statuses.ts';

/**
 * Why a connection's status changes. Every cause leads to a fixed set of statuses
 * (`CAUSE_TARGETS`), so a mismatched pair such as `refreshed` → `needs_reauth` is
 * refused as a bug rather than written as a confusing event.
 */
export type TransitionCause =
  /** A refresh returned new tokens. */
  | { readonly kind: 'refreshed' }
  /** A fresh OAuth grant: the first connection, or the user reconnecting from any state. */
  | { readonly kind: 'reconnected' }
  /** The access token's expiry passed and no refresh has succeeded yet. */
  | { readonly kind: 'access_token_lapsed' }
  /** The provider refused the refresh token (`invalid_grant` or another 4xx). */
  | {
      readonly kind: 'refresh_rejected';
      readonly error: string;
      readonly description?: string;
      readonly status?: number;
    }
  /** The provider refused our client id/secret: an operator must fix the configuration. */
  | {
      readonly kind: 'client_rejected';
      readonly error: string;
      readonly description?: string;
      readonly status?: number;
    }
  /** Timeouts, 5xx and network failures went on for longer than the policy tolerates. */
  | { readonly kind: 'transient_failures_exceeded'; readonly since: Date; readonly lastError: string }
  | { readonly kind: 'disconnected_by_user' }
  /** The refresh token passed its own expiry date (e.g. Spotify's six months). */
  | { readonly kind: 'refresh_token_lapsed' }
  /** The provider API answered 401 to a token we believed valid. */
  | { readonly kind: 'unauthorized_api_call'; readonly detail?: string }
  /** A human changed the status by hand; still bound by the transition table. */
  | { readonly kind: 'operator'; readonly note: string };

export type TransitionCauseKind = TransitionCause['kind'];

/** The statuses each cause may lead to. */
export const CAUSE_TARGETS: Readonly<Record<TransitionCauseKind, readonly ConnectionStatus[]>> = {
  refreshed: ['connected'],
  reconnected: ['connected'],
  access_token_lapsed: ['token_expired'],
  refresh_rejected: ['needs_reauth'],
  client_rejected: ['error'],
  transient_failures_exceeded: ['error'],
  disconnected_by_user: ['disconnected'],
  refresh_token_lapsed: ['needs_reauth'],
  unauthorized_api_call: ['needs_reauth'],
  operator: CONNECTION_STATUSES,
};

function providerError(error: string, description: string | undefined, status: number | undefined): string {
  const code = status === undefined ? error : `HTTP ${status} ${error}`;
  return description === undefined || description === '' ? code : `${code}: ${description}`;
}

/**
 * The human-readable reason written to `ConnectionEvent.reason`. `isFirstConnection`
 * only changes the wording of a fresh grant.
 */
export function describeCause(cause: TransitionCause, isFirstConnection = false): string {
  switch (cause.kind) {
    case 'refreshed':
      return 'access token refreshed';
    case 'reconnected':
      return isFirstConnection
        ? 'connected through an OAuth grant'
        : 'reconnected through a fresh OAuth grant';
    case 'access_token_lapsed':
      return 'access token expired before a refresh succeeded';
    case 'refresh_rejected':
      return `provider rejected the refresh token (${providerError(cause.error, cause.description, cause.status)}); the user must reconnect`;
    case 'client_rejected':
      return `provider rejected our client credentials (${providerError(cause.error, cause.description, cause.status)}); an operator must fix the client id/secret`;
    case 'transient_failures_exceeded':
      return `token refresh has failed transiently since ${cause.since.toISOString()} (last error: ${cause.lastError})`;
    case 'disconnected_by_user':
      return 'disconnected by the user';
    case 'refresh_token_lapsed':
      return 'refresh token reached its expiry date; the user must reconnect';
    case 'unauthorized_api_call':
      return cause.detail === undefined || cause.detail === ''
        ? 'provider API refused the access token (401); the user must reconnect'
        : `provider API refused the access token (401: ${cause.detail}); the user must reconnect`;
    case 'operator':
      return `set by an operator: ${cause.note}`;
    default:
      return assertNever(cause);
  }
}

function assertNever(value: never): never {
  throw new Error(`unhandled transition cause ${JSON.stringify(value)}`);
}
