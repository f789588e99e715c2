// The path of a refresh, top to bottom, for a batch of connections of one provider (one, for
// inline callers): gate → leases (one statement takes them and re-reads the rows) → per row, in
// parallel up to a bound: an answer a dead holder left in the rescue slot? → fresh? → lease still
// ours with time to spare → token endpoint → classify (core's decideRefresh) → rescue copy +
// compare-and-set write (grouped with the other answers that arrive meanwhile into one statement,
// retried until it lands) → leases end. The queue worker, getValidAccessToken, the CLI and the
// Fathom API caller all run exactly this; what the worker does with the results lives in
// refresh-worker.ts.
import { setTimeout as sleep } from 'node:timers/promises';
import pLimit from 'p-limit';
import {
  decideRefresh,
  isRefreshDue,
  refreshTokenExpiresAt,
  type ProviderKey,
  providerSpec,
} from '@conduit/core';
import { notificationPayload, type ConnectionRow, type RefreshedTokens } from '@conduit/db';
import type { RefreshReason } from '../queues.ts';
import type { RefreshDeps, RefreshOutcomeLabel } from './deps.ts';
import { LeaseSet } from './lease.ts';

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
      /** from the provider's answer to the stored tokens (the rescue slot covers this window) */
      commitMs: number;
    }
  /** a previous holder died between its answer and its commit; its answer was stored, nothing presented */
  | { kind: 'rescued'; accessTokenExpiresAt: Date | null }
  /** the compare-and-set lost: newer tokens are already stored */
  | { kind: 'lost_race' }
  | { kind: 'rate_limited'; delayMs: number }
  | { kind: 'retry'; delayMs: number; attempt: number }
  | { kind: 'gave_up'; notBefore: Date }
  | { kind: 'marked'; status: 'needs_reauth' | 'error'; reason: string }
  /** something unclassified went wrong (a bug, Postgres down outside the commit): try again later */
  | { kind: 'failed'; error: Error };

export interface RefreshRequest {
  connectionId: string;
  /** the lane the job came from; read from the row when absent (inline callers) */
  provider?: ProviderKey;
  reason: RefreshReason | 'inline';
  /** transient attempts already used */
  attempt?: number;
}

export interface RefreshBatchRequest {
  provider: ProviderKey;
  connectionIds: readonly string[];
  reason: RefreshRequest['reason'];
  /** transient attempts already used (the same for every connection of the batch) */
  attempt?: number;
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
    conn.tokenExpiresAt !== null &&
    isRefreshDue(
      {
        tokenExpiresAt: conn.tokenExpiresAt,
        tokenLifetimeSeconds: conn.tokenLifetimeSeconds,
        bufferMs: deps.settings.bufferMs,
      },
      now,
    )
  );
}

const REFRESHABLE = new Set<ConnectionRow['status']>(['connected', 'token_expired']);
/** An operator, or the recovery sweep, may also try a connection in `error`: success returns it to `connected`. */
const REFRESHABLE_ON_REQUEST = new Set<ConnectionRow['status']>([...REFRESHABLE, 'error']);

/** Refreshes one connection (inline callers: the token API, the CLI, the Fathom API caller). */
export async function refreshConnection(deps: RefreshDeps, req: RefreshRequest): Promise<RefreshResult> {
  // Jobs know their lane; only inline callers pay for looking the provider up.
  const provider = req.provider ?? (await deps.connections.routingOf(req.connectionId))?.provider;
  if (!provider) return { kind: 'skipped', reason: 'not_found' };
  const results = await refreshConnections(deps, {
    provider,
    connectionIds: [req.connectionId],
    reason: req.reason,
    ...(req.attempt !== undefined && { attempt: req.attempt }),
  });
  const result = results.get(req.connectionId) ?? { kind: 'skipped', reason: 'not_found' };
  if (result.kind === 'failed') throw result.error;
  return result;
}

/**
 * Refreshes a batch of connections of one provider: their leases are taken in one statement,
 * their token requests run in parallel (at most `settings.batchParallelism` of the batch at
 * once, and at most the lane's share of the process, `deps.lanes`), and their
 * answers are stored by compare-and-set writes grouped into as few statements as arrive together.
 * Every connection gets its own result and its own log line; a failure of one is its result only.
 */
export async function refreshConnections(
  deps: RefreshDeps,
  req: RefreshBatchRequest,
): Promise<Map<string, RefreshResult>> {
  const now = deps.now ?? (() => new Date());
  const started = performance.now();
  const ids = [...new Set(req.connectionIds)];
  const results = new Map<string, RefreshResult>();
  const finished = new Map<string, number>();
  const owners = new Map<string, string>();
  const settle = (id: string, result: RefreshResult) => {
    results.set(id, result);
    finished.set(id, performance.now());
  };
  try {
    await refreshUnderLeases(deps, req.provider, ids, req, now, settle, owners);
  } catch (err) {
    for (const id of ids) if (!results.has(id)) settle(id, { kind: 'failed', error: err as Error });
  }
  for (const id of ids) {
    const result = results.get(id) ?? { kind: 'failed', error: new Error('refresh: no result') };
    logOutcome(
      deps,
      req,
      id,
      result,
      Math.round((finished.get(id) ?? performance.now()) - started),
      owners.get(id),
    );
  }
  return results;
}

function logOutcome(
  deps: RefreshDeps,
  req: RefreshBatchRequest,
  connectionId: string,
  result: RefreshResult,
  durationMs: number,
  ownerId: string | undefined,
): void {
  const { provider } = req;
  const outcome = outcomeLabel(result);
  deps.observer?.onOutcome?.(provider, outcome, durationMs);
  if (outcome === 'busy') deps.observer?.onLockContention?.(provider);
  const level =
    outcome === 'needs_reauth' || outcome === 'error' || outcome === 'lost_race' || outcome === 'failed'
      ? 'warn'
      : 'info';
  deps.logger[level](
    {
      provider,
      ...(ownerId !== undefined && { owner: deps.hashOwner(ownerId) }),
      connectionId,
      reason: req.reason,
      outcome,
      durationMs,
      ...(result.kind === 'marked' && { detail: result.reason }),
      ...(result.kind === 'failed' && { err: result.error.message }),
      ...(result.kind === 'refreshed' && { commitMs: Math.round(result.commitMs * 10) / 10 }),
      ...((result.kind === 'rate_limited' || result.kind === 'gated' || result.kind === 'retry') && {
        delayMs: result.delayMs,
      }),
    },
    'refresh',
  );
}

/** A 429 (or a lane pause) seen by one request of a batch closes the lane for the requests not yet sent. */
interface LaneState {
  closedUntil: number;
}

async function refreshUnderLeases(
  deps: RefreshDeps,
  provider: ProviderKey,
  ids: readonly string[],
  req: RefreshBatchRequest,
  now: () => Date,
  settle: (id: string, result: RefreshResult) => void,
  owners: Map<string, string>,
): Promise<void> {
  const closedForMs = await deps.gate.remainingMs(provider);
  if (closedForMs > 0) {
    for (const id of ids) settle(id, { kind: 'gated', delayMs: closedForMs });
    return;
  }

  const ttl = deps.settings.lockTtlMs;
  let took;
  try {
    took = await LeaseSet.take(deps.leases.store, ids, ttl, deps.logger);
  } catch (err) {
    // Postgres unreachable or too slow: nothing was presented, try later.
    deps.logger.warn(
      { provider, connections: ids.length, err: (err as Error).message },
      'refresh: could not take the leases; nothing was presented',
    );
    for (const id of ids) settle(id, { kind: 'busy' });
    return;
  }
  for (const id of took.busy) settle(id, { kind: 'busy' });
  for (const id of took.notFound) settle(id, { kind: 'skipped', reason: 'not_found' });
  const { leases, taken } = took;
  if (taken.length === 0) return;
  leases.keepAlive(Math.max(1, Math.floor(ttl / 3)));
  const lane: LaneState = { closedUntil: 0 };
  try {
    const batch = pLimit(deps.settings.batchParallelism);
    await Promise.all(
      taken.map(({ row, previousOwner }) =>
        batch(() =>
          deps.lanes.run(provider, async () => {
            owners.set(row.id, row.ownerId);
            let result: RefreshResult;
            try {
              result = await refreshLeased(deps, provider, row, previousOwner, req, now, leases, lane);
            } catch (err) {
              result = { kind: 'failed', error: err as Error };
            }
            settle(row.id, result);
          }),
        ),
      ),
    );
  } finally {
    await leases.release();
  }
}

async function refreshLeased(
  deps: RefreshDeps,
  provider: ProviderKey,
  conn: ConnectionRow,
  previousOwner: string | null,
  req: RefreshBatchRequest,
  now: () => Date,
  leases: LeaseSet,
  lane: LaneState,
): Promise<RefreshResult> {
  const allowed = req.reason === 'manual' || req.reason === 'recovery' ? REFRESHABLE_ON_REQUEST : REFRESHABLE;
  if (!allowed.has(conn.status)) return { kind: 'skipped', reason: 'not_refreshable' };
  // The last holder never ended its lease: it may have died holding an answer.
  if (previousOwner !== null) {
    const rescued = await storeRescued(deps, provider, conn, leases, now);
    if (rescued) return rescued;
  }
  if (!conn.refreshTokenEnc || providerSpec(provider).refresh.kind === 'none') {
    return { kind: 'skipped', reason: 'no_refresh_token' };
  }
  if (!isDue(conn, req.reason, now(), deps)) return { kind: 'fresh' };
  const closedForMs = lane.closedUntil - Date.now();
  if (closedForMs > 0) return { kind: 'gated', delayMs: closedForMs };
  const result = await callAndApply(deps, provider, conn, req, now, leases);
  if (result.kind === 'rate_limited')
    lane.closedUntil = Math.max(lane.closedUntil, Date.now() + result.delayMs);
  return result;
}

/**
 * Stores the answer a previous holder left in the rescue slot, if any. Null: there is none, go on.
 * When Redis cannot say, nothing may be presented: the slot may hold the only live refresh token.
 */
async function storeRescued(
  deps: RefreshDeps,
  provider: ProviderKey,
  conn: ConnectionRow,
  leases: LeaseSet,
  now: () => Date,
): Promise<RefreshResult | null> {
  let tokens: RefreshedTokens | null;
  try {
    tokens = await deps.rescue.get(conn.id, conn.version);
  } catch (err) {
    deps.logger.warn(
      { provider, connectionId: conn.id, err: (err as Error).message },
      'refresh: the previous lease holder ended uncleanly and its rescue slot cannot be read; nothing was presented',
    );
    return { kind: 'busy' };
  }
  if (tokens === null) return null;
  const presented = conn.refreshTokenEnc === null ? null : deps.vault.decrypt(conn.refreshTokenEnc);
  const stored = await storeTokens(deps, provider, conn, tokens, now(), leases, presented);
  deps.rescue.drop(conn.id, conn.version);
  deps.logger.warn(
    { provider, connectionId: conn.id, owner: deps.hashOwner(conn.ownerId), stored },
    'refresh: stored the answer a previous lease holder left in the rescue slot; nothing was presented',
  );
  return stored ? { kind: 'rescued', accessTokenExpiresAt: tokens.tokenExpiresAt } : { kind: 'lost_race' };
}

/**
 * Stores refreshed tokens: a connection read as `connected` joins the next grouped write (one
 * statement for every answer that arrives meanwhile, retried until it lands); a row that write
 * could not store (its compare-and-set missed, or another session holds it locked), and a
 * recovery (a status change), go through the single-row write below.
 */
async function storeTokens(
  deps: RefreshDeps,
  provider: ProviderKey,
  read: ConnectionRow,
  tokens: RefreshedTokens,
  at: Date,
  leases: LeaseSet,
  presentedRefreshToken: string | null,
): Promise<boolean> {
  leases.markCommitting(read.id);
  if (read.status === 'connected') {
    if (await deps.commits.store({ conn: read, tokens, at, leaseOwner: leases.owner })) {
      leases.markCleared(read.id);
      return true;
    }
  }
  return storeUntilDurable(deps, provider, read, tokens, at, leases, presentedRefreshToken);
}

/**
 * The single-row compare-and-set write of refreshed tokens, retried until it lands: a Postgres restart, a
 * lock wait or a full pool delays it, never drops it. When the compare-and-set loses only because
 * something else touched the row (a status or key rotation write) while the refresh token we
 * presented is still the stored one, it is tried again on the new version; when newer tokens are
 * stored, it has lost for good.
 */
async function storeUntilDurable(
  deps: RefreshDeps,
  provider: ProviderKey,
  read: ConnectionRow,
  tokens: RefreshedTokens,
  at: Date,
  leases: LeaseSet,
  presentedRefreshToken: string | null,
): Promise<boolean> {
  let conn = read;
  let casMisses = 0;
  for (let attempt = 1; ; attempt++) {
    try {
      if (await deps.connections.storeRefreshedTokens(conn, tokens, at, leases.owner)) {
        leases.markCleared(read.id);
        if (attempt > 1) {
          deps.logger.info(
            { provider, connectionId: conn.id, attempts: attempt },
            'refresh: the refreshed tokens are stored after retrying',
          );
        }
        return true;
      }
      const current = await deps.connections.findById(conn.id);
      const stillOurs =
        current !== null &&
        REFRESHABLE_ON_REQUEST.has(current.status) &&
        (current.refreshTokenEnc === null
          ? presentedRefreshToken === null
          : deps.vault.decrypt(current.refreshTokenEnc) === presentedRefreshToken);
      if (!stillOurs || ++casMisses > MAX_CAS_MISSES) return false;
      // The next holder looks for a rescue copy under the row's version: follow it there.
      if (current.version !== conn.version)
        deps.rescue.put(current.id, current.version, tokens).catch(() => undefined);
      conn = current;
    } catch (err) {
      const delayMs = Math.min(deps.settings.commitRetryMaxMs, 100 * 2 ** Math.min(attempt - 1, 10));
      deps.logger.warn(
        { provider, connectionId: conn.id, attempt, retryInMs: delayMs, err: (err as Error).message },
        'refresh: storing the refreshed tokens failed; retrying (a rescue copy is kept meanwhile)',
      );
      await sleep(delayMs);
    }
  }
}

/** Share of the lease below which it is renewed before the refresh token goes out. */
const RENEW_BELOW_SHARE = 0.9;

/** Compare-and-set misses on a row whose refresh token is still ours, before giving up on it. */
const MAX_CAS_MISSES = 5;

async function callAndApply(
  deps: RefreshDeps,
  provider: ProviderKey,
  conn: ConnectionRow,
  req: RefreshBatchRequest,
  now: () => Date,
  leases: LeaseSet,
): Promise<RefreshResult> {
  const refreshToken = deps.vault.decrypt(conn.refreshTokenEnc!);
  // Right before sending: renewed first if this process paused since taking the lease, and at
  // least the commit budget plus half the request window left; the request then ends with the
  // commit budget still left, so the answer can be stored before anyone else may take the lease.
  const { lockTtlMs: ttl, commitBudgetMs } = deps.settings;
  const minimumMs = commitBudgetMs + (ttl - commitBudgetMs) / 2;
  if (!(await leases.ensure(conn.id, minimumMs, ttl * RENEW_BELOW_SHARE))) {
    deps.logger.warn(
      { provider, connectionId: conn.id },
      'refresh: the lease was lost or too short before the refresh token went out (this process stalled); nothing was presented',
    );
    return { kind: 'busy' };
  }
  const requestMs = Math.max(1, Math.floor(leases.remainingMs(conn.id) - commitBudgetMs));
  // Once sent, the answer is awaited as long as the lease allows, not the generic HTTP timeouts:
  // the provider may already have rotated, and an abandoned answer is a lost refresh token.
  const outcome = await deps.tokens.refresh(provider, refreshToken, {
    deadlineMs: requestMs,
    answerDeadlineMs: requestMs,
  });
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
      const spec = providerSpec(provider);
      const rtExpiry =
        decision.refreshTokenExpiresAt !== 'unchanged'
          ? decision.refreshTokenExpiresAt
          : spec.refresh.kind === 'refresh_token' && spec.refresh.refreshTokenLifetime.kind === 'inactivity'
            ? refreshTokenExpiresAt(spec, { consentedAt: conn.createdAt, lastUsedAt: at })
            : undefined;
      const tokens: RefreshedTokens = {
        accessTokenEnc: deps.vault.encrypt(outcome.accessToken),
        ...(decision.refreshTokenRotated && { refreshTokenEnc: deps.vault.encrypt(outcome.refreshToken!) }),
        tokenExpiresAt: decision.accessTokenExpiresAt,
        tokenLifetimeSeconds: outcome.expiresInSeconds ?? null,
        ...(rtExpiry !== undefined && { refreshTokenExpiresAt: rtExpiry }),
        ...(outcome.scope !== undefined && { scopes: splitScopes(outcome.scope, spec.scopes.separator) }),
      };
      // The copy outside this process goes out at once, beside the write; whichever lands first
      // ends the window in which a crash loses the rotated token.
      const rescued = deps.rescue.put(conn.id, conn.version, tokens).then(
        () => true,
        (err: Error) => {
          deps.logger.warn(
            { provider, connectionId: conn.id, err: err.message },
            'refresh: the rescue copy could not be written; the tokens live only in this process until stored',
          );
          return false;
        },
      );
      const stored = await storeTokens(deps, provider, conn, tokens, at, leases, refreshToken);
      void rescued.then((kept) => kept && deps.rescue.drop(conn.id, conn.version));
      if (!stored) {
        deps.logger.error(
          { provider, connectionId: conn.id, owner: deps.hashOwner(conn.ownerId) },
          'refresh: tokens were refreshed but newer tokens were stored meanwhile; this lease had lapsed',
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
