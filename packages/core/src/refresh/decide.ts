import type { ConnectionStatus, TransitionCause } from '../status/index.ts';
import { describeCause } from '../status/index.ts';
import type { TokenEndpointOutcome } from './outcome.ts';
import type { RetryPolicy } from './policy.ts';
import { backoffDelay } from './policy.ts';

export interface RefreshContext {
  /** Retries already used in the current run of transient failures (0 on the first failure). */
  readonly attemptsMade: number;
  /** When the current run of transient failures began; `null` if the last refresh succeeded. */
  readonly failingSince: Date | null;
  readonly accessTokenExpiresAt: Date | null;
  readonly currentStatus: ConnectionStatus;
  readonly now: Date;
  readonly policy: RetryPolicy;
  /** Uniform in [0, 1): the jitter source, injected to keep this function pure. */
  readonly random: () => number;
}

/**
 * What the refresh job does next. Decisions carry no token values, so they can be
 * logged whole. `mark` decisions carry the `cause` to pass to `transition()`.
 */
export type RefreshDecision =
  | {
      readonly action: 'store_tokens';
      readonly status: 'connected';
      /** `null`: the provider sent no `expires_in`; treat the token as not expiring by time. */
      readonly accessTokenExpiresAt: Date | null;
      /** False: the response had no refresh token, so keep the stored one. */
      readonly refreshTokenRotated: boolean;
      /** `unchanged`: the response did not say; keep the stored expiry. */
      readonly refreshTokenExpiresAt: Date | 'unchanged';
    }
  | {
      readonly action: 'mark';
      readonly status: 'needs_reauth';
      readonly notify: 'connection.needs_reauth';
      readonly cause: Extract<TransitionCause, { kind: 'refresh_rejected' }>;
      readonly reason: string;
    }
  | {
      readonly action: 'mark';
      readonly status: 'error';
      readonly alert: 'provider.credentials_invalid';
      readonly cause: Extract<TransitionCause, { kind: 'client_rejected' }>;
      readonly reason: string;
    }
  | {
      readonly action: 'mark';
      readonly status: 'error';
      readonly alert: 'connection.refresh_failing';
      readonly cause: Extract<TransitionCause, { kind: 'transient_failures_exceeded' }>;
      readonly reason: string;
    }
  | {
      readonly action: 'wait_rate_limit';
      readonly delayMs: number;
      readonly countsAsAttempt: false;
      /** Slow every job of this provider, not just this connection (DESIGN rule 6). */
      readonly throttleProvider: true;
    }
  | {
      readonly action: 'retry';
      readonly delayMs: number;
      /** 1-based retry number; the next decision's `attemptsMade`. */
      readonly attempt: number;
      /** Write to `Connection.failingSince` (unchanged if already failing). */
      readonly failingSince: Date;
      /** The access token lapsed meanwhile: move `connected` → `token_expired`. */
      readonly markTokenExpired: boolean;
    }
  | {
      readonly action: 'give_up_for_now';
      readonly cooldownMs: number;
      /** `now + cooldownMs`, for `Connection.refreshNotBefore`. */
      readonly notBefore: Date;
      readonly failingSince: Date;
      readonly markTokenExpired: boolean;
    };

export type RefreshAction = RefreshDecision['action'];

function secondsFrom(now: Date, seconds: number | undefined): Date | null {
  // Providers' expiries are not always documented (PROVIDERS.md): ignore nonsense rather than guess.
  if (seconds === undefined || !Number.isFinite(seconds) || seconds < 0) return null;
  return new Date(now.getTime() + seconds * 1_000);
}

function validate(ctx: RefreshContext): void {
  if (!Number.isInteger(ctx.attemptsMade) || ctx.attemptsMade < 0) {
    throw new RangeError(
      `decideRefresh: attemptsMade must be a whole number ≥ 0 (retries already used), got ${ctx.attemptsMade}`,
    );
  }
}

/**
 * Classify, then act (DESIGN rule 4): turns a token-endpoint outcome into the next step.
 * A network blip never yields `needs_reauth`: only the provider refusing the grant does.
 * The resulting status change is still validated by `transition()` when it is written.
 */
export function decideRefresh(outcome: TokenEndpointOutcome, ctx: RefreshContext): RefreshDecision {
  validate(ctx);
  const { now, policy } = ctx;
  switch (outcome.kind) {
    case 'tokens':
      return {
        action: 'store_tokens',
        status: 'connected',
        accessTokenExpiresAt: secondsFrom(now, outcome.expiresInSeconds),
        refreshTokenRotated: outcome.refreshToken !== undefined && outcome.refreshToken !== '',
        refreshTokenExpiresAt: secondsFrom(now, outcome.refreshTokenExpiresInSeconds) ?? 'unchanged',
      };

    case 'invalid_grant':
    case 'rejected': {
      const cause = {
        kind: 'refresh_rejected',
        error: outcome.error ?? `http_${outcome.status}`,
        status: outcome.status,
        ...(outcome.description === undefined ? {} : { description: outcome.description }),
      } as const;
      return {
        action: 'mark',
        status: 'needs_reauth',
        notify: 'connection.needs_reauth',
        cause,
        reason: describeCause(cause),
      };
    }

    case 'invalid_client': {
      const cause = {
        kind: 'client_rejected',
        error: outcome.error,
        status: outcome.status,
        ...(outcome.description === undefined ? {} : { description: outcome.description }),
      } as const;
      return {
        action: 'mark',
        status: 'error',
        alert: 'provider.credentials_invalid',
        cause,
        reason: describeCause(cause),
      };
    }

    case 'rate_limited': {
      // No usable hint (missing, 0, garbage): wait the default rather than hammer — Discord bans IPs that do.
      const hinted = Number.isFinite(outcome.waitMs) && outcome.waitMs > 0;
      const delayMs = hinted ? Math.ceil(outcome.waitMs) : policy.rateLimitDefaultWaitMs;
      return { action: 'wait_rate_limit', delayMs, countsAsAttempt: false, throttleProvider: true };
    }

    case 'transient':
      return decideTransient(outcome, ctx);

    default:
      return assertNever(outcome);
  }
}

function decideTransient(
  outcome: Extract<TokenEndpointOutcome, { kind: 'transient' }>,
  ctx: RefreshContext,
): RefreshDecision {
  const { now, policy } = ctx;
  const failingSince = ctx.failingSince ?? now;
  const lastError =
    outcome.status === undefined
      ? `${outcome.cause}: ${outcome.detail}`
      : `${outcome.cause} (HTTP ${outcome.status}): ${outcome.detail}`;

  if (now.getTime() - failingSince.getTime() > policy.transientFailureLimitMs) {
    const cause = { kind: 'transient_failures_exceeded', since: failingSince, lastError } as const;
    return {
      action: 'mark',
      status: 'error',
      alert: 'connection.refresh_failing',
      cause,
      reason: describeCause(cause),
    };
  }

  const lapsed = ctx.accessTokenExpiresAt !== null && ctx.accessTokenExpiresAt.getTime() <= now.getTime();
  // Only `connected` moves to `token_expired`; other statuses already say more.
  const markTokenExpired = lapsed && ctx.currentStatus === 'connected';

  if (ctx.attemptsMade < policy.maxAttempts) {
    const attempt = ctx.attemptsMade + 1;
    return {
      action: 'retry',
      delayMs: backoffDelay(attempt, policy, ctx.random),
      attempt,
      failingSince,
      markTokenExpired,
    };
  }
  return {
    action: 'give_up_for_now',
    cooldownMs: policy.cooldownMs,
    notBefore: new Date(now.getTime() + policy.cooldownMs),
    failingSince,
    markTokenExpired,
  };
}

function assertNever(value: never): never {
  throw new Error(`unhandled token endpoint outcome ${JSON.stringify(value)}`);
}
