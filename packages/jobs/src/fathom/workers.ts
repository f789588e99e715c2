// The two Fathom lanes as BullMQ workers: sync-fathom and transcripts.
import { Worker, type ConnectionOptions } from 'bullmq';
import { queueKeyPrefix } from '../key-slots.ts';
import { QUEUE_NAMES } from '../queues.ts';
import { createSyncProcessor, type SyncDeps, type SyncSettings } from './sync-processor.ts';
import {
  createTranscriptProcessor,
  type TranscriptDeps,
  type TranscriptSettings,
} from './transcript-processor.ts';

export interface FathomWorkerOptions {
  /** each worker duplicates nothing: pass a connection of its own (ioredis `duplicate()`) */
  connection: () => ConnectionOptions;
  /** the key namespace (CONDUIT_QUEUE_PREFIX); each queue's BullMQ prefix is derived from it */
  prefix: string;
  syncConcurrency: number;
  transcriptConcurrency: number;
  /** BullMQ job lock, renewed while the worker lives */
  lockDuration?: number;
  stalledInterval?: number;
}

/**
 * How many times a job found stalled (its worker died holding it) is taken up again before BullMQ
 * fails it. Both Fathom jobs are idempotent (a sync resumes its run from the stored cursor, a
 * transcript fetch finds the transcript already stored), so a job that happened to be held by two
 * workers in a row that were killed is run again rather than dropped (BullMQ's default is 1).
 */
export const FATHOM_MAX_STALLED_COUNT = 5;

export function startFathomWorkers(
  deps: { sync: SyncDeps; transcripts: TranscriptDeps },
  settings: { sync: SyncSettings; transcripts: TranscriptSettings },
  options: FathomWorkerOptions,
): Worker[] {
  const common = {
    maxStalledCount: FATHOM_MAX_STALLED_COUNT,
    ...(options.lockDuration !== undefined && { lockDuration: options.lockDuration }),
    ...(options.stalledInterval !== undefined && { stalledInterval: options.stalledInterval }),
  };
  return [
    new Worker(QUEUE_NAMES.syncFathom, createSyncProcessor(deps.sync, settings.sync), {
      ...common,
      prefix: queueKeyPrefix(options.prefix, QUEUE_NAMES.syncFathom),
      connection: options.connection(),
      concurrency: options.syncConcurrency,
    }),
    new Worker(QUEUE_NAMES.transcripts, createTranscriptProcessor(deps.transcripts, settings.transcripts), {
      ...common,
      prefix: queueKeyPrefix(options.prefix, QUEUE_NAMES.transcripts),
      connection: options.connection(),
      concurrency: options.transcriptConcurrency,
    }),
  ];
}
