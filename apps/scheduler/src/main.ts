// The scheduler process: registers the sweeps as BullMQ Job Schedulers (idempotent, so any
// number of scheduler processes may run side by side) and runs them. Wiring only: each sweep's
// rules live in packages/jobs/src/sweeps/.
import { Worker, type Job } from 'bullmq';
import {
  QUEUE_NAMES,
  runLapseSweep,
  runRecoverySweep,
  runInboxSweep,
  runWebhookSweep,
  runRefreshSweep,
  runRetentionSweep,
  runSyncSweep,
  type SweepJobData,
  type SweepName,
} from '@conduit/jobs';
import { OAuthStateRepository, WebhookDeliveryRepository } from '@conduit/db';
import {
  createFathomWebhookRegistrar,
  createRefreshDeps,
  createTokenClient,
  registersFathomWebhooks,
  runApp,
} from '@conduit/runtime';

await runApp('scheduler', async (ctx) => {
  const { config, connections, queues, logger, db } = ctx;
  const t = config.timings;
  const batchSize = t.refreshSweepBatchSize;
  // Per-connection Fathom webhooks: registered where missing, again where deleted at Fathom.
  const webhookTokens = registersFathomWebhooks(config) ? createTokenClient(config) : undefined;
  const webhooks = webhookTokens && createFathomWebhookRegistrar(ctx, createRefreshDeps(ctx, webhookTokens));
  const sweeps: Record<SweepName, { everyMs: number; run: () => Promise<object> }> = {
    'refresh-sweep': {
      everyMs: t.refreshSweepIntervalSeconds * 1000,
      run: () =>
        runRefreshSweep(
          { connections, queues },
          {
            bufferMs: t.refreshBufferSeconds * 1000,
            intervalMs: t.refreshSweepIntervalSeconds * 1000,
            batchSize,
            requeueAfterMs: t.refreshRequeueAfterSeconds * 1000,
            jobBatchSize: t.refreshJobBatchSize,
            jobBatchWindowMs: t.refreshBatchWindowMs,
          },
        ),
    },
    'lapse-sweep': {
      everyMs: 3_600_000,
      run: () =>
        runLapseSweep(
          { connections, queues },
          { windowMs: t.refreshTokenWindowDays * 86_400_000, batchSize },
        ),
    },
    'sync-sweep': {
      everyMs: t.syncIntervalSeconds * 1000,
      run: () => runSyncSweep({ db, queues }, { intervalMs: t.syncIntervalSeconds * 1000, batchSize }),
    },
    'recovery-sweep': {
      everyMs: t.errorRetryIntervalSeconds * 1000,
      run: () =>
        runRecoverySweep(
          { connections, queues },
          { minAgeMs: t.errorRetryIntervalSeconds * 1000, batchSize },
        ),
    },
    // Webhook deliveries stored while Redis was down, whose transcript fetch was never queued.
    'inbox-sweep': {
      everyMs: config.api.inboxSweepIntervalSeconds * 1000,
      run: () =>
        runInboxSweep(
          { deliveries: new WebhookDeliveryRepository(db), queues },
          { requeueAfterMs: config.api.inboxRequeueAfterSeconds * 1000, batchSize },
        ),
    },
    'webhook-sweep': {
      everyMs: config.api.webhookSweepIntervalSeconds * 1000,
      run: async () =>
        webhooks
          ? runWebhookSweep(
              { webhooks: webhooks.webhooks, registrar: webhooks.registrar },
              { intervalMs: config.api.webhookSweepIntervalSeconds * 1000, batchSize },
            )
          : { skipped: 'CONDUIT_FATHOM_WEBHOOK_MODE is operator, or Fathom is not enabled' },
    },
    // A disconnected user's synced data is kept CONDUIT_DISCONNECTED_RETENTION_DAYS, then purged.
    'retention-sweep': {
      everyMs: 3_600_000,
      run: () => runRetentionSweep({ db, logger }, { retentionDays: t.disconnectedRetentionDays, batchSize }),
    },
    cleanup: {
      everyMs: 3_600_000,
      // OAuth states are single use and live minutes; keep a day of them for diagnosis.
      run: async () => ({
        oauthStatesDeleted: await new OAuthStateRepository(db).deleteExpired(
          new Date(Date.now() - 86_400_000),
        ),
      }),
    },
  };

  const queue = queues.get(QUEUE_NAMES.sweeps);
  // CONDUIT_SCHEDULER_SWEEPS_OFF: such a sweep's Job Scheduler is removed (an earlier start may
  // have registered it) and a job of it already queued is skipped.
  const off = new Set<string>(config.runtime.sweepsOff);
  const registerSchedulers = async () => {
    for (const [name, sweep] of Object.entries(sweeps)) {
      if (off.has(name)) {
        await queue.removeJobScheduler(name);
        continue;
      }
      await queue.upsertJobScheduler(
        name,
        { every: sweep.everyMs },
        { name, data: { sweep: name as SweepName } },
      );
    }
  };
  await registerSchedulers();
  // A Redis that restarts without persistence forgets every Job Scheduler, and then no sweep
  // would ever run again: register them again each time the connection comes back.
  const onRedisReady = () =>
    void registerSchedulers().then(
      () => logger.info('job schedulers registered again after a Redis reconnect'),
      (err: Error) => logger.error({ err: err.message }, 'job schedulers not registered again'),
    );
  ctx.redis.on('ready', onRedisReady);

  const worker = new Worker<SweepJobData>(
    queue.name,
    async (job: Job<SweepJobData>) => {
      const sweep = sweeps[job.data.sweep];
      if (!sweep) {
        logger.warn({ sweep: job.data.sweep }, 'unknown sweep; ignored');
        return null;
      }
      if (off.has(job.data.sweep)) return { skipped: 'in CONDUIT_SCHEDULER_SWEEPS_OFF' };
      const started = Date.now();
      const report = await sweep.run();
      logger.info({ sweep: job.data.sweep, ...report, ms: Date.now() - started }, 'sweep done');
      return report;
    },
    {
      connection: ctx.redis.duplicate(),
      prefix: ctx.queues.keyPrefixFor(queue.name),
      concurrency: 1,
      lockDuration: t.jobLockMs,
      stalledInterval: t.stalledIntervalMs,
    },
  );
  ctx.redisOutages.watch(worker, `worker ${worker.name}`);
  logger.info(
    {
      schedulers: Object.keys(sweeps).filter((name) => !off.has(name)),
      ...(off.size > 0 && { off: [...off] }),
    },
    'job schedulers registered',
  );
  return {
    async stop() {
      ctx.redis.off('ready', onRedisReady);
      await worker.close();
      await webhooks?.close();
      await webhookTokens?.close();
    },
  };
});
