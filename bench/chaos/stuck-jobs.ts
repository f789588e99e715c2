// "No job stuck active": a job is stuck when it sits in a queue's active list with no worker
// holding its lock (its worker died and nothing put it back), or has been active far longer than
// any refresh, sync or transcript takes. Sampled twice, a few stall intervals apart, so a job the
// stalled-job checker is about to recover is not counted.
import { setTimeout as sleep } from 'node:timers/promises';
import { Queue } from 'bullmq';
import { QUEUE_NAMES, REFRESH_PROVIDERS, createRedis } from '@conduit/jobs';

const QUEUES = [
  ...REFRESH_PROVIDERS.map((p) => QUEUE_NAMES.refresh(p)),
  QUEUE_NAMES.sweeps,
  QUEUE_NAMES.syncFathom,
  QUEUE_NAMES.transcripts,
  QUEUE_NAMES.notify,
];

export interface QueuePicture {
  stuck: number;
  examples: string[];
  /** job counts per state, summed over every queue */
  counts: Record<string, number>;
}

async function suspects(
  redisUrl: string,
  prefix: string,
  oldMs: number,
): Promise<{ ids: Set<string>; counts: Record<string, number> }> {
  const redis = createRedis(redisUrl);
  const ids = new Set<string>();
  const counts: Record<string, number> = {};
  try {
    for (const name of QUEUES) {
      const queue = new Queue(name, { connection: redis, prefix });
      try {
        const c = await queue.getJobCounts(
          'active',
          'wait',
          'delayed',
          'prioritized',
          'waiting-children',
          'failed',
          'completed',
        );
        for (const [k, v] of Object.entries(c)) counts[k] = (counts[k] ?? 0) + v;
        const active = await redis.lrange(`${prefix}:${name}:active`, 0, 9_999);
        for (const id of active) {
          const [lock, processedOn] = await Promise.all([
            redis.exists(`${prefix}:${name}:${id}:lock`),
            redis.hget(`${prefix}:${name}:${id}`, 'processedOn'),
          ]);
          const age = processedOn ? Date.now() - Number(processedOn) : 0;
          if (lock === 0 || age > oldMs) ids.add(`${name}:${id}`);
        }
      } finally {
        await queue.close();
      }
    }
  } finally {
    redis.disconnect();
  }
  return { ids, counts };
}

export async function stuckJobs(
  redisUrl: string,
  prefix: string,
  stalledIntervalMs: number,
): Promise<QueuePicture> {
  const oldMs = 60_000;
  const first = await suspects(redisUrl, prefix, oldMs);
  await sleep(2 * stalledIntervalMs);
  const second = await suspects(redisUrl, prefix, oldMs);
  const stuck = [...second.ids].filter((id) => first.ids.has(id));
  return { stuck: stuck.length, examples: stuck.slice(0, 10), counts: second.counts };
}

export interface JobTrace {
  connectionId: string;
  recordingId: number;
  /** the transcript job the deduplication key points at, and where it is */
  jobId: string | null;
  state: string;
  failedReason: string | null;
  attemptsMade: number | null;
  data: unknown;
}

/** Where the transcript fetch of each (connection, recording) stands: for the webhooks left unprocessed. */
export async function transcriptJobs(
  redisUrl: string,
  prefix: string,
  items: ReadonlyArray<{ connectionId: string; recordingId: number }>,
): Promise<JobTrace[]> {
  const redis = createRedis(redisUrl);
  const queue = new Queue(QUEUE_NAMES.transcripts, { connection: redis, prefix });
  try {
    const traces: JobTrace[] = [];
    for (const item of items.slice(0, 20)) {
      const jobId = await redis.get(
        `${prefix}:${QUEUE_NAMES.transcripts}:de:transcript:${item.connectionId}:${item.recordingId}`,
      );
      const job = jobId ? await queue.getJob(jobId) : undefined;
      traces.push({
        ...item,
        jobId,
        state: job ? await job.getState() : 'no job (none queued, or it finished)',
        failedReason: job?.failedReason ?? null,
        attemptsMade: job?.attemptsMade ?? null,
        data: job?.data ?? null,
      });
    }
    return traces;
  } finally {
    await queue.close();
    redis.disconnect();
  }
}

/** A few failed jobs of every queue, with why they failed. */
export async function failedJobs(redisUrl: string, prefix: string): Promise<string[]> {
  const redis = createRedis(redisUrl);
  const out: string[] = [];
  try {
    for (const name of QUEUES) {
      const queue = new Queue(name, { connection: redis, prefix });
      try {
        for (const job of await queue.getFailed(0, 4)) {
          out.push(
            `${name} ${job.id}: ${job.failedReason} (attempts ${job.attemptsMade}) ${JSON.stringify(job.data)}`,
          );
        }
      } finally {
        await queue.close();
      }
    }
  } finally {
    redis.disconnect();
  }
  return out;
}
