// The hourly sync sweep: every connected connection of every synced provider gets a sync, spread
// over the interval by a stable hash of its id — each connection always runs at the same
// minute of the hour, so 10,000 users never sync in the same minute. Selected by index with
// keyset pagination and enqueued in bulk; queue deduplication makes overlapping sweeps harmless.
import { createHash } from 'node:crypto';
import { SyncRepository, type Db } from '@conduit/db';
import type { Queues } from '../queues.ts';
import { enqueueSyncBulk, syncedProviders } from '../sync-lanes.ts';

export interface SyncSweepSettings {
  intervalMs: number;
  batchSize: number;
}

export interface SyncSweepReport {
  enqueued: number;
  batches: number;
}

/** Where in each interval this connection's sync falls: a stable offset in [0, intervalMs). */
export function syncOffsetMs(connectionId: string, intervalMs: number): number {
  const hash = createHash('sha256').update(connectionId).digest().readUInt32BE(0);
  return Math.floor((hash / 2 ** 32) * intervalMs);
}

/** The delay until this connection's next slot at or after `now`. */
export function syncDelayMs(connectionId: string, intervalMs: number, now: Date): number {
  const phase = now.getTime() % intervalMs;
  return (syncOffsetMs(connectionId, intervalMs) - phase + intervalMs) % intervalMs;
}

export async function runSyncSweep(
  deps: { db: Db; queues: Queues },
  settings: SyncSweepSettings,
  now: Date = new Date(),
): Promise<SyncSweepReport> {
  const sync = new SyncRepository(deps.db);
  const report: SyncSweepReport = { enqueued: 0, batches: 0 };
  for (const provider of syncedProviders()) {
    let after: string | undefined;
    for (;;) {
      const ids = await sync.listSyncTargets(provider, after, settings.batchSize);
      if (ids.length === 0) break;
      report.batches++;
      await enqueueSyncBulk(
        deps.queues,
        provider,
        ids.map((connectionId) => ({
          data: { connectionId, mode: 'incremental' as const, reason: 'sweep' as const },
          delayMs: syncDelayMs(connectionId, settings.intervalMs, now),
        })),
      );
      report.enqueued += ids.length;
      after = ids[ids.length - 1];
      if (ids.length < settings.batchSize) break;
    }
  }
  return report;
}
