// The webhook inbox's safety net. The api acknowledges a delivery once it is stored in Postgres,
// even when its transcript fetch could not be queued (Redis down or slow), so a stored delivery
// may have no job. This sweep queues one for every delivery still waiting after a while; the
// job is deduplicated per recording, so a delivery whose fetch is still queued (or parked on
// "not ready yet") is left as it is, and a fetch that finds the transcript stored marks it done.
import type { WebhookDeliveryRepository } from '@conduit/db';
import type { Queues } from '../queues.ts';
import { enqueueTranscripts } from '../sync-lanes.ts';

export interface InboxSweepDeps {
  deliveries: WebhookDeliveryRepository;
  queues: Queues;
}

export interface InboxSweepSettings {
  /** a delivery younger than this is left to the route's own enqueue */
  requeueAfterMs: number;
  batchSize: number;
}

export async function runInboxSweep(
  deps: InboxSweepDeps,
  settings: InboxSweepSettings,
  now: Date = new Date(),
): Promise<{ deliveriesQueued: number }> {
  const waiting = await deps.deliveries.waitingSince(
    new Date(now.getTime() - settings.requeueAfterMs),
    settings.batchSize,
  );
  for (const d of waiting) {
    await enqueueTranscripts(deps.queues, d.connectionId, [d.recordingId], d.id);
  }
  return { deliveriesQueued: waiting.length };
}
