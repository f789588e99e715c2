// The path of one refresh, top to bottom: gate → lock → re-read → fresh? → token endpoint →
// classify (core's decideRefresh) → write with compare-and-set → unlock. Both the queue worker
// and getValidAccessToken run exactly this; what the worker does with the result (delay, rate
// limit, done) lives in refresh-worker.ts.
import { decideRefresh, PROVIDERS, refreshTokenExpiresAt, type ProviderKey } from '@conduit/core';
import { notificationPayload, type ConnectionRow } from '@conduit/db';
import type { RefreshReason } from '../queues.ts';
import type { RefreshDeps, RefreshOutcomeLabel } from './deps.ts';

export type RefreshResult =
  /** another process holds this connection's lock */
  | { kind: 'busy' }
  /** the provider's lane is closed (a Retry-After, or paused after invalid_client) */
  | { kind: 'gated'; delayMs: number }
  | { kind: 'skipped'; reason: 'not_found' | 'not_refreshable' | 'no_refresh_token' }
  /** someone refreshed it meanwhile: nothing to do */
  | { kind: 'fresh' }
  | {
      kind: 'refreshed';
      accessTokenExpiresAt: Date | null;
      /** from the provider's answer to the stored tokens: while this runs, a crash loses a rotated token */
      commitMs: number;
    }
  /** the compare-and-set lost: newer tokens are already stored */
  | { kind: 'lost_race' }
  | { kind: 'rate_limited'; delayMs: number }
  | { kind: 'retry'; delayMs: number; attempt: number }
  | { kind: 'gave_up'; notBefore: Date }
  | { kind: 'marked'; status: 'needs_reauth' | 'error'; reason: string };

export interface RefreshRequest {
  connectionId: string;
  /** the lane the job came from; read from the row when absent (inline callers) */
  provider?: ProviderKey;
  reason: RefreshReason | 'inline';
  /** transient attempts already used */
  attempt?: number;
}

export function lockName(connectionId: string): string {
  return `connection:${connectionId}`;
}

/** Whether the connection needs a refresh for this reason, judged on freshly read state. */
export function isDue(
  conn: ConnectionRow,
  reason: RefreshRequest['reason'],
  now: Date,
  deps: RefreshDeps,
): boolean {
  if (reason === 'manual' || reason === 'recovery') return true;
  if (reason === 'proactive') {
    return (
      conn.refreshTokenExpiresAt !== null &&
      conn.refreshTokenExpiresAt.getTime() <= now.getTime() + deps.settings.refreshTokenWindowMs
    );
  }
  return (
    conn.tokenExpiresAt !== null && conn.tokenExpiresAt.getTime() <= now.getTime() + deps.settings.bufferMs
  );
}

const REFRESHABLE = new Set<ConnectionRow['status']>(['connected', 'token_expired']);
/** An operator, or the recovery sweep, may also try a connection in `error`: success returns it to `connected`. */
const REFRESHABLE_ON_REQUEST = new Set<ConnectionRow['status']>([...REFRESHABLE, 'error']);

export async function refreshConnection(deps: RefreshDeps, req: RefreshRequest): Promise<RefreshResult> {
  const now = deps.now ?? (() => new Date());
  const started = performance.now();
  // Jobs know their lane; only inline callers pay for looking the provider up.
  const provider = req.provider ?? (await deps.connections.routingOf(req.connectionId))?.provider;
  if (!provider) return { kind: 'skipped', reason: 'not_found' };

  const seen: { ownerId?: string } = {};
  const result = await refreshUnderLock(deps, provider, req, now, seen);
  const outcome = outcomeLabel(result);
  const durationMs = Math.round(performance.now() - started);
  deps.observer?.onOutcome?.(provider, outcome, durationMs);
  if (outcome === 'busy') deps.observer?.onLockContention?.(provider);
  const level =
    outcome === 'needs_reauth' || outcome === 'error' || outcome === 'lost_race' ? 'warn' : 'info';
  deps.logger[level](
    {
      provider,
      ...(seen.ownerId !== undefined && { owner: deps.hashOwner(seen.ownerId) }),
      connectionId: req.connectionId,
      reason: req.reason,
      outcome,
      durationMs,
      ...(result.kind === 'marked' && { detail: result.reason }),
      ...(result.kind === 'refreshed' && { commitMs: Math.round(result.commitMs * 10) / 10 }),
      ...((result.kind === 'rate_limited' || result.kind === 'gated' || result.kind === 'retry') && {
        delayMs: result.delayMs,
      }),
    },
    'refresh',
  );
  return result;
}

async function refreshUnderLock(
  deps: RefreshDeps,
  provider: ProviderKey,
  req: RefreshRequest,
  now: () => Date,
  seen: { ownerId?: string },
): Promise<RefreshResult> {
  const closedForMs = await deps.gate.remainingMs(provider);
  if (closedForMs > 0) return { kind: 'gated', delayMs: closedForMs };

  const lock = await deps.locks.acquire(lockName(req.connectionId), deps.settings.lockTtlMs);
  if (!lock) return { kind: 'busy' };
  try {
    // Re-read under the lock: the previous holder may have refreshed it already.
    const conn = await deps.connections.findById(req.connectionId);
    if (!conn) return { kind: 'skipped', reason: 'not_found' };
    seen.ownerId = conn.ownerId;
    const allowed =
      req.reason === 'manual' || req.reason === 'recovery' ? REFRESHABLE_ON_REQUEST : REFRESHABLE;
    if (!allowed.has(conn.status)) return { kind: 'skipped', reason: 'not_refreshable' };
    if (!conn.refreshTokenEnc || PROVIDERS[provider].refresh.kind === 'none') {
      return { kind: 'skipped', reason: 'no_refresh_token' };
    }
    if (!isDue(conn, req.reason, now(), deps)) return { kind: 'fresh' };
    return await callAndApply(deps, provider, conn, req, now);
  } finally {
    await deps.locks.release(lock);
  }
}

async function callAndApply(
  deps: RefreshDeps,
  provider: ProviderKey,
  conn: ConnectionRow,
  req: RefreshRequest,
  now: () => Date,
): Promise<RefreshResult> {
  const refreshToken = deps.vault.decrypt(conn.refreshTokenEnc!);
  // The request must end before the lock can lapse, whatever the HTTP timeouts say.
  const ttl = deps.settings.lockTtlMs;
  const signal = AbortSignal.timeout(Math.max(ttl - 1_000, Math.floor(ttl * 0.8)));
  const outcome = await deps.tokens.refresh(provider, refreshToken, { signal });
  const answeredAt = performance.now();
  const at = now();
  const decision = decideRefresh(outcome, {
    attemptsMade: req.attempt ?? 0,
    failingSince: conn.failingSince,
    accessTokenExpiresAt: conn.tokenExpiresAt,
    currentStatus: conn.status,
    now: at,
    policy: deps.policy,
    random: deps.random ?? Math.random,
  });

  switch (decision.action) {
    case 'store_tokens': {
      if (outcome.kind !== 'tokens') throw new Error('store_tokens decided for an outcome without tokens');
      const spec = PROVIDERS[provider];
      const rtExpiry =
        decision.refreshTokenExpiresAt !== 'unchanged'
          ? decision.refreshTokenExpiresAt
          : spec.refresh.kind === 'refresh_token' && spec.refresh.refreshTokenLifetime.kind === 'inactivity'
            ? refreshTokenExpiresAt(spec, { consentedAt: conn.createdAt, lastUsedAt: at })
            : undefined;
      const stored = await deps.connections.storeRefreshedTokens(
        conn,
        {
          accessTokenEnc: deps.vault.encrypt(outcome.accessToken),
          ...(decision.refreshTokenRotated && { refreshTokenEnc: deps.vault.encrypt(outcome.refreshToken!) }),
          tokenExpiresAt: decision.accessTokenExpiresAt,
          ...(rtExpiry !== undefined && { refreshTokenExpiresAt: rtExpiry }),
          ...(outcome.scope !== undefined && { scopes: splitScopes(outcome.scope, spec.scopes.separator) }),
        },
        at,
      );
      if (!stored) {
        deps.logger.error(
          { provider, connectionId: conn.id, owner: deps.hashOwner(conn.ownerId) },
          'refresh: tokens were refreshed but a newer write won the compare-and-set; this lock had lapsed',
        );
        return { kind: 'lost_race' };
      }
      const commitMs = performance.now() - answeredAt;
      deps.observer?.onCommit?.(provider, commitMs);
      return { kind: 'refreshed', accessTokenExpiresAt: decision.accessTokenExpiresAt, commitMs };
    }

    case 'wait_rate_limit':
      await deps.gate.close(provider, decision.delayMs, 'rate_limited');
      return { kind: 'rate_limited', delayMs: decision.delayMs };

    case 'retry':
      await deps.connections.recordTransientFailure(
        conn,
        {
          lastError: lastErrorOf(outcome),
          failingSince: decision.failingSince,
          markTokenExpired: decision.markTokenExpired,
        },
        at,
      );
      return { kind: 'retry', delayMs: decision.delayMs, attempt: decision.attempt };

    case 'give_up_for_now':
      await deps.connections.recordTransientFailure(
        conn,
        {
          lastError: lastErrorOf(outcome),
          failingSince: decision.failingSince,
          notBefore: decision.notBefore,
          markTokenExpired: decision.markTokenExpired,
        },
        at,
      );
      return { kind: 'gave_up', notBefore: decision.notBefore };

    case 'mark': {
      const payload = notificationPayload(conn, { reason: decision.reason });
      const notify =
        decision.status === 'needs_reauth'
          ? [{ type: 'connection.needs_reauth' as const, payload }]
          : [{ type: 'connection.error' as const, payload }];
      await deps.connections.changeStatus(conn, decision.status, decision.cause, at, {
        data: { lastRefreshError: decision.reason, lastRefreshAt: at },
        notify,
      });
      if (
        decision.status === 'error' &&
        'alert' in decision &&
        decision.alert === 'provider.credentials_invalid'
      ) {
        await onInvalidClient(deps, provider, decision.reason, at);
      }
      return { kind: 'marked', status: decision.status, reason: decision.reason };
    }
  }
}

/**
 * One bad client secret breaks every connection of the provider: alert the operator once per hour,
 * and after repeated answers close the lane for a while instead of hammering (and being banned).
 */
async function onInvalidClient(
  deps: RefreshDeps,
  provider: ProviderKey,
  reason: string,
  at: Date,
): Promise<void> {
  deps.logger.error({ provider, reason }, 'refresh: the provider rejected our client credentials');
  const key = `${deps.keyPrefix}:invalid-client:${provider}`;
  const [[, count]] = (await deps.redis
    .multi()
    .incr(key)
    .pexpire(key, deps.settings.invalidClientPauseMs)
    .exec()) as [[Error | null, number], unknown];
  await deps.connections.notifyProvider(provider, {
    type: 'provider.credentials_invalid',
    payload: { provider, reason, at: at.toISOString() },
    dedupeKey: `credentials_invalid:${provider}:${at.toISOString().slice(0, 13)}`,
  });
  if (count >= deps.settings.invalidClientPauseThreshold) {
    await deps.gate.close(provider, deps.settings.invalidClientPauseMs, 'invalid_client');
    deps.logger.error(
      { provider, pauseMs: deps.settings.invalidClientPauseMs, occurrences: count },
      'refresh: lane paused after repeated invalid_client',
    );
  }
}

function splitScopes(scope: string, separator: string): string[] {
  return scope.split(separator === ',' ? /[,\s]+/ : /\s+/).filter(Boolean);
}

function lastErrorOf(outcome: { kind: string; detail?: string; status?: number }): string {
  return [outcome.kind, outcome.status && `HTTP ${outcome.status}`, outcome.detail]
    .filter(Boolean)
    .join(': ');
}

export function outcomeLabel(result: RefreshResult): RefreshOutcomeLabel {
  switch (result.kind) {
    case 'marked':
      return result.status;
    default:
      return result.kind;
  }
}
