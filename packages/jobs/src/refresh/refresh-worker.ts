// What a refresh job does with its results: the queue mechanics only. For a single-connection
// job, a busy lease or a retry moves the job to delayed, and a rate limit pauses the provider's
// whole lane (BullMQ's manual rate limit) and requeues the job; neither uses one of BullMQ's
// attempts. A batch job completes once every one of its connections has a result (refreshed
// ones are durable by then); those that must be tried again go back to the lane as follow-up
// jobs first, so a worker that dies in between only makes BullMQ run the batch again.
import { DelayedError, Worker, type Job, type JobsOptions, type Queue } from 'bullmq';
import type { ProviderKey } from '@conduit/core';
import { isBatchRefresh, type BatchRefreshJobData, type RefreshJobData, type SingleRefreshJobData } from '../queues.ts';
import type { RefreshDeps } from './deps.ts';
import { outcomeLabel, refreshConnection, refreshConnections, type RefreshResult } from './refresh-connection.ts';

export interface RefreshProcessorOptions {
  /** how long a job whose connection is locked waits before it looks again */
  lockRetryDelayMs: number;
}

/** Delay before a connection whose refresh failed unclassified (a bug, Postgres down) is tried again. */
const FAILED_RETRY_DELAY_MS = 1_000;

export function createRefreshProcessor(
  deps: RefreshDeps,
  queue: Queue,
  options: RefreshProcessorOptions & { provider: ProviderKey },
) {
  async function processSingle(job: Job<SingleRefreshJobData>, token?: string): Promise<string> {
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
      case 'failed':
        throw result.error;
      case 'gave_up':
      case 'marked':
      case 'refreshed':
      case 'rescued':
      case 'fresh':
      case 'skipped':
      case 'lost_race':
        return outcome;
    }
  }

  async function processBatch(job: Job<BatchRefreshJobData>): Promise<string> {
    const results = await refreshConnections(deps, {
      provider: options.provider,
      connectionIds: job.data.connectionIds,
      reason: job.data.reason,
    });
    const all = [...results.values()];
    // The lane was closed before anything was sent: the whole job waits, as a single one would.
    if (all.length > 0 && all.every((r) => r.kind === 'gated')) {
      await queue.rateLimit(Math.max(...all.map((r) => (r.kind === 'gated' ? r.delayMs : 0))));
      throw Worker.RateLimitError();
    }
    const followUps = followUpJobs(results, job.data, options.lockRetryDelayMs);
    if (followUps.length > 0) await queue.addBulk(followUps);
    const laneDelayMs = Math.max(
      0,
      ...all.map((r) => (r.kind === 'rate_limited' || r.kind === 'gated' ? r.delayMs : 0)),
    );
    if (laneDelayMs > 0) await queue.rateLimit(laneDelayMs);
    return summarize(all);
  }

  return async function processRefresh(job: Job<RefreshJobData>, token?: string): Promise<string> {
    return isBatchRefresh(job.data)
      ? processBatch(job as Job<BatchRefreshJobData>)
      : processSingle(job as Job<SingleRefreshJobData>, token);
  };
}

/**
 * The connections of a batch that must be tried again, as jobs of their own: busy ones after the
 * lock retry delay, retries after their backoff (with their attempt count), those the lane's rate
 * limit held back together once it reopens, unclassified failures after a short delay with
 * BullMQ's own attempts behind them.
 */
export function followUpJobs(
  results: ReadonlyMap<string, RefreshResult>,
  data: BatchRefreshJobData,
  lockRetryDelayMs: number,
): Array<{ name: string; data: RefreshJobData; opts: JobsOptions }> {
  const jobs: Array<{ name: string; data: RefreshJobData; opts: JobsOptions }> = [];
  const held: string[] = [];
  let heldForMs = 0;
  const single = (connectionId: string, delay: number, attempt?: number) =>
    jobs.push({
      name: 'refresh',
      data: { connectionId, reason: data.reason, ...(attempt !== undefined && { attempt }) },
      opts: { delay: Math.max(0, Math.ceil(delay)), deduplication: { id: `refresh:${connectionId}` } },
    });
  for (const [id, r] of results) {
    switch (r.kind) {
      case 'busy':
        single(id, lockRetryDelayMs);
        break;
      case 'retry':
        single(id, r.delayMs, r.attempt);
        break;
      case 'failed':
        single(id, FAILED_RETRY_DELAY_MS);
        break;
      case 'gated':
      case 'rate_limited':
        held.push(id);
        heldForMs = Math.max(heldForMs, r.delayMs);
        break;
      default:
        break;
    }
  }
  if (held.length > 0) {
    jobs.push({
      name: 'refresh-batch',
      data: { connectionIds: held, reason: data.reason },
      opts: { delay: Math.ceil(heldForMs) },
    });
  }
  return jobs;
}

function summarize(results: RefreshResult[]): string {
  const counts = new Map<string, number>();
  for (const r of results) counts.set(outcomeLabel(r), (counts.get(outcomeLabel(r)) ?? 0) + 1);
  return [...counts].map(([k, n]) => `${k} ${n}`).join(', ');
}
