// Everything the health page shows, gathered in one round of parallel reads: Postgres (through
// the db package's HealthRepository), queue counts and provider gates from Redis, and the
// fleet's refresh outcomes of the last hour. The HTML page and /admin/health.json render this.
// Each datastore's reads are bounded (CONDUIT_HEALTH_READ_TIMEOUT_MS): one that is down or hangs
// is reported as down in `datastores` and its sections are empty, so the page still answers.
import { CONNECTION_STATUSES, PROVIDER_KEYS, type ConnectionStatus, type ProviderKey } from '@conduit/core';
import {
  HealthConnections,
  HealthRepository,
  type AttentionConnection,
  type ConnectionFilter,
  type ConnectionPage,
  type SyncRunView,
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
import { within } from '../../edge/datastore-errors.ts';

const ATTENTION_LIMIT = 100;
const TRANSITIONS_LIMIT = 50;
const DEAD_NOTIFICATIONS_LIMIT = 50;
const SYNC_RUNS_LIMIT = 30;
export const CONNECTIONS_PAGE_SIZE = 25;

export interface DatastoreState {
  ok: boolean;
  /** why it is reported down */
  detail?: string;
}

export interface HealthSnapshot {
  generatedAt: Date;
  /** whether each datastore answered; the sections it feeds are empty when it did not */
  datastores: { postgres: DatastoreState; redis: DatastoreState };
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
  /** one page of the per-connection table, as filtered by the query string */
  table: ConnectionPage & { filter: Omit<ConnectionFilter, 'page' | 'pageSize'> };
  /** the last sync runs (the seeds' cron_job_logs), newest first */
  syncRuns: SyncRunView[];
  notifications: {
    pending: number;
    dead: number;
    undeliverable: DeadNotification[];
    /** false while CONDUIT_NOTIFY_URL is unset: nothing is sent, pending ones wait */
    deliveryEnabled: boolean;
  };
}

function zeroExpiry(): ExpiryCounts {
  return { expired: 0, within1h: 0, within24h: 0, within7d: 0 };
}

export function healthSource(ctx: AppContext) {
  const repo = new HealthRepository(ctx.db, ctx.hashOwner);
  const perConnection = new HealthConnections(ctx.db, ctx.hashOwner);
  const prefix = ctx.config.redis.queuePrefix;
  const stats = new RefreshStats(ctx.redis, prefix);
  const gate = new ProviderGate(ctx.redis, `${prefix}:gate`);

  const bound = ctx.config.api.healthReadTimeoutMs;

  async function fromPostgres(now: Date, filter: ConnectionFilter) {
    const [statusRows, expiry, needsReauth, errors, transitions, backlog, dead, table, syncRuns] =
      await Promise.all([
        repo.statusCounts(),
        repo.tokenExpiry(now),
        repo.inStatus('needs_reauth', ATTENTION_LIMIT),
        repo.inStatus('error', ATTENTION_LIMIT),
        repo.recentTransitions(TRANSITIONS_LIMIT),
        repo.notificationBacklog(),
        repo.deadNotifications(DEAD_NOTIFICATIONS_LIMIT),
        perConnection.page(filter, now),
        // a search for one whole connection id narrows the sync log to that connection's runs
        perConnection.recentSyncRuns(SYNC_RUNS_LIMIT, oneConnection(filter.search)),
      ]);
    return { statusRows, expiry, needsReauth, errors, transitions, backlog, dead, table, syncRuns };
  }

  async function fromRedis(now: Date) {
    const [refresh, depths, lanes] = await Promise.all([
      stats.lastHour(now),
      queueDepths(ctx.queues.all()),
      laneStates(gate, REFRESH_PROVIDERS),
    ]);
    return { refresh, depths, lanes };
  }

  return async function snapshot(
    query: Partial<ConnectionFilter> = {},
    now: Date = new Date(),
  ): Promise<HealthSnapshot> {
    const filter: ConnectionFilter = { page: 1, pageSize: CONNECTIONS_PAGE_SIZE, ...query };
    const [pg, redis] = await Promise.all([
      settle(within(fromPostgres(now, filter), bound, 'postgres', 'the health queries')),
      settle(within(fromRedis(now), bound, 'redis', 'the queue and refresh reads')),
    ]);
    const { statusRows, expiry, needsReauth, errors, transitions, backlog, dead, table, syncRuns } = pg.ok
      ? pg.value
      : {
          statusRows: [],
          expiry: new Map<string, ExpiryCounts>(),
          needsReauth: [],
          errors: [],
          transitions: [],
          backlog: { pending: 0, dead: 0 },
          dead: [],
          table: { rows: [], total: 0, page: filter.page, pageSize: filter.pageSize },
          syncRuns: [],
        };
    const { refresh, depths, lanes } = redis.ok
      ? redis.value
      : { refresh: emptyWindow(now), depths: [], lanes: [] };

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
      datastores: { postgres: stateOf(pg), redis: stateOf(redis) },
      connections: { providers, statuses: CONNECTION_STATUSES, byProvider, byStatus, total },
      tokenExpiry: { byProvider: expiryByProvider, total: expiryTotal },
      refresh,
      needsReauth,
      errors,
      transitions,
      queues: depths.map((d) => ({ ...d, description: QUEUE_DESCRIPTIONS[d.queue] ?? '' })),
      lanes,
      table: {
        ...table,
        filter: {
          search: filter.search,
          provider: filter.provider,
          status: filter.status,
          token: filter.token,
        },
      },
      syncRuns,
      notifications: {
        pending: backlog.pending,
        dead: backlog.dead,
        undeliverable: dead,
        deliveryEnabled: ctx.config.security.notify !== undefined,
      },
    };
  };
}

const WHOLE_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function oneConnection(search: string | undefined): string | undefined {
  return search !== undefined && WHOLE_ID.test(search) ? search.toLowerCase() : undefined;
}

type Settled<T> = { ok: true; value: T } | { ok: false; detail: string };

function settle<T>(p: Promise<T>): Promise<Settled<T>> {
  return p.then(
    (value) => ({ ok: true as const, value }),
    (err: unknown) => ({
      ok: false as const,
      detail: (err instanceof Error ? err.message : String(err)).split('\n')[0]!,
    }),
  );
}

function stateOf(s: Settled<unknown>): DatastoreState {
  return s.ok ? { ok: true } : { ok: false, detail: s.detail };
}

function emptyWindow(now: Date): RefreshWindow {
  return {
    from: new Date(now.getTime() - 3_600_000),
    to: now,
    total: 0,
    attempts: 0,
    succeeded: 0,
    successRate: null,
    byOutcome: {},
    byProvider: {},
    perMinute: [],
  };
}
