// What a refresh job does with a refresh result: the queue mechanics only. A busy lock or a
// retry moves the job to delayed; a rate limit pauses the provider's whole lane (BullMQ's manual
// rate limit) and requeues the job; neither uses one of BullMQ's attempts.
import { DelayedError, Worker, type Job, type Queue } from 'bullmq';
import type { ProviderKey } from '@conduit/core';
import type { RefreshJobData } from '../queues.ts';
import type { RefreshDeps } from './deps.ts';
import { outcomeLabel, refreshConnection } from './refresh-connection.ts';

export interface RefreshProcessorOptions {
  /** how long a job whose connection is locked waits before it looks again */
  lockRetryDelayMs: number;
}

export function createRefreshProcessor(
  deps: RefreshDeps,
  queue: Queue,
  options: RefreshProcessorOptions & { provider: ProviderKey },
) {
  return async function processRefresh(job: Job<RefreshJobData>, token?: string): Promise<string> {
    const result = await refreshConnection(deps, {
      connectionId: job.data.connectionId,
      provider: options.provider,
      reason: job.data.reason,
      attempt: job.data.attempt ?? 0,
    });
    const outcome = outcomeLabel(result);
    switch (result.kind) {
      case 'busy':
        await job.moveToDelayed(Date.now() + options.lockRetryDelayMs, token);
        throw new DelayedError();
      case 'gated':
      case 'rate_limited':
        await queue.rateLimit(result.delayMs);
        throw Worker.RateLimitError();
      case 'retry':
        await job.updateData({ ...job.data, attempt: result.attempt });
        await job.moveToDelayed(Date.now() + result.delayMs, token);
        throw new DelayedError();
      case 'gave_up':
      case 'marked':
      case 'refreshed':
      case 'rescued':
      case 'fresh':
      case 'skipped':
      case 'lost_race':
        return outcome;
    }
  };
}
