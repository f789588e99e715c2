// A sync worker in a process of its own, configured by the environment the test passes, so a
// test can SIGKILL it mid-sync. Its job lock and per-user lock are short so that the work the
// killed process leaves behind is picked up again quickly.
import { Worker } from 'bullmq';
import { loadConfig } from '@conduit/config';
import { createContext, createFathomJobs, createRefreshDeps, createTokenClient } from '@conduit/runtime';
import { QUEUE_NAMES, createSyncProcessor } from '../../src/index.ts';

const config = loadConfig(process.env);
const ctx = createContext(config, 'sync-child');
const jobs = createFathomJobs(ctx, createRefreshDeps(ctx, createTokenClient(config)));
const worker = new Worker(
  QUEUE_NAMES.syncFathom,
  createSyncProcessor(jobs.deps.sync, { ...jobs.settings.sync, lockTtlMs: 1_500 }),
  {
    connection: ctx.redis.duplicate(),
    prefix: config.redis.queuePrefix,
    concurrency: 1,
    lockDuration: 1_000,
  },
);
await worker.waitUntilReady();
process.stdout.write('ready\n');
