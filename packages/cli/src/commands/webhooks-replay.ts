// `conduit webhooks replay <deliveryId>`: processes a stored webhook delivery again — back to
// `received`, and a transcripts job for its recording — e.g. after a bug in processing was fixed.
import { MaintenanceRepository } from '@conduit/db';
import { QUEUE_NAMES, transcriptDedupeId, type TranscriptJobData } from '@conduit/jobs';
import type { AppContext } from '@conduit/runtime';
import { CliError, EXIT } from '../errors.ts';
import type { Output } from '../output.ts';
import { ensureRedis } from '../reachability.ts';

export async function webhooksReplayCommand(
  ctx: Pick<AppContext, 'db' | 'queues' | 'redis' | 'config'>,
  out: Output,
  ref: string,
): Promise<number> {
  const repo = new MaintenanceRepository(ctx.db);
  const matches = await repo.findWebhookDeliveries(ref);
  if (matches.length === 0) {
    throw new CliError(`no webhook delivery has id or delivery id "${ref}".`);
  }
  if (matches.length > 1) {
    throw new CliError(
      `"${ref}" is the delivery id of ${matches.length} deliveries (${matches.map((m) => m.provider).join(', ')}); pass Conduit's own id instead, one of ${matches.map((m) => m.id).join(', ')}.`,
    );
  }
  const d = matches[0]!;
  if (d.provider !== 'fathom') {
    throw new CliError(
      `delivery ${d.id} came from ${d.provider}; only Fathom deliveries (recording ready) can be replayed.`,
    );
  }
  if (!d.connectionId) {
    throw new CliError(
      `delivery ${d.id} (status ${d.status}) matched no connection, so there is no account to fetch its recording with; connect that Fathom account first.`,
    );
  }
  const recordingId = recordingIdOf(d.payload);
  if (recordingId === undefined) {
    throw new CliError(
      `delivery ${d.id} has no numeric recording_id in its payload, so there is nothing to fetch.`,
    );
  }
  await ensureRedis(ctx);
  await repo.resetWebhookDelivery(d.id);
  const data: TranscriptJobData = { connectionId: d.connectionId, recordingId, deliveryId: d.id };
  const job = await ctx.queues
    .get(QUEUE_NAMES.transcripts)
    .add('transcript', data, { deduplication: { id: transcriptDedupeId(d.connectionId, recordingId) } });
  out.line(
    `Delivery ${d.id} (was ${d.status}) is received again; transcript job ${job.id} fetches recording ${recordingId}.`,
  );
  return EXIT.ok;
}

function recordingIdOf(payload: unknown): number | undefined {
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) return undefined;
  const raw = (payload as Record<string, unknown>).recording_id;
  const n = typeof raw === 'string' && /^\d+$/.test(raw) ? Number(raw) : raw;
  return typeof n === 'number' && Number.isSafeInteger(n) && n > 0 ? n : undefined;
}
