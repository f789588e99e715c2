import type { Logger } from 'pino';
import type { ProviderKey, RetryPolicy, TokenEndpointOutcome, TokenVault } from '@conduit/core';
import type { ConnectionLeases, ConnectionRepository } from '@conduit/db';
import type { RedisClient } from '../redis.ts';
import type { RedisLocks } from '../lock.ts';
import type { ProviderGate } from '../provider-gate.ts';
import type { RefreshCommits } from './commits.ts';
import type { LaneSlots } from './lane-slots.ts';
import type { RescueSlots } from './rescue.ts';

/** The token endpoint as the refresh path sees it (implemented by @conduit/providers' TokenClient). */
export interface TokenRefresher {
  refresh(
    provider: ProviderKey,
    refreshToken: string,
    opts?: { signal?: AbortSignal; answerDeadlineMs?: number; deadlineMs?: number },
  ): Promise<TokenEndpointOutcome>;
}

export interface RefreshSettings {
  /** refresh when the access token expires within this (default 5 min) */
  bufferMs: number;
  /** how long a refresh lease lives unrenewed; must outlive the token request plus the commit budget */
  lockTtlMs: number;
  /** lease that must be left after the token request ends, for storing its answer */
  commitBudgetMs: number;
  /** longest pause between attempts to store refreshed tokens */
  commitRetryMaxMs: number;
  /** invalid_client answers within `invalidClientWindowMs` before the lane is paused */
  invalidClientPauseThreshold: number;
  /** how long the lane stays paused after repeated invalid_client */
  invalidClientPauseMs: number;
  /** refresh tokens lapsing within this are exercised ahead of time (default 7 days) */
  refreshTokenWindowMs: number;
  /** token requests one batch has in flight at once */
  batchParallelism: number;
}

export type RefreshOutcomeLabel =
  | 'refreshed'
  | 'rescued'
  | 'fresh'
  | 'busy'
  | 'gated'
  | 'skipped'
  | 'lost_race'
  | 'rate_limited'
  | 'retry'
  | 'gave_up'
  | 'needs_reauth'
  | 'error'
  | 'failed';

export interface RefreshObserver {
  /** one call per refreshConnection, for metrics */
  onOutcome?(provider: ProviderKey, outcome: RefreshOutcomeLabel, durationMs: number): void;
  onLockContention?(provider: ProviderKey): void;
  /** a refresh stored new tokens this long after the provider answered */
  onCommit?(provider: ProviderKey, ms: number): void;
}

export interface RefreshDeps {
  connections: ConnectionRepository;
  vault: TokenVault;
  tokens: TokenRefresher;
  /** Redis locks, for the per-user sync lock (refreshes use `leases`) */
  locks: RedisLocks;
  /** the refresh lease in each connection's row: who may present its refresh token */
  leases: ConnectionLeases;
  /** copies of provider answers not yet stored in Postgres */
  rescue: RescueSlots;
  /** the grouped compare-and-set writes of refreshed tokens */
  commits: RefreshCommits;
  /** refreshes in flight at once per provider, across every job and caller of the process */
  lanes: LaneSlots;
  gate: ProviderGate;
  redis: RedisClient;
  /** key prefix for counters, e.g. `{conduit}` */
  keyPrefix: string;
  policy: RetryPolicy;
  settings: RefreshSettings;
  logger: Logger;
  hashOwner: (ownerId: string) => string;
  observer?: RefreshObserver;
  now?: () => Date;
  random?: () => number;
}
