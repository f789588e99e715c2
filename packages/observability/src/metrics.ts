import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface MetricsRegistryOptions {
  /** Labels on every series, e.g. `{ app: 'worker' }`. */
  readonly defaultLabels?: Record<string, string>;
  /** Process metrics (CPU, memory, event loop lag); on by default. */
  readonly processMetrics?: boolean;
}

/** One registry per process, passed to whatever defines metrics; never prom-client's global. */
export function createMetricsRegistry(options: MetricsRegistryOptions = {}): Registry {
  const registry = new Registry();
  if (options.defaultLabels !== undefined) registry.setDefaultLabels(options.defaultLabels);
  if (options.processMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: 'conduit_' });
  return registry;
}

/** The counters every Conduit process may update; gauges read on scrape are added by the api. */
export interface ConduitMetrics {
  readonly registry: Registry;
  readonly refreshTotal: Counter<'provider' | 'outcome'>;
  readonly refreshDuration: Histogram<'provider'>;
  readonly refreshCommit: Histogram<'provider'>;
  readonly lockContention: Counter<'provider'>;
  readonly webhookDeliveries: Counter<'provider' | 'result'>;
  readonly syncItems: Counter<'provider'>;
  readonly revocations: Counter<'provider' | 'result'>;
}

/** Token requests take tens of milliseconds to a few seconds; the lock TTL caps them. */
const REFRESH_DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export function createConduitMetrics(registry: Registry): ConduitMetrics {
  const registers = [registry];
  return {
    registry,
    refreshTotal: new Counter({
      name: 'conduit_refresh_total',
      help: 'Token refreshes by provider and outcome (refreshed, fresh, busy, gated, skipped, lost_race, rate_limited, retry, gave_up, needs_reauth, error).',
      labelNames: ['provider', 'outcome'] as const,
      registers,
    }),
    refreshDuration: new Histogram({
      name: 'conduit_refresh_duration_seconds',
      help: 'Time one refresh took, lock and token request included, whatever its outcome.',
      labelNames: ['provider'] as const,
      buckets: REFRESH_DURATION_BUCKETS,
      registers,
    }),
    refreshCommit: new Histogram({
      name: 'conduit_refresh_commit_seconds',
      help: "Time from a provider's token answer to the new tokens stored. A crash inside it loses a rotated refresh token (the user must reconnect): it should stay in milliseconds.",
      labelNames: ['provider'] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
      registers,
    }),
    lockContention: new Counter({
      name: 'conduit_lock_contention_total',
      help: "Refreshes that found the connection's lock held by another process.",
      labelNames: ['provider'] as const,
      registers,
    }),
    webhookDeliveries: new Counter({
      name: 'conduit_webhook_deliveries_total',
      help: 'Provider webhook deliveries by result (e.g. accepted, duplicate, invalid_signature, malformed).',
      labelNames: ['provider', 'result'] as const,
      registers,
    }),
    syncItems: new Counter({
      name: 'conduit_sync_items_total',
      help: 'Items (e.g. meetings) stored by data syncs.',
      labelNames: ['provider'] as const,
      registers,
    }),
    revocations: new Counter({
      name: 'conduit_revocations_total',
      help: 'Attempts to revoke a disconnected grant at its provider, by result (revoked, retry, gave_up, superseded). Any gave_up is a grant that may still be active.',
      labelNames: ['provider', 'result'] as const,
      registers,
    }),
  };
}

/** One provider webhook delivery and what became of it. */
export function recordWebhookDelivery(metrics: ConduitMetrics, provider: string, result: string): void {
  metrics.webhookDeliveries.inc({ provider, result });
}

/** Items a sync stored; zero is a no-op. */
export function recordSyncItems(metrics: ConduitMetrics, provider: string, count: number): void {
  if (count > 0) metrics.syncItems.inc({ provider }, count);
}
