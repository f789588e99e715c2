// The worker process: runs every lane's jobs. Wiring only; the rules live in packages/.
import { Worker } from 'bullmq';
import {
  REFRESH_PROVIDERS,
  BufferedRefreshStats,
  createNotificationDrain,
  createRefreshProcessor,
} from '@conduit/jobs';
import {
  createConduitMetrics,
  createMetricsRegistry,
  createRefreshObserver,
  recordSyncItems,
  startMetricsServer,
} from '@conduit/observability';
import {
  createFathomWorkers,
  createGrantRevocations,
  createRefreshDeps,
  createTokenClient,
  enabledProviders,
  runApp,
} from '@conduit/runtime';

await runApp('worker', async (ctx) => {
  const { config } = ctx;
  const t = config.timings;
  const tokens = createTokenClient(config);
  const metrics = createConduitMetrics(createMetricsRegistry({ defaultLabels: { app: 'worker' } }));
  const statsError = (err: unknown) => ctx.logger.warn({ err: String(err) }, 'refresh stats not recorded');
  const stats = new BufferedRefreshStats(ctx.redis, config.redis.queuePrefix, 1_000, statsError);
  const observer = createRefreshObserver(metrics, stats, statsError);
  const deps = createRefreshDeps(ctx, tokens, observer);
  const enabled = new Set(enabledProviders(config));
  const workers: Worker[] = [];
  for (const provider of REFRESH_PROVIDERS.filter((p) => enabled.has(p))) {
    const queue = ctx.queues.refresh(provider);
    workers.push(
      new Worker(
        queue.name,
        createRefreshProcessor(deps, queue, { lockRetryDelayMs: t.lockRetryDelayMs, provider }),
        {
          connection: ctx.redis.duplicate(),
          prefix: ctx.queues.keyPrefixFor(queue.name),
          // Jobs at once: enough batches to keep the lane's refresh slots busy, and one more so a
          // single-connection job (a retry, a manual refresh) never waits behind them.
          concurrency: Math.ceil(t.refreshConcurrency / Math.min(t.refreshBatchParallelism, t.refreshJobBatchSize)) + 1,
          lockDuration: t.jobLockMs,
          stalledInterval: t.stalledIntervalMs,
          autorun: true,
        },
      ),
    );
  }
  // sync-fathom and transcripts, when Fathom is enabled.
  const fathom = createFathomWorkers(ctx, deps, (count) => recordSyncItems(metrics, 'fathom', count));
  workers.push(...fathom.workers);
  for (const w of workers) ctx.redisOutages.watch(w, `worker ${w.name}`);
  ctx.logger.info({ lanes: workers.map((w) => w.name) }, 'worker lanes started');
  const notifications = createNotificationDrain(ctx.db, ctx.logger, {
    target: config.security.notify,
    pollMs: t.notifyPollMs,
    maxAttempts: t.notifyMaxAttempts,
    timeoutMs: t.notifyTimeoutMs,
  });
  notifications.start();
  // Grants of disconnected connections whose revocation at the provider failed: retried with backoff.
  const revocations = createGrantRevocations(ctx, (provider, result) =>
    metrics.revocations.inc({ provider, result }),
  );
  revocations.drain.start();
  const metricsServer =
    config.api.workerMetricsPort > 0
      ? await startMetricsServer({
          registry: metrics.registry,
          port: config.api.workerMetricsPort,
          host: config.api.host,
          onError: (err) => ctx.logger.error({ err }, 'worker metrics collection failed'),
        })
      : undefined;
  if (metricsServer) ctx.logger.info({ port: metricsServer.port }, 'worker metrics on /metrics');
  return {
    async stop() {
      // close() stops taking jobs and waits for the active ones to finish.
      await Promise.all(workers.map((w) => w.close()));
      await stats.close();
      await notifications.stop();
      await revocations.close();
      await fathom.close();
      await metricsServer?.close();
      await tokens.close();
    },
  };
});
