// GET /metrics for Prometheus: the api's own registry. Queue depths and tokens expiring soon are
// read when scraped (one getJobCounts per queue, one grouped SQL query), so they are never stale;
// counters cover what this process does itself (inline refreshes, webhooks). The worker's refresh
// outcomes are on its own port (CONDUIT_WORKER_METRICS_PORT). With CONDUIT_METRICS_TOKEN set, a
// scrape must present it as a bearer token (a wrong one counts as a failed sign-in).
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Gauge, type Registry } from 'prom-client';
import { PROVIDER_KEYS } from '@conduit/core';
import { HealthRepository } from '@conduit/db';
import { RefreshStats, queueDepths, type QueueDepth } from '@conduit/jobs';
import {
  createConduitMetrics,
  createMetricsRegistry,
  createRefreshObserver,
  type ConduitMetrics,
  type MetricsRefreshObserver,
} from '@conduit/observability';
import type { AppContext } from '@conduit/runtime';
import { within } from '../edge/datastore-errors.ts';
import { HttpProblem } from '../problem.ts';

const EXPIRING_WINDOW_MS = 3_600_000;

export interface ApiMetrics {
  readonly conduit: ConduitMetrics;
  /** for this process's inline refreshes: createRefreshDeps(ctx, tokens, metrics.refreshObserver) */
  readonly refreshObserver: MetricsRefreshObserver;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** this process's metrics: `metrics.conduit` for counters, `metrics.refreshObserver` for inline refreshes */
    metrics: ApiMetrics;
  }
}

export function createApiMetrics(ctx: AppContext): ApiMetrics {
  const registry = createMetricsRegistry({ defaultLabels: { app: 'api' } });
  const conduit = createConduitMetrics(registry);
  registerQueueGauges(registry, ctx);
  registerExpiringGauge(registry, ctx);
  const refreshObserver = createRefreshObserver(
    conduit,
    new RefreshStats(ctx.redis, ctx.config.redis.queuePrefix),
    (err) => ctx.logger.warn({ err: errorMessage(err) }, 'refresh stats not recorded'),
  );
  return { conduit, refreshObserver };
}

const digest = (value: string): Buffer => createHash('sha256').update(value, 'utf8').digest();

export async function metricsPlugin(app: FastifyInstance, opts: { metrics: ApiMetrics; token?: string }) {
  const { registry } = opts.metrics.conduit;
  const expected = opts.token === undefined ? undefined : digest(opts.token);
  const onRequest = async (req: FastifyRequest, reply: FastifyReply) => {
    if (expected === undefined) return;
    const locked = app.signInThrottle.lockedOut(req, reply);
    if (locked) throw locked;
    const presented = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '')?.[1];
    if (presented !== undefined && timingSafeEqual(digest(presented), expected)) return;
    const over =
      presented !== undefined ? await app.signInThrottle.failed(req, reply, 'metrics-token') : null;
    if (over) throw over;
    reply.header('www-authenticate', 'Bearer realm="conduit-metrics"');
    throw new HttpProblem(
      401,
      'metrics-token-required',
      'Metrics need a token',
      'send CONDUIT_METRICS_TOKEN as "Authorization: Bearer <token>" (Prometheus: authorization.credentials)',
    );
  };
  app.get('/metrics', { onRequest }, async (_req, reply) =>
    reply
      .header('cache-control', 'no-store')
      .type(registry.contentType)
      .send(await registry.metrics()),
  );
}

function registerQueueGauges(registry: Registry, ctx: AppContext): void {
  // Bounded, so a scrape during a Redis outage answers (without queue gauges) instead of hanging.
  const snapshot = sharedWhileLoading(() =>
    within(queueDepths(ctx.queues.all()), ctx.config.api.healthReadTimeoutMs, 'redis', 'the queue depths'),
  );
  const gauge = (name: string, help: string, pick: (d: QueueDepth) => number) => {
    const g: Gauge<'queue'> = new Gauge({
      name,
      help,
      labelNames: ['queue'] as const,
      registers: [registry],
      async collect() {
        g.reset();
        try {
          for (const d of await snapshot()) g.set({ queue: d.queue }, pick(d));
        } catch (err) {
          ctx.logger.warn({ err: errorMessage(err), metric: name }, 'queue gauge not collected');
        }
      },
    });
  };
  gauge('conduit_queue_waiting', 'Jobs waiting to run, per queue (its depth).', (d) => d.waiting);
  gauge('conduit_queue_active', 'Jobs running now, per queue.', (d) => d.active);
  gauge(
    'conduit_queue_delayed',
    'Jobs scheduled for later (backoff, rate-limit waits), per queue.',
    (d) => d.delayed,
  );
  gauge('conduit_queue_failed', 'Jobs kept as failed, per queue.', (d) => d.failed);
}

function registerExpiringGauge(registry: Registry, ctx: AppContext): void {
  const health = new HealthRepository(ctx.db, ctx.hashOwner);
  const g: Gauge<'provider'> = new Gauge({
    name: 'conduit_tokens_expiring_soon',
    help: 'Access tokens of live connections (connected, token_expired) that lapse within the next hour, per provider.',
    labelNames: ['provider'] as const,
    registers: [registry],
    async collect() {
      g.reset();
      try {
        const counts = await health.expiringWithin(EXPIRING_WINDOW_MS, new Date());
        for (const p of PROVIDER_KEYS) g.set({ provider: p }, counts.get(p) ?? 0);
      } catch (err) {
        ctx.logger.warn({ err: errorMessage(err) }, 'expiring-tokens gauge not collected');
      }
    },
  });
}

/** Concurrent callers (the gauges of one scrape) share one load; the next scrape loads afresh. */
function sharedWhileLoading<T>(load: () => Promise<T>): () => Promise<T> {
  let pending: Promise<T> | undefined;
  return () =>
    (pending ??= load().finally(() => {
      pending = undefined;
    }));
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
