// The two Fathom lanes as BullMQ workers: sync-fathom and transcripts.
import { Worker, type ConnectionOptions } from 'bullmq';
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
  prefix: string;
  syncConcurrency: number;
  transcriptConcurrency: number;
  /** BullMQ job lock, renewed while the worker lives */
  lockDuration?: number;
  stalledInterval?: number;
}

export function startFathomWorkers(
  deps: { sync: SyncDeps; transcripts: TranscriptDeps },
  settings: { sync: SyncSettings; transcripts: TranscriptSettings },
  options: FathomWorkerOptions,
): Worker[] {
  const common = {
    prefix: options.prefix,
    ...(options.lockDuration !== undefined && { lockDuration: options.lockDuration }),
    ...(options.stalledInterval !== undefined && { stalledInterval: options.stalledInterval }),
  };
  return [
    new Worker(QUEUE_NAMES.syncFathom, createSyncProcessor(deps.sync, settings.sync), {
      ...common,
      connection: options.connection(),
      concurrency: options.syncConcurrency,
    }),
    new Worker(QUEUE_NAMES.transcripts, createTranscriptProcessor(deps.transcripts, settings.transcripts), {
      ...common,
      connection: options.connection(),
      concurrency: options.transcriptConcurrency,
    }),
  ];
}
