// Which providers have data to sync, and the queue each one's syncs run in. Data, so the API,
// the sweep and the CLI never branch on a provider's name.
import { randomUUID } from 'node:crypto';
import { PROVIDER_KEYS, providerSpec, type DataSyncKind, type ProviderKey } from '@conduit/core';
import { QUEUE_NAMES, type Queues, type SyncJobData, type TranscriptJobData } from './queues.ts';

/** The queue of each kind of data sync a declaration may name (`dataSync`). */
export const SYNC_LANES: Readonly<Record<Exclude<DataSyncKind, 'none'>, string>> = {
  fathom_meetings: QUEUE_NAMES.syncFathom,
};

export function syncLaneOf(provider: ProviderKey): string | undefined {
  const kind = providerSpec(provider).dataSync;
  return kind === 'none' ? undefined : SYNC_LANES[kind];
}

/** The declared providers whose connections sync data. */
export function syncedProviders(): ProviderKey[] {
  return PROVIDER_KEYS.filter((p) => providerSpec(p).dataSync !== 'none');
}

export interface EnqueuedSync {
  jobId: string;
  /** a sync of this connection was already queued or running: that job is returned instead */
  deduplicated: boolean;
}

export function syncDedupeId(connectionId: string): string {
  return `sync:${connectionId}`;
}

export function transcriptDedupeId(connectionId: string, recordingId: number): string {
  return `transcript:${connectionId}:${recordingId}`;
}

/** One queued sync per connection at a time: a second request returns the pending job. */
export async function enqueueSync(
  queues: Queues,
  provider: ProviderKey,
  data: SyncJobData,
  opts: { delayMs?: number } = {},
): Promise<EnqueuedSync> {
  const lane = syncLaneOf(provider);
  if (lane === undefined)
    throw new Error(
      `provider "${provider}" has no sync lane; synced providers: ${syncedProviders().join(', ')}`,
    );
  const jobId = randomUUID();
  const job = await queues.get(lane).add('sync', data, {
    jobId,
    deduplication: { id: syncDedupeId(data.connectionId) },
    ...(opts.delayMs !== undefined && opts.delayMs > 0 && { delay: Math.round(opts.delayMs) }),
  });
  return { jobId: job.id ?? jobId, deduplicated: job.id !== undefined && job.id !== jobId };
}

export async function enqueueSyncBulk(
  queues: Queues,
  provider: ProviderKey,
  items: ReadonlyArray<{ data: SyncJobData; delayMs: number }>,
): Promise<void> {
  const lane = syncLaneOf(provider);
  if (lane === undefined || items.length === 0) return;
  await queues.get(lane).addBulk(
    items.map((i) => ({
      name: 'sync',
      data: i.data,
      opts: {
        deduplication: { id: syncDedupeId(i.data.connectionId) },
        delay: Math.max(0, Math.round(i.delayMs)),
      },
    })),
  );
}

/** One queued transcript fetch per recording: a sync and a webhook asking for it share the job. */
export async function enqueueTranscripts(
  queues: Queues,
  connectionId: string,
  recordingIds: readonly number[],
  deliveryId?: string,
): Promise<void> {
  if (recordingIds.length === 0) return;
  const job = (recordingId: number) => ({
    name: 'transcript',
    data: {
      connectionId,
      recordingId,
      ...(deliveryId !== undefined && { deliveryId }),
    } satisfies TranscriptJobData,
    opts: { deduplication: { id: transcriptDedupeId(connectionId, recordingId) } },
  });
  const queue = queues.get(QUEUE_NAMES.transcripts);
  // One job (a webhook) is one script call; addBulk wraps even one job in MULTI/EXEC.
  if (recordingIds.length === 1) {
    const { name, data, opts } = job(recordingIds[0]!);
    await queue.add(name, data, opts);
    return;
  }
  await queue.addBulk(recordingIds.map(job));
}
