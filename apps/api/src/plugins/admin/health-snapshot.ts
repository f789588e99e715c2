// Everything the health page shows, gathered in one round of parallel reads: Postgres (through
// the db package's HealthRepository), queue counts and provider gates from Redis, and the
// fleet's refresh outcomes of the last hour. The HTML page and /admin/health.json render this.
import { CONNECTION_STATUSES, PROVIDER_KEYS, type ConnectionStatus, type ProviderKey } from '@conduit/core';
import {
  HealthRepository,
  type AttentionConnection,
  type DeadNotification,
  type ExpiryCounts,
  type RecentTransition,
} from '@conduit/db';
import {
  ProviderGate,
  QUEUE_DESCRIPTIONS,
  REFRESH_PROVIDERS,
  RefreshStats,
  laneStates,
  queueDepths,
  type LaneState,
  type QueueDepth,
  type RefreshWindow,
} from '@conduit/jobs';
import type { AppContext } from '@conduit/runtime';

const ATTENTION_LIMIT = 100;
const TRANSITIONS_LIMIT = 50;
const DEAD_NOTIFICATIONS_LIMIT = 50;

export interface HealthSnapshot {
  generatedAt: Date;
  connections: {
    providers: ProviderKey[];
    statuses: readonly ConnectionStatus[];
    /** provider → status → count; every pair present, zeros included */
    byProvider: Record<string, Record<ConnectionStatus, number>>;
    byStatus: Record<ConnectionStatus, number>;
    total: number;
  };
  /** live access tokens (connected, token_expired), cumulative windows */
  tokenExpiry: { byProvider: Record<string, ExpiryCounts>; total: ExpiryCounts };
  refresh: RefreshWindow;
  /** the most recent of each, up to 100; the full counts are in connections.byStatus */
  needsReauth: AttentionConnection[];
  errors: AttentionConnection[];
  transitions: RecentTransition[];
  queues: Array<QueueDepth & { description: string }>;
  lanes: LaneState[];
  notifications: { pending: number; dead: number; undeliverable: DeadNotification[] };
}

function zeroExpiry(): ExpiryCounts {
  return { expired: 0, within1h: 0, within24h: 0, within7d: 0 };
}

export function healthSource(ctx: AppContext) {
  const repo = new HealthRepository(ctx.db, ctx.hashOwner);
  const prefix = ctx.config.redis.queuePrefix;
  const stats = new RefreshStats(ctx.redis, prefix);
  const gate = new ProviderGate(ctx.redis, `${prefix}:gate`);

  return async function snapshot(now: Date = new Date()): Promise<HealthSnapshot> {
    const [statusRows, expiry, refresh, needsReauth, errors, transitions, backlog, dead, depths, lanes] =
      await Promise.all([
        repo.statusCounts(),
        repo.tokenExpiry(now),
        stats.lastHour(now),
        repo.inStatus('needs_reauth', ATTENTION_LIMIT),
        repo.inStatus('error', ATTENTION_LIMIT),
        repo.recentTransitions(TRANSITIONS_LIMIT),
        repo.notificationBacklog(),
        repo.deadNotifications(DEAD_NOTIFICATIONS_LIMIT),
        queueDepths(ctx.queues.all()),
        laneStates(gate, REFRESH_PROVIDERS),
      ]);

    const zeroStatuses = () =>
      Object.fromEntries(CONNECTION_STATUSES.map((s) => [s, 0])) as Record<ConnectionStatus, number>;
    const present = new Set(statusRows.map((r) => r.provider));
    const providers = PROVIDER_KEYS.filter((p) => present.has(p));
    const byProvider: Record<string, Record<ConnectionStatus, number>> = {};
    const byStatus = zeroStatuses();
    let total = 0;
    for (const r of statusRows) {
      const row = (byProvider[r.provider] ??= zeroStatuses());
      row[r.status] += r.count;
      byStatus[r.status] += r.count;
      total += r.count;
    }

    const expiryByProvider: Record<string, ExpiryCounts> = {};
    const expiryTotal = zeroExpiry();
    for (const [provider, counts] of expiry) {
      expiryByProvider[provider] = counts;
      for (const k of Object.keys(expiryTotal) as Array<keyof ExpiryCounts>) expiryTotal[k] += counts[k];
    }

    return {
      generatedAt: now,
      connections: { providers, statuses: CONNECTION_STATUSES, byProvider, byStatus, total },
      tokenExpiry: { byProvider: expiryByProvider, total: expiryTotal },
      refresh,
      needsReauth,
      errors,
      transitions,
      queues: depths.map((d) => ({ ...d, description: QUEUE_DESCRIPTIONS[d.queue] ?? '' })),
      lanes,
      notifications: { pending: backlog.pending, dead: backlog.dead, undeliverable: dead },
    };
  };
}
